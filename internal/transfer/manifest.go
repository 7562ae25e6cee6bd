package transfer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/manifest"
)

// manifestLine builds a recording's import manifest line from what the
// server said, filling in from the ids file what the server did not say.
// problem, when not empty, says why icrec import would refuse the line.
func manifestLine(id ID, md *Metadata) (json.RawMessage, string) {
	primary := md.Files[0]
	e := &manifest.Entry{
		File:                id.ID + "/" + primary.Path,
		SHA256:              primary.SHA256,
		ContentTypeDeclared: primary.ContentType != "",
	}
	r := &e.Recording
	r.ID = id.ID
	r.Media = icrec.Media{ContentType: primary.ContentType, FileName: primary.FileName, SHA256: primary.SHA256}
	if d := md.MediaDetails; d != nil {
		r.InteractionID = d.InteractionID
		r.MediaType, r.RecordingType, r.CallType, r.Direction = d.MediaType, d.RecordingType, d.CallType, d.Direction
		r.RecordingDate = d.RecordingDate.Time
		r.Duration = time.Duration(math.Round(d.Duration * float64(time.Second)))
		if d.ExpirationDate != nil {
			r.ExpirationDate = d.ExpirationDate.Time
		}
		r.InitiationPolicyName = deref(d.InitiationPolicyName)
		r.LineName = deref(d.LineName)
		r.SnippetInitiator = deref(d.SnippetInitiator)
		r.RelatedRecordingID = deref(d.RelatedRecordingID)
		r.IsEncrypted, r.IsArchived = d.IsEncrypted, d.IsArchived
	}
	for _, a := range md.Attributes {
		r.Attributes = append(r.Attributes, icrec.Attribute{Name: a.AttributeName, Value: a.AttributeValue})
	}
	r.Tags = md.Tags
	line, err := manifest.Marshal(e)
	if err != nil {
		return nil, err.Error()
	}
	if md.MediaDetails == nil || id.Extra != nil {
		line, err = fillIn(line, id.Extra, md.MediaDetails != nil)
		if err != nil {
			return nil, err.Error()
		}
	}
	if _, err := manifest.Parse(id.Line, line); err != nil {
		msg := err.Error()
		if id.Extra != nil {
			msg = strings.Replace(msg, "line ", "ids file line ", 1)
		}
		return line, msg
	}
	return line, ""
}

// fillIn adds to a manifest line the fields of the ids file that it does
// not have. The server's word stands where it gave one. Without
// media-details the zero values Marshal wrote for the enums and dates are
// not the server's word, so the ids file's replace them.
func fillIn(line []byte, extra map[string]json.RawMessage, haveDetails bool) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, err
	}
	guessed := []string{"interactionId", "mediaType", "recordingType", "callType", "direction", "recordingDate", "duration"}
	for k, v := range extra {
		if _, ok := m[k]; !ok || (!haveDetails && slices.Contains(guessed, k)) {
			m[k] = v
		}
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, k := range append(slices.Clone(manifestFields), "file") {
		v, ok := m[k]
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// WriteManifest writes DIR/manifest.jsonl: the manifest line of every
// recording exported to dir, by recording id, so that icrec import reads
// the directory as it is. It replaces the file atomically, so a run that
// was interrupted leaves the last whole one, and the next run writes it
// again. It returns the number of lines.
func WriteManifest(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var b bytes.Buffer
	n := 0
	for _, de := range entries {
		if !de.IsDir() {
			continue
		}
		if _, ok := icrec.CanonicalGUID(de.Name()); !ok {
			continue
		}
		md, err := readMetadata(filepath.Join(dir, de.Name(), MetadataFile))
		if err != nil {
			return 0, err
		}
		if md == nil || len(md.Manifest) == 0 {
			continue
		}
		if err := json.Compact(&b, md.Manifest); err != nil {
			return 0, fmt.Errorf("%s: manifest: %v", filepath.Join(dir, de.Name(), MetadataFile), err)
		}
		b.WriteByte('\n')
		n++
	}
	return n, writeFileAtomic(filepath.Join(dir, ManifestFile), b.Bytes())
}

// writeJSONAtomic writes v as indented JSON, atomically.
func writeJSONAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'))
}
