package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"example.com/icrec/icws"
)

// Media describes a finished download.
type Media struct {
	Size        int64
	SHA256      string // lower-case hex, of every byte written
	ContentType string
	// FileName is the name the server suggested (Content-Disposition),
	// as sent: sanitise it before using it as a path.
	FileName     string
	ETag         string
	LastModified time.Time
	// Verified is true when the server's ETag was a SHA-256 and the bytes
	// matched it, as icrec's are. A download that does not match is an
	// error, never an unverified Media.
	Verified bool
	// Resumed counts the times the transfer went on after a cut, within
	// this call or from a partial file of an earlier one.
	Resumed int
}

// ErrChecksum is the cause of a download whose bytes do not match the
// SHA-256 the server gave as its ETag.
var ErrChecksum = errors.New("checksum mismatch")

// Partial is a destination that a download can resume into: it already
// holds the first bytes of the resource (from an earlier, cut download),
// can be read back to hash them, and can be emptied when the server's copy
// turned out to be another. *os.File is one.
type Partial interface {
	io.Writer
	io.ReaderAt
	io.Seeker
	Truncate(size int64) error
}

// Download copies the resource at uri, an export URI, to w, and returns
// what the server said about it.
//
// When the connection is cut, Download asks for the rest with Range and
// If-Range, so a transfer of many gigabytes survives a flaky network; the
// number of such resumptions is bounded by Config.Retry like any retry.
// When w is a Partial (an *os.File opened for reading and writing), the
// bytes it already holds are kept and hashed and only the rest is fetched:
// a download that an earlier run left behind is resumed. If the server
// ignores the range, w is emptied and the download starts over.
//
// The download fails if fewer or more bytes arrive than the server
// announced, or if the server's ETag is a SHA-256 (quoted, 64 hex digits,
// as icrec sends) and the bytes do not match it (ErrChecksum); a Partial
// is then emptied, so that a retry does not build on bad bytes. Download
// does not retry 4xx answers: an expired link is 410, a revoked one 403,
// and the caller gets a fresh URI from ExportURI.
func (c *Client) Download(ctx context.Context, uri string, w io.Writer) (*Media, error) {
	d := &download{c: c, uri: uri, w: w, h: sha256.New(), op: "download"}
	return d.run(ctx)
}

type download struct {
	c   *Client
	uri string
	w   io.Writer
	h   hash.Hash
	op  string

	written   int64 // bytes in w, all of them hashed
	last      byte  // the last of them
	total     int64 // the resource's size once known, else -1
	fromEarly bool  // w held bytes from an earlier call
	m         Media
}

// Write passes p to the destination and hashes what it took. A failure of
// the destination is a writeError: retrying the server does not cure it.
func (d *download) Write(p []byte) (int, error) {
	n, err := d.w.Write(p)
	if n > 0 {
		d.h.Write(p[:n])
		d.written += int64(n)
		d.last = p[n-1]
	}
	if err != nil {
		return n, writeError{fmt.Errorf("%s: writing: %w", d.op, err)}
	}
	return n, nil
}

// copyBuffers hold the buffers downloads copy through: larger than
// io.Copy's own, for fewer system calls per gigabyte.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// errStartOver says the destination was emptied and the download can go
// again at once.
var errStartOver = errors.New("starting over")

func (d *download) run(ctx context.Context) (*Media, error) {
	d.total = -1
	if p, ok := d.w.(Partial); ok {
		n, err := p.Seek(0, io.SeekEnd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.op, err)
		}
		if n > 0 {
			if _, err := io.Copy(d.h, io.NewSectionReader(p, 0, n)); err != nil {
				return nil, fmt.Errorf("%s: reading the partial file: %w", d.op, err)
			}
			var b [1]byte
			if _, err := p.ReadAt(b[:], n-1); err != nil {
				return nil, fmt.Errorf("%s: reading the partial file: %w", d.op, err)
			}
			d.written, d.last, d.fromEarly = n, b[0], true
			d.m.Resumed++
		}
	}
	restarted := false
	for attempt := 0; ; attempt++ {
		err := d.once(ctx)
		if err == nil {
			err = d.finish()
			if err == nil {
				d.m.Size, d.m.SHA256 = d.written, hex.EncodeToString(d.h.Sum(nil))
				return &d.m, nil
			}
			if errors.Is(err, ErrChecksum) && d.fromEarly && !restarted {
				// The partial file may hold bytes of another version of
				// the resource; start over once from nothing.
				restarted = true
				if rerr := d.reset(); rerr != nil {
					return nil, rerr
				}
				attempt = -1
				continue
			}
			d.discard()
			return nil, err
		}
		if isCanceled(err) {
			return nil, err
		}
		if errors.Is(err, errStartOver) {
			if !restarted {
				// Starting over from nothing is not a retry of the
				// server; it happens once.
				restarted = true
				attempt = -1
				continue
			}
			if attempt+1 < d.c.retry.Attempts {
				continue
			}
			return nil, fmt.Errorf("%s: the server's bytes do not continue those already written", d.op)
		}
		var e *Error
		if !errors.As(err, &e) || !e.Temporary() || attempt+1 >= d.c.retry.Attempts {
			if errors.Is(err, ErrChecksum) {
				d.discard()
			}
			return nil, err
		}
		if d.written > 0 {
			d.m.Resumed++
		}
		if err := d.c.backoff(ctx, attempt, e, d.op); err != nil {
			return nil, err
		}
	}
}

// once makes one request and copies its body. It returns nil when the
// body arrived whole.
func (d *download) once(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.uri, nil)
	if err != nil {
		return fmt.Errorf("%s: the export URI is not a URL", d.op)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "*/*")
	// Ask again for the last byte held, so that even a complete partial
	// file gets an answer with the size and ETag (and not a 416), and the
	// overlap shows the server's bytes line up with ours.
	from := max(d.written-1, 0)
	if d.written > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", from))
		if d.m.ETag != "" && !strings.HasPrefix(d.m.ETag, "W/") {
			req.Header.Set("If-Range", d.m.ETag)
		}
	}
	resp, err := d.c.hc.Do(req)
	if err != nil {
		return &Error{Op: d.op, Err: stripURL(ctx, err)}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if d.written > 0 {
			// The server sends the whole again: it has no ranges, or the
			// resource changed. Start over if w can be emptied.
			if err := d.reset(); err != nil {
				return err
			}
			from = 0
		}
		d.total = resp.ContentLength
	case http.StatusPartialContent:
		start, end, size, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != from || (d.total >= 0 && size != d.total) {
			return &Error{Op: d.op, Status: resp.StatusCode, ICWS: icws.Error{Message: fmt.Sprintf("the server answered bytes %d-%d of %d to a request for bytes %d-", start, end, size, from)}, Err: err}
		}
		d.total = size
	case http.StatusRequestedRangeNotSatisfiable:
		if d.written > 0 && d.fromEarly {
			// The partial file is longer than the resource: not a
			// beginning of it.
			if err := d.reset(); err != nil {
				return err
			}
			return errStartOver
		}
		return d.c.errorFrom(resp, d.op)
	default:
		return d.c.errorFrom(resp, d.op)
	}
	d.note(resp)
	body := io.Reader(resp.Body)
	if d.written > 0 {
		// The overlapping byte: hash and write nothing, compare it.
		var b [1]byte
		if _, err := io.ReadFull(body, b[:]); err != nil {
			return &Error{Op: d.op, Status: resp.StatusCode, Err: cutErr(err)}
		}
		if b[0] != d.last {
			if err := d.reset(); err != nil {
				return fmt.Errorf("%s: the server's bytes do not continue those already written: %w", d.op, err)
			}
			return errStartOver
		}
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	if _, err := io.CopyBuffer(d, body, *buf); err != nil {
		if werr := (writeError{}); errors.As(err, &werr) {
			return werr.err
		}
		return &Error{Op: d.op, Status: resp.StatusCode, Err: cutErr(err)}
	}
	if d.total >= 0 && d.written < d.total {
		return &Error{Op: d.op, Status: resp.StatusCode, Err: &cutError{fmt.Errorf("the connection ended after %d of %d bytes: %w", d.written, d.total, io.ErrUnexpectedEOF)}}
	}
	return nil
}

// writeError marks a failure of the destination, which retrying the
// server does not cure.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }

// note keeps what the answer says about the resource.
func (d *download) note(resp *http.Response) {
	if et := resp.Header.Get("ETag"); et != "" {
		d.m.ETag = et
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		d.m.ContentType = ct
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil && params["filename"] != "" {
			d.m.FileName = params["filename"]
		}
	}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		d.m.LastModified = lm
	}
}

// finish checks the length and, when the ETag is a SHA-256, the bytes.
func (d *download) finish() error {
	if d.total >= 0 && d.written != d.total {
		return &Error{Op: d.op, Status: http.StatusOK, Err: fmt.Errorf("got %d bytes, the server announced %d", d.written, d.total)}
	}
	want, ok := sha256ETag(d.m.ETag)
	if !ok {
		return nil
	}
	got := hex.EncodeToString(d.h.Sum(nil))
	if got != want {
		return &Error{Op: d.op, Status: http.StatusOK, ICWS: icws.Error{Message: fmt.Sprintf("the bytes have SHA-256 %s, the server's ETag says %s", got, want)}, Err: ErrChecksum}
	}
	d.m.Verified = true
	return nil
}

// reset empties a Partial destination to start over.
func (d *download) reset() error {
	p, ok := d.w.(Partial)
	if !ok {
		return fmt.Errorf("%s: the server sent the whole resource again and the destination cannot be rewound", d.op)
	}
	if err := p.Truncate(0); err != nil {
		return fmt.Errorf("%s: %w", d.op, err)
	}
	if _, err := p.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", d.op, err)
	}
	d.h.Reset()
	d.written, d.fromEarly = 0, false
	return nil
}

// discard empties a Partial whose bytes failed verification.
func (d *download) discard() {
	if p, ok := d.w.(Partial); ok {
		p.Truncate(0)
		p.Seek(0, io.SeekStart)
	}
}

// sha256ETag returns the hex digest an ETag carries, if it is one.
func sha256ETag(etag string) (string, bool) {
	if len(etag) != 66 || etag[0] != '"' || etag[65] != '"' {
		return "", false
	}
	hexs := strings.ToLower(etag[1:65])
	if _, err := hex.DecodeString(hexs); err != nil {
		return "", false
	}
	return hexs, true
}

// parseContentRange reads "bytes first-last/size".
func parseContentRange(s string) (first, last, size int64, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return 0, 0, 0, fmt.Errorf("Content-Range %q is not a byte range", s)
	}
	rng, sz, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, fmt.Errorf("Content-Range %q has no size", s)
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, fmt.Errorf("Content-Range %q has no range", s)
	}
	if first, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, 0, fmt.Errorf("Content-Range %q: %v", s, err)
	}
	if last, err = strconv.ParseInt(b, 10, 64); err != nil {
		return 0, 0, 0, fmt.Errorf("Content-Range %q: %v", s, err)
	}
	if size, err = strconv.ParseInt(sz, 10, 64); err != nil {
		return 0, 0, 0, fmt.Errorf("Content-Range %q: %v", s, err)
	}
	if first < 0 || last < first || size <= last {
		return 0, 0, 0, fmt.Errorf("Content-Range %q is not a range within the size", s)
	}
	return first, last, size, nil
}

// cutError is a body that stopped early: the answer was good, the
// transfer was not, and asking for the rest can succeed.
type cutError struct{ err error }

func (e *cutError) Error() string { return e.err.Error() }
func (e *cutError) Unwrap() error { return e.err }

// cutErr words a body that stopped early.
func cutErr(err error) error {
	if errors.Is(err, io.EOF) {
		return &cutError{fmt.Errorf("the connection ended early: %w", io.ErrUnexpectedEOF)}
	}
	return &cutError{fmt.Errorf("the connection broke: %w", err)}
}
