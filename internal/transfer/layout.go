package transfer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"example.com/icrec/icws"
	"example.com/icrec/internal/mimeindex"
)

// The files of an export directory:
//
//	DIR/manifest.jsonl              import manifest, one line per exported recording
//	DIR/<id>/metadata.json          what the server said, and the files; written last
//	DIR/<id>/<file name>            the primary media, named as the server named it
//	DIR/<id>/attachments/<n>-<name> email attachment n
//	DIR/<id>/.partial.json          files finished so far, while the recording is unfinished
//	DIR/<id>/.part-<n>              a download in progress (n = 0 for the primary media)
const (
	ManifestFile = "manifest.jsonl"
	MetadataFile = "metadata.json"
	partialFile  = ".partial.json"
	attachDir    = "attachments"
	lockName     = ".icrec-export.lock"
)

// Metadata is DIR/<id>/metadata.json. Its presence means the recording was
// exported whole and every file verified.
type Metadata struct {
	RecordingID string `json:"recordingId"`
	// Source is the server the recording came from.
	Source     string        `json:"source"`
	ExportedAt icws.DateTime `json:"exportedAt"`
	// MediaDetails is as the server gave it; absent when the server has no
	// media-details (recordings feature before 6).
	MediaDetails *icws.MediaDetails `json:"mediaDetails,omitempty"`
	// Attributes and Tags are null when the user may not read them.
	Attributes []icws.AttributeItem `json:"attributes"`
	Tags       []string             `json:"tags"`
	Files      []File               `json:"files"`
	// Warnings say what could not be exported with the recording, such
	// as attributes the user may not read.
	Warnings []string `json:"warnings,omitempty"`
	// Manifest is the recording's import manifest line, its file relative
	// to the export directory.
	Manifest json.RawMessage `json:"manifest"`
}

// File is one exported file of a recording.
type File struct {
	// AttachmentID is 0 for the primary media, else the email attachment.
	AttachmentID int `json:"attachmentId"`
	// Path is relative to the recording's directory, slash-separated.
	Path string `json:"path"`
	// FileName is the name the server gave (Content-Disposition).
	FileName    string `json:"fileName,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	// Verified says the bytes matched the SHA-256 the server gave; without
	// one, the checksum is the export's own.
	Verified bool `json:"verified"`
}

// fileFor returns where attachment n goes, given the server's file name.
func fileFor(n int, serverName, contentType string) string {
	name := safeName(serverName)
	if name == "" {
		name = "media"
		if n > 0 {
			name = "attachment"
		}
		name += mimeindex.Extension(contentType)
	}
	if n > 0 {
		return attachDir + "/" + fmt.Sprintf("%d-%s", n, name)
	}
	switch strings.ToLower(name) {
	case MetadataFile, attachDir, strings.ToLower(ManifestFile):
		name = "media-" + name
	}
	return name
}

// maxNameBytes keeps names within what every common filesystem allows,
// with room for the attachment prefix.
const maxNameBytes = 200

// safeName makes a server's file name safe as one path element on any
// common filesystem: the base name only, no control characters or
// characters Windows refuses, no leading dots (hidden, or "..") and at most
// maxNameBytes, keeping the extension.
func safeName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), strings.ContainsRune(`<>:"|?*`, r):
			return '_'
		}
		return r
	}, s)
	s = strings.TrimLeft(strings.TrimSpace(s), ".")
	s = strings.TrimRight(s, ". ")
	if len(s) > maxNameBytes {
		ext := filepath.Ext(s)
		if len(ext) > 20 {
			ext = ""
		}
		s = truncateUTF8(s[:len(s)-len(ext)], maxNameBytes-len(ext)) + ext
	}
	return s
}

func truncateUTF8(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// writeFileAtomic writes data to path through a synced temporary file and
// a rename, then syncs the directory: after a crash the file is either
// the old one or the new one, whole.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// readMetadata reads a metadata or partial file; a missing one is nil.
func readMetadata(path string) (*Metadata, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var m Metadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &m, nil
}
