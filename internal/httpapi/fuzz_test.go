package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzSessionCredentials sends arbitrary session ids, cookie headers and
// CSRF headers to a session route. Whatever arrives, the answer is 200 only
// with the session's own id and token, and otherwise a client error: never
// a 500 or a panic.
func FuzzSessionCredentials(f *testing.F) {
	e := newEnv(f)
	s := e.login("agent1")
	secret := s.cookie[strings.IndexByte(s.cookie, '=')+1:]
	secret, _, _ = strings.Cut(secret, "|")
	f.Add(s.id, s.cookie, s.csrf, false)
	f.Add(s.id, s.cookie+"; Path=/icws/"+s.id+"; HttpOnly", s.csrf, false)
	f.Add(s.id, "", "", false)
	f.Add("1", "icws_1=x", "y", false)
	f.Add("../connection", "icws_=", "\x00", false)
	f.Add(s.id, `icws_`+s.id+`="unterminated`, s.csrf, false)
	// Event streams: the cookie alone authorises them (client-compat 8).
	f.Add(s.id, s.cookie, "", true)
	f.Add(s.id, "icws_"+s.id+"=wrong", s.csrf, true)
	f.Add(s.id, "", s.csrf, true)
	f.Fuzz(func(t *testing.T, sid, cookie, csrf string, stream bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = "/icws/" + sid + "/connection"
		if stream {
			r.URL.Path = "/icws/" + sid + "/messaging/messages"
			r.Header.Set("Accept", "text/event-stream")
			// A stream that was let in runs until its request ends.
			ctx, cancel := context.WithTimeout(r.Context(), 20*time.Millisecond)
			defer cancel()
			r = r.WithContext(ctx)
		}
		r.Header["Cookie"] = []string{cookie}
		r.Header["Inin-Icws-Csrf-Token"] = []string{csrf}
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK:
			if sid != s.id || !strings.Contains(cookie, secret) {
				t.Fatalf("200 for sid %q cookie %q (stream %v)", sid, cookie, stream)
			}
			if !stream && strings.TrimSpace(csrf) != s.csrf {
				t.Fatalf("200 for sid %q csrf %q", sid, csrf)
			}
		case http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed:
		default:
			t.Fatalf("status %d for sid %q cookie %q csrf %q stream %v: %s", w.Code, sid, cookie, csrf, stream, w.Body)
		}
	})
}
