// Package manifest reads icrec's import manifests: JSON Lines files with one
// recording per line, fields named as in ICWS media-details, plus the media
// file and the facts ICWS does not expose (participants, workgroups,
// attributes, tags). docs/import.md documents the format.
//
// Parsing is strict, unlike ICWS request decoding: a manifest is written
// once by an operator, and a misspelt field silently ignored would lose
// metadata for years. Every problem is reported with the line and the field.
package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"example.com/icrec"
	"example.com/icrec/icws"
)

// MaxLineBytes bounds one manifest line.
const MaxLineBytes = 1 << 20

// Entry is one valid manifest line: a recording without its media facts
// (size, checksum, key, attachments), which the importer learns from the
// file.
type Entry struct {
	Line      int
	Recording icrec.Recording
	// File is the media file's path, relative to the manifest's directory
	// as written in the manifest (slash-separated, cleaned).
	File string
	// SHA256 is the declared checksum, lower-case hex, or empty.
	SHA256 string
	// ContentType was declared in the line (true) or is to be found from
	// the file (false, and Recording.Media.ContentType is empty).
	ContentTypeDeclared bool
}

// Error is a problem with one manifest line.
type Error struct {
	Line  int
	Field string // JSON field name, or empty for the line as a whole
	Err   error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %s: %v", e.Line, e.Field, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// line is the wire form of a manifest line. Pointers tell absent from zero;
// a JSON null leaves them nil, as the format says it must. The raw fields
// hold the literal null instead: see absent.
type line struct {
	RecordingID          *string           `json:"recordingId"`
	InteractionID        *string           `json:"interactionId"`
	MediaType            json.RawMessage   `json:"mediaType"`
	RecordingType        json.RawMessage   `json:"recordingType"`
	CallType             json.RawMessage   `json:"callType"`
	Direction            json.RawMessage   `json:"direction"`
	RecordingDate        *string           `json:"recordingDate"`
	Duration             *float64          `json:"duration"`
	ExpirationDate       *string           `json:"expirationDate"`
	InitiationPolicyName *string           `json:"initiationPolicyName"`
	LineName             *string           `json:"lineName"`
	SnippetInitiator     *string           `json:"snippetInitiator"`
	RelatedRecordingID   *string           `json:"relatedRecordingId"`
	IsEncrypted          *bool             `json:"isEncrypted"`
	IsArchived           *bool             `json:"isArchived"`
	File                 *string           `json:"file"`
	FileName             *string           `json:"fileName"`
	ContentType          *string           `json:"contentType"`
	SHA256               *string           `json:"sha256"`
	Participants         []json.RawMessage `json:"participants"`
	Workgroups           []string          `json:"workgroups"`
	Attributes           json.RawMessage   `json:"attributes"`
	Tags                 []string          `json:"tags"`
}

type participantObject struct {
	UserID  string `json:"userId"`
	Name    string `json:"name"`
	Address string `json:"address"`
}

// Parse reads one line (without its newline). n is its 1-based number.
func Parse(n int, data []byte) (*Entry, error) {
	fail := func(field string, format string, args ...any) error {
		return &Error{Line: n, Field: field, Err: fmt.Errorf(format, args...)}
	}
	var l line
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, decodeError(n, err)
	}
	if dec.More() {
		return nil, fail("", "more than one JSON value on the line")
	}
	if tok, err := dec.Token(); err != io.EOF {
		return nil, fail("", "unexpected %v after the JSON object", tok)
	}
	if err := checkMembers(data); err != nil {
		return nil, &Error{Line: n, Field: err.field, Err: err}
	}

	e := &Entry{Line: n}
	r := &e.Recording
	var err error
	if l.RecordingID != nil {
		id, ok := icrec.CanonicalGUID(*l.RecordingID)
		if !ok {
			return nil, fail("recordingId", "%q is not a GUID", clip(*l.RecordingID))
		}
		r.ID = id
	}
	if l.InteractionID == nil || strings.TrimSpace(*l.InteractionID) == "" {
		return nil, fail("interactionId", "required")
	}
	if r.InteractionID, err = text(*l.InteractionID, 128); err != nil {
		return nil, fail("interactionId", "%v", err)
	}
	if absent(l.MediaType) {
		return nil, fail("mediaType", "required")
	}
	if r.MediaType, err = enum(l.MediaType, icrec.ParseMediaType); err != nil {
		return nil, fail("mediaType", "%v", err)
	}
	if !absent(l.RecordingType) {
		if r.RecordingType, err = enum(l.RecordingType, icrec.ParseRecordingType); err != nil {
			return nil, fail("recordingType", "%v", err)
		}
	}
	if !absent(l.CallType) {
		if r.CallType, err = enum(l.CallType, icrec.ParseCallType); err != nil {
			return nil, fail("callType", "%v", err)
		}
	}
	if !absent(l.Direction) {
		if r.Direction, err = enum(l.Direction, icrec.ParseDirection); err != nil {
			return nil, fail("direction", "%v", err)
		}
	}
	if l.RecordingDate == nil {
		return nil, fail("recordingDate", "required")
	}
	if r.RecordingDate, err = icws.ParseTime(*l.RecordingDate); err != nil {
		return nil, fail("recordingDate", "%v", err)
	}
	if r.RecordingDate.Year() < 1970 {
		return nil, fail("recordingDate", "%s is before 1970", *l.RecordingDate)
	}
	if l.Duration != nil {
		d := *l.Duration
		if d < 0 || math.IsNaN(d) || d > 366*24*3600 {
			return nil, fail("duration", "%v is not a number of seconds between 0 and a year", d)
		}
		r.Duration = time.Duration(math.Round(d * float64(time.Second)))
	}
	if l.ExpirationDate != nil {
		if r.ExpirationDate, err = icws.ParseTime(*l.ExpirationDate); err != nil {
			return nil, fail("expirationDate", "%v", err)
		}
		// A recording cannot expire before it was made; and retention
		// reads the zero date as "never expires", so 00010101T000000Z
		// would keep a recording for ever while looking like a date.
		if r.ExpirationDate.Before(r.RecordingDate) {
			return nil, fail("expirationDate", "%s is before the recordingDate %s; leave expirationDate out for a recording that never expires", *l.ExpirationDate, *l.RecordingDate)
		}
	}
	for _, f := range []struct {
		name     string
		src, dst *string
	}{
		{"initiationPolicyName", l.InitiationPolicyName, &r.InitiationPolicyName},
		{"lineName", l.LineName, &r.LineName},
		{"snippetInitiator", l.SnippetInitiator, &r.SnippetInitiator},
	} {
		if f.src != nil {
			if *f.dst, err = text(*f.src, 256); err != nil {
				return nil, fail(f.name, "%v", err)
			}
		}
	}
	if l.RelatedRecordingID != nil {
		id, ok := icrec.CanonicalGUID(*l.RelatedRecordingID)
		if !ok {
			return nil, fail("relatedRecordingId", "%q is not a GUID", clip(*l.RelatedRecordingID))
		}
		r.RelatedRecordingID = id
	}
	r.IsEncrypted = l.IsEncrypted != nil && *l.IsEncrypted
	r.IsArchived = l.IsArchived != nil && *l.IsArchived

	if l.File == nil || *l.File == "" {
		return nil, fail("file", "required")
	}
	if e.File, err = relativePath(*l.File); err != nil {
		return nil, fail("file", "%v", err)
	}
	r.Media.FileName = path.Base(e.File)
	if l.FileName != nil {
		if r.Media.FileName, err = fileName(*l.FileName); err != nil {
			return nil, fail("fileName", "%v", err)
		}
	}
	if l.ContentType != nil {
		mt, _, err := mime.ParseMediaType(*l.ContentType)
		if err != nil || !strings.Contains(mt, "/") {
			return nil, fail("contentType", "%q is not a media type such as audio/wav", clip(*l.ContentType))
		}
		if err := FitsMediaType(r.MediaType, mt); err != nil {
			return nil, fail("contentType", "%v", err)
		}
		r.Media.ContentType = mt
		e.ContentTypeDeclared = true
	}
	if l.SHA256 != nil {
		s := strings.ToLower(*l.SHA256)
		if b, err := hex.DecodeString(s); err != nil || len(b) != sha256.Size {
			return nil, fail("sha256", "%q is not 64 hexadecimal digits", clip(*l.SHA256))
		}
		e.SHA256 = s
	}
	for i, raw := range l.Participants {
		p, err := participant(raw)
		if err != nil {
			return nil, fail(fmt.Sprintf("participants[%d]", i), "%v", err)
		}
		r.Participants = append(r.Participants, p)
	}
	if r.Workgroups, err = icrec.NormalizeNames("workgroup", l.Workgroups); err != nil {
		return nil, fail("workgroups", "%v", err)
	}
	if r.Tags, err = icrec.NormalizeNames("tag", l.Tags); err != nil {
		return nil, fail("tags", "%v", err)
	}
	attrs, err := attributes(l.Attributes)
	if err != nil {
		return nil, fail("attributes", "%v", err)
	}
	if r.Attributes, err = icrec.NormalizeAttributes(attrs); err != nil {
		return nil, fail("attributes", "%v", err)
	}
	if r.ID == "" {
		r.ID = DerivedID(r.InteractionID, r.MediaType, r.RecordingDate, e.File)
	}
	return e, nil
}

// DerivedID is the id a line without recordingId gets: a name-based GUID
// of what identifies the recording, so that importing the same manifest
// twice finds the same recordings rather than creating copies. file is the
// path relative to the manifest, cleaned here, not just its last element:
// a/x.wav and b/x.wav of one interaction are two recordings. A file at the
// top of the manifest's directory keeps the id that versions hashing only
// the name gave it.
func DerivedID(interactionID string, m icrec.MediaType, date time.Time, file string) string {
	h := sha256.New()
	for _, s := range []string{"icrec manifest v1", interactionID, strconv.Itoa(int(m)), date.UTC().Format(time.RFC3339Nano), path.Clean(file)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50 // version 5 layout: name-based
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	id, _ := icrec.CanonicalGUID(hex.EncodeToString(b))
	return id
}

func decodeError(n int, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return &Error{Line: n, Err: fmt.Errorf("not valid JSON: %v (at byte %d)", se, se.Offset)}
	case errors.As(err, &te):
		if te.Field == "" {
			return &Error{Line: n, Err: fmt.Errorf("not a JSON object but a %s", te.Value)}
		}
		return &Error{Line: n, Field: te.Field, Err: fmt.Errorf("must not be a JSON %s", te.Value)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &Error{Line: n, Err: errors.New("not valid JSON: the object is incomplete")}
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return &Error{Line: n, Field: f, Err: errors.New("unknown field (see docs/import.md for the fields)")}
	}
	return &Error{Line: n, Err: fmt.Errorf("not valid: %s", strings.TrimPrefix(msg, "json: "))}
}

// fields are the member names of a line, exactly as the format spells them.
var fields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[line]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

// memberError is a member name that the decoder let through: encoding/json
// matches names ignoring case and keeps the last of two members of one
// name, so "File" would be taken for "file", and of two "file" members the
// second would silently win.
type memberError struct {
	field, msg string
}

func (e *memberError) Error() string { return e.msg }

// checkMembers checks the member names of a line the decoder has accepted
// as one JSON object: each must be a field, spelled exactly, and appear once.
func checkMembers(data []byte) *memberError { return checkMembersOf(data, fields) }

// participantFields are the members of a participant object.
var participantFields = map[string]bool{"userId": true, "name": true, "address": true}

// checkMembersOf is checkMembers for an object with the given members.
func checkMembersOf(data []byte, fields map[string]bool) *memberError {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		name, _ := tok.(string)
		switch {
		case !fields[name]:
			for f := range fields {
				if strings.EqualFold(f, name) {
					return &memberError{field: name, msg: fmt.Sprintf("unknown field; the field is %q (names are case-sensitive)", f)}
				}
			}
			return &memberError{field: name, msg: "unknown field (see docs/import.md for the fields)"}
		case seen[name]:
			return &memberError{field: name, msg: "given twice"}
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

// absent reports whether a raw field was left out or given as null, which
// the format treats alike.
func absent(raw json.RawMessage) bool {
	return raw == nil || string(bytes.TrimSpace(raw)) == "null"
}

// attributes decodes the attributes object member by member: decoding it
// into a map would keep the last of two members of one name silently, and
// which value an operator meant cannot be guessed.
func attributes(raw json.RawMessage) ([]icrec.Attribute, error) {
	if absent(raw) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("must be an object of names and string values")
	}
	var attrs []icrec.Attribute
	seen := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not valid: %v", err)
		}
		name, _ := tok.(string) // the decoder has checked that it is a member name
		var value string
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("%q must have a string value", clip(name))
		}
		switch other, dup := seen[icrec.FoldID(name)]; {
		case dup && other == name:
			return nil, fmt.Errorf("%q is given twice", clip(name))
		case dup:
			return nil, fmt.Errorf("%q and %q are the same name (names ignore case)", clip(other), clip(name))
		}
		seen[icrec.FoldID(name)] = name
		attrs = append(attrs, icrec.Attribute{Name: name, Value: value})
	}
	return attrs, nil
}

// enum decodes an ICWS enumeration given as its integer or its name.
func enum[T ~int](raw json.RawMessage, parse func(string) (T, error)) (T, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return parse(s)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) {
		return 0, fmt.Errorf("%s is neither a name nor an integer", clip(string(raw)))
	}
	return parse(strconv.FormatFloat(f, 'f', -1, 64))
}

// text checks a free-text field: valid UTF-8 (JSON decoding already made
// it so), no control characters, at most max bytes.
func text(s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case len(s) > max:
		return "", fmt.Errorf("is %d bytes long; the limit is %d", len(s), max)
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", fmt.Errorf("%q contains a control character", clip(s))
	}
	return s, nil
}

// relativePath accepts a relative, slash-separated path: media belongs with
// its manifest, and an absolute path would make the manifest impossible to
// move. ".." is allowed only where it stays below the manifest.
func relativePath(p string) (string, error) {
	if strings.ContainsRune(p, 0) || strings.Contains(p, "\\") {
		return "", fmt.Errorf("%q: use '/' to separate directories", clip(p))
	}
	if path.IsAbs(p) || filepath.IsAbs(p) {
		return "", fmt.Errorf("%q is absolute; give the path relative to the manifest", clip(p))
	}
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%q is not a file below the manifest's directory", clip(p))
	}
	return c, nil
}

// fileName checks the name offered to downloaders.
func fileName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || len(s) > 255:
		return "", errors.New("must be 1 to 255 bytes long")
	case strings.ContainsAny(s, "/\\"):
		return "", fmt.Errorf("%q must be a name, not a path", clip(s))
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", fmt.Errorf("%q contains a control character", clip(s))
	}
	return s, nil
}

func participant(raw json.RawMessage) (icrec.Participant, error) {
	var id string
	if err := json.Unmarshal(raw, &id); err == nil {
		if err := icrec.ValidateID("user id", id); err != nil {
			return icrec.Participant{}, err
		}
		return icrec.Participant{UserID: id}, nil
	}
	var o participantObject
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		return icrec.Participant{}, errors.New(`must be a user id or an object {"userId", "name", "address"}`)
	}
	if me := checkMembersOf(raw, participantFields); me != nil {
		return icrec.Participant{}, fmt.Errorf("member %q: %s", clip(me.field), strings.Replace(me.msg, " (see docs/import.md for the fields)", ` (the members are "userId", "name" and "address")`, 1))
	}
	if o.UserID != "" {
		if err := icrec.ValidateID("user id", o.UserID); err != nil {
			return icrec.Participant{}, err
		}
	}
	var err error
	p := icrec.Participant{UserID: o.UserID}
	if p.Name, err = text(o.Name, 256); err != nil {
		return icrec.Participant{}, fmt.Errorf("name %v", err)
	}
	if p.Address, err = text(o.Address, 256); err != nil {
		return icrec.Participant{}, fmt.Errorf("address %v", err)
	}
	if p.UserID == "" && p.Name == "" && p.Address == "" {
		return icrec.Participant{}, errors.New("names nobody: give userId, name or address")
	}
	return p, nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
