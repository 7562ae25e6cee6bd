package httpapi

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"example.com/icrec"
	"example.com/icrec/icws"
)

func TestClientOf(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	for _, tc := range []struct {
		name, remote string
		xff          []string
		proto        string
		tls          bool
		want         string
		https        bool
	}{
		{"direct", "203.0.113.7:5000", nil, "", false, "203.0.113.7", false},
		{"direct TLS", "203.0.113.7:5000", nil, "", true, "203.0.113.7", true},
		{"untrusted peer's headers ignored", "203.0.113.7:5000", []string{"1.2.3.4"}, "https", false, "203.0.113.7", false},
		{"trusted proxy", "10.1.1.1:5000", []string{"198.51.100.2"}, "https", false, "198.51.100.2", true},
		{"proxy chain", "10.1.1.1:5000", []string{"192.0.2.9, 198.51.100.2, 10.2.2.2"}, "http", false, "198.51.100.2", false},
		{"spoofed left entries", "10.1.1.1:5000", []string{"6.6.6.6", "198.51.100.2"}, "", false, "198.51.100.2", false},
		{"all trusted", "10.1.1.1:5000", []string{"10.3.3.3, 10.2.2.2"}, "", false, "10.3.3.3", false},
		{"with ports and brackets", "[::1]:5000", []string{"[2001:db8::5]:443"}, "HTTPS, http", false, "2001:db8::5", true},
		{"junk stops the walk", "10.1.1.1:5000", []string{"1.1.1.1, junk, 10.2.2.2"}, "", false, "10.2.2.2", false},
		{"mapped v4", "[::ffff:203.0.113.7]:5000", nil, "", false, "203.0.113.7", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if !tc.tls {
				r.TLS = nil
			} else {
				r.TLS = &tls.ConnectionState{}
			}
			addr, https := clientOf(r, trusted)
			if addr.String() != tc.want || https != tc.https {
				t.Errorf("got %s https=%v, want %s https=%v", addr, https, tc.want, tc.https)
			}
		})
	}
}

func FuzzForwardedFor(f *testing.F) {
	f.Add("192.0.2.9, 198.51.100.2, 10.2.2.2", "10.1.1.1")
	f.Add("[2001:db8::5]:443,", "::1")
	f.Add(",,,", "10.0.0.1")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, xff, peer string) {
		p, err := netip.ParseAddr(peer)
		if err != nil {
			return
		}
		got := forwardedFor([]string{xff}, p, trusted)
		// The answer is the peer or one of the addresses in the header.
		if got == p {
			return
		}
		for hop := range strings.SplitSeq(xff, ",") {
			if a, err := parseHop(strings.TrimSpace(hop)); err == nil && a == got {
				return
			}
		}
		t.Fatalf("forwardedFor(%q, %s) = %s, which is neither the peer nor a hop", xff, p, got)
	})
}

func TestNegotiateLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"":                        "en-us",
		"en-us":                   "en-us",
		"en-US":                   "en-us",
		"EN":                      "en-us",
		"en-au":                   "en-us",
		"fr-FR":                   "en-us",
		"fr-FR, en;q=0.5":         "en-us",
		"*":                       "en-us",
		"en;q=0":                  "en-us",
		"en;q=abc, de":            "en-us",
		";;;,,,":                  "en-us",
		strings.Repeat("x,", 100): "en-us",
	} {
		if got := negotiateLanguage(header); got != want {
			t.Errorf("negotiateLanguage(%q)=%q, want %q", header, got, want)
		}
	}
}

func TestRecoverPanic(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	boom := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom: secret internals") })
	h := logRequests(log, nopMetrics{}, nil, recoverPanic(log, boom))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/x", nil))
	if w.Code != 500 || w.Header().Get("Content-Type") != icws.ContentType {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var e icws.Error
	json.Unmarshal(w.Body.Bytes(), &e)
	id := w.Header().Get("X-Request-Id")
	if e.ErrorID != icrec.IDInternal || !strings.Contains(e.Message, id) || strings.Contains(e.Message, "boom") {
		t.Errorf("body %s", w.Body)
	}
	if !strings.Contains(logs.String(), `"msg":"panic"`) || !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("logs: %s", logs.String())
	}

	// After the headers are out, the connection is cut instead.
	late := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte("partial"))
		panic("late")
	})
	srv := httptest.NewServer(logRequests(log, nopMetrics{}, nil, recoverPanic(log, late)))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err == nil {
		_, err = bytes.NewBuffer(nil).ReadFrom(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Error("a response cut short by a panic read as complete")
	}
}

func TestRequestID(t *testing.T) {
	if got := newRequestID("abc-123_X.y"); got != "abc-123_X.y" {
		t.Errorf("kept id = %q", got)
	}
	for _, in := range []string{"", "has space", "bad\nline", strings.Repeat("a", 65), "ünï"} {
		if got := newRequestID(in); got == in || len(got) != 16 {
			t.Errorf("newRequestID(%q) = %q, want a fresh 16-hex id", in, got)
		}
	}
}

func TestICWSPathCase(t *testing.T) {
	var got string
	h := icwsPathCase(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.URL.Path }))
	for in, want := range map[string]string{
		"/ICWS/connection": "/icws/connection", "/Icws/1/x": "/icws/1/x", "/icws/x": "/icws/x",
		"/ICWSX/connection": "/ICWSX/connection", "/ICWS": "/icws", "/healthz": "/healthz",
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", in, nil))
		if got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}
