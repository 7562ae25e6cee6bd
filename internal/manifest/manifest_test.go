package manifest_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/manifest"
)

const full = `{"recordingId":"0de0c017-cd4f-d013-8e31-18d8b7470001","interactionId":"1001365309","mediaType":"Call",
"recordingType":1,"callType":"External","direction":"inbound","recordingDate":"20240131T101500Z","duration":73.5,
"expirationDate":"2031-01-31T10:15:00Z","initiationPolicyName":"All calls","lineName":"SIP-1","snippetInitiator":"",
"relatedRecordingId":"{11111111-2222-3333-4444-555555555555}","isEncrypted":false,"isArchived":true,
"file":"media/./call1.wav","fileName":"call 1.wav","contentType":"audio/wav; codecs=1",
"sha256":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
"participants":["agent1",{"name":"Jane Caller","address":"+15551234567"},{"userId":"Agent2","name":"Agent Two"}],
"workgroups":["support","Billing","SUPPORT"],"attributes":{"Case":"42","priority":"high"},"tags":["vip","VIP","complaint"]}`

func TestParseFull(t *testing.T) {
	e, err := manifest.Parse(7, []byte(strings.ReplaceAll(full, "\n", "")))
	if err != nil {
		t.Fatal(err)
	}
	r := e.Recording
	for _, c := range []struct{ name, got, want string }{
		{"ID", r.ID, "0DE0C017-CD4F-D013-8E31-18D8B7470001"},
		{"InteractionID", r.InteractionID, "1001365309"},
		{"MediaType", r.MediaType.String(), "Call"},
		{"RecordingType", r.RecordingType.String(), "PolicyRelated"},
		{"CallType", r.CallType.String(), "External"},
		{"Direction", r.Direction.String(), "Inbound"},
		{"RecordingDate", r.RecordingDate.Format(time.RFC3339), "2024-01-31T10:15:00Z"},
		{"Duration", r.Duration.String(), "1m13.5s"},
		{"ExpirationDate", r.ExpirationDate.Format(time.RFC3339), "2031-01-31T10:15:00Z"},
		{"InitiationPolicyName", r.InitiationPolicyName, "All calls"},
		{"LineName", r.LineName, "SIP-1"},
		{"RelatedRecordingID", r.RelatedRecordingID, "11111111-2222-3333-4444-555555555555"},
		{"File", e.File, "media/call1.wav"},
		{"FileName", r.Media.FileName, "call 1.wav"},
		{"ContentType", r.Media.ContentType, "audio/wav"},
		{"SHA256", e.SHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"Workgroups", strings.Join(r.Workgroups, ","), "Billing,support"},
		{"Tags", strings.Join(r.Tags, ","), "complaint,vip"},
	} {
		if c.got != c.want {
			t.Errorf("%s=%q, want %q", c.name, c.got, c.want)
		}
	}
	if !r.IsArchived || r.IsEncrypted || !e.ContentTypeDeclared || e.Line != 7 {
		t.Errorf("flags: archived %v encrypted %v declared %v line %d", r.IsArchived, r.IsEncrypted, e.ContentTypeDeclared, e.Line)
	}
	if got := r.Participants; len(got) != 3 || got[0].UserID != "agent1" || got[1].Address != "+15551234567" || got[2].UserID != "Agent2" || got[2].Name != "Agent Two" {
		t.Errorf("Participants=%+v", got)
	}
	if got := r.Attributes; len(got) != 2 || got[0] != (icrec.Attribute{Name: "Case", Value: "42"}) || got[1].Name != "priority" {
		t.Errorf("Attributes=%+v", got)
	}
}

func TestParseMinimal(t *testing.T) {
	line := `{"interactionId":"i-1","mediaType":4,"recordingDate":"2024-01-31T10:15:00.5+01:00","file":"mail.eml"}`
	e, err := manifest.Parse(1, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	r := e.Recording
	if r.MediaType != icrec.MediaEmail || r.Media.FileName != "mail.eml" || e.ContentTypeDeclared || r.Media.ContentType != "" {
		t.Errorf("got %+v", e)
	}
	// Without recordingId the id is derived, the same every time.
	again, _ := manifest.Parse(99, []byte(line))
	if _, ok := icrec.CanonicalGUID(r.ID); !ok || r.ID != again.Recording.ID {
		t.Errorf("derived ids %q and %q", r.ID, again.Recording.ID)
	}
	other, _ := manifest.Parse(1, []byte(strings.Replace(line, "mail.eml", "other.eml", 1)))
	if other.Recording.ID == r.ID {
		t.Error("two files of one interaction got the same derived id")
	}
}

func TestParseErrors(t *testing.T) {
	base := `"interactionId":"i","mediaType":"Call","recordingDate":"20240101T000000Z","file":"a.wav"`
	for _, tc := range []struct {
		name, line, field, want string
	}{
		{"ErrSyntax", `{"interactionId":`, "", "not valid JSON"},
		{"ErrNotObject", `["a"]`, "", "not a JSON object"},
		{"ErrTrailing", `{` + base + `} {}`, "", "more than one JSON value"},
		{"ErrUnknownField", `{` + base + `,"mediaTyp":1}`, "mediaTyp", "unknown field"},
		{"ErrFieldCase", `{` + base + `,"Duration":1}`, "Duration", `the field is "duration" (names are case-sensitive)`},
		{"ErrFieldTwice", `{` + base + `,"file":"b.wav"}`, "file", "given twice"},
		{"ErrFieldTwiceNull", `{` + base + `,"tags":null,"tags":["x"]}`, "tags", "given twice"},
		{"ErrWrongType", `{` + base + `,"duration":"long"}`, "duration", "must not be a JSON string"},
		{"ErrNoInteraction", `{"mediaType":1,"recordingDate":"20240101T000000Z","file":"a.wav"}`, "interactionId", "required"},
		{"ErrNoMediaType", `{"interactionId":"i","recordingDate":"20240101T000000Z","file":"a.wav"}`, "mediaType", "required"},
		{"ErrBadMediaType", `{"interactionId":"i","mediaType":"Vidoe","recordingDate":"20240101T000000Z","file":"a.wav"}`, "mediaType", `"Vidoe" is not one of`},
		{"ErrMediaTypeRange", `{"interactionId":"i","mediaType":9,"recordingDate":"20240101T000000Z","file":"a.wav"}`, "mediaType", "out of range"},
		{"ErrMediaTypeFraction", `{"interactionId":"i","mediaType":1.5,"recordingDate":"20240101T000000Z","file":"a.wav"}`, "mediaType", "neither a name nor an integer"},
		{"ErrNoDate", `{"interactionId":"i","mediaType":1,"file":"a.wav"}`, "recordingDate", "required"},
		{"ErrBadDate", `{"interactionId":"i","mediaType":1,"recordingDate":"yesterday","file":"a.wav"}`, "recordingDate", "ISO-8601"},
		{"ErrNegativeDuration", `{` + base + `,"duration":-1}`, "duration", "between 0"},
		{"ErrNoFile", `{"interactionId":"i","mediaType":1,"recordingDate":"20240101T000000Z"}`, "file", "required"},
		{"ErrAbsoluteFile", `{"interactionId":"i","mediaType":1,"recordingDate":"20240101T000000Z","file":"/etc/passwd"}`, "file", "absolute"},
		{"ErrEscapingFile", `{"interactionId":"i","mediaType":1,"recordingDate":"20240101T000000Z","file":"a/../../x.wav"}`, "file", "not a file below"},
		{"ErrBackslash", `{"interactionId":"i","mediaType":1,"recordingDate":"20240101T000000Z","file":"a\\b.wav"}`, "file", "use '/'"},
		{"ErrBadID", `{` + base + `,"recordingId":"42"}`, "recordingId", "not a GUID"},
		{"ErrBadSHA", `{` + base + `,"sha256":"abc"}`, "sha256", "64 hexadecimal"},
		{"ErrContentType", `{` + base + `,"contentType":"video/mp4"}`, "contentType", "does not fit a Call recording"},
		{"ErrContentTypeSyntax", `{` + base + `,"contentType":"wav"}`, "contentType", "not a media type"},
		{"ErrParticipant", `{` + base + `,"participants":[7]}`, "participants[0]", "must be a user id or an object"},
		{"ErrParticipantEmpty", `{` + base + `,"participants":[{}]}`, "participants[0]", "names nobody"},
		{"ErrParticipantField", `{` + base + `,"participants":[{"user":"x"}]}`, "participants[0]", "must be a user id or an object"},
		{"ErrWorkgroup", `{` + base + `,"workgroups":["a,b"]}`, "workgroups", "reserved characters"},
		{"ErrAttributeDup", `{` + base + `,"attributes":{"Case":"1","CASE":"2"}}`, "attributes", "same name"},
		{"ErrAttributeTwice", `{` + base + `,"attributes":{"Case":"1","Case":"2"}}`, "attributes", `"Case" is given twice`},
		{"ErrAttributeValue", `{` + base + `,"attributes":{"Case":42}}`, "attributes", `"Case" must have a string value`},
		{"ErrAttributesNotObject", `{` + base + `,"attributes":["Case"]}`, "attributes", "must be an object"},
		{"ErrExpirationZero", `{` + base + `,"expirationDate":"00010101T000000Z"}`, "expirationDate", "00010101T000000Z is before the recordingDate"},
		{"ErrExpirationEarly", `{` + base + `,"expirationDate":"1969-12-31T23:59:59Z"}`, "expirationDate", "before the recordingDate"},
		{"ErrExpirationBeforeRecording", `{` + base + `,"expirationDate":"2020-01-01T00:00:00Z"}`, "expirationDate", "before the recordingDate"},
		{"ErrControlChar", `{` + base + `,"lineName":"a\u0007b"}`, "lineName", "control character"},
		{"ErrFileName", `{` + base + `,"fileName":"../x"}`, "fileName", "a name, not a path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := manifest.Parse(3, []byte(tc.line))
			var me *manifest.Error
			if !errors.As(err, &me) {
				t.Fatalf("err=%v, want a *manifest.Error", err)
			}
			if me.Line != 3 || me.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err=%q (field %q), want line 3, field %q, containing %q", err, me.Field, tc.field, tc.want)
			}
		})
	}
}

func TestParseNullIsAbsent(t *testing.T) {
	required := []struct{ name, value string }{
		{"interactionId", `"i"`}, {"mediaType", `"Call"`}, {"recordingDate", `"20240101T000000Z"`}, {"file", `"a.wav"`},
	}
	// line is a line of the required fields, the one named null given as
	// null, plus extra.
	line := func(null, extra string) []byte {
		var ms []string
		for _, f := range required {
			v := f.value
			if f.name == null {
				v = "null"
			}
			ms = append(ms, `"`+f.name+`":`+v)
		}
		if extra != "" {
			ms = append(ms, extra)
		}
		return []byte("{" + strings.Join(ms, ",") + "}")
	}
	want, err := manifest.Parse(1, line("", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{
		"recordingId", "recordingType", "callType", "direction", "duration", "expirationDate",
		"initiationPolicyName", "lineName", "snippetInitiator", "relatedRecordingId", "isEncrypted", "isArchived",
		"fileName", "contentType", "sha256", "participants", "workgroups", "attributes", "tags",
	} {
		t.Run(field, func(t *testing.T) {
			got, err := manifest.Parse(1, line("", `"`+field+`":null`))
			if err != nil {
				t.Fatalf("%s null: %v", field, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s null gives %+v, left out %+v", field, got, want)
			}
		})
	}
	for _, f := range required {
		t.Run(f.name, func(t *testing.T) {
			_, err := manifest.Parse(1, line(f.name, ""))
			var me *manifest.Error
			if !errors.As(err, &me) || me.Field != f.name || me.Err.Error() != "required" {
				t.Errorf("%s null: %v, want %s: required", f.name, err, f.name)
			}
		})
	}
}

func TestDerivedIDUsesThePath(t *testing.T) {
	line := func(file string) string {
		return `{"interactionId":"i-1","mediaType":"Call","recordingDate":"2024-01-31T10:15:00Z","file":"` + file + `"}`
	}
	id := func(file string) string {
		t.Helper()
		e, err := manifest.Parse(1, []byte(line(file)))
		if err != nil {
			t.Fatal(err)
		}
		return e.Recording.ID
	}
	if a, b := id("a/x.wav"), id("b/x.wav"); a == b {
		t.Errorf("a/x.wav and b/x.wav of one interaction both got id %s", a)
	}
	if a, b := id("a/./x.wav"), id("a/x.wav"); a != b {
		t.Errorf("one file written two ways got ids %s and %s", a, b)
	}
	// A file at the top keeps the id earlier versions derived from its name.
	if got, want := id("x.wav"), "7E72A7BC-D583-5BDC-BE83-E701254D2003"; got != want {
		t.Errorf("x.wav got id %s, want %s", got, want)
	}
}

func TestCheckContent(t *testing.T) {
	for _, tc := range []struct {
		ct, head string
		ok       bool
	}{
		{"audio/wav", "RIFF\x24\x00\x00\x00WAVEfmt ", true},
		{"audio/wav", "ID3\x03", false},
		{"audio/mpeg", "ID3\x03", true},
		{"audio/mpeg", "\xff\xfb\x90", true},
		{"video/x-msvideo", "RIFF\x00\x00\x00\x00AVI LIST", true},
		{"video/x-msvideo", "RIFF\x00\x00\x00\x00WAVE", false},
		{"video/mp4", "\x00\x00\x00\x18ftypmp42", true},
		{"application/json", "\xef\xbb\xbf\n [{", true},
		{"application/json", "<html>", false},
		{"message/rfc822", "From: a@example.com\r\n", true},
		{"message/rfc822", "%PDF-1.4", false},
		{"text/html", "anything", true}, // no known signature
	} {
		if err := manifest.CheckContent(tc.ct, []byte(tc.head)); (err == nil) != tc.ok {
			t.Errorf("CheckContent(%s, %q)=%v, want ok=%v", tc.ct, tc.head, err, tc.ok)
		}
	}
	if ct, ok := manifest.ContentTypeByName("A.WAV"); !ok || ct != "audio/wav" {
		t.Errorf("ContentTypeByName(A.WAV)=%q", ct)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(strings.ReplaceAll(full, "\n", "")))
	f.Add([]byte(`{"interactionId":"i","mediaType":4,"recordingDate":"20240101T000000Z","file":"m.eml"}`))
	f.Add([]byte(`{"participants":[{"userId":"a"}],"attributes":{"a":"b"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"interactionId":"i","mediaType":null,"callType":null,"recordingDate":"20240101T000000Z","expirationDate":"00010101T000000Z","file":"a/./m.wav","attributes":{"a":"1","A":"2","a":null}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := manifest.Parse(1, line)
		if err != nil {
			var me *manifest.Error
			if !errors.As(err, &me) || me.Line != 1 {
				t.Fatalf("error %v is not a *manifest.Error for line 1", err)
			}
			return
		}
		r := e.Recording
		if _, ok := icrec.CanonicalGUID(r.ID); !ok || r.InteractionID == "" || e.File == "" || strings.HasPrefix(e.File, "/") || strings.HasPrefix(e.File, "..") {
			t.Fatalf("accepted an entry without id, interaction or a safe file: %+v", e)
		}
		if !r.MediaType.Valid() || r.RecordingDate.IsZero() || r.Duration < 0 || !r.ExpirationDate.IsZero() && r.ExpirationDate.Year() < 1970 {
			t.Fatalf("accepted invalid values: %+v", r)
		}
	})
}

func TestParseParticipantObjects(t *testing.T) {
	base := `{"interactionId":"1","mediaType":"Call","recordingDate":"20240101T000000Z","file":"a.wav","participants":[%s]}`
	for in, want := range map[string]string{
		`{"name":"  "}`:                "names nobody",
		`{"address":" ","userId":""}`:  "names nobody",
		`{"nAme":"Jane"}`:              `member "nAme": unknown field; the field is "name"`,
		`{"name":"Jane","name":"Joe"}`: `member "name": given twice`,
		`{"name":"Jane","phone":"1"}`:  `must be a user id or an object`,
	} {
		_, err := manifest.Parse(1, []byte(fmt.Sprintf(base, in)))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", in, err, want)
		}
	}
	e, err := manifest.Parse(1, []byte(fmt.Sprintf(base, `{"name":" Jane "}`)))
	if err != nil || e.Recording.Participants[0].Name != "Jane" {
		t.Errorf("a trimmed name: %v %+v", err, e)
	}
}
