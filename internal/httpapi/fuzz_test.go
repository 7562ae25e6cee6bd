package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSessionCredentials sends arbitrary session ids, cookie headers and
// CSRF headers to a session route. Whatever arrives, the answer is 200 only
// with the session's own id and token, and otherwise a client error: never
// a 500 or a panic.
func FuzzSessionCredentials(f *testing.F) {
	e := newEnv(f)
	s := e.login("agent1")
	f.Add(s.id, s.cookie, s.csrf)
	f.Add(s.id, s.cookie+"; Path=/icws/"+s.id+"; HttpOnly", s.csrf)
	f.Add(s.id, "", "")
	f.Add("1", "icws_1=x", "y")
	f.Add("../connection", "icws_=", "\x00")
	f.Add(s.id, `icws_`+s.id+`="unterminated`, s.csrf)
	f.Fuzz(func(t *testing.T, sid, cookie, csrf string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = "/icws/" + sid + "/connection"
		r.Header["Cookie"] = []string{cookie}
		r.Header["Inin-Icws-Csrf-Token"] = []string{csrf}
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK:
			if sid != s.id || strings.TrimSpace(csrf) != s.csrf {
				t.Fatalf("200 for sid %q csrf %q", sid, csrf)
			}
		case http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("status %d for sid %q cookie %q csrf %q: %s", w.Code, sid, cookie, csrf, w.Body)
		}
	})
}
