package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/auth"
)

// TestSessionCredentials covers the 401 rows of the contract's error table:
// every way session credentials can fail, each with its errorCode.
func TestSessionCredentials(t *testing.T) {
	e := newEnv(t)
	s := e.login("agent1")
	other := e.login("agent2")
	secret := strings.TrimPrefix(s.cookie, "icws_"+s.id+"=")
	path := "/icws/" + s.id + "/connection"
	for _, tc := range []struct {
		name   string
		path   string
		header http.Header
		code   int
	}{
		{"ErrUnknownSession", "/icws/1234567890/connection", s.headers(), icrec.CodeUnknownSession},
		{"ErrNonNumericSession", "/icws/abc/connection", s.headers(), icrec.CodeUnknownSession},
		{"ErrNoCookie", path, http.Header{"Inin-Icws-Csrf-Token": {s.csrf}}, icrec.CodeBadCookie},
		{"ErrWrongCookie", path, http.Header{"Cookie": {"icws_" + s.id + "=00000000-0000-0000-0000-000000000000|languageId=en-us"}, "Inin-Icws-Csrf-Token": {s.csrf}}, icrec.CodeBadCookie},
		{"ErrOtherSessionsCookie", path, http.Header{"Cookie": {other.cookie}, "Inin-Icws-Csrf-Token": {s.csrf}}, icrec.CodeBadCookie},
		{"ErrOtherSessionsSecret", path, http.Header{"Cookie": {"icws_" + s.id + "=" + strings.TrimPrefix(other.cookie, "icws_"+other.id+"=")}, "Inin-Icws-Csrf-Token": {s.csrf}}, icrec.CodeBadCookie},
		{"ErrNoCSRF", path, http.Header{"Cookie": {s.cookie}}, icrec.CodeBadCSRFToken},
		{"ErrEmptyCSRF", path, http.Header{"Cookie": {s.cookie}, "Inin-Icws-Csrf-Token": {""}}, icrec.CodeBadCSRFToken},
		{"ErrWrongCSRF", path, http.Header{"Cookie": {s.cookie}, "Inin-Icws-Csrf-Token": {s.csrf + "x"}}, icrec.CodeBadCSRFToken},
		{"ErrOtherSessionsCSRF", path, http.Header{"Cookie": {s.cookie}, "Inin-Icws-Csrf-Token": {other.csrf}}, icrec.CodeBadCSRFToken},
		{"ErrPollWithoutCSRF", "/icws/" + s.id + "/messaging/messages", http.Header{"Cookie": {s.cookie}}, icrec.CodeBadCSRFToken},
		{"ErrStreamWrongCSRF", "/icws/" + s.id + "/messaging/messages", http.Header{"Cookie": {s.cookie}, "Accept": {"text/event-stream"}, "Inin-Icws-Csrf-Token": {"nope"}}, icrec.CodeBadCSRFToken},
		{"ErrStreamNoCookie", "/icws/" + s.id + "/messaging/messages", http.Header{"Accept": {"text/event-stream"}}, icrec.CodeBadCookie},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(e.client(false), "GET", tc.path, "", tc.header)
			checkError(t, resp, body, http.StatusUnauthorized, icrec.IDAuthenticationFailure, tc.code)
		})
	}

	// What real clients send back must work (client-compat rules 1, 2, 9).
	for _, tc := range []struct {
		name   string
		header http.Header
	}{
		{"OKPlain", s.headers()},
		{"OKEchoedSetCookie", http.Header{"Cookie": {s.cookie + "; Path=/icws/" + s.id + "; HttpOnly"}, "Inin-Icws-Csrf-Token": {s.csrf}}},
		{"OKEchoedSecure", http.Header{"Cookie": {s.cookie + "; Path=/icws/" + s.id + "; Secure; HttpOnly"}, "ININ-ICWS-CSRF-Token": {s.csrf}}},
		{"OKSeveralCookieLines", http.Header{"Cookie": {"other=1", s.cookie, other.cookie}, "inin-icws-csrf-token": {s.csrf}}},
		{"OKStaleAndCurrent", http.Header{"Cookie": {"icws_" + s.id + "=stale|languageId=en-us; " + s.cookie}, "Inin-Icws-Csrf-Token": {s.csrf}}},
		{"OKSecretWithoutLanguage", http.Header{"Cookie": {"icws_" + s.id + "=" + strings.Split(secret, "|")[0]}, "Inin-Icws-Csrf-Token": {s.csrf}}},
		{"OKExtraSessionHeader", http.Header{"Cookie": {s.cookie}, "Inin-Icws-Csrf-Token": {s.csrf}, "Inin-Icws-Session-Id": {s.id}, "Content-Type": {"application/json"}, "Accept-Language": {}}},
		{"OKQuotedCookie", http.Header{"Cookie": {`icws_` + s.id + `="` + secret + `"`}, "Inin-Icws-Csrf-Token": {" " + s.csrf + " "}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(e.client(false), "GET", path, "", tc.header)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s", resp.Status, body)
			}
		})
	}
	t.Run("OKGetWithBody", func(t *testing.T) {
		h := s.headers()
		h.Set("Content-Type", "application/vnd.inin.icws+JSON")
		resp, body := e.do(e.client(false), "GET", path, "{}", h)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s %s", resp.Status, body)
		}
	})
}

func TestSessionEnds(t *testing.T) {
	t.Run("IdleTimeout", func(t *testing.T) {
		e := newEnv(t)
		s := e.login("agent1")
		path := "/icws/" + s.id + "/connection"
		// Requests keep the session alive well past the idle timeout...
		for range 4 {
			e.clock.Advance(20 * time.Minute)
			if resp, body := e.do(e.client(false), "GET", path, "", s.headers()); resp.StatusCode != http.StatusOK {
				t.Fatalf("active session: %s %s", resp.Status, body)
			}
		}
		// ...and idleness ends it.
		e.clock.Advance(31 * time.Minute)
		resp, body := e.do(e.client(false), "GET", path, "", s.headers())
		checkError(t, resp, body, http.StatusUnauthorized, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession)
	})
	t.Run("Lifetime", func(t *testing.T) {
		e := newEnv(t, withAuth(func(c *auth.Config) { c.Lifetime = time.Hour }))
		s := e.login("agent1")
		for range 3 {
			e.clock.Advance(19 * time.Minute)
			if resp, _ := e.do(e.client(false), "GET", "/icws/"+s.id+"/connection", "", s.headers()); resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d before the lifetime ended", resp.StatusCode)
			}
		}
		e.clock.Advance(4 * time.Minute)
		resp, body := e.do(e.client(false), "GET", "/icws/"+s.id+"/connection", "", s.headers())
		checkError(t, resp, body, http.StatusUnauthorized, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession)
	})
	for name, end := range map[string]func(*env) error{
		"UserDisabled": func(e *env) error { _, err := e.sessions.SetDisabled(t.Context(), "agent1", true); return err },
		"UserDeleted":  func(e *env) error { return e.sessions.DeleteUser(t.Context(), "agent1") },
		"NewPassword":  func(e *env) error { return e.sessions.SetPassword(t.Context(), "AGENT1", "another password") },
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			s1, s2, keep := e.login("agent1"), e.login("agent1"), e.login("agent2")
			if err := end(e); err != nil {
				t.Fatal(err)
			}
			for _, s := range []session{s1, s2} {
				resp, body := e.do(e.client(false), "GET", "/icws/"+s.id+"/connection", "", s.headers())
				checkError(t, resp, body, http.StatusUnauthorized, icrec.IDAuthenticationFailure, icrec.CodeUnknownSession)
			}
			if resp, _ := e.do(e.client(false), "GET", "/icws/"+keep.id+"/connection", "", keep.headers()); resp.StatusCode != http.StatusOK {
				t.Errorf("another user's session ended too: %d", resp.StatusCode)
			}
		})
	}
}

func TestSessionSurvivesRestart(t *testing.T) {
	// A second server on the same store accepts the first one's session.
	e := newEnv(t)
	s := e.login("agent1")
	e2 := newEnvOn(t, e.db)
	if resp, body := e2.do(e2.client(false), "GET", "/icws/"+s.id+"/connection", "", s.headers()); resp.StatusCode != http.StatusOK {
		t.Errorf("session on a new server: %s %s", resp.Status, body)
	}
}
