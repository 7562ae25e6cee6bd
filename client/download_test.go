package client_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/client"
	"example.com/icrec/internal/testutil/faultproxy"
)

// exportOf returns an export URI of recording id (attachment n) and the
// bytes it serves, downloaded once in full.
func exportOf(t *testing.T, c *client.Client, id string, n int) (string, []byte) {
	t.Helper()
	ctx := testCtx(t)
	uri, err := c.ExportURI(ctx, id, n)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	m, err := c.Download(ctx, uri, &buf)
	if err != nil {
		t.Fatal(err)
	}
	checkMedia(t, id, m, buf.Bytes())
	return uri, buf.Bytes()
}

// partialFile creates a file holding content, opened for reading and
// writing as a resumable destination.
func partialFile(t *testing.T, content []byte) *os.File {
	t.Helper()
	name := filepath.Join(t.TempDir(), "part")
	if err := os.WriteFile(name, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func fileContent(t *testing.T, f *os.File) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDownloadPartialFile resumes downloads from files an earlier run left
// behind, whatever they hold.
func TestDownloadPartialFile(t *testing.T) {
	needServer(t)
	rec := &recorder{}
	c := connectTo(t, client.Config{Server: srv.http, UserID: "admin", Password: demoPassword, HTTPClient: rec.wrap(httpClient(t)), Retry: fastRetry})
	uri, want := exportOf(t, c, ids["Call/Support"], 0)
	half := len(want) / 2

	flipped := bytes.Clone(want[:half])
	flipped[half/2] ^= 0xff // the last byte still lines up with the server's
	garbage := bytes.Repeat([]byte{0x5a}, half)
	if want[half-1] == 0x5a {
		garbage = bytes.Repeat([]byte{0xa5}, half)
	}
	for _, tc := range []struct {
		name    string
		partial []byte
		// maxFetched bounds the bytes the resumption may fetch.
		maxFetched int
		resumed    bool
	}{
		{"Empty", nil, len(want), false},
		{"FirstHalf", want[:half], len(want) - half + 1, true},
		{"AllButOneByte", want[:len(want)-1], 2, true},
		{"Complete", want, 1, true},
		{"WrongBytes", flipped, 2 * len(want), true},
		{"WrongLastByte", garbage, 2 * len(want), true},
		{"LongerThanTheResource", append(bytes.Clone(want), "and more"...), 2 * len(want), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := partialFile(t, tc.partial)
			before := rec.exportBytes.Load()
			m, err := c.Download(testCtx(t), uri, f)
			if err != nil {
				t.Fatalf("Download into a partial file of %d bytes: %v", len(tc.partial), err)
			}
			got := fileContent(t, f)
			if !bytes.Equal(got, want) {
				t.Fatalf("the file holds %d bytes (SHA-256 %s), want the %d of the recording", len(got), sha256Hex(got), len(want))
			}
			checkMedia(t, tc.name, m, got)
			if tc.resumed && m.Resumed < 1 || !tc.resumed && m.Resumed != 0 {
				t.Errorf("Resumed = %d", m.Resumed)
			}
			if n := rec.exportBytes.Load() - before; n > int64(tc.maxFetched) {
				t.Errorf("fetched %d bytes, want at most %d", n, tc.maxFetched)
			}
		})
	}

	// Starting over because of what the file held is no retry of a
	// failure: it happens also when retries are off.
	once := connectTo(t, client.Config{Server: srv.http, UserID: "admin", Password: demoPassword, HTTPClient: httpClient(t), Retry: client.Retry{Attempts: 1}})
	for name, partial := range map[string][]byte{"WrongBytesNoRetries": flipped, "WrongLastByteNoRetries": garbage} {
		t.Run(name, func(t *testing.T) {
			f := partialFile(t, partial)
			m, err := once.Download(testCtx(t), uri, f)
			if err != nil {
				t.Fatalf("Download into a partial file of other bytes with Retry.Attempts 1: %v", err)
			}
			checkMedia(t, name, m, fileContent(t, f))
			if !bytes.Equal(fileContent(t, f), want) {
				t.Fatalf("the file does not hold the recording")
			}
		})
	}
}

// TestDownloadErrors: a link that does not authorise gets the server's
// ICWS error, once, and no error shows the link.
func TestDownloadErrors(t *testing.T) {
	needServer(t)
	ctx := testCtx(t)
	rec := &recorder{}
	c := connectTo(t, client.Config{Server: srv.http, UserID: "admin", Password: demoPassword, HTTPClient: rec.wrap(httpClient(t)), Retry: fastRetry})
	uri, err := c.ExportURI(ctx, ids["Call/Sales"], 0)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.Split(strings.TrimPrefix(uri, srv.https+"/export/"), "/")[0]
	if len(token) < 20 {
		t.Fatalf("no token in the export URI's path %q", uri)
	}
	// Alter a character in the middle of the token: all its bits count
	// (the last one of unpadded base64 may carry ignored bits).
	i := len(token) / 2
	alt := byte('A')
	if token[i] == 'A' {
		alt = 'B'
	}
	tampered := strings.Replace(uri, token, token[:i]+string(alt)+token[i+1:], 1)
	before := rec.count("GET", "/export/")
	_, err = c.Download(ctx, tampered, io.Discard)
	e := wantError(t, err, http.StatusForbidden)
	if !icrec.IsKind(err, icrec.Forbidden) || e.Temporary() {
		t.Errorf("err = %v: kind %v, temporary %v", err, e.Kind(), e.Temporary())
	}
	if e.ICWS.ErrorID != icrec.IDAccessDenied || e.ICWS.Message == "" {
		t.Errorf("err = %v: the server's ICWS error is lost: %+v (cause %v)", err, e.ICWS, e.Err)
	}
	if n := rec.count("GET", "/export/") - before; n != 1 {
		t.Errorf("a 403 download was tried %d times, want 1", n)
	}
	if strings.Contains(err.Error(), token[:20]) || strings.Contains(err.Error(), "/export/") {
		t.Errorf("the error shows the link: %v", err)
	}

	_, err = c.Download(ctx, "::SECRET-"+token, io.Discard)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("Download of a malformed URI: %v", err)
	}
}

// mediaServer serves body at /export/SECRET-TOKEN/media.wav with ranges,
// ETag etag, and a fault: cut(n, from) says how many bytes of the answer
// to request n (counted from 1) that starts at from to send before cutting
// the connection, or -1 for all.
type mediaServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []http.Header
}

const secretToken = "SECRET-TOKEN-0123456789"

func newMediaServer(t *testing.T, body []byte, etag string, cut func(n int, from int64) int64) *mediaServer {
	s := &mediaServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Header.Clone())
		n := len(s.requests)
		s.mu.Unlock()
		if r.URL.Path != "/export/"+secretToken+"/media.wav" {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "audio/wav")
		h.Set("Content-Disposition", `attachment; filename="media.wav"`)
		h.Set("ETag", etag)
		h.Set("Last-Modified", "Mon, 04 Mar 2024 12:00:00 GMT")
		h.Set("Accept-Ranges", "bytes")
		from := int64(0)
		status := http.StatusOK
		if rng := r.Header.Get("Range"); rng != "" && (r.Header.Get("If-Range") == "" || r.Header.Get("If-Range") == etag) {
			v, ok := strings.CutPrefix(rng, "bytes=")
			v, ok2 := strings.CutSuffix(v, "-")
			f, err := strconv.ParseInt(v, 10, 64)
			if !ok || !ok2 || err != nil || f >= int64(len(body)) {
				h.Set("Content-Range", fmt.Sprintf("bytes */%d", len(body)))
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
			from, status = f, http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", f, len(body)-1, len(body)))
		}
		rest := body[from:]
		h.Set("Content-Length", strconv.Itoa(len(rest)))
		w.WriteHeader(status)
		if k := cut(n, from); k >= 0 && k < int64(len(rest)) {
			w.Write(rest[:k])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // cuts the connection
		}
		w.Write(rest)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *mediaServer) uri() string { return s.URL + "/export/" + secretToken + "/media.wav" }

func (s *mediaServer) headers() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.requests...)
}

func testBody(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

// TestDownloadResumesCuts cuts the first answers short: the download goes
// on with Range and If-Range where it stopped.
func TestDownloadResumesCuts(t *testing.T) {
	needServer(t)
	body := testBody(300_000)
	etag := `"` + sha256Hex(body) + `"`
	ms := newMediaServer(t, body, etag, func(n int, from int64) int64 {
		if n <= 2 {
			return 100_000
		}
		return -1
	})
	c := connect(t, "agent2")
	var buf bytes.Buffer
	m, err := c.Download(testCtx(t), ms.uri(), &buf)
	if err != nil {
		t.Fatalf("Download through cuts: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), body) {
		t.Fatalf("got %d bytes, want the %d served", buf.Len(), len(body))
	}
	checkMedia(t, "resumed download", m, body)
	if m.Resumed != 2 {
		t.Errorf("Resumed = %d, want 2", m.Resumed)
	}
	hs := ms.headers()
	if len(hs) != 3 {
		t.Fatalf("%d requests, want 3", len(hs))
	}
	for i, want := range []string{"", "bytes=99999-", "bytes=199998-"} {
		if got := hs[i].Get("Range"); got != want {
			t.Errorf("request %d: Range %q, want %q", i+1, got, want)
		}
		if i > 0 && hs[i].Get("If-Range") != etag {
			t.Errorf("request %d: If-Range %q, want the ETag", i+1, hs[i].Get("If-Range"))
		}
	}
}

// TestDownloadTruncated: a server that always stops half way gives an
// error wrapping io.ErrUnexpectedEOF after the attempts allowed.
func TestDownloadTruncated(t *testing.T) {
	needServer(t)
	body := testBody(100_000)
	ms := newMediaServer(t, body, `"`+sha256Hex(body)+`"`, func(n int, from int64) int64 { return (int64(len(body)) - from) / 2 })
	c := connectTo(t, client.Config{Server: srv.http, UserID: "agent2", Password: demoPassword, Retry: client.Retry{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}})
	for _, dest := range []string{"buffer", "file"} {
		t.Run(dest, func(t *testing.T) {
			before := len(ms.headers())
			var w io.Writer = &bytes.Buffer{}
			if dest == "file" {
				w = partialFile(t, nil)
			}
			_, err := c.Download(testCtx(t), ms.uri(), w)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want one wrapping io.ErrUnexpectedEOF", err)
			}
			if n := len(ms.headers()) - before; n != 3 {
				t.Errorf("%d requests, want 3 (Retry.Attempts)", n)
			}
			if strings.Contains(err.Error(), secretToken) || strings.Contains(err.Error(), "/export/") {
				t.Errorf("the error shows the link: %v", err)
			}
		})
	}
}

// TestDownloadChecksumMismatch: bytes that do not match the ETag's SHA-256
// are an error, and leave no bad bytes in a resumable file.
func TestDownloadChecksumMismatch(t *testing.T) {
	needServer(t)
	body := testBody(50_000)
	other := sha256Hex([]byte("another version of the recording"))
	ms := newMediaServer(t, body, `"`+strings.ToUpper(other)+`"`, func(int, int64) int64 { return -1 })
	c := connect(t, "agent2")
	ctx := testCtx(t)

	check := func(t *testing.T, m *client.Media, err error) {
		t.Helper()
		if !errors.Is(err, client.ErrChecksum) || m != nil {
			t.Fatalf("Download = %+v, %v; want an error wrapping ErrChecksum", m, err)
		}
		wantError(t, err, http.StatusOK)
		if strings.Contains(err.Error(), secretToken) || strings.Contains(err.Error(), "/export/") {
			t.Errorf("the error shows the link: %v", err)
		}
	}
	t.Run("Buffer", func(t *testing.T) {
		m, err := c.Download(ctx, ms.uri(), &bytes.Buffer{})
		check(t, m, err)
	})
	t.Run("File", func(t *testing.T) {
		f := partialFile(t, nil)
		m, err := c.Download(ctx, ms.uri(), f)
		check(t, m, err)
		if got := fileContent(t, f); len(got) != 0 {
			t.Errorf("the file keeps %d bytes that failed verification", len(got))
		}
	})
	t.Run("PartialFile", func(t *testing.T) {
		f := partialFile(t, body[:20_000])
		before := len(ms.headers())
		m, err := c.Download(ctx, ms.uri(), f)
		check(t, m, err)
		if got := fileContent(t, f); len(got) != 0 {
			t.Errorf("the file keeps %d bytes that failed verification", len(got))
		}
		// It resumed, failed, started over once from nothing, and failed.
		if n := len(ms.headers()) - before; n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("NotSHA256", func(t *testing.T) {
		ms := newMediaServer(t, body, `W/"`+other+`"`, func(int, int64) int64 { return -1 })
		var buf bytes.Buffer
		m, err := c.Download(ctx, ms.uri(), &buf)
		if err != nil || m.Verified || !bytes.Equal(buf.Bytes(), body) || m.SHA256 != sha256Hex(body) {
			t.Fatalf("Download with a weak ETag: %+v, %v; want the bytes, not verified", m, err)
		}
	})
}

// TestDownloadThroughDrops cuts the first two answers of the download
// short, at random places.
func TestDownloadThroughDrops(t *testing.T) {
	var matched atomic.Int32
	proxy, front := proxied(t, faultproxy.Config{Seed: 3, DropRate: 1, MaxFaultsPerKey: 2, Match: func(r *http.Request) bool {
		return strings.HasPrefix(r.URL.Path, "/export/") && matched.Add(1) <= 2
	}})
	_, want := exportOf(t, connect(t, "admin"), ids["Email/Sales"], 0)
	c := connectTo(t, client.Config{Server: front, UserID: "admin", Password: demoPassword, Retry: fastRetry})
	ctx := testCtx(t)
	for _, dest := range []string{"buffer", "file"} {
		t.Run(dest, func(t *testing.T) {
			matched.Store(0)
			before := proxy.Stats()
			uri, err := c.ExportURI(ctx, ids["Email/Sales"], 0)
			if err != nil {
				t.Fatal(err)
			}
			var got func() []byte
			var w io.Writer
			if dest == "file" {
				f := partialFile(t, nil)
				w, got = f, func() []byte { return fileContent(t, f) }
			} else {
				var buf bytes.Buffer
				w, got = &buf, buf.Bytes
			}
			m, err := c.Download(ctx, uri, w)
			if err != nil {
				t.Fatalf("Download through two cuts: %v", err)
			}
			if !bytes.Equal(got(), want) {
				t.Fatalf("got %d bytes (SHA-256 %s), want the %d of the recording", len(got()), sha256Hex(got()), len(want))
			}
			checkMedia(t, dest, m, want)
			if m.Resumed < 1 {
				t.Errorf("Resumed = %d after two cuts", m.Resumed)
			}
			if st := proxy.Stats(); st.Drops-before.Drops != 2 {
				t.Errorf("the proxy cut %d answers, want 2: the test tested nothing", st.Drops-before.Drops)
			}
		})
	}
}
