// Package transfer takes recordings out of an ICWS server through the
// client package: into a directory that icrec import reads as it is
// (export), or straight into an icrec archive (migrate). Both are
// resumable and verify every byte they keep.
package transfer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"example.com/icrec"
)

// ID is one recording to take out, as a line of an ids file named it.
type ID struct {
	Line int    // 1-based line in the ids file
	ID   string // canonical GUID
	// Extra holds manifest fields the line gave, for what the ICWS API
	// does not expose (participants, workgroups) or what a server without
	// media-details cannot tell (interactionId, mediaType, recordingDate…).
	// Nil for a line that is only an id.
	Extra map[string]json.RawMessage
}

// maxIDLine bounds one line of an ids file; a JSON line with participants
// and attributes stays far below it.
const maxIDLine = 1 << 20

// maxBadLines caps how many bad lines one error lists.
const maxBadLines = 20

// IDsError lists the lines of an ids file that are not recordings.
type IDsError struct {
	Lines []string // "line 3: …", at most maxBadLines
	More  int      // bad lines not listed
}

func (e *IDsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the ids file has %d bad line(s); nothing was done:", len(e.Lines)+e.More)
	for _, l := range e.Lines {
		b.WriteString("\n  ")
		b.WriteString(l)
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.More)
	}
	return b.String()
}

// manifestFields are the keys a JSON line may carry: those of an import
// manifest line (docs/import.md), less the file, which the export writes.
var manifestFields = []string{
	"recordingId", "interactionId", "mediaType", "recordingType", "callType", "direction",
	"recordingDate", "duration", "expirationDate", "initiationPolicyName", "lineName",
	"snippetInitiator", "relatedRecordingId", "isEncrypted", "isArchived", "fileName",
	"contentType", "sha256", "participants", "workgroups", "attributes", "tags",
}

// ReadIDs reads an ids file: one recording per line, either a GUID (any
// case, braces allowed) or a JSON object with "recordingId" and other
// manifest fields. Blank lines and lines starting with # are skipped; an id
// given twice is taken once (dups counts the repeats). Any other line makes
// the whole file an *IDsError, so that a typo is found before hours of
// work rather than after.
func ReadIDs(r io.Reader) (ids []ID, dups int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	seen := map[string]bool{}
	bad := &IDsError{}
	fail := func(n int, format string, args ...any) {
		if len(bad.Lines) < maxBadLines {
			bad.Lines = append(bad.Lines, fmt.Sprintf("line %d: ", n)+fmt.Sprintf(format, args...))
		} else {
			bad.More++
		}
	}
	for n := 1; ; n++ {
		line, tooLong, rerr := readLine(br)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return nil, 0, fmt.Errorf("read the ids file at line %d: %w", n, rerr)
		}
		if n == 1 {
			// Windows tools (bcp -C 65001, Notepad) may start UTF-8 with a BOM.
			line = bytes.TrimPrefix(line, []byte("\ufeff"))
		}
		text := bytes.TrimSpace(line)
		switch {
		case tooLong:
			fail(n, "longer than %d bytes", maxIDLine)
		case len(text) == 0 || text[0] == '#':
		default:
			id, extra, msg := parseIDLine(text)
			switch {
			case msg != "":
				fail(n, "%s", msg)
			case seen[id]:
				dups++
			default:
				seen[id] = true
				ids = append(ids, ID{Line: n, ID: id, Extra: extra})
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
	}
	if len(bad.Lines) > 0 {
		return nil, 0, bad
	}
	return ids, dups, nil
}

// parseIDLine reads one non-blank line; msg says what is wrong with it.
func parseIDLine(text []byte) (id string, extra map[string]json.RawMessage, msg string) {
	// {0DE0C017-…} is a GUID in braces; a JSON object opens with a key.
	if rest := bytes.TrimLeft(text[1:], " \t"); text[0] != '{' || (len(rest) > 0 && rest[0] != '"' && rest[0] != '}') {
		s := string(text)
		id, ok := icrec.CanonicalGUID(s)
		if !ok {
			return "", nil, fmt.Sprintf("%q is not a recording id (a GUID such as 0DE0C017-CD4F-D013-8E31-18D8B7470001) or a JSON object", clip(s))
		}
		return id, nil, ""
	}
	if err := json.Unmarshal(text, &extra); err != nil {
		return "", nil, fmt.Sprintf("not a JSON object: %v", err)
	}
	raw, ok := extra["recordingId"]
	if !ok {
		return "", nil, `the JSON object has no "recordingId"`
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", nil, "recordingId: not a string"
	}
	if id, ok = icrec.CanonicalGUID(s); !ok {
		return "", nil, fmt.Sprintf("recordingId: %q is not a GUID", clip(s))
	}
	for k := range extra {
		if !slices.Contains(manifestFields, k) {
			return "", nil, fmt.Sprintf("%q is not a manifest field (see docs/import.md; \"file\" is written by the export)", clip(k))
		}
	}
	delete(extra, "recordingId")
	if len(extra) == 0 {
		extra = nil
	}
	return id, extra, ""
}

// readLine reads one line without its newline, telling a line over
// maxIDLine apart (and reading past it).
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > maxIDLine {
				tooLong, line = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(line, []byte("\n")), tooLong, err
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
