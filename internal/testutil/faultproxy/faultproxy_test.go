package faultproxy_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec/internal/testutil/faultproxy"
)

const wantFaultBody = `{"errorId":"error.server.internal","message":"injected fault","__type":"urn:inin.com:common:error"}`

// blobETag is the strong validator of every blob the test backend serves.
const blobETag = `"blob-v1"`

// randomBytes returns n bytes that are the same on every run.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

// backend is the server behind the proxy. It serves:
//
//	/blob     the blob, with Range, If-Range and If-None-Match support;
//	          so is /blob/anything
//	/small    a 1-byte body
//	/missing  a 404 with a body
//	anything else: 200 "ok"
//
// It records every request for the test to look at.
type backend struct {
	blob []byte

	mu   sync.Mutex
	last *http.Request // the last request, with its body in body
	body []byte
	hits map[string]int
}

func newBackend(blob []byte) *backend {
	return &backend{blob: blob, hits: make(map[string]int)}
}

func (b *backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.hits[r.URL.Path]++
	b.last, b.body = r, body
	b.mu.Unlock()
	switch path := r.URL.Path; {
	case path == "/blob" || strings.HasPrefix(path, "/blob/"):
		w.Header().Set("ETag", blobETag)
		w.Header().Set("Content-Type", "audio/wav")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b.blob))
	case path == "/small":
		w.Header().Set("Content-Length", "1")
		w.Write([]byte("x"))
	case path == "/missing":
		http.Error(w, "no such thing", http.StatusNotFound)
	default:
		io.WriteString(w, "ok")
	}
}

func (b *backend) lastRequest() (*http.Request, []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last, b.body
}

func (b *backend) hitsOf(path string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits[path]
}

// start serves h behind a new proxy with cfg and returns the proxy and its
// URL.
func start(t *testing.T, cfg faultproxy.Config, h http.Handler) (*faultproxy.Proxy, string) {
	t.Helper()
	back := httptest.NewServer(h)
	t.Cleanup(back.Close)
	p := faultproxy.New(cfg)
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	p.SetTarget(mustParse(t, back.URL))
	return p, front.URL
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// newClient returns a client that shows the test exactly what the proxy
// sent: it follows no redirects and neither asks for nor decodes gzip.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func newRequest(t *testing.T, method, url string, body io.Reader, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return req
}

// result is what a client got for one request.
type result struct {
	res  *http.Response // body already read
	body []byte
	err  error // from reading the body
}

func do(t *testing.T, c *http.Client, req *http.Request) result {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return result{res: res, body: body, err: err}
}

// wantWhole fails the test unless r is a complete response with status and
// body.
func wantWhole(t *testing.T, r result, status int, body []byte) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s %s: reading the body: %v", r.res.Request.Method, r.res.Request.URL, r.err)
	}
	if got, want := r.res.StatusCode, status; got != want {
		t.Fatalf("%s %s: status = %d, want %d (body %.100q)", r.res.Request.Method, r.res.Request.URL, got, want, r.body)
	}
	if !bytes.Equal(r.body, body) {
		t.Fatalf("%s %s: body of %d bytes (sha256 %x), want %d bytes (sha256 %x)", r.res.Request.Method, r.res.Request.URL,
			len(r.body), sha256.Sum256(r.body), len(body), sha256.Sum256(body))
	}
}

// wantFault fails the test unless r is the proxy's injected 500.
func wantFault(t *testing.T, r result) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("reading the body: %v", r.err)
	}
	if got, want := r.res.StatusCode, http.StatusInternalServerError; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got, want := r.res.Header.Get("Content-Type"), "application/vnd.inin.icws+json; charset=utf-8"; got != want {
		t.Fatalf("Content-Type = %q, want %q", got, want)
	}
	if got, want := string(r.body), wantFaultBody; got != want {
		t.Fatalf("body = %s, want %s", got, want)
	}
}

// wantDrop fails the test unless r is a response with status whose body
// ended early in a transport error, and the part that came is a prefix of
// full.
func wantDrop(t *testing.T, r result, status int, full []byte) {
	t.Helper()
	if got, want := r.res.StatusCode, status; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if got, want := r.res.ContentLength, int64(len(full)); got != want {
		t.Fatalf("Content-Length = %d, want %d", got, want)
	}
	if !errors.Is(r.err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the body: err = %v, want %v", r.err, io.ErrUnexpectedEOF)
	}
	if len(r.body) >= len(full) {
		t.Fatalf("got %d of %d bytes before the error, want fewer", len(r.body), len(full))
	}
	if !bytes.Equal(r.body, full[:len(r.body)]) {
		t.Fatalf("the %d bytes that came are not the start of the body", len(r.body))
	}
}

func TestPassThrough(t *testing.T) {
	blob := randomBytes(8<<20 + 17)
	back := newBackend(blob)
	mux := http.NewServeMux()
	mux.Handle("/", back)
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Set-Cookie", "ININ-ICWS-Cookie=abc; Path=/; HttpOnly")
		h.Add("Set-Cookie", "other=1; Path=/icws")
		h.Set("Location", "/icws/123/recordings/1")
		h.Set("ETag", `"v7"`)
		h.Set("Content-Disposition", `attachment; filename="call 1.wav"`)
		h.Set("WWW-Authenticate", `Basic realm="icrec"`)
		h.Set("Content-Type", "application/vnd.inin.icws+json; charset=utf-8")
		// Not compressed at all: the proxy must neither decode nor touch it.
		h.Set("Content-Encoding", "gzip")
		h.Set("X-Custom", "1")
		h.Add("X-Custom", "2")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "created")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	released := make(chan string, 1)
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(2<<20))
		w.Write(blob[:1<<20])
		http.NewResponseController(w).Flush()
		// A proxy that buffers whole bodies gives the client nothing
		// until the rest is written; the timer turns that hang into a
		// failure.
		select {
		case <-r.Context().Done():
			return
		case <-time.After(30 * time.Second):
			released <- "timer"
		case s := <-released:
			released <- s
		}
		w.Write(blob[1<<20 : 2<<20])
	})
	p, front := start(t, faultproxy.Config{}, mux)
	c := newClient(t)

	t.Run("Request", func(t *testing.T) {
		body := randomBytes(100 << 10)
		uri := "/echo%2Fx?b=2&a=%zz;c&a=1"
		req := newRequest(t, http.MethodPost, front+uri, bytes.NewReader(body),
			"Cookie", "ININ-ICWS-Cookie=abc; other=1",
			"ININ-ICWS-CSRF-Token", "WAhEZWZhdWx0",
			"Accept-Language", "de-DE, en;q=0.5",
			"Accept-Encoding", "gzip, br",
			"Range", "bytes=0-",
			"If-Range", `"v7"`,
			"X-Forwarded-For", "203.0.113.7",
			"Content-Type", "application/json",
			"User-Agent", "icws-test/1",
			"X-Multi", "a",
			"X-Multi", "b",
		)
		wantWhole(t, do(t, c, req), http.StatusOK, []byte("ok"))
		got, gotBody := back.lastRequest()
		if got == nil {
			t.Fatal("the request did not reach the backend")
		}
		if got.Method != http.MethodPost || got.RequestURI != uri {
			t.Errorf("backend saw %s %s, want POST %s", got.Method, got.RequestURI, uri)
		}
		if want := mustParse(t, front).Host; got.Host != want {
			t.Errorf("backend saw Host %q, want the client's %q", got.Host, want)
		}
		for k, want := range req.Header {
			if got := got.Header[k]; !reflect.DeepEqual(got, want) {
				t.Errorf("backend saw %s = %q, want %q", k, got, want)
			}
		}
		if !bytes.Equal(gotBody, body) {
			t.Errorf("backend saw a body of %d bytes, want the %d sent", len(gotBody), len(body))
		}
	})

	t.Run("NoCompressionAdded", func(t *testing.T) {
		req := newRequest(t, http.MethodGet, front+"/echo", nil)
		wantWhole(t, do(t, c, req), http.StatusOK, []byte("ok"))
		got, _ := back.lastRequest()
		if v, ok := got.Header["Accept-Encoding"]; ok {
			t.Errorf("backend saw Accept-Encoding %q, want none, as the client sent none", v)
		}
	})

	t.Run("ResponseHeaders", func(t *testing.T) {
		r := do(t, c, newRequest(t, http.MethodGet, front+"/headers", nil))
		wantWhole(t, r, http.StatusCreated, []byte("created"))
		for k, want := range map[string][]string{
			"Set-Cookie":          {"ININ-ICWS-Cookie=abc; Path=/; HttpOnly", "other=1; Path=/icws"},
			"Location":            {"/icws/123/recordings/1"},
			"Etag":                {`"v7"`},
			"Content-Disposition": {`attachment; filename="call 1.wav"`},
			"Www-Authenticate":    {`Basic realm="icrec"`},
			"Content-Type":        {"application/vnd.inin.icws+json; charset=utf-8"},
			"Content-Encoding":    {"gzip"},
			"X-Custom":            {"1", "2"},
		} {
			if got := r.res.Header[k]; !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	})

	t.Run("NoRedirectFollowed", func(t *testing.T) {
		r := do(t, c, newRequest(t, http.MethodGet, front+"/redirect", nil))
		if got, want := r.res.StatusCode, http.StatusFound; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := r.res.Header.Get("Location"), "/elsewhere"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
		if n := back.hitsOf("/elsewhere"); n != 0 {
			t.Errorf("the redirect was followed %d times", n)
		}
	})

	t.Run("LargeBody", func(t *testing.T) {
		r := do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil))
		wantWhole(t, r, http.StatusOK, blob)
		if got, want := r.res.ContentLength, int64(len(blob)); got != want {
			t.Errorf("Content-Length = %d, want %d", got, want)
		}
	})

	t.Run("Statuses", func(t *testing.T) {
		n := len(blob)
		for _, tc := range []struct {
			name         string
			header       []string
			status       int
			body         []byte
			contentRange string
		}{
			{"Range", []string{"Range", "bytes=100-199"}, http.StatusPartialContent, blob[100:200], fmt.Sprintf("bytes 100-199/%d", n)},
			{"RangeToEnd", []string{"Range", "bytes=5000000-"}, http.StatusPartialContent, blob[5000000:], fmt.Sprintf("bytes 5000000-%d/%d", n-1, n)},
			{"IfRangeMatches", []string{"Range", "bytes=1-2", "If-Range", blobETag}, http.StatusPartialContent, blob[1:3], fmt.Sprintf("bytes 1-2/%d", n)},
			{"IfRangeStale", []string{"Range", "bytes=1-2", "If-Range", `"old"`}, http.StatusOK, blob, ""},
			{"NotModified", []string{"If-None-Match", blobETag}, http.StatusNotModified, nil, ""},
			{"Unsatisfiable", []string{"Range", fmt.Sprintf("bytes=%d-", n+10)}, http.StatusRequestedRangeNotSatisfiable, nil, fmt.Sprintf("bytes */%d", n)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil, tc.header...))
				if tc.status == http.StatusRequestedRangeNotSatisfiable {
					tc.body = r.body // an error text that is the backend's business
				}
				wantWhole(t, r, tc.status, tc.body)
				if got := r.res.Header.Get("Content-Range"); got != tc.contentRange {
					t.Errorf("Content-Range = %q, want %q", got, tc.contentRange)
				}
				if got := r.res.Header.Get("ETag"); tc.status != http.StatusRequestedRangeNotSatisfiable && got != blobETag {
					t.Errorf("ETag = %q, want %q", got, blobETag)
				}
			})
		}
		wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/missing", nil)), http.StatusNotFound, []byte("no such thing\n"))
	})

	t.Run("Streaming", func(t *testing.T) {
		res, err := c.Do(newRequest(t, http.MethodGet, front+"/stream", nil))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		first := make([]byte, 512<<10)
		if _, err := io.ReadFull(res.Body, first); err != nil {
			t.Fatal(err)
		}
		select {
		case released <- "client":
		default: // the timer went off
		}
		rest, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if by := <-released; by != "client" {
			t.Fatalf("the first half of the body came only after the backend wrote the second: the proxy buffers bodies")
		}
		if !bytes.Equal(append(first, rest...), blob[:2<<20]) {
			t.Fatal("the streamed body differs from what the backend sent")
		}
	})

	if st := p.Stats(); st.Errors != 0 || st.Drops != 0 {
		t.Errorf("Stats = %+v with no faults configured", st)
	}
}

func TestSetTarget(t *testing.T) {
	back := newBackend(nil)
	backSrv := httptest.NewServer(back)
	defer backSrv.Close()
	p := faultproxy.New(faultproxy.Config{ErrorRate: 1})
	front := httptest.NewServer(p)
	defer front.Close()
	c := newClient(t)

	t.Run("ErrNoTarget", func(t *testing.T) {
		r := do(t, c, newRequest(t, http.MethodGet, front.URL+"/echo", nil))
		if got, want := r.res.StatusCode, http.StatusBadGateway; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := p.Stats(), (faultproxy.Stats{Requests: 1}); got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
	})

	t.Run("PathAndQueryPrefix", func(t *testing.T) {
		p.SetTarget(mustParse(t, backSrv.URL+"/echo?k=v"))
		r := do(t, c, newRequest(t, http.MethodGet, front.URL+"/x?q=1", nil))
		// ErrorRate 1: the first requests fail, until MaxFaultsPerKey.
		for r.res.StatusCode == http.StatusInternalServerError {
			wantFault(t, r)
			r = do(t, c, newRequest(t, http.MethodGet, front.URL+"/x?q=1", nil))
		}
		wantWhole(t, r, http.StatusOK, []byte("ok"))
		got, _ := back.lastRequest()
		if want := "/echo/x?k=v&q=1"; got.RequestURI != want {
			t.Fatalf("backend saw %s, want %s", got.RequestURI, want)
		}
	})

	t.Run("ErrUnreachable", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		p2 := faultproxy.New(faultproxy.Config{})
		front2 := httptest.NewServer(p2)
		defer front2.Close()
		p2.SetTarget(mustParse(t, gone.URL))
		r := do(t, c, newRequest(t, http.MethodGet, front2.URL+"/", nil))
		if got, want := r.res.StatusCode, http.StatusBadGateway; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
	})

	t.Run("ErrTargetRemoved", func(t *testing.T) {
		p.SetTarget(nil)
		r := do(t, c, newRequest(t, http.MethodGet, front.URL+"/echo", nil))
		if got, want := r.res.StatusCode, http.StatusBadGateway; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
	})
}

func TestErrorRate(t *testing.T) {
	back := newBackend(nil)
	p, front := start(t, faultproxy.Config{ErrorRate: 1, MaxFaultsPerKey: 100}, back)
	c := newClient(t)
	for i := range 5 {
		wantFault(t, do(t, c, newRequest(t, http.MethodGet, front+"/echo", nil)))
		wantFault(t, do(t, c, newRequest(t, http.MethodPost, front+"/echo", strings.NewReader(strconv.Itoa(i)))))
	}
	if n := back.hitsOf("/echo"); n != 0 {
		t.Errorf("backend got %d requests, want none", n)
	}
	if got, want := p.Stats(), (faultproxy.Stats{Requests: 10, Errors: 10}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestDropRate(t *testing.T) {
	blob := randomBytes(1<<20 + 3)
	p, front := start(t, faultproxy.Config{DropRate: 1, MaxFaultsPerKey: 100}, newBackend(blob))
	c := newClient(t)

	t.Run("Whole", func(t *testing.T) {
		for range 5 {
			wantDrop(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil)), http.StatusOK, blob)
		}
	})
	t.Run("Range", func(t *testing.T) {
		r := do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil, "Range", "bytes=1000-500999"))
		wantDrop(t, r, http.StatusPartialContent, blob[1000:501000])
		if got, want := r.res.Header.Get("Content-Range"), fmt.Sprintf("bytes 1000-500999/%d", len(blob)); got != want {
			t.Errorf("Content-Range = %q, want %q", got, want)
		}
	})
	t.Run("TwoBytes", func(t *testing.T) {
		wantDrop(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil, "Range", "bytes=7-8")), http.StatusPartialContent, blob[7:9])
	})
	drops := p.Stats().Drops
	if drops != 7 {
		t.Fatalf("Drops = %d, want 7", drops)
	}

	t.Run("NotCut", func(t *testing.T) {
		wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/small", nil)), http.StatusOK, []byte("x"))
		wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil, "Range", "bytes=3-3")), http.StatusPartialContent, blob[3:4])
		wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/missing", nil)), http.StatusNotFound, []byte("no such thing\n"))
		wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil, "If-None-Match", blobETag)), http.StatusNotModified, nil)
		r := do(t, c, newRequest(t, http.MethodHead, front+"/blob", nil))
		wantWhole(t, r, http.StatusOK, nil)
		if got, want := r.res.ContentLength, int64(len(blob)); got != want {
			t.Errorf("HEAD: Content-Length = %d, want %d", got, want)
		}
		if got := p.Stats().Drops; got != drops {
			t.Errorf("Drops = %d after responses that cannot be cut, want %d", got, drops)
		}
	})
}

// outcome sums up a result for comparing runs.
func outcome(r result) string {
	switch {
	case r.err != nil:
		return fmt.Sprintf("drop %d/%d", len(r.body), r.res.ContentLength)
	case r.res.StatusCode == http.StatusInternalServerError:
		return "fault"
	}
	return fmt.Sprintf("%d %d", r.res.StatusCode, len(r.body))
}

func TestMaxFaultsPerKey(t *testing.T) {
	blob := randomBytes(64 << 10)

	t.Run("Errors", func(t *testing.T) {
		p, front := start(t, faultproxy.Config{ErrorRate: 1, MaxFaultsPerKey: 3}, newBackend(blob))
		c := newClient(t)
		// Each key sees three faults then a pass, whatever the others do;
		// the method and path make the key, the query and Range do not.
		keys := []struct {
			method, path string
		}{
			{http.MethodGet, "/echo"},
			{http.MethodGet, "/other"},
			{http.MethodPost, "/echo"},
		}
		for i := range 8 {
			for _, k := range keys {
				r := do(t, c, newRequest(t, k.method, front+k.path+"?attempt="+strconv.Itoa(i), nil, "Range", fmt.Sprintf("bytes=%d-", i)))
				if i%4 < 3 {
					wantFault(t, r)
				} else {
					wantWhole(t, r, http.StatusOK, []byte("ok"))
				}
			}
		}
		if got, want := p.Stats(), (faultproxy.Stats{Requests: 24, Errors: 18}); got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
	})

	t.Run("DefaultIsTwo", func(t *testing.T) {
		_, front := start(t, faultproxy.Config{ErrorRate: 1}, newBackend(blob))
		c := newClient(t)
		var got []string
		for range 6 {
			got = append(got, outcome(do(t, c, newRequest(t, http.MethodGet, front+"/echo", nil))))
		}
		if want := []string{"fault", "fault", "200 2", "fault", "fault", "200 2"}; !reflect.DeepEqual(got, want) {
			t.Errorf("outcomes = %q, want %q", got, want)
		}
	})

	t.Run("ErrorsAndDropsTogether", func(t *testing.T) {
		// Every request under the limit gets one fault or the other.
		_, front := start(t, faultproxy.Config{Seed: 3, ErrorRate: 0.5, DropRate: 1, MaxFaultsPerKey: 2}, newBackend(blob))
		c := newClient(t)
		for i := range 30 {
			r := do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil))
			switch {
			case i%3 == 2:
				wantWhole(t, r, http.StatusOK, blob)
			case r.err != nil:
				wantDrop(t, r, http.StatusOK, blob)
			default:
				wantFault(t, r)
			}
		}
	})

	t.Run("ResumingClient", func(t *testing.T) {
		// A client that resumes with Range after each cut, as icrec's does,
		// finishes every download within MaxFaultsPerKey+1 attempts.
		const maxFaults = 3
		p, front := start(t, faultproxy.Config{Seed: 5, ErrorRate: 0.3, DropRate: 0.7, MaxFaultsPerKey: maxFaults}, newBackend(blob))
		c := newClient(t)
		for i := range 50 {
			var got []byte
			for attempt := 0; len(got) < len(blob); attempt++ {
				if attempt > maxFaults {
					t.Fatalf("download %d: %d of %d bytes after %d attempts", i, len(got), len(blob), attempt)
				}
				req := newRequest(t, http.MethodGet, front+"/blob/"+strconv.Itoa(i), nil)
				if len(got) > 0 {
					req.Header.Set("Range", fmt.Sprintf("bytes=%d-", len(got)))
				}
				r := do(t, c, req)
				if r.res.StatusCode == http.StatusOK || r.res.StatusCode == http.StatusPartialContent {
					got = append(got, r.body...)
				}
			}
			if !bytes.Equal(got, blob) {
				t.Fatalf("download %d: the pieces do not make up the blob", i)
			}
		}
		if st := p.Stats(); st.Errors == 0 || st.Drops == 0 {
			t.Errorf("Stats = %+v: the test tests nothing", st)
		}
	})

	t.Run("CustomKey", func(t *testing.T) {
		// With the Range in the key, each new range starts a new streak.
		_, front := start(t, faultproxy.Config{ErrorRate: 1, Key: func(r *http.Request) string {
			return faultproxy.DefaultKey(r) + " " + r.Header.Get("Range")
		}}, newBackend(blob))
		c := newClient(t)
		var got []string
		for _, rng := range []string{"bytes=0-", "bytes=0-", "bytes=1-", "bytes=1-", "bytes=0-", "bytes=1-"} {
			got = append(got, outcome(do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil, "Range", rng))))
		}
		want := []string{"fault", "fault", "fault", "fault", fmt.Sprintf("206 %d", len(blob)), fmt.Sprintf("206 %d", len(blob)-1)}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("outcomes = %q, want %q", got, want)
		}
	})

	t.Run("PassEndsStreak", func(t *testing.T) {
		// A response that cannot be cut passes, and so ends the streak.
		p, front := start(t, faultproxy.Config{DropRate: 1, MaxFaultsPerKey: 2}, newBackend(blob))
		c := newClient(t)
		wantDrop(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil)), http.StatusOK, blob)
		wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil, "If-None-Match", blobETag)), http.StatusNotModified, nil)
		wantDrop(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil)), http.StatusOK, blob)
		wantDrop(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil)), http.StatusOK, blob)
		wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil)), http.StatusOK, blob)
		if got, want := p.Stats(), (faultproxy.Stats{Requests: 5, Drops: 3}); got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
	})
}

// run sends a fixed sequential stream of requests through a proxy with cfg
// and returns what came back.
func run(t *testing.T, cfg faultproxy.Config, blob []byte, n int) []string {
	t.Helper()
	_, front := start(t, cfg, newBackend(blob))
	c := newClient(t)
	var out []string
	for i := range n {
		var req *http.Request
		switch i % 5 {
		case 0:
			req = newRequest(t, http.MethodGet, front+"/blob", nil)
		case 1:
			req = newRequest(t, http.MethodGet, front+"/blob", nil, "Range", fmt.Sprintf("bytes=%d-", i*100))
		case 2:
			req = newRequest(t, http.MethodGet, front+"/small", nil)
		case 3:
			req = newRequest(t, http.MethodPost, front+"/echo", strings.NewReader("hello"))
		case 4:
			req = newRequest(t, http.MethodGet, front+"/missing", nil)
		}
		out = append(out, req.Method+" "+req.URL.Path+" "+req.Header.Get("Range")+": "+outcome(do(t, c, req)))
	}
	return out
}

func TestSeed(t *testing.T) {
	blob := randomBytes(64 << 10)
	cfg := faultproxy.Config{Seed: 42, ErrorRate: 0.25, DropRate: 0.4}
	first := run(t, cfg, blob, 300)
	var faults, drops int
	for _, o := range first {
		faults += strings.Count(o, "fault")
		drops += strings.Count(o, "drop")
	}
	if faults == 0 || drops == 0 {
		t.Fatalf("%d faults and %d drops in 300 requests: the test tests nothing", faults, drops)
	}

	t.Run("Same", func(t *testing.T) {
		if again := run(t, cfg, blob, 300); !reflect.DeepEqual(again, first) {
			t.Errorf("the same seed made different decisions:\n%s", diff(first, again))
		}
	})
	t.Run("Different", func(t *testing.T) {
		cfg := cfg
		cfg.Seed++
		if other := run(t, cfg, blob, 300); reflect.DeepEqual(other, first) {
			t.Error("seeds 42 and 43 made the same 300 decisions")
		}
	})
}

// diff lists the first few places where got differs from want.
func diff(want, got []string) string {
	var b strings.Builder
	n := 0
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] && n < 5 {
			fmt.Fprintf(&b, "request %d: got %s, want %s\n", i, got[i], want[i])
			n++
		}
	}
	return b.String()
}

func TestMatch(t *testing.T) {
	faulty := func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/faulty/") }

	t.Run("OnlyMatchingFault", func(t *testing.T) {
		p, front := start(t, faultproxy.Config{ErrorRate: 1, Match: faulty}, newBackend(nil))
		c := newClient(t)
		for range 5 {
			wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/ok", nil)), http.StatusOK, []byte("ok"))
		}
		wantFault(t, do(t, c, newRequest(t, http.MethodGet, front+"/faulty/x", nil)))
		if got, want := p.Stats(), (faultproxy.Stats{Requests: 6, Errors: 1}); got != want {
			t.Errorf("Stats = %+v, want %+v", got, want)
		}
	})

	t.Run("OthersDrawNothing", func(t *testing.T) {
		// Requests that Match refuses do not move the random source, so the
		// matching ones meet the same decisions with or without them.
		stream := func(interleave bool) []string {
			_, front := start(t, faultproxy.Config{Seed: 9, ErrorRate: 0.5, Match: faulty}, newBackend(nil))
			c := newClient(t)
			var out []string
			for i := range 40 {
				if interleave {
					wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/ok", nil)), http.StatusOK, []byte("ok"))
				}
				out = append(out, outcome(do(t, c, newRequest(t, http.MethodGet, front+"/faulty/"+strconv.Itoa(i%3), nil))))
			}
			return out
		}
		if want, got := stream(false), stream(true); !reflect.DeepEqual(got, want) {
			t.Errorf("unmatched requests changed the decisions:\n%s", diff(want, got))
		}
	})
}

// TestConcurrent has many clients retry through a flaky proxy at once; under
// -race it checks the proxy's locking. Each client has a key of its own, so
// MaxFaultsPerKey+1 attempts must get each of them through.
func TestConcurrent(t *testing.T) {
	blob := randomBytes(256 << 10)
	const maxFaults, clients, fetches = 2, 8, 20
	p, front := start(t, faultproxy.Config{Seed: 1, ErrorRate: 0.3, DropRate: 0.3, MaxFaultsPerKey: maxFaults}, newBackend(blob))
	c := newClient(t)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for g := range clients {
		wg.Go(func() {
			from := g * 1000
			want := blob[from:]
			for range fetches {
				ok := false
				for attempt := 0; attempt <= maxFaults && !ok; attempt++ {
					req, err := http.NewRequest(http.MethodGet, front+"/blob/"+strconv.Itoa(g), nil)
					if err != nil {
						errs <- err
						return
					}
					req.Header.Set("Range", fmt.Sprintf("bytes=%d-", from))
					res, err := c.Do(req)
					if err != nil {
						errs <- err
						return
					}
					body, err := io.ReadAll(res.Body)
					res.Body.Close()
					switch {
					case err != nil:
						if !bytes.Equal(body, want[:min(len(body), len(want))]) {
							errs <- fmt.Errorf("client %d: a cut body is not a prefix of the range", g)
							return
						}
					case res.StatusCode == http.StatusPartialContent:
						if !bytes.Equal(body, want) {
							errs <- fmt.Errorf("client %d: got %d bytes, want %d", g, len(body), len(want))
							return
						}
						ok = true
					case res.StatusCode != http.StatusInternalServerError:
						errs <- fmt.Errorf("client %d: status %d", g, res.StatusCode)
						return
					}
				}
				if !ok {
					errs <- fmt.Errorf("client %d: %d attempts all failed", g, maxFaults+1)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := p.Stats()
	t.Logf("Stats = %+v", st)
	if st.Errors == 0 || st.Drops == 0 {
		t.Errorf("Stats = %+v: the test tests nothing", st)
	}
	if got, want := st.Requests, int64(clients*fetches)+st.Errors+st.Drops; got != want {
		t.Errorf("Requests = %d, want one per fetch plus one per fault = %d", got, want)
	}
}

func TestCorruptRate(t *testing.T) {
	blob := randomBytes(1<<20 + 3)
	json := `{"recordingId":"0DE0C017-CD4F-D013-8E31-18D8B7470001","mediaType":1}`
	mux := http.NewServeMux()
	mux.Handle("/blob", newBackend(blob))
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.inin.icws+json; charset=utf-8")
		io.WriteString(w, json)
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no such thing", http.StatusNotFound) })
	p, front := start(t, faultproxy.Config{CorruptRate: 1, MaxFaultsPerKey: 100}, mux)
	c := newClient(t)

	r := do(t, c, newRequest(t, http.MethodGet, front+"/blob", nil))
	if r.err != nil || len(r.body) != len(blob) {
		t.Fatalf("blob: %v, %d bytes", r.err, len(r.body))
	}
	diff := 0
	for i := range blob {
		if blob[i] != r.body[i] {
			diff++
			if r.body[i] != blob[i]^0xff {
				t.Errorf("byte %d is %#x, want %#x inverted", i, r.body[i], blob[i])
			}
		}
	}
	if diff != 1 {
		t.Errorf("%d bytes differ, want 1", diff)
	}
	r = do(t, c, newRequest(t, http.MethodGet, front+"/json", nil))
	if r.err != nil || string(r.body) != json[:len(json)/2] || r.res.ContentLength != int64(len(json)/2) {
		t.Errorf("json: %v %q (Content-Length %d)", r.err, r.body, r.res.ContentLength)
	}
	wantWhole(t, do(t, c, newRequest(t, http.MethodGet, front+"/missing", nil)), http.StatusNotFound, []byte("no such thing\n"))
	if got, want := p.Stats(), (faultproxy.Stats{Requests: 3, Corrupts: 2}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}
