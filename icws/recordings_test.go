package icws_test

import (
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
)

// wantInvalid fails unless err is nil or an Invalid *icrec.Error with a
// message and an ICWS errorId of the request-representation family.
func wantInvalid(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	e, ok := err.(*icrec.Error)
	if !ok || e.Kind != icrec.Invalid || e.Message == "" || (e.ID != icrec.IDMissingParameter && e.ID != icrec.IDInvalidProperty) {
		t.Fatalf("%s: err=%#v, want an Invalid *icrec.Error with a message", what, err)
	}
}

// FuzzParseRecordingBodies feeds one body to every recordings request
// parser: each must refuse it with a 400-class error or accept it, never
// panic, and what it accepts must be what a client could have meant.
func FuzzParseRecordingBodies(f *testing.F) {
	for _, s := range []string{
		`{"attributesValues":[{"attributeName":"Case","attributeValue":"42"}]}`,
		`{"tags":["vip","Refund"]}`,
		`{"expirationDate":"20300101T000000Z"}`, `{"expirationDate":"2030-01-01T00:00:00+02:00"}`, `{}`, ``,
		`{"toParticipants":{"emailAddresses":[{"displayName":"J","address":"j@example.com"}]},"priority":4}`,
		`{"recordings":{"recordingIds":["0DE0C017-CD4F-D013-8E31-18D8B7470001"]},"parameters":{"toParticipants":{"emailAddresses":[{"address":"a@b.c"}]}}}`,
		`{"tags":[null]}`, `{"attributesValues":{}}`, `[]`, `null`, "\xff", `{"parameters":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		attrs, err := icws.ParseAttributeMap(body)
		wantInvalid(t, "ParseAttributeMap", err)
		if err == nil && attrs == nil {
			t.Fatal("ParseAttributeMap accepted a body with no list")
		}
		_, err = icws.ParseTagList(body)
		wantInvalid(t, "ParseTagList", err)
		when, given, err := icws.ParseRetentionExpiration(body)
		wantInvalid(t, "ParseRetentionExpiration", err)
		if err == nil && given && when.IsZero() {
			t.Fatal("ParseRetentionExpiration gave a zero date")
		}
		m, err := icws.ParseEmailParameters(body)
		wantInvalid(t, "ParseEmailParameters", err)
		if err == nil && (len(m.To) == 0 || m.Priority != 1 && m.Priority != 2 && m.Priority != 4) {
			t.Fatalf("ParseEmailParameters accepted %+v", m)
		}
		ids, _, err := icws.ParseRecordingsEmail(body)
		wantInvalid(t, "ParseRecordingsEmail", err)
		if err == nil && len(ids) == 0 {
			t.Fatal("ParseRecordingsEmail accepted no recordings")
		}
	})
}

func TestParseRetentionExpiration(t *testing.T) {
	for _, tc := range []struct {
		body  string
		want  time.Time
		given bool
		prop  string
	}{
		{``, time.Time{}, false, ""},
		{`  `, time.Time{}, false, ""},
		{`{}`, time.Time{}, false, ""},
		{`{"expirationDate":null}`, time.Time{}, false, ""},
		{`{"expirationDate":"20300101T000000Z"}`, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), true, ""},
		{`{"expirationDate":"soon"}`, time.Time{}, false, "expirationDate"},
		{`{"expirationDate":1}`, time.Time{}, false, "expirationDate"},
	} {
		got, given, err := icws.ParseRetentionExpiration([]byte(tc.body))
		if tc.prop != "" {
			if e, ok := err.(*icrec.Error); !ok || e.Property != tc.prop {
				t.Errorf("%q: err %v, want one naming %s", tc.body, err, tc.prop)
			}
			continue
		}
		if err != nil || given != tc.given || !got.Equal(tc.want) {
			t.Errorf("%q: %v %v %v", tc.body, got, given, err)
		}
	}
}

func TestTimelineXML(t *testing.T) {
	r := &icrec.Recording{ID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", InteractionID: `1001"<&`, MediaType: icrec.MediaCall,
		RecordingDate: time.Date(2024, 1, 31, 10, 15, 0, 0, time.UTC), Duration: 90 * time.Second,
		Participants: []icrec.Participant{{UserID: "agent1"}, {Name: "Jane <Caller>", Address: "+1555"}}}
	got := icws.TimelineXML(r)
	want := `<timeline recordingId="0DE0C017-CD4F-D013-8E31-18D8B7470001" interactionId="1001&#34;&lt;&amp;" mediaType="Call" start="2024-01-31T10:15:00Z" end="2024-01-31T10:16:30Z" duration="90">` +
		`<participant userId="agent1"></participant><participant name="Jane &lt;Caller&gt;" address="+1555"></participant></timeline>`
	if got != want {
		t.Errorf("TimelineXML:\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "<Caller>") {
		t.Error("a name was not escaped")
	}
}
