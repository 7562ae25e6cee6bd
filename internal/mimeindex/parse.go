package mimeindex

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"example.com/icrec"
)

const (
	lineBufSize  = 32 << 10 // longer lines are handled in pieces
	outBufSize   = 16 << 10
	maxBoundary  = 200 // RFC 2046 says 70; some mailers are generous
	maxZeroReads = 100
)

// parser walks the MIME tree of one message. It reads the message a line
// at a time and keeps the boundaries of the open multiparts on a stack, so
// that every line is checked against all of them: a multipart that an
// enclosing boundary interrupts is caught, not read past.
type parser struct {
	lim Limits
	lr  lineReader

	bounds      [][]byte // boundaries of the open multiparts, outermost first
	pushed      stop     // a boundary line that ended a header, for the body to see
	parts       int
	headerLines int

	// Scan
	scan bool
	hash hash.Hash
	atts []icrec.Attachment

	// Extract
	target string
	sink   io.Writer
	found  bool

	out  *bufio.Writer
	b64  base64Decoder
	qp   qpDecoder
	iden identityDecoder
}

func newParser(r io.Reader, lim Limits) *parser {
	p := &parser{lim: lim.withDefaults()}
	p.lr = lineReader{r: r, buf: make([]byte, lineBufSize), atStart: true}
	p.out = bufio.NewWriterSize(io.Discard, outBufSize)
	return p
}

// stop says what ended a run of lines.
type stop struct {
	kind  stopKind
	level int // for stopDelim and stopClose: the index in parser.bounds
}

type stopKind uint8

const (
	stopNone  stopKind = iota
	stopEOF            // the message ended
	stopDelim          // a delimiter line: another body part follows
	stopClose          // a close-delimiter line: the multipart ends
	stopDone           // Extract has what it wanted
)

// where names a part path in error messages.
func where(path string) string {
	if path == "" {
		return "message"
	}
	return "part " + path
}

func child(path string, n int) string {
	if path == "" {
		return strconv.Itoa(n)
	}
	return path + "." + strconv.Itoa(n)
}

func depth(path string) int {
	if path == "" {
		return 0
	}
	return strings.Count(path, ".") + 1
}

func (p *parser) invalid(path, format string, args ...any) error {
	return icrec.Errorf(icrec.Invalid, "", "%s: %s", where(path), fmt.Sprintf(format, args...))
}

func (p *parser) run() error {
	h, _, err := p.header("") // a message may end after its header, with an empty body
	if err != nil {
		return err
	}
	pi := h.info("text/plain")
	var st stop
	if pi.multipart() {
		st, err = p.multipart(pi, "")
	} else {
		st, err = p.leaf(pi, "1")
	}
	if err != nil {
		return err
	}
	if st.kind != stopEOF && st.kind != stopDone {
		// Unreachable: with no multipart open, only the end stops a run.
		return fmt.Errorf("mimeindex: parser stopped at %d", st.kind)
	}
	return nil
}

// part reads the header and the body of the body part path, up to and
// including the line that ends it.
func (p *parser) part(path, defaultType string) (stop, error) {
	h, eof, err := p.header(path)
	if err != nil {
		return stop{}, err
	}
	if eof {
		return stop{kind: stopEOF}, nil
	}
	pi := h.info(defaultType)
	if pi.multipart() {
		return p.multipart(pi, path)
	}
	return p.leaf(pi, path)
}

func (p *parser) multipart(pi partInfo, path string) (stop, error) {
	if p.target != "" && p.target == path {
		return stop{}, icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "part %s is %s: it has no content of its own", path, pi.mediaType)
	}
	b, ok := extendedParam(pi.params, "boundary")
	if !ok {
		b, ok = pi.params["boundary"]
	}
	switch {
	case !ok && hasExtended(pi.params, "boundary"):
		return stop{}, p.invalid(path, "%s boundary is in an unknown charset", pi.mediaType)
	case !ok:
		return stop{}, p.invalid(path, "%s without a boundary parameter", pi.mediaType)
	case b == "":
		return stop{}, p.invalid(path, "%s with an empty boundary", pi.mediaType)
	case len(b) > maxBoundary:
		return stop{}, p.invalid(path, "%s boundary is longer than %d bytes", pi.mediaType, maxBoundary)
	case strings.ContainsFunc(b, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return stop{}, p.invalid(path, "%s boundary %q contains control characters", pi.mediaType, b)
	case depth(path)+1 > p.lim.MaxDepth:
		return stop{}, p.invalid(path, "multiparts nested more than %d deep", p.lim.MaxDepth)
	}
	for _, outer := range p.bounds {
		if clash(outer, []byte(b)) {
			return stop{}, p.invalid(path, "%s boundary %q clashes with the boundary of an enclosing multipart", pi.mediaType, b)
		}
	}
	level := len(p.bounds)
	p.bounds = append(p.bounds, []byte(b))
	defaultType := "text/plain"
	if pi.mediaType == "multipart/digest" {
		defaultType = "message/rfc822"
	}

	st, err := p.body(nil) // the preamble
	if err != nil {
		return stop{}, err
	}
	if st.kind == stopEOF || st.level != level {
		return stop{}, p.invalid(path, "%s boundary %q never appears", pi.mediaType, b)
	}
	for n := 1; st.kind == stopDelim; n++ {
		c := child(path, n)
		if p.parts++; p.parts > p.lim.MaxParts {
			return stop{}, p.invalid(c, "the message has more than %d parts", p.lim.MaxParts)
		}
		st, err = p.part(c, defaultType)
		switch {
		case err != nil || st.kind == stopDone:
			return st, err
		case st.kind == stopEOF:
			return stop{}, p.invalid(path, "the message ends before the closing boundary of this %s: it is truncated", pi.mediaType)
		case st.level != level:
			return stop{}, p.invalid(path, "%s ends without its closing boundary (line %d)", pi.mediaType, p.lr.line)
		}
	}
	p.bounds = p.bounds[:level]
	return p.body(nil) // the epilogue
}

// clash reports whether a nested boundary could be mistaken for an
// enclosing one or the other way round: the same, or one is the other
// followed by dashes or blanks, which a line could end with.
func clash(a, b []byte) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if !bytes.HasPrefix(b, a) {
		return false
	}
	return len(bytes.Trim(b[len(a):], "- \t")) == 0
}

func (p *parser) leaf(pi partInfo, path string) (stop, error) {
	var d decoder
	var sink *hashSink
	var att icrec.Attachment
	switch {
	case p.scan:
		var isAtt bool
		att, isAtt = pi.attachment()
		if isAtt {
			p.hash.Reset()
			sink = &hashSink{h: p.hash}
			p.out.Reset(sink)
			d = p.decoder(pi.cte)
		}
	case p.target == path:
		p.out.Reset(p.sink)
		d = p.decoder(pi.cte)
	}

	st, err := p.body(d)
	if err == nil && st.kind == stopEOF && len(p.bounds) > 0 {
		return st, nil // cut short: the enclosing multipart reports it
	}
	if err == nil && d != nil {
		err = d.end()
		if err == nil {
			err = p.out.Flush()
		}
	}
	if err != nil {
		var bad badInput
		if errors.As(err, &bad) {
			return stop{}, p.invalid(path, "%s (line %d)", string(bad), p.lr.line)
		}
		var rerr *readError
		if d != nil && !p.scan && !errors.As(err, &rerr) {
			return stop{}, fmt.Errorf("mimeindex: write part %s: %w", path, err)
		}
		return stop{}, err
	}
	if sink != nil {
		att.Index = len(p.atts) + 1
		att.Part = path
		att.Size = sink.n
		att.SHA256 = sink.sum()
		att.FileName = fileName(att.FileName, att.ContentType, att.Index)
		p.atts = append(p.atts, att)
	}
	if p.target == path {
		p.found = true
		return stop{kind: stopDone}, nil
	}
	return st, nil
}

func (p *parser) decoder(cte string) decoder {
	switch cte {
	case "base64":
		p.b64.reset(p.out)
		return &p.b64
	case "quoted-printable":
		p.qp.reset(p.out)
		return &p.qp
	}
	p.iden.w = p.out
	return &p.iden
}

// body reads the lines of a body (or a preamble or epilogue when d is nil)
// up to and including the boundary line that ends it, or to the end of the
// message, and feeds their content to d. The line break before a boundary
// line belongs to the boundary, so each line break is held back until the
// next line shows it is content.
func (p *parser) body(d decoder) (stop, error) {
	if p.pushed.kind != stopNone {
		st := p.pushed
		p.pushed = stop{}
		return st, nil
	}
	var held []byte
	for {
		s, err := p.lr.next()
		if err == io.EOF {
			if d != nil && held != nil {
				if err := d.eol(held); err != nil {
					return stop{}, err
				}
			}
			return stop{kind: stopEOF}, nil
		}
		if err != nil {
			return stop{}, err
		}
		if st, ok := p.boundary(s); ok {
			return st, nil
		}
		if d == nil {
			continue
		}
		content, eol := splitEOL(s)
		if held != nil {
			if err := d.eol(held); err != nil {
				return stop{}, err
			}
		}
		if len(content) > 0 {
			if err := d.data(content); err != nil {
				return stop{}, err
			}
		}
		held = eol
	}
}

var (
	crlf = []byte("\r\n")
	lf   = []byte("\n")
)

// splitEOL splits a line into its content and its line break; the break is
// nil for a piece of a long line or a last line without one.
func splitEOL(s []byte) (content, eol []byte) {
	n := len(s)
	switch {
	case n >= 2 && s[n-2] == '\r' && s[n-1] == '\n':
		return s[:n-2], crlf
	case n >= 1 && s[n-1] == '\n':
		return s[:n-1], lf
	}
	return s, nil
}

// boundary reports whether the line s, just read, is a delimiter or close
// delimiter of an open multipart: "--" boundary, then "--" for a close,
// then only blanks (RFC 2046 transport padding). The innermost multipart is
// tried first.
func (p *parser) boundary(s []byte) (stop, bool) {
	if len(p.bounds) == 0 || !p.lr.first || !p.lr.whole || len(s) < 3 || s[0] != '-' || s[1] != '-' {
		return stop{}, false
	}
	line, _ := splitEOL(s)
	line = line[2:]
	for i := len(p.bounds) - 1; i >= 0; i-- {
		b := p.bounds[i]
		if !bytes.HasPrefix(line, b) {
			continue
		}
		rest := line[len(b):]
		kind := stopDelim
		if len(rest) >= 2 && rest[0] == '-' && rest[1] == '-' {
			kind, rest = stopClose, rest[2:]
		}
		if len(bytes.Trim(rest, " \t")) == 0 {
			return stop{kind: kind, level: i}, true
		}
	}
	return stop{}, false
}

// header reads the header of the part path ("" for the message), up to
// and including the blank line that ends it. A boundary line also ends it,
// leaving the body empty. eof reports that the message ended first.
func (p *parser) header(path string) (h header, eof bool, err error) {
	const ignored, none = -2, -1
	field := none // the field that a continuation extends: an index in h.val, or ignored
	size := 0
	first := path == ""
	for {
		s, err := p.lr.next()
		if err == io.EOF {
			return h, true, nil
		}
		if err != nil {
			return h, false, err
		}
		if st, ok := p.boundary(s); ok {
			p.pushed = st
			return h, false, nil
		}
		if size += len(s); size > p.lim.MaxHeaderBytes {
			return h, false, p.invalid(path, "header longer than %d bytes", p.lim.MaxHeaderBytes)
		}
		if bytes.IndexByte(s, 0) >= 0 {
			return h, false, p.invalid(path, "NUL byte in the header (line %d)", p.lr.line)
		}
		content, _ := splitEOL(s)
		if !p.lr.first {
			// The rest of a line too long for the buffer.
			if field >= 0 {
				h.val[field] = append(h.val[field], content...)
			}
			continue
		}
		if len(content) == 0 {
			return h, false, nil // the blank line
		}
		if p.headerLines++; p.headerLines > p.lim.MaxHeaderLines {
			return h, false, p.invalid(path, "more than %d header lines in the message", p.lim.MaxHeaderLines)
		}
		if first && bytes.HasPrefix(content, []byte("From ")) {
			// An mbox separator line.
			first, field = false, ignored
			continue
		}
		first = false
		if content[0] == ' ' || content[0] == '\t' {
			switch field {
			case none:
				return h, false, p.invalid(path, "header line %d is a continuation with no field before it", p.lr.line)
			case ignored:
			default:
				h.val[field] = append(h.val[field], content...)
			}
			continue
		}
		colon := bytes.IndexByte(content, ':')
		if colon < 0 {
			return h, false, p.invalid(path, "header line %d has no colon", p.lr.line)
		}
		name := bytes.TrimRight(content[:colon], " \t")
		if !validFieldName(name) {
			return h, false, p.invalid(path, "header line %d has a malformed field name", p.lr.line)
		}
		field = ignored
		for i, known := range knownFields {
			if !h.has[i] && strings.EqualFold(string(name), known) {
				h.has[i] = true
				h.val[i] = append([]byte(nil), content[colon+1:]...)
				field = i
				break
			}
		}
	}
}

// validFieldName reports whether name is an RFC 5322 field name: printable
// US-ASCII other than the colon.
func validFieldName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return false
		}
	}
	return true
}

// The header fields the parser keeps; it checks and forgets the others.
const (
	fieldContentType = iota
	fieldDisposition
	fieldEncoding
	numFields
)

var knownFields = [numFields]string{
	fieldContentType: "Content-Type",
	fieldDisposition: "Content-Disposition",
	fieldEncoding:    "Content-Transfer-Encoding",
}

// header holds the unfolded values of the fields the parser needs, each
// from its first occurrence.
type header struct {
	has [numFields]bool
	val [numFields][]byte
}

// lineReader reads a message a line at a time from its own buffer. A line
// too long for the buffer comes in pieces; a piece never ends in a CR, so
// that a CRLF is never split between two.
type lineReader struct {
	r          io.Reader
	buf        []byte
	head, tail int   // the unread bytes are buf[head:tail]
	scanned    int   // buf[head:head+scanned] has no LF
	err        error // the read error to report once the buffer is empty
	line       int   // the number of the line the last slice belongs to

	// Of the last slice: first reports that it starts a line, whole that it
	// ends one (with a line break, or as the last line of the message).
	first, whole bool
	atStart      bool // the next slice starts a line
}

// next returns the next line with its line break, or the next piece of a
// long line. The slice is valid until the next call. At the end of the
// message it returns io.EOF.
func (l *lineReader) next() ([]byte, error) {
	zero := 0
	for {
		if i := bytes.IndexByte(l.buf[l.head+l.scanned:l.tail], '\n'); i >= 0 {
			end := l.head + l.scanned + i + 1
			return l.emit(end, true), nil
		}
		l.scanned = l.tail - l.head
		if l.err != nil {
			if l.err != io.EOF {
				return nil, &readError{l.err}
			}
			if l.head < l.tail {
				return l.emit(l.tail, true), nil
			}
			return nil, io.EOF
		}
		if l.head == 0 && l.tail == len(l.buf) {
			end := l.tail
			if l.buf[end-1] == '\r' {
				end--
			}
			return l.emit(end, false), nil
		}
		if l.head > 0 {
			copy(l.buf, l.buf[l.head:l.tail])
			l.tail -= l.head
			l.head = 0
		}
		n, err := l.r.Read(l.buf[l.tail:])
		if n < 0 || n > len(l.buf)-l.tail {
			return nil, &readError{fmt.Errorf("reader returned %d bytes", n)}
		}
		l.tail += n
		if err != nil {
			l.err = err
		} else if n == 0 {
			if zero++; zero > maxZeroReads {
				return nil, &readError{io.ErrNoProgress}
			}
		}
	}
}

func (l *lineReader) emit(end int, whole bool) []byte {
	s := l.buf[l.head:end]
	l.head = end
	l.scanned = 0
	l.first = l.atStart
	if l.first {
		l.line++
	}
	l.whole = whole
	l.atStart = whole
	return s
}

// readError is a failure to read the message, as opposed to a fault in it.
type readError struct{ err error }

func (e *readError) Error() string { return "mimeindex: read message: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }
