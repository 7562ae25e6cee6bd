package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/archive"
)

// recPath is the path of a recordings call of session s.
func recPath(s session, id, rest string) string {
	return "/icws/" + s.id + "/recordings/" + id + "/" + rest
}

func TestMediaDetails(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	scrub := map[string]string{admin.id: "SESSIONID"}
	for _, tc := range []struct{ name, id string }{{"media_details_call", callID}, {"media_details_email", emailID}} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(e.client(false), "GET", recPath(admin, strings.ToLower(tc.id), "media-details"), "", admin.headers())
			goldenResponse(t, tc.name, resp, body, scrub)
		})
	}
	resp, body := e.do(e.client(false), "GET", recPath(admin, emailID, "media-details"), "", admin.headers())
	var d icws.MediaDetails
	if err := json.Unmarshal(body, &d); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	if d.NumAttachments == nil || *d.NumAttachments != 2 || d.MediaType != icrec.MediaEmail {
		t.Errorf("email media-details %s: want numAttachments 2 and mediaType 4", body)
	}
	_, body = e.do(e.client(false), "GET", recPath(admin, callID, "media-details"), "", admin.headers())
	if strings.Contains(string(body), "numAttachments") || !strings.Contains(string(body), `"duration":6.25`) || !strings.Contains(string(body), `"recordingDate":"20240131T101500Z"`) {
		t.Errorf("call media-details %s", body)
	}
}

// TestRecordingRights checks every recordings endpoint against the right it
// needs: granted, the call succeeds; not, 403; unknown recording, 404.
func TestRecordingRights(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	// agent2 gets each right alone, through its own policy, in turn.
	agent2 := e.login("agent2")
	const absent = "0DE0C017-CD4F-D013-8E31-18D8B7479999"
	for _, tc := range []struct {
		name   string
		method string
		rest   string
		body   string
		right  icrec.Rights
		status int
	}{
		{"media-details", "GET", "media-details", "", icrec.ReadAccess, 200},
		{"export-uri", "GET", "export-uri", "", icrec.CanExportOrArchive, 200},
		{"playback-uri", "GET", "playback-uri", "", icrec.CanPlay, 200},
		{"attributes GET", "GET", "attributes", "", icrec.CanViewCustomAttributes, 200},
		{"attributes PUT", "PUT", "attributes", `{"attributesValues":[{"attributeName":"Case","attributeValue":"43"}]}`, icrec.CanModifyCustomAttributes, 204},
		{"attributes DELETE", "DELETE", "attributes?attributeName=Outcome", "", icrec.CanModifyCustomAttributes, 204},
		{"tags GET", "GET", "tags", "", icrec.CanViewTags, 200},
		{"tags PUT", "PUT", "tags", `{"tags":["vip"]}`, icrec.CanModifyTags, 204},
		{"tags DELETE", "DELETE", "tags?tag=vip", "", icrec.CanModifyTags, 204},
		{"retention-expiration", "POST", "retention-expiration", `{"expirationDate":"20300101T000000Z"}`, icrec.WriteAccess, 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// agent2 took no part in the call: nothing but policies apply.
			resp, body := e.do(e.client(false), tc.method, recPath(agent2, callID, tc.rest), tc.body, agent2.headers())
			checkError(t, resp, body, 403, icrec.IDAccessDenied, 0)
			resp, body = e.do(e.client(false), tc.method, recPath(agent2, absent, tc.rest), tc.body, agent2.headers())
			checkError(t, resp, body, 404, icrec.IDNotFound, 0)

			name := "agent2 " + tc.name
			if _, err := e.archive.AddPolicy(t.Context(), archive.NewPolicy{Name: strings.ReplaceAll(name, " ", "-"), Users: []string{"agent2"}, Rights: tc.right}); err != nil {
				t.Fatal(err)
			}
			defer e.archive.DeletePolicy(t.Context(), strings.ReplaceAll(name, " ", "-"))
			resp, body = e.do(e.client(false), tc.method, recPath(agent2, callID, tc.rest), tc.body, agent2.headers())
			if resp.StatusCode != tc.status {
				t.Errorf("with the right: %s %s, want %d", resp.Status, body, tc.status)
			}
			if tc.status == 204 && len(body) != 0 {
				t.Errorf("204 with a body: %q", body)
			}
			resp, body = e.do(e.client(false), tc.method, recPath(agent2, callID, tc.rest), tc.body, nil)
			checkError(t, resp, body, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCookie)
		})
	}
}

func TestAttributeEdits(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	c := e.client(false)
	put := func(body string) (*http.Response, []byte) {
		return e.do(c, "PUT", recPath(admin, callID, "attributes"), body, admin.headers())
	}
	get := func() map[string]string {
		t.Helper()
		_, body := e.do(c, "GET", recPath(admin, callID, "attributes"), "", admin.headers())
		var m icws.AttributeMap
		json.Unmarshal(body, &m)
		out := map[string]string{}
		for _, a := range m.AttributesValues {
			out[a.AttributeName] = a.AttributeValue
		}
		return out
	}
	// PUT replaces the value of a name in any case, adds new names and
	// keeps the rest; any Content-Type is read as JSON.
	resp, body := e.do(c, "PUT", recPath(admin, callID, "attributes"), `{"attributesValues":[{"attributeName":"CASE","attributeValue":"43"},{"attributeName":"Agent","attributeValue":"émile"}],"__type":"urn:inin.com:recordings:attributeMap"}`,
		http.Header{"Cookie": {admin.cookie}, "Inin-Icws-Csrf-Token": {admin.csrf}, "Content-Type": {"text/plain"}})
	if resp.StatusCode != 204 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	if got := get(); len(got) != 3 || got["Case"] != "43" || got["Agent"] != "émile" || got["Outcome"] != "refund" {
		t.Errorf("after PUT: %v", got)
	}
	for _, q := range []string{"attributeName=outcome", "attributeName=never-there"} {
		if resp, body := e.do(c, "DELETE", recPath(admin, callID, "attributes?"+q), "", admin.headers()); resp.StatusCode != 204 {
			t.Errorf("DELETE ?%s: %s %s", q, resp.Status, body)
		}
	}
	if got := get(); len(got) != 2 || got["Outcome"] != "" {
		t.Errorf("after DELETE: %v", got)
	}

	many := make([]string, icrec.MaxAttributes+1)
	for i := range many {
		many[i] = `{"attributeName":"a` + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + `","attributeValue":"v"}`
	}
	for _, tc := range []struct {
		name, body string
		status     int
		id         string
		property   string
	}{
		{"not JSON", `{"attributesValues":`, 400, icrec.IDInvalidProperty, ""},
		{"empty body", ``, 400, icrec.IDMissingParameter, ""},
		{"no list", `{}`, 400, icrec.IDMissingParameter, "attributesValues"},
		{"list of the wrong type", `{"attributesValues":{"a":"b"}}`, 400, icrec.IDInvalidProperty, "attributesValues"},
		{"no name", `{"attributesValues":[{"attributeValue":"v"}]}`, 400, icrec.IDMissingParameter, "attributesValues[0].attributeName"},
		{"no value", `{"attributesValues":[{"attributeName":"n"}]}`, 400, icrec.IDMissingParameter, "attributesValues[0].attributeValue"},
		{"number value", `{"attributesValues":[{"attributeName":"n","attributeValue":5}]}`, 400, icrec.IDInvalidProperty, "attributesValues.attributeValue"},
		{"empty name", `{"attributesValues":[{"attributeName":"","attributeValue":"v"}]}`, 400, icrec.IDInvalidProperty, "attributesValues"},
		{"value too long", `{"attributesValues":[{"attributeName":"n","attributeValue":"` + strings.Repeat("v", icrec.MaxAttributeValueLength+1) + `"}]}`, 400, icrec.IDInvalidProperty, "attributesValues"},
		{"too many", `{"attributesValues":[` + strings.Join(many, ",") + `]}`, 400, icrec.IDInvalidProperty, "attributesValues"},
		{"body too large", `{"attributesValues":[{"attributeName":"n","attributeValue":"` + strings.Repeat("v", 70<<10) + `"}]}`, 413, icrec.IDTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := put(tc.body)
			got := checkError(t, resp, body, tc.status, tc.id, 0)
			if got.PropertyName != tc.property {
				t.Errorf("propertyName %q, want %q (%s)", got.PropertyName, tc.property, got.Message)
			}
		})
	}
	if got := get(); len(got) != 2 {
		t.Errorf("a refused PUT changed the attributes: %v", got)
	}
	for _, q := range []string{"", "attributeName=", "attributeName=a&attributeName=b"} {
		resp, body := e.do(c, "DELETE", recPath(admin, callID, "attributes?"+q), "", admin.headers())
		if got := checkError(t, resp, body, 400, map[bool]string{true: icrec.IDMissingParameter, false: icrec.IDInvalidProperty}[q == ""], 0); got.PropertyName != "attributeName" {
			t.Errorf("DELETE ?%s: propertyName %q", q, got.PropertyName)
		}
	}
}

func TestTagEdits(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	c := e.client(false)
	tags := func() string {
		t.Helper()
		resp, body := e.do(c, "GET", recPath(admin, callID, "tags"), "", admin.headers())
		if resp.StatusCode != 200 {
			t.Fatalf("GET tags: %s %s", resp.Status, body)
		}
		return string(body)
	}
	if got := tags(); got != `{"tags":[]}` {
		t.Errorf("no tags: %s", got)
	}
	for _, body := range []string{`{"tags":["VIP","complaint"]}`, `{"tags":["vip","Refund","refund"]}`} {
		if resp, b := e.do(c, "PUT", recPath(admin, callID, "tags"), body, admin.headers()); resp.StatusCode != 204 {
			t.Fatalf("PUT %s: %s %s", body, resp.Status, b)
		}
	}
	if got := tags(); got != `{"tags":["complaint","Refund","VIP"]}` {
		t.Errorf("tags kept once, first spelling, in order ignoring case: %s", got)
	}
	for _, q := range []string{"tag=COMPLAINT", "tag=absent"} {
		if resp, b := e.do(c, "DELETE", recPath(admin, callID, "tags?"+q), "", admin.headers()); resp.StatusCode != 204 {
			t.Errorf("DELETE ?%s: %s %s", q, resp.Status, b)
		}
	}
	if got := tags(); got != `{"tags":["Refund","VIP"]}` {
		t.Errorf("after DELETE: %s", got)
	}
	many := make([]string, icrec.MaxTags+1)
	for i := range many {
		many[i] = `"t` + strings.Repeat("x", i/26) + string(rune('a'+i%26)) + `"`
	}
	for _, tc := range []struct {
		name, body, id, property string
	}{
		{"no list", `{}`, icrec.IDMissingParameter, "tags"},
		{"not a list", `{"tags":"vip"}`, icrec.IDInvalidProperty, "tags"},
		{"a number", `{"tags":[1]}`, icrec.IDInvalidProperty, "tags"},
		{"a null", `{"tags":[null]}`, icrec.IDInvalidProperty, "tags[0]"},
		{"empty tag", `{"tags":[""]}`, icrec.IDInvalidProperty, "tags"},
		{"too many", `{"tags":[` + strings.Join(many, ",") + `]}`, icrec.IDInvalidProperty, "tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(c, "PUT", recPath(admin, callID, "tags"), tc.body, admin.headers())
			if got := checkError(t, resp, body, 400, tc.id, 0); got.PropertyName != tc.property {
				t.Errorf("propertyName %q, want %q (%s)", got.PropertyName, tc.property, got.Message)
			}
		})
	}
	if got := tags(); got != `{"tags":["Refund","VIP"]}` {
		t.Errorf("a refused PUT changed the tags: %s", got)
	}
}

func TestRetentionExpiration(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	c := e.client(false)
	post := func(body string) (*http.Response, []byte) {
		return e.do(c, "POST", recPath(admin, callID, "retention-expiration"), body, admin.headers())
	}
	expiration := func() time.Time {
		t.Helper()
		r, err := e.db.FindRecordingByID(t.Context(), callID)
		if err != nil {
			t.Fatal(err)
		}
		return r.ExpirationDate
	}
	for _, tc := range []struct {
		body string
		want time.Time
	}{
		{`{"expirationDate":"20300101T000000Z"}`, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{`{"expirationDate":"2031-06-01T12:00:00+02:00"}`, time.Date(2031, 6, 1, 10, 0, 0, 0, time.UTC)},
		{`{}`, e.clock.Now()},
		{``, e.clock.Now()},
		{`{"expirationDate":null}`, e.clock.Now()},
	} {
		if resp, body := post(tc.body); resp.StatusCode != 204 {
			t.Errorf("POST %q: %s %s", tc.body, resp.Status, body)
			continue
		}
		if got := expiration(); !got.Equal(tc.want.Truncate(time.Millisecond)) {
			t.Errorf("POST %q: expiration %v, want %v", tc.body, got, tc.want)
		}
	}
	for _, tc := range []struct{ name, body, id string }{
		{"in the past", `{"expirationDate":"20200101T000000Z"}`, icrec.IDInvalidProperty},
		{"not a date", `{"expirationDate":"next week"}`, icrec.IDInvalidProperty},
		{"a number", `{"expirationDate":20300101}`, icrec.IDInvalidProperty},
		{"not JSON", `{"expirationDate":`, icrec.IDInvalidProperty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(tc.body)
			got := checkError(t, resp, body, 400, tc.id, 0)
			if tc.name != "not JSON" && got.PropertyName != "expirationDate" {
				t.Errorf("propertyName %q (%s)", got.PropertyName, got.Message)
			}
		})
	}
	resp, body := e.do(c, "POST", recPath(admin, "0DE0C017-CD4F-D013-8E31-18D8B7479999", "retention-expiration"), `{}`, admin.headers())
	checkError(t, resp, body, 404, icrec.IDNotFound, 0)
}

func TestStationAudio(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	for _, p := range []string{"/recordings/play/station-audio/start/" + callID, "/recordings/play/station-audio/stop/1234"} {
		resp, body := e.do(e.client(false), "POST", "/icws/"+admin.id+p, "", admin.headers())
		checkError(t, resp, body, 400, icrec.IDNoStation, 0)
		resp, body = e.do(e.client(false), "POST", "/icws/"+admin.id+p, "", nil)
		checkError(t, resp, body, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCookie)
	}
}

// TestRecordingEditsAudited: every edit is an audit event naming who did
// what to which recording, without attribute values.
func TestRecordingEditsAudited(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	c := e.client(false)
	e.do(c, "PUT", recPath(admin, callID, "attributes"), `{"attributesValues":[{"attributeName":"Secret","attributeValue":"s3cr3t-value"}]}`, admin.headers())
	e.do(c, "PUT", recPath(admin, callID, "tags"), `{"tags":["vip"]}`, admin.headers())
	e.do(c, "POST", recPath(admin, callID, "retention-expiration"), `{}`, admin.headers())
	kind := icrec.AuditRecordingChange
	events, err := e.db.FindAudit(t.Context(), icrec.AuditFilter{Kind: &kind})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		got = append(got, ev.UserID+" "+ev.RecordingID+" "+ev.Detail)
		if strings.Contains(ev.Detail, "s3cr3t-value") {
			t.Errorf("an attribute value is in the audit trail: %s", ev.Detail)
		}
	}
	want := []string{
		"admin " + callID + ` {"action":"set attributes","attributes":["Secret"]}`,
		"admin " + callID + ` {"action":"add tags","tags":["vip"]}`,
		"admin " + callID + ` {"action":"set retention","expirationDate":"2026-01-02T03:04:05Z"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPlaybackURI(t *testing.T) {
	e := newEnv(t)
	f := e.seedRecordings()
	agent1, agent2 := e.login("agent1"), e.login("agent2")
	// agent1 took part in the call: the built-in policy lets it play, not
	// export.
	resp, body := e.do(e.client(false), "GET", recPath(agent1, callID, "playback-uri"), "", agent1.headers())
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	var out icws.PlaybackURIResponse
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	if out.MediaDetails.RecordingID != callID || out.MediaDetails.Duration != 6.25 {
		t.Errorf("mediaDetails %+v", out.MediaDetails)
	}
	wantTimeline := `<timeline recordingId="` + callID + `" interactionId="1001" mediaType="Call" start="2024-01-31T10:15:00Z" end="2024-01-31T10:15:06.25Z" duration="6.25"><participant userId="agent1"></participant></timeline>`
	if out.TimelineXML != wantTimeline {
		t.Errorf("timelineXml %s\nwant %s", out.TimelineXML, wantTimeline)
	}
	i := strings.Index(out.URI, "/export/")
	if !strings.HasPrefix(out.URI, "https://recorder.example.com:8019/export/") || i < 0 {
		t.Fatalf("uri %q", out.URI)
	}
	link := out.URI[i:]
	goldenResponse(t, "playback_uri_200", resp, body, map[string]string{agent1.id: "SESSIONID", strings.Split(link, "/")[2]: "TOKEN"})
	resp, body = e.do(e.client(false), "GET", link, "", http.Header{"Range": {"bytes=0-3"}})
	if resp.StatusCode != 206 || string(body) != "RIFF" {
		t.Errorf("playback with a range: %s %q", resp.Status, body)
	}
	resp, body = e.do(e.client(false), "GET", link, "", nil)
	if resp.StatusCode != 200 || len(body) != len(f.call) || resp.Header.Get("Content-Disposition") != `inline; filename="call.wav"; filename*=UTF-8''call.wav` {
		t.Errorf("playback: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Disposition"), len(body))
	}
	// The same user may not export: a playback link is no export link.
	if resp, _, _ := e.exportURI(agent1, callID, ""); resp.StatusCode != 403 {
		t.Errorf("export-uri for a player: %s", resp.Status)
	}
	// Someone who may not play gets 403; an unknown recording 404.
	resp, body = e.do(e.client(false), "GET", recPath(agent2, callID, "playback-uri"), "", agent2.headers())
	checkError(t, resp, body, 403, icrec.IDAccessDenied, 0)
	resp, body = e.do(e.client(false), "GET", recPath(agent1, "0DE0C017-CD4F-D013-8E31-18D8B7479999", "playback-uri"), "", agent1.headers())
	checkError(t, resp, body, 404, icrec.IDNotFound, 0)
	// Losing the right to play ends the link: agent1 is no participant of
	// the email, so a link for it cannot be had; disable the user instead.
	if _, err := e.sessions.SetDisabled(t.Context(), "agent1", true); err != nil {
		t.Fatal(err)
	}
	resp, body = e.do(e.client(false), "GET", link, "", nil)
	checkError(t, resp, body, 403, icrec.IDAccessDenied, 0)
}

func TestPlaybackURIDisabled(t *testing.T) {
	e := newEnv(t, withExports(func(x *archive.Exports) { x.Disabled = true }))
	e.seedRecordings()
	s := e.login("admin")
	resp, body := e.do(e.client(false), "GET", recPath(s, callID, "playback-uri"), "", s.headers())
	checkError(t, resp, body, 410, icrec.IDGone, 0)
}

// featureEndpoints lists, per feature version, the calls it adds, as the
// ICWS documentation assigns them (icws-reference §5.1).
var featureEndpoints = map[string]map[int][]struct{ method, path string }{
	"recordings": {
		2: {
			{"GET", "/recordings/" + callID + "/export-uri"},
			{"GET", "/recordings/" + callID + "/attributes"},
			{"PUT", "/recordings/" + callID + "/send-as-email"},
			{"PUT", "/recordings/send-as-email"},
		},
		6: {
			{"GET", "/recordings/" + callID + "/media-details"},
			{"POST", "/recordings/" + callID + "/retention-expiration"},
		},
	},
}

// unversionedCalls are recordings calls whose feature version the ICWS
// documentation does not give: advertising recordings at all claims them.
var unversionedCalls = []struct{ method, path string }{
	{"GET", "/recordings/" + callID + "/tags"},
	{"PUT", "/recordings/" + callID + "/tags"},
	{"DELETE", "/recordings/" + callID + "/tags?tag=x"},
	{"DELETE", "/recordings/" + callID + "/attributes?attributeName=x"},
	{"PUT", "/recordings/" + callID + "/attributes"},
	{"GET", "/recordings/" + callID + "/playback-uri"},
	{"POST", "/recordings/play/station-audio/start/" + callID},
	{"POST", "/recordings/play/station-audio/stop/1"},
}

// TestFeatureVersions fails if an advertised feature version names a call
// that icrec does not serve: with a recording that exists and an admin
// session, every call of every version up to the one advertised (and every
// call of no known version) must answer neither 404 nor 405, in each
// configuration. A call the configuration turns off answers 410, which the
// contract allows without lowering the version (docs/api.md, Features);
// with the configuration on, it must not. The login's include=features
// must say the same as GET /icws/connection/features.
func TestFeatureVersions(t *testing.T) {
	for _, cfg := range []struct {
		name string
		opts []option
		gone map[string]bool // calls that answer 410 in this configuration
	}{
		{"MailAndExport", []option{withMail(1 << 20)}, nil},
		{"NoMail", nil, map[string]bool{"/recordings/" + callID + "/send-as-email": true, "/recordings/send-as-email": true}},
		{"ExportOff", []option{withMail(1 << 20), withExports(func(x *archive.Exports) { x.Disabled = true })},
			map[string]bool{"/recordings/" + callID + "/export-uri": true, "/recordings/" + callID + "/playback-uri": true}},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			e := newEnv(t, cfg.opts...)
			e.seedRecordings()
			admin := e.login("admin")
			_, body := e.do(e.client(false), "GET", "/icws/connection/features", "", nil)
			var got icws.FeatureInfos
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			resp, body := e.do(e.client(false), "POST", "/icws/connection?include=features", loginBody("admin", testPassword), nil)
			if login := decodeLogin(t, body); resp.StatusCode != 201 || !reflect.DeepEqual(login.Features, got.FeatureInfoList) {
				t.Errorf("include=features %+v, features %+v", login.Features, got.FeatureInfoList)
			}
			check := func(what, method, path string) {
				resp, body := e.do(e.client(false), method, "/icws/"+admin.id+path, "{}", admin.headers())
				switch {
				case resp.StatusCode == 404 || resp.StatusCode == 405:
					t.Errorf("%s is advertised, but %s %s answers %s %s", what, method, path, resp.Status, body)
				case resp.StatusCode == 410 && !cfg.gone[path]:
					t.Errorf("%s is advertised and configured, but %s %s answers %s %s", what, method, path, resp.Status, body)
				}
			}
			checked := 0
			for _, f := range got.FeatureInfoList {
				for version, calls := range featureEndpoints[f.FeatureID] {
					if version > f.Version {
						continue
					}
					for _, c := range calls {
						check(fmt.Sprintf("%s %d", f.FeatureID, f.Version), c.method, c.path)
						checked++
					}
				}
				if f.FeatureID == "recordings" {
					for _, c := range unversionedCalls {
						check("recordings", c.method, c.path)
					}
				}
			}
			if checked != 6 {
				t.Errorf("checked %d calls, want the 6 of recordings 2 and 6: is recordings advertised?", checked)
			}
		})
	}
}
