package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/icrec/icws"
	"example.com/icrec/internal/mail/mailtest"
	"example.com/icrec/internal/testutil"
)

var guidRE = regexp.MustCompile(`[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}`)

// demoIDs remembers the walkthrough's recording ids for later starts on
// the same data directory, which print none.
var demoIDs = map[string]string{}

// demoRecording returns the first id of the given kind ("Call/Support")
// that the demo walkthrough printed.
func demoRecording(t *testing.T, s *server, kind string) string {
	t.Helper()
	for _, line := range strings.Split(s.stdout.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), kind+" ") {
			if id := guidRE.FindString(line); id != "" {
				demoIDs[s.data+" "+kind] = id
				return id
			}
		}
	}
	if id := demoIDs[s.data+" "+kind]; id != "" {
		return id
	}
	t.Fatalf("the walkthrough names no %s recording:\n%s", kind, s.stdout)
	return ""
}

// icwsLogin logs in and returns the session's base URL and CSRF header.
func icwsLogin(t *testing.T, c *http.Client, base, user string) (string, http.Header) {
	t.Helper()
	resp, body := call(t, c, "POST", base+"/icws/connection", loginJSON(user, demoPassword), nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("login %s: %s %s", user, resp.Status, body)
	}
	var login icws.ConnectionResponse
	json.Unmarshal(body, &login)
	return base + "/icws/" + login.SessionID, http.Header{"ININ-ICWS-CSRF-Token": {login.CSRFToken}}
}

func exportLink(t *testing.T, c *http.Client, session string, csrf http.Header, id, query string) string {
	t.Helper()
	u := session + "/recordings/" + id + "/export-uri"
	if query != "" {
		u += "?" + query
	}
	resp, body := call(t, c, "GET", u, "", csrf)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export-uri: %s %s", resp.Status, body)
	}
	var out icws.ExportURIResponse
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	return out.URI
}

// TestServeExport drives export-uri and the download through a real serve,
// with --recorder-https on and off, and then the audit trail and the keys
// through the CLI.
func TestServeExport(t *testing.T) {
	data := t.TempDir()
	for _, tc := range []struct {
		name   string
		flags  []string
		scheme string
	}{
		{"RecorderHTTPS", nil, "https"},
		{"RecorderHTTP", []string{"--recorder-https=false"}, "http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServe(t, data, tc.flags...)
			id := demoRecording(t, s, "Call/Support")
			httpC, httpsC := jarClient(&http.Client{}), jarClient(s.httpsClient(t))
			session, csrf := icwsLogin(t, httpC, s.http, "supervisor") // the demo policy lets supervisor export Support's calls

			uri := exportLink(t, httpC, session, csrf, id, "")
			want := map[string]string{"https": s.https, "http": s.http}[tc.scheme]
			if !strings.HasPrefix(uri, want+"/export/") {
				t.Fatalf("uri %q, want it under %s (the %s listener)", uri, want, tc.scheme)
			}
			// The link works on both listeners, without the session.
			u, _ := url.Parse(uri)
			var bodies [][]byte
			for _, l := range []struct {
				base string
				c    *http.Client
			}{{s.http, &http.Client{}}, {s.https, s.httpsClient(t)}} {
				resp, body := call(t, l.c, "GET", l.base+u.EscapedPath(), "", nil)
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "audio/wav" ||
					resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || !bytes.HasPrefix(body, []byte("RIFF")) {
					t.Fatalf("download on %s: %s %q, %d bytes", l.base, resp.Status, resp.Header.Get("Content-Type"), len(body))
				}
				bodies = append(bodies, body)
			}
			if !bytes.Equal(bodies[0], bodies[1]) {
				t.Error("the two listeners sent different bytes")
			}
			// An email attachment, asked for and downloaded over HTTPS.
			hs, hcsrf := icwsLogin(t, httpsC, s.https, "admin")
			email := demoRecording(t, s, "Email/Support")
			au, _ := url.Parse(exportLink(t, httpsC, hs, hcsrf, email, "attachmentId=1"))
			resp, body := call(t, s.httpsClient(t), "GET", s.https+au.EscapedPath(), "", nil)
			if resp.StatusCode != http.StatusOK || len(body) == 0 || strings.HasPrefix(resp.Header.Get("Content-Type"), "message/") ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=") {
				t.Errorf("attachment 1 of the demo email: %s %q %q, %d bytes", resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), len(body))
			}

			// A rotation while serve runs leaves live links working.
			var out testutil.Buffer
			if err := run(context.Background(), []string{"keys", "rotate", "--data", data}, noEnv, strings.NewReader(""), &out, &out); err != nil {
				t.Fatalf("keys rotate: %v\n%s", err, &out)
			}
			if resp, _ := call(t, &http.Client{}, "GET", s.http+u.EscapedPath(), "", nil); resp.StatusCode != http.StatusOK {
				t.Errorf("a link issued before the rotation: %s", resp.Status)
			}
			if resp, _ := call(t, &http.Client{}, "GET", mustPath(t, exportLink(t, httpC, session, csrf, id, ""), s.http), "", nil); resp.StatusCode != http.StatusOK {
				t.Errorf("a link issued after the rotation: %s", resp.Status)
			}
			if err := s.stop(); err != nil {
				t.Fatal(err)
			}
			if logs := s.stderr.String(); strings.Contains(logs, strings.Split(u.Path, "/")[2]) {
				t.Error("the log holds an export token")
			}
		})
	}

	// Everything above is in the audit trail, and the chain holds.
	var out testutil.Buffer
	if err := run(context.Background(), []string{"audit", "verify", "--data", data}, noEnv, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("audit verify: %v\n%s", err, &out)
	}
	out = testutil.Buffer{}
	if err := run(context.Background(), []string{"audit", "list", "--data", data, "--json", "--kind", "export.download"}, noEnv, strings.NewReader(""), &out, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 6 {
		t.Errorf("audit list shows %d downloads, want at least 6:\n%s", len(lines), &out)
	}
	var ev struct {
		Kind, UserID, RecordingID, Outcome string
		Detail                             struct{ Bytes int64 }
	}
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil || ev.Kind != "export.download" || ev.UserID != "supervisor" || ev.Outcome != "ok" || ev.Detail.Bytes == 0 {
		t.Errorf("first download event %s (%v)", lines[0], err)
	}
	out = testutil.Buffer{}
	if err := run(context.Background(), []string{"keys", "list", "--data", data}, noEnv, strings.NewReader(""), &out, &out); err != nil || strings.Count(out.String(), "verifies until") != 2 || !strings.Contains(out.String(), "signs") {
		t.Errorf("keys list after two rotations (%v):\n%s", err, &out)
	}
	// The filters of audit list, and the events of logins, logouts and
	// administrative changes that the runs above made.
	auditList := func(args ...string) []string {
		t.Helper()
		var out testutil.Buffer
		if err := run(context.Background(), append([]string{"audit", "list", "--data", data, "--json"}, args...), noEnv, strings.NewReader(""), &out, &out); err != nil {
			t.Fatalf("audit list %v: %v\n%s", args, err, &out)
		}
		if strings.TrimSpace(out.String()) == "" {
			return nil
		}
		return strings.Split(strings.TrimSpace(out.String()), "\n")
	}
	for _, c := range []struct {
		args     []string
		min, max int
		each     string
	}{
		{[]string{"--kind", "login", "--user", "SUPERVISOR"}, 2, 2, `"userId":"supervisor"`},
		{[]string{"--kind", "admin.key"}, 2, 2, `"kind":"admin.key"`},
		{[]string{"--kind", "admin.user"}, 4, 100, `"kind":"admin.user"`},
		{[]string{"--recording", strings.ToLower(demoIDs[data+" Call/Support"])}, 6, 100, `"recordingId":"` + demoIDs[data+" Call/Support"] + `"`},
		{[]string{"--since", "2999-01-01"}, 0, 0, ""},
		{[]string{"--until", "2000-01-01"}, 0, 0, ""},
		{[]string{"--kind", "export.issued", "--limit", "1"}, 1, 1, `"kind":"export.issued"`},
	} {
		lines := auditList(c.args...)
		if len(lines) < c.min || len(lines) > c.max {
			t.Errorf("audit list %v: %d events, want %d to %d", c.args, len(lines), c.min, c.max)
		}
		for _, l := range lines {
			if !strings.Contains(l, c.each) {
				t.Errorf("audit list %v: %s lacks %s", c.args, l, c.each)
			}
		}
	}

	// Deleting an event is found.
	db, err := sql.Open("sqlite", filepath.Join(data, "icrec.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"DROP TRIGGER audit_events_no_delete", "DELETE FROM audit_events WHERE seq = 3"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	out = testutil.Buffer{}
	err = run(context.Background(), []string{"audit", "verify", "--data", data}, noEnv, strings.NewReader(""), &out, &out)
	if exitCode(err) != exitFailure || !strings.Contains(err.Error(), "event 3") {
		t.Errorf("audit verify after a deletion: exit %d, %v", exitCode(err), err)
	}
}

func mustPath(t *testing.T, uri, base string) string {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	return base + u.EscapedPath()
}

func noEnv(string) (string, bool) { return "", false }

func TestServeExportFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--export-ttl", "0s"}, "--export-ttl"},
		{[]string{"--export-ttl", "200h"}, "--export-ttl"},
		{[]string{"--public-https-url", "http://x.example.com"}, "--public-https-url"},
		{[]string{"--public-http-url", "http://x.example.com?a=b"}, "--public-http-url"},
		{[]string{"--https", "", "--http", "127.0.0.1:0"}, "--public-https-url"},
		{[]string{"--link-keys", "k1:short"}, "--link-keys"},
		{[]string{"--smtp-url", "ftp://mail.example.com"}, "--smtp-url"},
		{[]string{"--smtp-url", "smtp://mail.example.com"}, "--smtp-url"}, // no from=
		{[]string{"--email-max-attach", "0"}, "--email-max-attach"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"serve", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--https", "127.0.0.1:0", "--metrics", ""}, tc.args...)
			var out testutil.Buffer
			err := run(context.Background(), args, noEnv, strings.NewReader(""), &out, &out)
			if exitCode(err) != exitUsage || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("exit %d, %v; want exit 2 naming %s", exitCode(err), err, tc.want)
			}
		})
	}
}

// TestServeSendAsEmail sends a demo recording through a real SMTP server
// on loopback, end to end.
func TestServeSendAsEmail(t *testing.T) {
	smtp := mailtest.Start(t)
	s := startServe(t, t.TempDir(), "--smtp-url", "smtp://"+smtp.Addr+"?starttls=none&from=recorder@example.com")
	id := demoRecording(t, s, "Call/Support")
	c := jarClient(&http.Client{})
	session, csrf := icwsLogin(t, c, s.http, "admin")
	body := `{"toParticipants":{"emailAddresses":[{"displayName":"QA","address":"qa@example.com"}]},"emailSubject":"For review","emailBody":"See the attachment."}`
	resp, b := call(t, c, "PUT", session+"/recordings/"+id+"/send-as-email", body, csrf)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("send-as-email: %s %s", resp.Status, b)
	}
	got := smtp.Wait(1, 10*time.Second)
	if len(got) != 1 || got[0].Rcpts[0] != "qa@example.com" || !bytes.Contains(got[0].Data, []byte(`filename="Call-`)) {
		t.Fatalf("the mail server received %d messages", len(got))
	}
	resp, b = call(t, c, "GET", s.http+"/icws/connection/features/recordings", "", nil)
	if !strings.Contains(string(b), `"version":6`) {
		t.Errorf("recordings feature: %s %s", resp.Status, b)
	}
}

// TestExportBase: the base of export links is the public URL of the scheme
// --recorder-https chooses, else that listener's address, with the server
// name for a wildcard address.
func TestExportBase(t *testing.T) {
	listen := func(name, addr string) *listener {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Skipf("cannot listen on %s here: %v", addr, err)
		}
		t.Cleanup(func() { ln.Close() })
		return &listener{name: name, ln: ln}
	}
	loop := listen("https", "127.0.0.1:0")
	wild := listen("http", ":0")
	loopPort := strconv.Itoa(loop.ln.Addr().(*net.TCPAddr).Port)
	wildPort := strconv.Itoa(wild.ln.Addr().(*net.TCPAddr).Port)
	ls := []*listener{loop, wild}
	for _, tc := range []struct {
		name       string
		r          recorderConfig
		serverName string
		want       string
	}{
		{"PublicHTTPS", recorderConfig{https: true, export: true, publicHTTPS: "https://recorder.example.com/"}, "x", "https://recorder.example.com"},
		{"PublicHTTPSWithPath", recorderConfig{https: true, export: true, publicHTTPS: "https://proxy.example.com/icrec"}, "x", "https://proxy.example.com/icrec"},
		{"PublicHTTP", recorderConfig{https: false, export: true, publicHTTP: "http://recorder.example.com:8080", publicHTTPS: "https://unused.example.com"}, "x", "http://recorder.example.com:8080"},
		{"LoopbackListener", recorderConfig{https: true, export: true}, "x", "https://127.0.0.1:" + loopPort},
		{"WildcardUsesServerName", recorderConfig{https: false, export: true}, "recorder1", "http://recorder1:" + wildPort},
		{"WildcardBadServerName", recorderConfig{https: false, export: true}, "my recorder", "http://localhost:" + wildPort},
	} {
		got, err := tc.r.exportBase(ls, tc.serverName)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	// The listener of the chosen scheme is off and no public URL is given.
	if _, err := (recorderConfig{https: true, export: true}).exportBase([]*listener{wild}, "x"); exitCode(err) != exitUsage || !strings.Contains(err.Error(), "--public-https-url") {
		t.Errorf("no HTTPS listener: %v", err)
	}
}
