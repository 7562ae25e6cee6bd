package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"example.com/icrec"
	"example.com/icrec/internal/httpapi"
)

// TestErrorTable walks the rows of the contract's error table (section 3)
// that the connection and messaging features can produce, each through a
// real request.
func TestErrorTable(t *testing.T) {
	e := newEnv(t, withConfig(func(c *httpapi.Config) { c.MaxBodyBytes = 256 }))
	s := e.login("agent1")
	for _, tc := range []struct {
		row          string
		method, path string
		body         string
		header       http.Header
		status       int
		errorID      string
		code         int
	}{
		{"malformed JSON", "POST", "/icws/connection", "{", nil, 400, icrec.IDInvalidProperty, 0},
		{"missing property", "POST", "/icws/connection", `{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings"}`, nil, 400, icrec.IDMissingParameter, 0},
		{"invalid property", "POST", "/icws/" + s.id + "/connection/unique-auth-token", `{"authTokenSeed":"x"}`, s.headers(), 400, icrec.IDInvalidProperty, 0},
		{"bad path parameter (unknown feature)", "GET", "/icws/connection/features/nope", "", nil, 400, icrec.IDInvalidProperty, 0},
		{"bad login", "POST", "/icws/connection", loginBody("agent1", "nope"), nil, 400, icrec.IDAuthenticationFailure, 0},
		{"unknown session", "GET", "/icws/1111111111/connection", "", s.headers(), 401, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession},
		{"bad CSRF token", "GET", "/icws/" + s.id + "/connection", "", http.Header{"Cookie": {s.cookie}}, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCSRFToken},
		{"bad cookie", "GET", "/icws/" + s.id + "/connection", "", http.Header{"Inin-Icws-Csrf-Token": {s.csrf}}, 401, icrec.IDAuthenticationFailure, icrec.CodeBadCookie},
		{"unknown route", "GET", "/icws/" + s.id + "/nothing/here", "", s.headers(), 404, icrec.IDNotFound, 0},
		{"unknown route outside icws", "GET", "/favicon.ico", "", nil, 404, icrec.IDNotFound, 0},
		{"unclean path is not redirected", "GET", "/icws/connection/../connection/version", "", nil, 404, icrec.IDNotFound, 0},
		{"double slash is not redirected", "GET", "/icws//connection/version", "", nil, 404, icrec.IDNotFound, 0},
		{"wrong method", "PUT", "/icws/" + s.id + "/connection", "", s.headers(), 405, icrec.IDMethodNotAllowed, 0},
		{"wrong method sessionless", "DELETE", "/icws/connection/features", "", nil, 405, icrec.IDMethodNotAllowed, 0},
		{"OPTIONS without CORS", "OPTIONS", "/icws/connection", "", nil, 405, icrec.IDMethodNotAllowed, 0},
		{"body too large", "POST", "/icws/connection", strings.Repeat(" ", 300) + "{}", nil, 413, icrec.IDTooLarge, 0},
		// Below net/http's own limit (1 MiB, which answers in plain text),
		// above icrec's 64 KiB: a JSON 431.
		{"header too large", "GET", "/icws/connection/version", "", http.Header{"X-Big": {strings.Repeat("b", 70<<10)}}, 431, icrec.IDTooLarge, 0},
		{"header too large in many fields", "GET", "/icws/connection/version", "", http.Header{"X-Big": slices.Repeat([]string{strings.Repeat("b", 1000)}, 70)}, 431, icrec.IDTooLarge, 0},
	} {
		t.Run(tc.row, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = tc.path // send the path as written, unclean or not
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := e.client(false).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := readAll(t, resp)
			checkError(t, resp, body, tc.status, tc.errorID, tc.code)
			if tc.status == 405 && resp.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}

	t.Run("internal error", func(t *testing.T) {
		// A store that fails gives a 500 that names a request id and
		// nothing internal; the log has the cause under the same id.
		e := newEnv(t)
		s := e.login("agent1")
		e.db.Close()
		resp, body := e.do(e.client(false), "GET", "/icws/"+s.id+"/connection", "", s.headers())
		got := checkError(t, resp, body, 500, icrec.IDInternal, 0)
		id := resp.Header.Get("X-Request-Id")
		if id == "" || !strings.Contains(got.Message, id) {
			t.Errorf("message %q does not name request id %q", got.Message, id)
		}
		if strings.Contains(strings.ToLower(got.Message), "sql") || strings.Contains(got.Message, "closed") {
			t.Errorf("500 message leaks internals: %q", got.Message)
		}
		if logs := e.logs.String(); !strings.Contains(logs, `"msg":"internal error","request_id":"`+id+`"`) {
			t.Errorf("no internal error logged with request id %s", id)
		}
	})
}

func TestNewServerRoutes(t *testing.T) {
	// Building the server registers every pattern: an ambiguous one panics
	// here rather than at start-up in production.
	newEnv(t)
}

func TestCORS(t *testing.T) {
	const origin = "https://agent.example.com"
	e := newEnv(t, withConfig(func(c *httpapi.Config) { c.CORSOrigins = []string{origin, "http://localhost:3000"} }))
	c := e.client(false)
	t.Run("Preflight", func(t *testing.T) {
		for _, tc := range []struct{ method, path string }{
			{"POST", "/icws/connection"},
			{"GET", "/icws/123/messaging/messages"},
			{"DELETE", "/icws/123/connection"},
			{"PUT", "/icws/123/recordings/x/tags"},
			{"PATCH", "/anything"},
		} {
			resp, body := e.do(c, "OPTIONS", tc.path, "", http.Header{
				"Origin":                         {"HTTPS://agent.example.com"},
				"Access-Control-Request-Method":  {tc.method},
				"Access-Control-Request-Headers": {"ininj-icws-csrf-token,content-type,accept-language"},
			})
			if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
				t.Errorf("%s %s preflight: %s %s", tc.method, tc.path, resp.Status, body)
			}
			h := resp.Header
			if h.Get("Access-Control-Allow-Origin") != "HTTPS://agent.example.com" || h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("%s %s: allow-origin %q credentials %q", tc.method, tc.path, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
			}
			if !strings.Contains(h.Get("Access-Control-Allow-Methods"), tc.method) {
				t.Errorf("%s %s: allow-methods %q", tc.method, tc.path, h.Get("Access-Control-Allow-Methods"))
			}
			if h.Get("Access-Control-Allow-Headers") != "ininj-icws-csrf-token,content-type,accept-language" {
				t.Errorf("allow-headers %q, want the requested ones echoed", h.Get("Access-Control-Allow-Headers"))
			}
		}
	})
	t.Run("ActualRequest", func(t *testing.T) {
		resp, _ := e.do(c, "POST", "/icws/connection", loginBody("agent1", testPassword), http.Header{"Origin": {origin}})
		h := resp.Header
		if resp.StatusCode != 201 || h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("%s, allow-origin %q", resp.Status, h.Get("Access-Control-Allow-Origin"))
		}
		if got := h.Get("Access-Control-Expose-Headers"); got != "ININ-ICWS-CSRF-Token, ININ-ICWS-Session-ID, Location, Set-Cookie" {
			t.Errorf("expose-headers %q", got)
		}
		if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Errorf("Vary %q lacks Origin", h.Values("Vary"))
		}
		// Errors carry the headers too, so the page can read them.
		resp, _ = e.do(c, "GET", "/icws/1/connection", "", http.Header{"Origin": {origin}})
		if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("401 without CORS headers: %s", resp.Status)
		}
	})
	t.Run("ErrOtherOrigin", func(t *testing.T) {
		for _, o := range []string{"https://evil.example.com", "https://agent.example.com.evil.com", "null"} {
			resp, _ := e.do(c, "OPTIONS", "/icws/connection", "", http.Header{"Origin": {o}, "Access-Control-Request-Method": {"POST"}})
			if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.StatusCode == http.StatusNoContent {
				t.Errorf("origin %s was allowed: %s", o, resp.Status)
			}
			resp, _ = e.do(c, "POST", "/icws/connection", loginBody("agent1", testPassword), http.Header{"Origin": {o}})
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("origin %s got CORS headers", o)
			}
		}
	})
	t.Run("ErrHeaderInjection", func(t *testing.T) {
		resp, _ := e.do(c, "OPTIONS", "/icws/connection", "", http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"x-a, \"quoted\""}})
		if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "" {
			t.Errorf("echoed unsafe header list %q", got)
		}
	})
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	for path, want := range map[string]string{"/healthz": `{"status":"ok"}`, "/readyz": `{"status":"ready"}`} {
		resp, body := e.do(e.client(false), "GET", path, "", nil)
		if resp.StatusCode != 200 || string(body) != want {
			t.Errorf("%s: %s %s", path, resp.Status, body)
		}
	}
	e.db.Close()
	resp, body := e.do(e.client(false), "GET", "/readyz", "", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "unavailable") {
		t.Errorf("readyz with a closed store: %s %s", resp.Status, body)
	}
}
