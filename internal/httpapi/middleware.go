package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"example.com/icrec"
)

// logRequests is the outermost middleware: it names the request, finds the
// client behind any trusted proxy, and writes one access-log line and one
// metrics observation when the response is done. The line holds the path,
// with an export link's token redacted, but never the query, a header, a
// cookie or a body.
func logRequests(log *slog.Logger, metrics Metrics, trusted []netip.Prefix, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		addr, https := clientOf(r, trusted)
		ri := &requestInfo{id: newRequestID(r.Header.Get("X-Request-Id")), clientAddr: addr.String(), https: https}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		h := w.Header()
		h.Set("X-Request-Id", ri.id)
		h.Set("X-Content-Type-Options", "nosniff")
		r = withRequestInfo(r, ri)
		next.ServeHTTP(rec, r)

		elapsed := time.Since(start)
		path := redactExportToken(r.URL.Path)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		metrics.ObserveRequest(r.Method, route, rec.status, elapsed)
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", ri.id),
			slog.String("method", r.Method),
			slog.String("path", path),
			slog.String("route", route),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.String("client", ri.clientAddr),
			slog.String("user_id", ri.userID),
			slog.String("session_id", ri.sessionID),
		)
	})
}

// recorder remembers the status and size of a response. It passes Flush,
// ReadFrom (sendfile) and Unwrap (http.ResponseController) through, so that
// event streams and file downloads work behind it.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *recorder) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	w.wroteHeader = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	w.wroteHeader = true
	n, err := io.Copy(w.ResponseWriter, src)
	w.bytes += n
	return n, err
}

func (w *recorder) Flush() {
	w.wroteHeader = true
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack is not used by icrec, but keeps the writer honest for handlers
// that test for it.
func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// recoverPanic turns a panic into a logged 500 with a request id, so one bad
// request can neither kill the server nor show the client a stack.
func recoverPanic(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.ErrorContext(r.Context(), "panic", "request_id", requestID(r), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec, ok := w.(*recorder); ok && rec.wroteHeader {
				// Too late for an error body: cut the response short
				// so the client sees it is incomplete.
				panic(http.ErrAbortHandler)
			}
			writeError(w, r, log, fmt.Errorf("panic: %v", v))
		}()
		next.ServeHTTP(w, r)
	})
}

// icwsPathCase accepts any letter case in the /icws prefix: ICWS's own
// WWW-Authenticate header points clients at /ICWS/connection.
func icwsPathCase(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if len(p) >= 5 && p[:5] != "/icws" && strings.EqualFold(p[:5], "/icws") && (len(p) == 5 || p[5] == '/') {
			r.URL.Path = "/icws" + p[5:]
			if r.URL.RawPath != "" {
				r.URL.RawPath = "/icws" + r.URL.RawPath[5:]
			}
		}
		next.ServeHTTP(w, r)
	})
}

// routeErrors turns the ServeMux's own plain-text answers into ICWS JSON:
// 404 for an unknown path, 405 with Allow for a known path and the wrong
// method, and 404 instead of the redirects it makes for unclean paths,
// since ICWS clients take any 3xx for a switchover (golang/go#65648).
func routeErrors(log *slog.Logger, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(&routeErrorWriter{ResponseWriter: w, r: r, log: log}, r)
	})
}

type routeErrorWriter struct {
	http.ResponseWriter
	r         *http.Request
	log       *slog.Logger
	swallowed bool
}

func (w *routeErrorWriter) WriteHeader(code int) {
	// The mux sets r.Pattern before it calls a handler; an empty pattern
	// (or any redirect) means the mux is answering by itself.
	if w.r.Pattern != "" && (code < 300 || code >= 400) {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.swallowed = true
	h := w.ResponseWriter.Header()
	allow := h.Get("Allow")
	for _, k := range []string{"Allow", "Location", "Content-Type", "Content-Length"} {
		h.Del(k)
	}
	if code == http.StatusMethodNotAllowed {
		h.Set("Allow", allow)
		writeError(w.ResponseWriter, w.r, w.log, icrec.Errorf(icrec.MethodNotAllowed, icrec.IDMethodNotAllowed,
			"The method %s is not allowed on %s; allowed: %s.", w.r.Method, w.r.URL.Path, allow))
		return
	}
	writeError(w.ResponseWriter, w.r, w.log, icrec.Errorf(icrec.NotFound, icrec.IDNotFound,
		"There is no resource at %s.", w.r.URL.Path))
}

func (w *routeErrorWriter) Write(b []byte) (int, error) {
	if w.swallowed {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *routeErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *routeErrorWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

func (w *routeErrorWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.swallowed {
		return io.Copy(io.Discard, src)
	}
	return io.Copy(w.ResponseWriter, src)
}

// redactExportToken hides export tokens in a path for the log, whether or
// not the path matched a route: a token in a mistyped link (a segment
// added, a doubled slash, EXPORT in capitals) is still live. It redacts the
// first segment after any "export" segment, in any case and past empty and
// "." segments, and, wherever it stands, any segment long enough and of the
// right alphabet to be a token or a piece of one.
func redactExportToken(path string) string {
	segs := strings.Split(path, "/")
	afterExport := false
	changed := false
	for i, s := range segs {
		switch {
		case afterExport && s != "" && s != ".":
			segs[i], afterExport, changed = "REDACTED", false, true
			continue
		case looksLikeToken(s):
			segs[i], changed = "REDACTED", true
		}
		if strings.EqualFold(s, "export") {
			afterExport = true
		}
	}
	if !changed {
		return path
	}
	return strings.Join(segs, "/")
}

// looksLikeToken reports a run of base64url long enough to hold a token's
// 32-byte tag (43 characters), or most of one. Recording ids (36
// characters, with hyphens) stay readable.
func looksLikeToken(s string) bool {
	if len(s) < 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// limitHeader refuses a request whose header is over max bytes, counted as
// net/http counts them for its own MaxHeaderBytes, with a JSON 431.
func limitHeader(log *slog.Logger, max int, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4 // ": " and CRLF
			}
		}
		if n > max {
			// The connection may hold more of the same; let the client
			// start afresh.
			w.Header().Set("Connection", "close")
			writeError(w, r, log, icrec.Errorf(icrec.HeaderTooLarge, icrec.IDTooLarge,
				"The request's header is %d bytes long; the limit is %d.", n, max))
			return
		}
		next.ServeHTTP(w, r)
	})
}
