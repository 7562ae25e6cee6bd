package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"time"
	"unicode/utf8"

	"example.com/icrec/icws"
)

// written is a manifest line as Marshal writes it: the members of line, in
// the same order, so that the output is the same for the same entry.
// Enumerations go out as their ICWS names, which read better than the
// integers and which Parse accepts alike.
type written struct {
	RecordingID          string          `json:"recordingId,omitempty"`
	InteractionID        string          `json:"interactionId"`
	MediaType            string          `json:"mediaType"`
	RecordingType        string          `json:"recordingType"`
	CallType             string          `json:"callType"`
	Direction            string          `json:"direction"`
	RecordingDate        string          `json:"recordingDate"`
	Duration             float64         `json:"duration"`
	ExpirationDate       string          `json:"expirationDate,omitempty"`
	InitiationPolicyName string          `json:"initiationPolicyName,omitempty"`
	LineName             string          `json:"lineName,omitempty"`
	SnippetInitiator     string          `json:"snippetInitiator,omitempty"`
	RelatedRecordingID   string          `json:"relatedRecordingId,omitempty"`
	IsEncrypted          bool            `json:"isEncrypted,omitempty"`
	IsArchived           bool            `json:"isArchived,omitempty"`
	File                 string          `json:"file,omitempty"`
	FileName             string          `json:"fileName,omitempty"`
	ContentType          *string         `json:"contentType,omitempty"`
	SHA256               string          `json:"sha256,omitempty"`
	Participants         []any           `json:"participants,omitempty"`
	Workgroups           []string        `json:"workgroups,omitempty"`
	Attributes           json.RawMessage `json:"attributes,omitempty"`
	Tags                 []string        `json:"tags,omitempty"`
}

type writtenParticipant struct {
	UserID  string `json:"userId,omitempty"`
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
}

// Marshal returns e as one manifest line (no trailing newline) that Parse
// reads back as e, up to what Parse normalises: ids come back upper-case,
// times in UTC, text trimmed, workgroups, tags and attributes sorted, and
// the checksum, content type and file name of e.Recording.Media as the
// declared ones. e.Line and the media facts a manifest does not carry
// (key, size, attachments, creation time) are not written.
//
// Marshal fails only where JSON cannot carry a value as it is: an
// enumeration value without an ICWS name, text that is not UTF-8 (which
// encoding/json would replace without a word), a time outside the years
// 0000–9999, or a duration that no number of seconds gives back to the
// nanosecond (one longer than about 26 days may be such). Everything else
// it writes as it is and leaves to Parse to judge: an entry that Parse
// would not have returned, one without a file for example, may give a line
// that Parse rejects.
func Marshal(e *Entry) ([]byte, error) {
	r := &e.Recording
	fail := func(field, format string, args ...any) ([]byte, error) {
		return nil, fmt.Errorf("manifest: %s: %s", field, fmt.Sprintf(format, args...))
	}
	if field := notUTF8(e); field != "" {
		return fail(field, "is not valid UTF-8")
	}
	w := written{
		RecordingID:          r.ID,
		InteractionID:        r.InteractionID,
		InitiationPolicyName: r.InitiationPolicyName,
		LineName:             r.LineName,
		SnippetInitiator:     r.SnippetInitiator,
		RelatedRecordingID:   r.RelatedRecordingID,
		IsEncrypted:          r.IsEncrypted,
		IsArchived:           r.IsArchived,
		File:                 e.File,
		SHA256:               e.SHA256,
		Workgroups:           r.Workgroups,
		Tags:                 r.Tags,
	}
	for _, f := range []struct {
		name  string
		valid bool
		str   string
		dst   *string
	}{
		{"mediaType", r.MediaType.Valid(), r.MediaType.String(), &w.MediaType},
		{"recordingType", r.RecordingType.Valid(), r.RecordingType.String(), &w.RecordingType},
		{"callType", r.CallType.Valid(), r.CallType.String(), &w.CallType},
		{"direction", r.Direction.Valid(), r.Direction.String(), &w.Direction},
	} {
		if !f.valid {
			return fail(f.name, "%s is not a value of the ICWS enumeration", f.str)
		}
		*f.dst = f.str
	}
	var err error
	if w.RecordingDate, err = formatTime(r.RecordingDate); err != nil {
		return fail("recordingDate", "%v", err)
	}
	if !r.ExpirationDate.IsZero() {
		if w.ExpirationDate, err = formatTime(r.ExpirationDate); err != nil {
			return fail("expirationDate", "%v", err)
		}
	}
	if w.Duration, err = seconds(r.Duration); err != nil {
		return fail("duration", "%v", err)
	}
	// Parse names the download after the file when the line does not; a
	// name equal to that default is left out, so that the line reads back
	// the same whatever the file's name holds (a fileName member is
	// trimmed and checked, a file's own name is not).
	if fn := r.Media.FileName; fn != "" && (e.File == "" || fn != path.Base(e.File)) {
		w.FileName = fn
	}
	if e.ContentTypeDeclared || r.Media.ContentType != "" {
		w.ContentType = &r.Media.ContentType
	}
	if w.SHA256 == "" {
		w.SHA256 = r.Media.SHA256
	}
	for _, p := range r.Participants {
		if p.Name == "" && p.Address == "" && p.UserID != "" {
			w.Participants = append(w.Participants, p.UserID)
		} else {
			w.Participants = append(w.Participants, writtenParticipant{UserID: p.UserID, Name: p.Name, Address: p.Address})
		}
	}
	if len(r.Attributes) > 0 {
		// An object in the recording's order, which a map would lose.
		var b bytes.Buffer
		b.WriteByte('{')
		for i, a := range r.Attributes {
			if i > 0 {
				b.WriteByte(',')
			}
			encode(&b, a.Name)
			b.WriteByte(':')
			encode(&b, a.Value)
		}
		b.WriteByte('}')
		w.Attributes = b.Bytes()
	}
	var b bytes.Buffer
	if err := encode(&b, w); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return b.Bytes(), nil
}

// encode writes v as JSON without a newline, and without encoding/json's
// escaping of <, > and &, which would make names such as "Q&A" hard to
// read and grep in a manifest.
func encode(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // the newline Encode adds
	return nil
}

// formatTime writes the compact ICWS form, or, for a time with a fraction
// of a second, which that form cannot hold, the extended one with as many
// digits as the time needs; icws.ParseTime reads both.
func formatTime(t time.Time) (string, error) {
	u := t.UTC()
	if y := u.Year(); y < 0 || y > 9999 {
		return "", fmt.Errorf("the year %d cannot be written as ISO-8601", y)
	}
	if u.Nanosecond() == 0 {
		return icws.FormatTime(u), nil
	}
	return u.Format(time.RFC3339Nano), nil
}

// seconds returns the number of seconds that Parse turns back into d
// exactly. Parse rounds seconds × 10⁹ to the nearest nanosecond in float64
// arithmetic, so d/10⁹ is tried first and then its nearest neighbours: the
// product of one of them and 10⁹ rounds to d whenever any float does. Above
// 2⁵¹ ns (26 days) the products are more than a nanosecond apart, and some
// durations have none.
func seconds(d time.Duration) (float64, error) {
	back := func(s float64) bool { return time.Duration(math.Round(s*float64(time.Second))) == d }
	s := float64(d) / float64(time.Second)
	if back(s) {
		return s, nil
	}
	down, up := s, s
	for range 4 {
		down, up = math.Nextafter(down, math.Inf(-1)), math.Nextafter(up, math.Inf(1))
		if back(down) {
			return down, nil
		}
		if back(up) {
			return up, nil
		}
	}
	return 0, fmt.Errorf("%v (%d ns) has no number of seconds that reads back to the nanosecond", d, int64(d))
}

// notUTF8 names the first field whose text is not UTF-8.
func notUTF8(e *Entry) string {
	r := &e.Recording
	for _, f := range []struct{ name, s string }{
		{"recordingId", r.ID}, {"interactionId", r.InteractionID},
		{"initiationPolicyName", r.InitiationPolicyName}, {"lineName", r.LineName},
		{"snippetInitiator", r.SnippetInitiator}, {"relatedRecordingId", r.RelatedRecordingID},
		{"file", e.File}, {"fileName", r.Media.FileName}, {"contentType", r.Media.ContentType},
		{"sha256", e.SHA256}, {"sha256", r.Media.SHA256},
	} {
		if !utf8.ValidString(f.s) {
			return f.name
		}
	}
	for i, p := range r.Participants {
		if !utf8.ValidString(p.UserID) || !utf8.ValidString(p.Name) || !utf8.ValidString(p.Address) {
			return fmt.Sprintf("participants[%d]", i)
		}
	}
	for _, list := range []struct {
		name string
		s    []string
	}{{"workgroups", r.Workgroups}, {"tags", r.Tags}} {
		for _, s := range list.s {
			if !utf8.ValidString(s) {
				return list.name
			}
		}
	}
	for _, a := range r.Attributes {
		if !utf8.ValidString(a.Name) || !utf8.ValidString(a.Value) {
			return "attributes"
		}
	}
	return ""
}
