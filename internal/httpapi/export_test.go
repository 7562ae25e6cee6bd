package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/httpapi"
)

const exportRights = icrec.ReadAccess | icrec.CanExportOrArchive

// exportURI asks for an export link and returns the response, its body,
// and the URI it holds (on 200).
func (e *env) exportURI(s session, recordingID, query string) (*http.Response, []byte, string) {
	e.t.Helper()
	path := "/icws/" + s.id + "/recordings/" + recordingID + "/export-uri"
	if query != "" {
		path += "?" + query
	}
	resp, body := e.do(e.client(false), "GET", path, "", s.headers())
	var out icws.ExportURIResponse
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &out); err != nil {
			e.t.Fatalf("export-uri body %q: %v", body, err)
		}
	}
	return resp, body, out.URI
}

// mustExport returns the path (on the test server) of a new export link.
func (e *env) mustExport(s session, recordingID, query string) string {
	e.t.Helper()
	resp, body, uri := e.exportURI(s, recordingID, query)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("export-uri %s?%s: %s %s", recordingID, query, resp.Status, body)
	}
	u, err := url.Parse(uri)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.EscapedPath()
}

func TestExportURI(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")

	resp, body, uri := e.exportURI(admin, callID, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s", resp.Status, body)
	}
	if got := resp.Header.Get("Content-Type"); got != icws.ContentType {
		t.Errorf("Content-Type=%q, want %q", got, icws.ContentType)
	}
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil || len(fields) != 1 || fields["uri"] == nil {
		t.Errorf("body %s: want exactly {\"uri\": ...}", body)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "recorder.example.com:8019" || !strings.HasPrefix(u.Path, "/export/") {
		t.Errorf("uri %q: want the public HTTPS base and /export/", uri)
	}
	if !strings.HasSuffix(u.Path, "/call.wav") {
		t.Errorf("uri %q: want the file name as its last segment", uri)
	}

	// The recording id is case-insensitive and may have braces.
	for _, id := range []string{strings.ToLower(callID), "{" + callID + "}"} {
		if resp, body, _ := e.exportURI(admin, id, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("id %s: %s %s", id, resp.Status, body)
		}
	}
	// Two links for the same recording differ.
	if _, _, again := e.exportURI(admin, callID, ""); again == uri {
		t.Error("two export-uri calls returned the same link")
	}
}

// TestExportURIErrors covers the seed's response list and the contract's
// order of checks: session, recording, rights, attachmentId.
// TestExportURIErrors runs every refusal of export-uri on the plain HTTP
// listener and on HTTPS, with --recorder-https on (links on the HTTPS base)
// and off: neither the listener nor the link scheme changes any answer.
func TestExportURIErrors(t *testing.T) {
	for _, cfg := range []struct {
		name string
		opts []option
	}{
		{"HTTP", nil},
		{"HTTPS", []option{withTLS()}},
		{"RecorderHTTPSOff", []option{withConfig(func(c *httpapi.Config) { c.ExportBase = "http://recorder.example.com:8018" }),
			withExports(func(x *archive.Exports) { x.BaseURL = "http://recorder.example.com:8018" })}},
	} {
		t.Run(cfg.name, func(t *testing.T) { testExportURIErrors(t, cfg.opts...) })
	}
}

func testExportURIErrors(t *testing.T, opts ...option) {
	e := newEnv(t, opts...)
	e.seedRecordings()
	admin := e.login("admin")
	agent1 := e.login("agent1") // a participant of the call: read and play, not export
	const absent = "0DE0C017-CD4F-D013-8E31-18D8B7479999"
	path := func(s session, id, q string) string {
		p := "/icws/" + s.id + "/recordings/" + id + "/export-uri"
		if q != "" {
			p += "?" + q
		}
		return p
	}
	for _, tc := range []struct {
		name     string
		path     string
		header   http.Header
		status   int
		errorID  string
		code     int
		property string
	}{
		{"no credentials", path(admin, callID, ""), nil, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCookie, ""},
		{"no CSRF token", path(admin, callID, ""), http.Header{"Cookie": {admin.cookie}}, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCSRFToken, ""},
		{"foreign CSRF token", path(admin, callID, ""), http.Header{"Cookie": {admin.cookie}, "Inin-Icws-Csrf-Token": {agent1.csrf}}, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCSRFToken, ""},
		{"unknown session", "/icws/1234567/recordings/" + callID + "/export-uri", admin.headers(), 401, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession, ""},
		{"session before recording", "/icws/1234567/recordings/" + absent + "/export-uri", admin.headers(), 401, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession, ""},
		{"session before attachmentId", "/icws/1234567/recordings/" + emailID + "/export-uri?attachmentId=1", admin.headers(), 401, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession, ""},
		{"no credentials with attachmentId", path(admin, emailID, "attachmentId=x"), nil, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCookie, ""},
		{"unknown recording", path(admin, absent, ""), admin.headers(), 404, icrec.IDNotFound, 0, ""},
		{"not a GUID", path(admin, "not-a-guid", ""), admin.headers(), 404, icrec.IDNotFound, 0, ""},
		{"recording before attachmentId", path(admin, absent, "attachmentId=x"), admin.headers(), 404, icrec.IDNotFound, 0, ""},
		{"unknown recording with a valid attachmentId", path(admin, absent, "attachmentId=1"), admin.headers(), 404, icrec.IDNotFound, 0, ""},
		{"no export right", path(agent1, callID, ""), agent1.headers(), 403, icrec.IDAccessDenied, 0, ""},
		{"rights before attachmentId", path(agent1, emailID, "attachmentId=x"), agent1.headers(), 403, icrec.IDAccessDenied, 0, ""},
		{"attachmentId letters", path(admin, emailID, "attachmentId=one"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId empty", path(admin, emailID, "attachmentId="), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId 0", path(admin, emailID, "attachmentId=0"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId negative", path(admin, emailID, "attachmentId=-1"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId plus sign", path(admin, emailID, "attachmentId=%2B1"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId fraction", path(admin, emailID, "attachmentId=1.0"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId overflow", path(admin, emailID, "attachmentId=99999999999999999999999"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId out of range", path(admin, emailID, "attachmentId=3"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId repeated", path(admin, emailID, "attachmentId=1&attachmentId=1"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId on a call", path(admin, callID, "attachmentId=1"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"attachmentId on a chat", path(admin, chatID, "attachmentId=1"), admin.headers(), 400, icrec.IDInvalidProperty, 0, "attachmentId"},
		{"wrong method", path(admin, callID, ""), admin.headers(), 0, "", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := "GET"
			if tc.status == 0 {
				method, tc.status, tc.errorID = "POST", 405, icrec.IDMethodNotAllowed
			}
			resp, body := e.do(e.client(false), method, tc.path, "", tc.header)
			got := checkError(t, resp, body, tc.status, tc.errorID, tc.code)
			if got.PropertyName != tc.property {
				t.Errorf("propertyName=%q, want %q", got.PropertyName, tc.property)
			}
			if tc.property != "" && !strings.Contains(got.Message, "attachmentId") && !strings.Contains(got.Message, "attachment") {
				t.Errorf("message %q does not say what is wrong", got.Message)
			}
		})
	}

	// The valid attachment ids of the email work, on the same request shape.
	for _, n := range []int{1, 2} {
		if resp, body, _ := e.exportURI(admin, emailID, "attachmentId="+strconv.Itoa(n)); resp.StatusCode != http.StatusOK {
			t.Errorf("attachmentId=%d: %s %s", n, resp.Status, body)
		}
	}
}

// TestExportURIMissingMedia is the 500 row: a recording whose media has
// gone from storage is the server's failure, reported without internals.
func TestExportURIMissingMedia(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	r, err := e.db.FindRecordingByID(t.Context(), callID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.blobs.Delete(t.Context(), r.Media.Key); err != nil {
		t.Fatal(err)
	}
	resp, body, _ := e.exportURI(e.login("admin"), callID, "")
	got := checkError(t, resp, body, 500, icrec.IDInternal, 0)
	if strings.Contains(got.Message, r.Media.Key) || strings.Contains(got.Message, "blob") {
		t.Errorf("500 message %q leaks internals", got.Message)
	}
}

// TestExportURIRights: a policy can grant the right, and the built-in
// participant policy does not.
func TestExportURIRights(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	agent1 := e.login("agent1")
	if resp, body, _ := e.exportURI(agent1, callID, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("before the policy: %s %s", resp.Status, body)
	}
	e.grant(t, "agent1 exports", "agent1")
	if resp, body, _ := e.exportURI(agent1, callID, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the policy: %s %s", resp.Status, body)
	}
}

func TestExportURIDisabled(t *testing.T) {
	e := newEnv(t, withExports(func(x *archive.Exports) { x.Disabled = true }))
	e.seedRecordings()
	admin := e.login("admin")
	for _, q := range []string{"", "attachmentId=1", "attachmentId=x"} {
		resp, body, _ := e.exportURI(admin, emailID, q)
		checkError(t, resp, body, 410, icrec.IDGone, 0)
	}
}

// TestExportURIScheme: the link's base is what the server is configured
// with, not the scheme the request came in on.
func TestExportURIScheme(t *testing.T) {
	for _, tc := range []struct {
		name string
		tls  bool
		base string
	}{
		{"HTTP listener, HTTPS recorder", false, "https://recorder.example.com:8019"},
		{"HTTPS listener, HTTP recorder", true, "http://recorder.example.com:8018"},
		{"behind a proxy", false, "https://recordings.example.org/icrec"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []option{withConfig(func(c *httpapi.Config) { c.ExportBase = tc.base })}
			if tc.tls {
				opts = append(opts, withTLS())
			}
			e := newEnv(t, opts...)
			e.seedRecordings()
			_, body, uri := e.exportURI(e.login("admin"), callID, "")
			if !strings.HasPrefix(uri, tc.base+"/export/") {
				t.Errorf("uri %q (body %s): want it under %s", uri, body, tc.base)
			}
		})
	}
}

// TestGoldenExport pins the wire form of export-uri's answers.
func TestGoldenExport(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin, agent1 := e.login("admin"), e.login("agent1")
	scrub := map[string]string{admin.id: "SESSIONID", agent1.id: "SESSIONID2"}
	for _, tc := range []struct {
		name string
		s    session
		id   string
		q    string
	}{
		{"export_uri_200", admin, callID, ""},
		{"export_uri_200_attachment", admin, emailID, "attachmentId=2"},
		{"export_uri_400_attachment", admin, emailID, "attachmentId=9"},
		{"export_uri_403", agent1, callID, ""},
		{"export_uri_404", admin, "0DE0C017-CD4F-D013-8E31-18D8B7479999", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body, uri := e.exportURI(tc.s, tc.id, tc.q)
			if uri != "" {
				token := strings.Split(uri, "/")[4]
				scrub[token] = "TOKEN"
			}
			goldenResponse(t, tc.name, resp, body, scrub)
		})
	}
}

func TestAttributes(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin, agent1 := e.login("admin"), e.login("agent1")
	path := func(s session, id string) string { return "/icws/" + s.id + "/recordings/" + id + "/attributes" }
	resp, body := e.do(e.client(false), "GET", path(admin, strings.ToLower(callID)), "", admin.headers())
	var got icws.AttributeMap
	if resp.StatusCode != 200 || json.Unmarshal(body, &got) != nil {
		t.Fatalf("%s %s", resp.Status, body)
	}
	attrs := map[string]string{}
	for _, a := range got.AttributesValues {
		attrs[a.AttributeName] = a.AttributeValue
	}
	if len(attrs) != 2 || attrs["Case"] != "42" || attrs["Outcome"] != "refund" {
		t.Errorf("attributes %s", body)
	}
	resp, body = e.do(e.client(false), "GET", path(admin, chatID), "", admin.headers())
	if resp.StatusCode != 200 || string(body) != `{"attributesValues":[]}` {
		t.Errorf("no attributes: %s %s", resp.Status, body)
	}
	resp, body = e.do(e.client(false), "GET", path(agent1, callID), "", agent1.headers())
	checkError(t, resp, body, 403, icrec.IDAccessDenied, 0) // a participant may read and play, not view attributes
	resp, body = e.do(e.client(false), "GET", path(admin, "0DE0C017-CD4F-D013-8E31-18D8B7479999"), "", admin.headers())
	checkError(t, resp, body, 404, icrec.IDNotFound, 0)
	resp, body = e.do(e.client(false), "GET", path(admin, callID), "", nil)
	checkError(t, resp, body, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCookie)
}
