package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/testutil"
)

// server is an icrec serve started through run.
type server struct {
	t                *testing.T
	data             string
	http, https, ops string // base URLs
	stdout, stderr   *testutil.Buffer
	cancel           context.CancelFunc
	done             chan error
	stopOnce         sync.Once
	stopErr          error
}

const demoPassword = "demo-password-1"

// startServe runs "icrec serve" on loopback ports chosen by the kernel and
// waits until it is ready; the listeners' addresses come from its log.
func startServe(t *testing.T, data string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--https", "127.0.0.1:0",
		"--metrics", "127.0.0.1:0", "--log-format", "json", "--demo", "--demo-password", demoPassword, "--drain-delay", "0s"}, extra...)
	return startServeEnv(t, data, nil, args...)
}

// startServeEnv runs icrec with args and the environment environ, which
// must start a server that logs JSON, and waits until it is ready.
func startServeEnv(t *testing.T, data string, environ map[string]string, args ...string) *server {
	t.Helper()
	s := &server{t: t, data: data, stdout: &testutil.Buffer{}, stderr: &testutil.Buffer{}, done: make(chan error, 1)}
	lookup := func(k string) (string, bool) {
		v, ok := environ[k]
		return v, ok
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		s.done <- run(ctx, args, lookup, strings.NewReader(""), s.stdout, s.stderr)
	}()
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			t.Fatalf("serve stopped early: %v\n%s", err, s.stderr)
		default:
		}
		for _, line := range strings.Split(s.stderr.String(), "\n") {
			var m struct{ Msg, Listener, URL string }
			if json.Unmarshal([]byte(line), &m) != nil {
				continue
			}
			if m.Msg == "listening" {
				switch m.Listener {
				case "http":
					s.http = m.URL
				case "https":
					s.https = m.URL
				case "metrics":
					s.ops = m.URL
				}
			}
			if m.Msg == "icrec is ready" {
				return s
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve did not become ready:\n%s", s.stderr)
	return nil
}

// stop cancels serve, as SIGTERM does, and returns what run returned.
func (s *server) stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		select {
		case s.stopErr = <-s.done:
		case <-time.After(60 * time.Second):
			s.stopErr = errors.New("serve did not stop")
		}
	})
	return s.stopErr
}

// httpsClient trusts only the self-signed certificate serve created.
func (s *server) httpsClient(t *testing.T) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(s.data, "tls", "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in cert.pem")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
}

func jarClient(c *http.Client) *http.Client {
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	return c
}

func call(t *testing.T, c *http.Client, method, url, body string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func loginJSON(user, pw string) string {
	b, _ := json.Marshal(map[string]string{"__type": icws.TypeICAuthSettings, "applicationName": "e2e", "userID": user, "password": pw})
	return string(b)
}

// TestServeEndToEnd drives a whole session the way a client does, with a
// cookie jar, over HTTP and over HTTPS: login, features, an event stream,
// polling, logout, and the 401 that follows.
func TestServeEndToEnd(t *testing.T) {
	s := startServe(t, t.TempDir())
	for _, tc := range []struct {
		name   string
		base   string
		client *http.Client
	}{
		{"HTTP", s.http, jarClient(&http.Client{})},
		{"HTTPS", s.https, jarClient(s.httpsClient(t))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client
			resp, body := call(t, c, "POST", tc.base+"/icws/connection?include=features", loginJSON("agent1", demoPassword), http.Header{"Accept-Language": {"en-US"}})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("login: %s %s", resp.Status, body)
			}
			var login icws.ConnectionResponse
			json.Unmarshal(body, &login)
			if (tc.name == "HTTPS") != strings.Contains(resp.Header.Get("Set-Cookie"), "; Secure") {
				t.Errorf("Set-Cookie %q over %s", resp.Header.Get("Set-Cookie"), tc.name)
			}
			if tc.name == "HTTPS" && resp.Proto != "HTTP/2.0" {
				t.Errorf("HTTPS spoke %s, want HTTP/2", resp.Proto)
			}
			csrf := http.Header{"ININ-ICWS-CSRF-Token": {login.CSRFToken}}
			base := tc.base + "/icws/" + login.SessionID

			resp, body = call(t, c, "GET", tc.base+"/icws/connection/features", "", nil)
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"featureId":"messaging","version":2`) {
				t.Errorf("features: %s %s", resp.Status, body)
			}

			// An event stream on the cookie alone, as EventSource opens it.
			req, _ := http.NewRequest("GET", base+"/messaging/messages", nil)
			req.Header.Set("Accept", "text/event-stream")
			stream, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer stream.Body.Close()
			if stream.StatusCode != 200 {
				t.Fatalf("event stream: %s", stream.Status)
			}
			resp, body = call(t, c, "GET", base+"/messaging/messages", "", csrf)
			if resp.StatusCode != 200 || string(body) != "[]" {
				t.Errorf("poll: %s %s", resp.Status, body)
			}
			resp, _ = call(t, c, "DELETE", base+"/connection", "", csrf)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("logout: %s", resp.Status)
			}
			if data := lastEvent(t, stream.Body); !strings.Contains(data, "The session was logged out.") {
				t.Errorf("stream's last event %q", data)
			}
			resp, body = call(t, c, "GET", base+"/connection", "", csrf)
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("after logout: %s %s", resp.Status, body)
			}
		})
	}
	t.Run("Metrics", func(t *testing.T) {
		resp, body := call(t, &http.Client{}, "GET", s.ops+"/metrics", "", nil)
		for _, want := range []string{
			`icrec_http_requests_total{method="POST",route="POST /icws/connection",status="201"} 2`,
			`icrec_http_request_duration_seconds_bucket{route="GET /icws/{sessionId}/connection"`,
			`icrec_sessions_active 0`,
			`go_goroutines`,
		} {
			if !strings.Contains(string(body), want) {
				t.Errorf("metrics (%s) lack %q", resp.Status, want)
			}
		}
		call(t, &http.Client{}, "POST", s.http+"/icws/connection", loginJSON("agent1", "wrong"), nil)
		_, body = call(t, &http.Client{}, "GET", s.ops+"/metrics", "", nil)
		if !strings.Contains(string(body), `icrec_login_failures_total{reason="bad_credentials"} 1`) {
			t.Error("login failure not counted")
		}
		for _, p := range []string{"/healthz", "/readyz"} {
			if resp, _ := call(t, &http.Client{}, "GET", s.ops+p, "", nil); resp.StatusCode != 200 {
				t.Errorf("%s on the metrics listener: %s", p, resp.Status)
			}
		}
	})
	if err := s.stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
	if !strings.Contains(s.stdout.String(), "agent1") || !strings.Contains(s.stdout.String(), demoPassword) {
		t.Errorf("demo users not printed: %s", s.stdout)
	}
	logs := s.stderr.String()
	if !strings.Contains(logs, `"sha256_fingerprint":"`) {
		t.Error("the certificate fingerprint was not logged")
	}
	if strings.Contains(logs, demoPassword) {
		t.Error("the log contains a password")
	}
}

// lastEvent reads an event stream to its end and returns its last data.
func lastEvent(t *testing.T, r io.Reader) string {
	t.Helper()
	var last string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			last = d
		}
	}
	return last
}

func TestServeRestart(t *testing.T) {
	// Sessions, users and the certificate survive a restart.
	data := t.TempDir()
	s := startServe(t, data)
	resp, body := call(t, &http.Client{}, "POST", s.http+"/icws/connection", loginJSON("admin", demoPassword), nil)
	var login icws.ConnectionResponse
	json.Unmarshal(body, &login)
	cookie := resp.Header.Get("Set-Cookie")
	cookie = cookie[:strings.Index(cookie, ";")]
	fingerprint := func(logs string) string {
		i := strings.Index(logs, `"sha256_fingerprint":"`)
		return logs[i : i+120]
	}
	fp1 := fingerprint(s.stderr.String())
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	s2 := startServe(t, data)
	if !strings.Contains(s2.stdout.String(), "already has 4 users") {
		t.Errorf("second --demo start said %q", s2.stdout)
	}
	if fp2 := fingerprint(s2.stderr.String()); fp2 != fp1 {
		t.Errorf("certificate changed across restarts:\n%s\n%s", fp1, fp2)
	}
	resp, body = call(t, &http.Client{}, "GET", s2.http+"/icws/"+login.SessionID+"/connection", "", http.Header{"Cookie": {cookie}, "ININ-ICWS-CSRF-Token": {login.CSRFToken}})
	if resp.StatusCode != 200 {
		t.Errorf("session after restart: %s %s", resp.Status, body)
	}
}

func TestServeGracefulShutdown(t *testing.T) {
	s := startServe(t, t.TempDir(), "--drain-delay", "3s", "--alternate-host", "icrec2.example.com")
	c := &http.Client{}
	resp, body := call(t, c, "POST", s.http+"/icws/connection", loginJSON("agent1", demoPassword), nil)
	var login icws.ConnectionResponse
	json.Unmarshal(body, &login)
	cookie := strings.Split(resp.Header.Get("Set-Cookie"), ";")[0]

	// An event stream, and a login whose body is still on its way.
	req, _ := http.NewRequest("GET", s.http+"/icws/"+login.SessionID+"/messaging/messages", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cookie", cookie)
	stream, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	pr, pw := io.Pipe()
	inflight := make(chan *http.Response, 1)
	go func() {
		req, _ := http.NewRequest("POST", s.http+"/icws/connection", pr)
		resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
		if err != nil {
			t.Errorf("in-flight login: %v", err)
			close(inflight)
			return
		}
		resp.Body.Close()
		inflight <- resp
	}()
	body = []byte(loginJSON("agent2", demoPassword))
	pw.Write(body[:10])
	time.Sleep(200 * time.Millisecond) // let the handler start

	s.cancel()
	// The stream is told to reconnect elsewhere.
	if data := lastEvent(t, stream.Body); !strings.Contains(data, `"shouldReconnect":true`) {
		t.Errorf("stream's last event %q", data)
	}
	// New logins are refused with the alternate hosts while draining.
	resp, body = call(t, c, "POST", s.http+"/icws/connection", loginJSON("agent1", demoPassword), nil)
	var e icws.Error
	json.Unmarshal(body, &e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.ErrorID != icrec.IDNotAcceptingConnections || len(e.AlternateHostList) != 1 || e.AlternateHostList[0] != "icrec2.example.com" {
		t.Errorf("login while draining: %s %s", resp.Status, body)
	}
	// The login that started before the drain finishes normally.
	pw.Write(body[:0])
	pw.Write([]byte(loginJSON("agent2", demoPassword))[10:])
	pw.Close()
	if r := <-inflight; r == nil || r.StatusCode != http.StatusCreated {
		t.Errorf("in-flight login: %v", r)
	}
	if err := s.stop(); err != nil {
		t.Errorf("serve returned %v", err)
	}
}
