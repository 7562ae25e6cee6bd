package httpapi

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/mimeindex"
)

// minDownloadRate sets how long a download may take: the write deadline is a
// minute plus the file's size at this rate (a 1 GiB file gets about three
// hours), so a client that stalls is dropped and one that is merely slow is
// not.
const minDownloadRate = 100 << 10 // bytes per second

// handleDownload serves what an export link grants. The token alone
// authorises it (no cookie, no CSRF token), and everything it was issued on
// is checked again now. Primary media go out with http.ServeContent on the
// file itself, so plain HTTP uses the kernel's sendfile; an email attachment
// is decoded from its message as it is sent, never held in memory whole.
func handleDownload(log *slog.Logger, recordings *archive.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := info(r)
		d, err := recordings.OpenDownload(r.Context(), r.PathValue("token"), ri.clientAddr)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer d.Blob.Close()
		ri.userID, ri.sessionID = d.Link.UserID, d.Link.SessionID
		// icrec never answers 3xx (the contract; some ICWS clients take
		// any 3xx for a switchover), so a revalidation gets the content
		// again rather than 304. With Cache-Control: no-store no cache
		// holds a copy to revalidate anyway; If-Range, which resuming
		// needs, still applies.
		r.Header.Del("If-None-Match")
		r.Header.Del("If-Modified-Since")

		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Now().Add(time.Minute + time.Duration(d.Size/minDownloadRate)*time.Second))

		h := w.Header()
		h.Set("Content-Type", d.ContentType)
		disposition := "attachment"
		if d.Link.Purpose == icrec.LinkPlayback {
			disposition = "inline" // for an audio or video element, or a transcript viewer
		}
		h.Set("Content-Disposition", contentDisposition(disposition, d.FileName))
		h.Set("ETag", `"`+d.SHA256+`"`)
		h.Set("Cache-Control", "private, no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Accept-Ranges", "bytes")
		// Stored media is whatever was imported: an HTML chat transcript
		// opened inline must not run script, or reach anything, as this
		// server's origin.
		h.Set("Content-Security-Policy", downloadCSP)

		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		rangeHeader := r.Header.Get("Range")
		// Deferred, so that a download cut short (the client gone, or an
		// attachment that fails to decode half-way, which aborts the
		// response) is audited too, as incomplete.
		defer func() {
			want := int64(-1)
			if r.Method == http.MethodGet && cw.status < 300 {
				if n, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64); err == nil {
					want = n
				}
			}
			recordings.DownloadDone(d, ri.clientAddr, rangeHeader, cw.status, cw.n, want)
		}()
		if d.Attachment != nil {
			serveAttachment(cw, r, log, d)
		} else {
			servePrimary(cw, r, log, d)
		}
	})
}

// downloadCSP sandboxes whatever a download holds when a browser shows it:
// no script, a unique origin, nothing fetched but inline styles and
// embedded images, which transcripts use.
const downloadCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"

// servePrimary sends stored media. Range handling is http.ServeContent's,
// except that icrec answers an unsatisfiable range with an ICWS error body,
// ignores a malformed Range header (RFC 9110) instead of refusing it, and
// takes the unit in any case and with spaces, as parseRange does.
func servePrimary(w *countingWriter, r *http.Request, log *slog.Logger, d *archive.Download) {
	if h := r.Header.Get("Range"); h != "" {
		etag := `"` + d.SHA256 + `"`
		switch _, err := parseRange(h, d.Size); {
		case !ifRangeHolds(r, etag, d.ModTime):
			// A stale If-Range asks for the whole file, whatever the
			// range (RFC 9110, 13.1.5).
			r.Header.Del("Range")
		case errors.Is(err, errMalformedRange):
			r.Header.Del("Range")
		case errors.Is(err, errUnsatisfiable):
			rangeNotSatisfiable(w, r, log, d.Size)
			return
		default:
			// ServeContent reads only the exact "bytes=" form; anything
			// else it answers with a plain-text 416.
			_, spec, _ := strings.Cut(h, "=")
			r.Header.Set("Range", "bytes="+spec)
		}
	}
	var content io.ReadSeeker = d.Blob
	if f, ok := d.Blob.(interface{ File() *os.File }); ok {
		content = f.File() // the *os.File itself: sendfile needs it
	}
	http.ServeContent(w, r, "", d.ModTime, content)
}

// serveAttachment sends one decoded email attachment. It supports a single
// byte range, by decoding and discarding what comes before it; a request
// for several ranges gets the whole attachment, as RFC 9110 allows.
func serveAttachment(w *countingWriter, r *http.Request, log *slog.Logger, d *archive.Download) {
	h := w.Header()
	h.Set("Last-Modified", d.ModTime.UTC().Format(http.TimeFormat))
	etag := `"` + d.SHA256 + `"`
	start, length, status := int64(0), d.Size, http.StatusOK
	if rh := r.Header.Get("Range"); rh != "" && ifRangeHolds(r, etag, d.ModTime) {
		ranges, err := parseRange(rh, d.Size)
		switch {
		case errors.Is(err, errUnsatisfiable):
			rangeNotSatisfiable(w, r, log, d.Size)
			return
		case err == nil && len(ranges) == 1:
			start, length, status = ranges[0].Start, ranges[0].Length, http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, d.Size))
		}
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	w.WriteHeader(status)
	if r.Method == http.MethodHead || length == 0 {
		return
	}
	out := &window{w: w, skip: start, left: length}
	_, err := mimeindex.Extract(d.Blob, d.Attachment.Part, out, mimeindex.DefaultLimits)
	if err != nil && !errors.Is(err, errWindowDone) {
		// Headers are out: all that can be done is to cut the response
		// short, so the client sees it is incomplete.
		log.ErrorContext(r.Context(), "attachment download failed", "request_id", requestID(r), "recording", d.Recording.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// ifRangeHolds reports whether a Range request applies: there is no
// If-Range, or it names the current ETag or Last-Modified date.
func ifRangeHolds(r *http.Request, etag string, mod time.Time) bool {
	ir := r.Header.Get("If-Range")
	if ir == "" {
		return true
	}
	if strings.HasPrefix(ir, `"`) || strings.HasPrefix(ir, "W/") {
		return ir == etag // If-Range needs a strong match
	}
	t, err := http.ParseTime(ir)
	return err == nil && mod.Truncate(time.Second).Equal(t)
}

func rangeNotSatisfiable(w http.ResponseWriter, r *http.Request, log *slog.Logger, size int64) {
	w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
	e := &icrec.Error{Kind: icrec.RangeNotSatisfiable, ID: icrec.IDInvalidProperty, Property: "Range",
		Message: fmt.Sprintf("The range %q lies outside the file, which has %d bytes.", clip(r.Header.Get("Range")), size)}
	// The download's own headers describe the file, not this error.
	for _, k := range []string{"Content-Disposition", "ETag", "Accept-Ranges", "Last-Modified"} {
		w.Header().Del(k)
	}
	writeError(w, r, log, e)
}

// errWindowDone stops the decoding of an attachment once the requested
// range has been sent.
var errWindowDone = errors.New("range sent")

// window passes on the bytes of [skip, skip+left) of what is written to it.
type window struct {
	w          io.Writer
	skip, left int64
}

func (v *window) Write(p []byte) (int, error) {
	n := len(p)
	if v.skip > 0 {
		k := min(v.skip, int64(len(p)))
		v.skip -= k
		p = p[k:]
	}
	if len(p) > 0 && v.left > 0 {
		k := min(v.left, int64(len(p)))
		if _, err := v.w.Write(p[:k]); err != nil {
			return 0, err
		}
		v.left -= k
	}
	if v.left == 0 {
		return n, errWindowDone
	}
	return n, nil
}

// countingWriter counts the body bytes a download sent and its status,
// passing ReadFrom through so that sendfile still applies.
type countingWriter struct {
	http.ResponseWriter
	n      int64
	status int
}

func (w *countingWriter) WriteHeader(code int) {
	if code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) ReadFrom(src io.Reader) (int64, error) {
	n, err := io.Copy(w.ResponseWriter, src)
	w.n += n
	return n, err
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// contentDisposition names the download for browsers and scripts alike: an
// ASCII filename for old clients and the exact name as filename* (RFC 6266,
// RFC 8187).
func contentDisposition(disposition, name string) string {
	ascii := make([]byte, 0, len(name))
	for _, c := range name {
		switch {
		case c < 0x20 || c == 0x7f || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '%' || c == '/' || c == ';':
			ascii = append(ascii, '_')
		default:
			ascii = append(ascii, byte(c))
		}
	}
	// Always quoted, as the real Recorder sends it; the replacements above
	// leave nothing that needs escaping inside the quotes.
	return disposition + `; filename="` + string(ascii) + `"; filename*=UTF-8''` + extValue(name)
}

// extValue percent-encodes every byte outside RFC 8187's attr-char.
func extValue(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
