package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/passwd"
)

// BenchmarkRequest measures whole requests through NewServer's handler, with
// no network: an authenticated session call beside a sessionless call of the
// same size, so that the difference is the session check's cost.
func BenchmarkRequest(b *testing.B) {
	e := newEnv(b)
	s := e.login("agent1")
	for _, bc := range []struct {
		name, path string
		header     http.Header
	}{
		{"Sessionless", "/icws/connection/server-time", nil},
		{"Authenticated", "/icws/" + s.id + "/connection", s.headers()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", bc.path, nil)
			req.Header = bc.header.Clone()
			if req.Header == nil {
				req.Header = http.Header{}
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// BenchmarkLogin measures POST /icws/connection with the production
// argon2id parameters: the latency a user waits for at login.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b)
	svc, err := auth.New(e.db, e.db, passwd.New(passwd.DefaultParams), auth.Config{
		IdleTimeout: auth.DefaultConfig().IdleTimeout, Lifetime: auth.DefaultConfig().Lifetime,
		Audit: e.audit, // a login waits until its audit event is durable
	}, discardLogger(), e.clock.Now)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.AddUser(b.Context(), auth.NewUser{ID: "bench", Password: testPassword}); err != nil {
		b.Fatal(err)
	}
	h := newHandler(e, svc)
	body := loginBody("bench", testPassword)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/icws/connection", strings.NewReader(body)))
		if w.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkExportURI measures export-uri through the handler with no
// network, beside the authenticated session call that is its floor: the
// difference is the recording lookup, the rights, signing and the audit
// event that must be durable before the answer. ExportURI/Uncached runs
// without the archive's cache of rights checks (withoutRightsCache), on a
// server of its own, so that both are measured in one run.
func BenchmarkExportURI(b *testing.B) {
	type server struct {
		e *env
		s session
	}
	start := func(opts ...option) server {
		e := newEnv(b, opts...)
		e.seedRecordings()
		return server{e, e.login("admin")}
	}
	cached, uncached := start(), start(withoutRightsCache())
	for _, bc := range []struct {
		name string
		srv  server
		path string
	}{
		{"SessionCall", cached, "/icws/" + cached.s.id + "/connection"},
		{"ExportURI/Cached", cached, "/icws/" + cached.s.id + "/recordings/" + callID + "/export-uri"},
		{"ExportURI/Uncached", uncached, "/icws/" + uncached.s.id + "/recordings/" + callID + "/export-uri"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req := httptest.NewRequest("GET", bc.path, nil)
				req.Header = bc.srv.s.headers()
				for pb.Next() {
					w := httptest.NewRecorder()
					bc.srv.e.handler.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
