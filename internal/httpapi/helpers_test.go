package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/audit"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/fsblob"
	"example.com/icrec/internal/httpapi"
	"example.com/icrec/internal/mail"
	"example.com/icrec/internal/mail/mailtest"
	"example.com/icrec/internal/messaging"
	"example.com/icrec/internal/passwd"
	"example.com/icrec/internal/signedurl"
	"example.com/icrec/internal/sqlite"
	"example.com/icrec/internal/testutil"
)

// fastParams keep logins cheap in tests; production parameters are tested
// in internal/passwd.
var fastParams = passwd.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const testPassword = "correct horse battery"

// metricsLog records what the server reports to its Metrics.
type metricsLog struct {
	mu       sync.Mutex
	requests []string // "METHOD route status"
	failures []string
}

func (m *metricsLog) ObserveRequest(method, route string, status int, _ time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests = append(m.requests, method+" "+route+" "+http.StatusText(status))
}

func (m *metricsLog) LoginFailed(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures = append(m.failures, reason)
}

func (m *metricsLog) Failures() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.failures...)
}

// env is a running server over a real SQLite store in a temporary directory.
type env struct {
	t        testing.TB
	srv      *httptest.Server
	handler  http.Handler
	db       *sqlite.DB
	sessions *auth.Service
	hub      *messaging.Hub
	state    *httpapi.State
	clock    *testutil.Clock
	metrics  *metricsLog
	logs     *testutil.Buffer
	cfg      httpapi.Config
	acfg     auth.Config
	dir      string // the data directory: icrec.db, blobs/, keys
	blobs    *fsblob.Store
	audit    *audit.Log
	keys     *signedurl.Keyring
	exports  archive.Exports
	archive  *archive.Service
	// smtp, with withMail, receives what send-as-email sends.
	smtp      *mailtest.Server
	maxAttach int64
	// uncached, with withoutRightsCache, hides the store's change
	// counters from the archive, which then reads the store on every
	// rights check.
	uncached bool
}

type option func(*env)

func withConfig(f func(*httpapi.Config)) option { return func(e *env) { f(&e.cfg) } }
func withAuth(f func(*auth.Config)) option      { return func(e *env) { f(&e.acfg) } }
func withExports(f func(*archive.Exports)) option {
	return func(e *env) { f(&e.exports) }
}

// withMail starts a real SMTP server for send-as-email; emails carry up to
// maxAttach bytes of attachments.
func withMail(maxAttach int64) option {
	return func(e *env) { e.smtp, e.maxAttach = mailtest.Start(e.t), maxAttach }
}

// withoutRightsCache makes the archive read the store on every rights
// check, as it does over a store without change counters.
func withoutRightsCache() option { return func(e *env) { e.uncached = true } }

func withTLS() option {
	return func(e *env) { e.srv = httptest.NewUnstartedServer(nil); e.srv.EnableHTTP2 = true }
}

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	return newEnvOn(t, nil, opts...)
}

// newEnvOn starts a server on db, or on a new store if db is nil (then it
// also creates the test users).
func newEnvOn(t testing.TB, db *sqlite.DB, opts ...option) *env {
	t.Helper()
	e := &env{
		t:       t,
		clock:   testutil.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		metrics: &metricsLog{},
		logs:    &testutil.Buffer{},
		cfg:     httpapi.Config{ServerName: "icrec-test", Version: icws.VersionInfo{MajorVersion: "0", MinorVersion: "1", SU: "0", Build: "test", ProductID: "icrec", CodebaseID: "icrec"}},
		acfg:    auth.DefaultConfig(),
	}
	for _, o := range opts {
		o(e)
	}
	ctx := context.Background()
	fresh := db == nil
	e.dir = t.TempDir()
	if fresh {
		var err error
		db, err = sqlite.Open(ctx, filepath.Join(e.dir, "icrec.db"), e.clock.Now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
	}
	var err error
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.audit = audit.New(db, log, e.clock.Now)
	t.Cleanup(func() { e.audit.Close(context.Background()) })
	e.hub = messaging.New(log)
	e.acfg.SessionEnded = e.hub.End
	e.acfg.Audit = e.audit
	e.sessions, err = auth.New(db, db, passwd.New(fastParams), e.acfg, log, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	if e.blobs, err = fsblob.New(filepath.Join(e.dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.blobs.Close() })
	if e.exports.Signer == nil {
		if e.keys, err = signedurl.LoadOrCreate(filepath.Join(e.dir, "keys", "link-keys.json"), e.clock.Now); err != nil {
			t.Fatal(err)
		}
		e.exports.Signer = signedurl.New(e.keys, e.clock.Now)
	}
	if e.cfg.ExportBase == "" {
		e.cfg.ExportBase = "https://recorder.example.com:8019"
	}
	e.exports.BaseURL = e.cfg.ExportBase
	var recordings icrec.RecordingStore = db
	if e.uncached {
		recordings = struct{ icrec.RecordingStore }{db} // no Versions
	}
	e.archive = archive.New(recordings, db, db, db, e.blobs, e.audit, e.exports, log, e.clock.Now)
	if e.smtp != nil {
		host, port, _ := net.SplitHostPort(e.smtp.Addr)
		p, _ := strconv.Atoi(port)
		sender := mail.New(mail.Config{Host: host, Port: p, TLSMode: mail.NoTLS, From: "recorder@example.com", Timeout: 5 * time.Second}, log)
		e.archive.UseMail(archive.Email{Mailer: sender.Mailer(), MaxAttach: e.maxAttach})
	}
	e.state = httpapi.NewState(db.Ping)
	h := httpapi.NewServer(log, e.cfg, e.sessions, e.archive, e.hub, e.metrics, e.state, e.clock.Now)
	e.handler = h
	if e.srv != nil {
		e.srv.Config.Handler = h
		e.srv.StartTLS()
	} else {
		e.srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		e.hub.Shutdown()
		e.srv.Close()
	})
	if !fresh {
		return e
	}
	for _, u := range []auth.NewUser{
		{ID: "agent1", Name: "Agent One", Roles: []string{"agent"}},
		{ID: "agent2", Name: "Agent Two"},
		{ID: "admin", Roles: []string{icrec.RoleAdmin}},
	} {
		u.Password = testPassword
		if _, err := e.sessions.AddUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// client returns an HTTP client for the server, with or without a cookie
// jar, that never follows redirects (ICWS has none; seeing one is a bug).
func (e *env) client(jar bool) *http.Client {
	c := e.srv.Client()
	c = &http.Client{Transport: c.Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if jar {
		c.Jar, _ = cookiejar.New(nil)
	}
	return c
}

// do sends a request and returns the response with its body read.
func (e *env) do(c *http.Client, method, path string, body string, header http.Header) (*http.Response, []byte) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, b
}

func loginBody(user, password string) string {
	b, _ := json.Marshal(map[string]string{
		"__type": icws.TypeICAuthSettings, "applicationName": "httpapi test", "userID": user, "password": password,
	})
	return string(b)
}

// session is a logged-in client session.
type session struct {
	id, csrf, cookie string // cookie is the raw Set-Cookie value, "icws_id=secret|languageId=en-us"
	resp             icws.ConnectionResponse
}

func (e *env) login(user string) session {
	e.t.Helper()
	resp, body := e.do(e.client(false), "POST", "/icws/connection", loginBody(user, testPassword), nil)
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("login %s: %s %s", user, resp.Status, body)
	}
	var s session
	if err := json.Unmarshal(body, &s.resp); err != nil {
		e.t.Fatal(err)
	}
	s.id, s.csrf = s.resp.SessionID, s.resp.CSRFToken
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		e.t.Fatalf("login set %d cookies, want 1", len(cookies))
	}
	s.cookie = cookies[0].Name + "=" + cookies[0].Value
	return s
}

// headers returns the session's credentials as request headers.
func (s session) headers() http.Header {
	return http.Header{"Cookie": {s.cookie}, "Inin-Icws-Csrf-Token": {s.csrf}}
}

// decodeError decodes an ICWS error body.
func decodeError(t *testing.T, b []byte) icws.Error {
	t.Helper()
	var e icws.Error
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	return e
}

// checkError checks an ICWS error response.
func checkError(t *testing.T, resp *http.Response, body []byte, status int, errorID string, code int) icws.Error {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status=%d, want %d (body %s)", resp.StatusCode, status, body)
	}
	if got := resp.Header.Get("Content-Type"); got != icws.ContentType {
		t.Errorf("Content-Type=%q, want %q", got, icws.ContentType)
	}
	e := decodeError(t, body)
	if e.ErrorID != errorID || e.ErrorCode != code {
		t.Errorf("errorId=%q errorCode=%d, want %q %d (message %q)", e.ErrorID, e.ErrorCode, errorID, code, e.Message)
	}
	if e.Message == "" || e.Type == "" {
		t.Errorf("error without message or __type: %s", body)
	}
	wantAuth := ""
	if status == http.StatusUnauthorized {
		wantAuth = `ICWS realm="ICWS" location="/ICWS/connection"`
	}
	if got := resp.Header.Get("WWW-Authenticate"); got != wantAuth {
		t.Errorf("WWW-Authenticate=%q, want %q", got, wantAuth)
	}
	return e
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newHandler builds another server handler over e's store and hub, with
// its own session rules.
func newHandler(e *env, svc *auth.Service) http.Handler {
	return httpapi.NewServer(discardLogger(), e.cfg, svc, e.archive, e.hub, nil, e.state, e.clock.Now)
}

func decodeLogin(t testing.TB, body []byte) icws.ConnectionResponse {
	t.Helper()
	var r icws.ConnectionResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("login body %q: %v", body, err)
	}
	return r
}
