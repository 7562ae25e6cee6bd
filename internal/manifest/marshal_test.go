package manifest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/manifest"
)

// docLines are the example lines of docs/import.md.
var docLines = []string{
	`{"recordingId":"0DE0C017-CD4F-D013-8E31-18D8B7470001","interactionId":"1001365309","mediaType":"Call","recordingType":"PolicyRelated","callType":"External","direction":"Inbound","recordingDate":"20240131T101500Z","duration":73.5,"expirationDate":"20310131T101500Z","lineName":"SIP-1","file":"media/0DE0C017.wav","contentType":"audio/wav","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","participants":["agent1",{"name":"Jane Caller","address":"+15551234567"}],"workgroups":["Support"],"attributes":{"Case":"42"},"tags":["vip"]}`,
	`{"interactionId":"1001365412","mediaType":4,"recordingDate":"2024-01-31T11:02:00Z","file":"media/complaint.eml","participants":["agent2"],"workgroups":["Sales"]}`,
}

// normalised is e as Parse gives it back from a line: what Parse
// normalises normalised, and what a line does not carry dropped.
func normalised(t *testing.T, e *manifest.Entry) *manifest.Entry {
	t.Helper()
	n := *e
	n.Line = 1
	r := &n.Recording
	var ok bool
	if r.ID == "" {
		r.ID = manifest.DerivedID(r.InteractionID, r.MediaType, r.RecordingDate, e.File)
	} else if r.ID, ok = icrec.CanonicalGUID(r.ID); !ok {
		t.Fatalf("test entry with a bad id %q", e.Recording.ID)
	}
	if r.RelatedRecordingID != "" {
		r.RelatedRecordingID, _ = icrec.CanonicalGUID(r.RelatedRecordingID)
	}
	r.RecordingDate = r.RecordingDate.UTC()
	if !r.ExpirationDate.IsZero() {
		r.ExpirationDate = r.ExpirationDate.UTC()
	}
	for _, s := range []*string{&r.InteractionID, &r.InitiationPolicyName, &r.LineName, &r.SnippetInitiator} {
		*s = strings.TrimSpace(*s)
	}
	r.Participants = nil
	for _, p := range e.Recording.Participants {
		r.Participants = append(r.Participants, icrec.Participant{UserID: p.UserID, Name: strings.TrimSpace(p.Name), Address: strings.TrimSpace(p.Address)})
	}
	var err error
	if r.Workgroups, err = icrec.NormalizeNames("workgroup", r.Workgroups); err != nil {
		t.Fatal(err)
	}
	if r.Tags, err = icrec.NormalizeNames("tag", r.Tags); err != nil {
		t.Fatal(err)
	}
	if r.Attributes, err = icrec.NormalizeAttributes(r.Attributes); err != nil {
		t.Fatal(err)
	}
	if n.SHA256 == "" {
		n.SHA256 = r.Media.SHA256
	}
	n.SHA256 = strings.ToLower(n.SHA256)
	media := icrec.Media{FileName: r.Media.FileName, ContentType: r.Media.ContentType}
	if media.FileName == "" {
		media.FileName = path.Base(n.File)
	}
	r.Media = media
	n.ContentTypeDeclared = media.ContentType != ""
	r.Attachments = nil
	r.Created = time.Time{}
	return &n
}

// checkSame fails unless got is want, field by field.
func checkSame(t *testing.T, got, want *manifest.Entry) {
	t.Helper()
	if got.File != want.File || got.SHA256 != want.SHA256 || got.ContentTypeDeclared != want.ContentTypeDeclared || got.Line != want.Line {
		t.Errorf("File, SHA256, ContentTypeDeclared, Line = %q, %q, %v, %d, want %q, %q, %v, %d",
			got.File, got.SHA256, got.ContentTypeDeclared, got.Line, want.File, want.SHA256, want.ContentTypeDeclared, want.Line)
	}
	if reflect.DeepEqual(got.Recording, want.Recording) {
		return
	}
	g, w := reflect.ValueOf(got.Recording), reflect.ValueOf(want.Recording)
	for i := range g.NumField() {
		if !reflect.DeepEqual(g.Field(i).Interface(), w.Field(i).Interface()) {
			t.Errorf("Recording.%s = %#v, want %#v", g.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface())
		}
	}
}

// roundTrip marshals e and parses the line back.
func roundTrip(t *testing.T, e *manifest.Entry) (*manifest.Entry, []byte) {
	t.Helper()
	line, err := manifest.Marshal(e)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if bytes.ContainsAny(line, "\n\r") {
		t.Fatalf("Marshal wrote more than one line: %q", line)
	}
	back, err := manifest.Parse(1, line)
	if err != nil {
		t.Fatalf("Parse(Marshal(e)): %v\nline: %s", err, line)
	}
	return back, line
}

var t0 = time.Date(2024, 1, 31, 10, 15, 0, 0, time.UTC)

func TestMarshalRoundTrip(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name string
		e    manifest.Entry
	}{
		{"Minimal", manifest.Entry{File: "mail.eml", Recording: icrec.Recording{
			ID: "0DE0C017-CD4F-D013-8E31-18D8B7470002", InteractionID: "i-1", MediaType: icrec.MediaEmail, RecordingDate: t0}}},
		{"WithoutID", manifest.Entry{File: "a/b.wav", Recording: icrec.Recording{
			InteractionID: "i-2", MediaType: icrec.MediaCall, RecordingDate: t0}}},
		{"Full", manifest.Entry{
			File: "media/call1.wav", SHA256: "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", ContentTypeDeclared: true,
			Recording: icrec.Recording{
				ID: "{0de0c017-cd4f-d013-8e31-18d8b7470001}", InteractionID: "1001365309",
				MediaType: icrec.MediaCall, RecordingType: icrec.RecordingSnippet, CallType: icrec.CallConference, Direction: icrec.DirectionOutbound,
				RecordingDate:        time.Date(2024, 1, 31, 11, 15, 0, 123456789, zone),
				Duration:             73*time.Second + 500*time.Millisecond,
				ExpirationDate:       time.Date(2031, 1, 31, 10, 15, 0, 0, zone),
				InitiationPolicyName: "All calls <b>&</b>", LineName: "SIP-1", SnippetInitiator: "supervisor",
				RelatedRecordingID: "11111111-2222-3333-4444-55555555555a", IsEncrypted: true, IsArchived: true,
				Participants: []icrec.Participant{
					{UserID: "agent1"}, {Name: "Jane Caller", Address: "+15551234567"}, {UserID: "Agent2", Name: "Agent Two"}, {Address: "jane@example.com"},
				},
				Workgroups: []string{"support", "Billing"},
				Attributes: []icrec.Attribute{{Name: "priority", Value: "high"}, {Name: "Case", Value: `42 "quoted" \ <i>`}},
				Tags:       []string{"vip", "complaint"},
				Media:      icrec.Media{FileName: "call 1.wav", ContentType: "audio/wav"},
			}}},
		{"Unicode", manifest.Entry{File: "médias/appel été.wav", Recording: icrec.Recording{
			ID: "0DE0C017-CD4F-D013-8E31-18D8B7470003", InteractionID: "通話-1", MediaType: icrec.MediaCall, RecordingDate: t0,
			LineName: "Zürich ☎", Participants: []icrec.Participant{{UserID: "josé", Name: "José Müller", Address: "+41 44 000 00 00"}},
			Workgroups: []string{"Süpport", "サポート"}, Attributes: []icrec.Attribute{{Name: "Kundennr", Value: "😀 \u2028 ñ"}}, Tags: []string{"élevé"},
			Media: icrec.Media{FileName: "Anruf «1».wav"}}}},
		{"FromCatalogue", manifest.Entry{File: "x/0DE0C017.eml", Recording: icrec.Recording{
			ID: "0DE0C017-CD4F-D013-8E31-18D8B7470004", InteractionID: "i-4", MediaType: icrec.MediaEmail, RecordingDate: t0,
			Media: icrec.Media{Key: "ab/cd", Size: 1234, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				ContentType: "message/rfc822", FileName: "complaint.eml"},
			Attachments: []icrec.Attachment{{Index: 1, Part: "2", FileName: "a.pdf", ContentType: "application/pdf", Size: 10}},
			Created:     t0.Add(time.Hour)}}},
		{"DefaultFileName", manifest.Entry{File: "dir/ spaced .wav", Recording: icrec.Recording{
			ID: "0DE0C017-CD4F-D013-8E31-18D8B7470005", InteractionID: "i-5", MediaType: icrec.MediaCall, RecordingDate: t0,
			Media: icrec.Media{FileName: " spaced .wav"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, line := roundTrip(t, &tc.e)
			want := normalised(t, &tc.e)
			checkSame(t, got, want)
			if bytes.Contains(line, []byte(`\u003c`)) || bytes.Contains(line, []byte(`\u0026`)) {
				t.Errorf("HTML escaping in %s", line)
			}
			// One entry, one line.
			a, aerr := manifest.Marshal(got)
			b, berr := manifest.Marshal(want)
			if aerr != nil || berr != nil || !bytes.Equal(a, b) {
				t.Errorf("Marshal of the parsed entry:\n%s (%v)\nof the normalised one:\n%s (%v)", a, aerr, b, berr)
			}
		})
	}
}

// TestMarshalDocExample: the example of docs/import.md is written in the
// field order Marshal uses, with names for enumerations, so that an entry
// read from it comes back as the very same line.
func TestMarshalDocExample(t *testing.T) {
	e, err := manifest.Parse(1, []byte(docLines[0]))
	if err != nil {
		t.Fatal(err)
	}
	line, err := manifest.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if string(line) != docLines[0] {
		t.Errorf("Marshal gave\n%s\nwant\n%s", line, docLines[0])
	}
}

func TestMarshalFieldOrder(t *testing.T) {
	e := manifest.Entry{File: "a.wav", SHA256: strings.Repeat("0", 64), Recording: icrec.Recording{
		ID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", InteractionID: "i", MediaType: icrec.MediaCall, RecordingDate: t0,
		Duration: time.Second, ExpirationDate: t0, InitiationPolicyName: "p", LineName: "l", SnippetInitiator: "s",
		RelatedRecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470002", IsEncrypted: true, IsArchived: true,
		Participants: []icrec.Participant{{UserID: "u"}}, Workgroups: []string{"w"},
		Attributes: []icrec.Attribute{{Name: "b", Value: "1"}, {Name: "a", Value: "2"}}, Tags: []string{"t"},
		Media: icrec.Media{FileName: "other.wav", ContentType: "audio/wav"},
	}}
	line, err := manifest.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	// The order of the fields in docs/import.md.
	want := []string{
		"recordingId", "interactionId", "mediaType", "recordingType", "callType", "direction", "recordingDate",
		"duration", "expirationDate", "initiationPolicyName", "lineName", "snippetInitiator", "relatedRecordingId",
		"isEncrypted", "isArchived", "file", "fileName", "contentType", "sha256", "participants", "workgroups",
		"attributes", "tags",
	}
	if got := memberNames(t, line); !reflect.DeepEqual(got, want) {
		t.Errorf("members %q\nwant %q", got, want)
	}
	if !bytes.Contains(line, []byte(`"attributes":{"b":"1","a":"2"}`)) {
		t.Errorf("attributes not in the recording's order: %s", line)
	}
}

// memberNames lists the member names of a JSON object in order.
func memberNames(t *testing.T, line []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func TestMarshalWithoutFile(t *testing.T) {
	e := manifest.Entry{Recording: icrec.Recording{
		ID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", InteractionID: "i", MediaType: icrec.MediaChat, RecordingDate: t0,
		Media: icrec.Media{FileName: "chat.html", ContentType: "text/html", SHA256: strings.Repeat("ab", 32), Size: 5, Key: "k"},
	}}
	line, err := manifest.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"recordingId":"0DE0C017-CD4F-D013-8E31-18D8B7470001","interactionId":"i","mediaType":"Chat","recordingType":"Unknown","callType":"Unknown","direction":"Unknown","recordingDate":"20240131T101500Z","duration":0,"fileName":"chat.html","contentType":"text/html","sha256":"` + strings.Repeat("ab", 32) + `"}`
	if string(line) != want {
		t.Errorf("Marshal gave\n%s\nwant\n%s", line, want)
	}
	// Parse wants the file, which an editor or an export adds.
	var me *manifest.Error
	if _, err := manifest.Parse(1, line); !errors.As(err, &me) || me.Field != "file" {
		t.Errorf("Parse of a line without file: %v, want file: required", err)
	}
	withFile := append(bytes.TrimSuffix(line, []byte("}")), `,"file":"chats/1.html"}`...)
	got, err := manifest.Parse(1, withFile)
	if err != nil {
		t.Fatal(err)
	}
	want2 := e
	want2.File = "chats/1.html"
	checkSame(t, got, normalised(t, &want2))
}

func TestMarshalDurations(t *testing.T) {
	entry := func(d time.Duration) *manifest.Entry {
		return &manifest.Entry{File: "a.wav", Recording: icrec.Recording{
			ID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", InteractionID: "i", MediaType: icrec.MediaCall, RecordingDate: t0, Duration: d}}
	}
	for _, d := range []time.Duration{
		0, 1, 2, 999, time.Microsecond + 1, time.Second - 1, time.Second, time.Second + 1, 73*time.Second + 500*time.Millisecond,
		time.Hour + 1, 24*time.Hour - 1, 1<<50 - 1, 1 << 50, 366 * 24 * time.Hour,
	} {
		if got, _ := roundTrip(t, entry(d)); got.Recording.Duration != d {
			t.Errorf("duration %v (%d ns) came back as %v (%d ns)", d, int64(d), got.Recording.Duration, int64(got.Recording.Duration))
		}
	}
	// Up to 2⁵⁰ ns (13 days) every duration reads back exactly; beyond,
	// Marshal may refuse one, but never writes one that reads back
	// otherwise.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		limit := int64(1) << 50
		if i%2 == 1 {
			limit = int64(366 * 24 * time.Hour)
		}
		d := time.Duration(rng.Int64N(limit + 1))
		line, err := manifest.Marshal(entry(d))
		if err != nil {
			if d <= 1<<50 {
				t.Errorf("Marshal(%d ns): %v", int64(d), err)
			}
			continue
		}
		back, err := manifest.Parse(1, line)
		if err != nil || back.Recording.Duration != d {
			t.Fatalf("duration %d ns came back as %v (%v) from %s", int64(d), back, err, line)
		}
	}
}

func TestMarshalErrors(t *testing.T) {
	base := func() *manifest.Entry {
		return &manifest.Entry{File: "a.wav", Recording: icrec.Recording{
			ID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", InteractionID: "i", MediaType: icrec.MediaCall, RecordingDate: t0}}
	}
	for _, tc := range []struct {
		name   string
		change func(*manifest.Entry)
		want   string
	}{
		{"ErrMediaType", func(e *manifest.Entry) { e.Recording.MediaType = 9 }, "mediaType: 9 is not a value"},
		{"ErrDirection", func(e *manifest.Entry) { e.Recording.Direction = -1 }, "direction: -1 is not a value"},
		{"ErrUTF8", func(e *manifest.Entry) { e.Recording.LineName = "a\xffb" }, "lineName: is not valid UTF-8"},
		{"ErrUTF8Participant", func(e *manifest.Entry) {
			e.Recording.Participants = []icrec.Participant{{UserID: "a"}, {Name: "\xc3"}}
		}, "participants[1]: is not valid UTF-8"},
		{"ErrUTF8Attribute", func(e *manifest.Entry) { e.Recording.Attributes = []icrec.Attribute{{Name: "a", Value: "\xff"}} }, "attributes: is not valid UTF-8"},
		{"ErrYear", func(e *manifest.Entry) { e.Recording.ExpirationDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "expirationDate: the year 10000"},
		{"ErrDuration", func(e *manifest.Entry) { e.Recording.Duration = 1<<53 + 1 }, "duration: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := base()
			tc.change(e)
			line, err := manifest.Marshal(e)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Marshal = %s, %v; want an error containing %q", line, err, tc.want)
			}
		})
	}
}

func FuzzMarshalRoundTrip(f *testing.F) {
	for _, l := range docLines {
		f.Add([]byte(l))
	}
	f.Add([]byte(strings.ReplaceAll(full, "\n", "")))
	f.Add([]byte(`{"interactionId":" i ","mediaType":"screen","recordingDate":"2024-01-31t10:15:00.000000001+05:30","duration":1e-9,"file":"a/./ b.avi","participants":[{"userId":"u"},{"name":" n "}],"attributes":{"z":"","A":"<&>"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := manifest.Parse(1, data)
		if err != nil {
			return
		}
		if slices.Contains(e.Recording.Participants, icrec.Participant{}) {
			t.Fatalf("Parse accepted a participant that names nobody: %s", data)
		}
		line, err := manifest.Marshal(e)
		if err != nil {
			t.Fatalf("Marshal of a parsed entry: %v\nfrom %s", err, data)
		}
		back, err := manifest.Parse(1, line)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(line))): %v\nline %s\nwritten %s", err, data, line)
		}
		checkSame(t, back, e)
		if again, err := manifest.Marshal(back); err != nil || !bytes.Equal(again, line) {
			t.Fatalf("second Marshal differs: %s (%v), want %s", again, err, line)
		}
	})
}
