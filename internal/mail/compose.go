package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"example.com/icrec"
)

// envelope is a Message checked and laid out for the wire: everything but
// the attachments' content, which is read only while DATA is open. Building
// it first means that a bad message fails before any connection is made.
type envelope struct {
	rcpts     []recipient // unique, in order
	messageID string
	head      []byte // top-level fields, the blank line, the text part
	boundary  string
	parts     []part
	// size is the message's exact length when every attachment's Size is
	// known, and a lower bound otherwise.
	size int64
}

type recipient struct {
	addr  string
	field string // "to[0]", for the error if the server rejects it
}

type part struct {
	name   string
	header []byte
	open   func() (io.ReadCloser, error)
	size   int64
}

const (
	maxLine      = 998 // RFC 5322 hard limit on a line
	foldAt       = 78  // RFC 5322 advice, which folding keeps where it can
	base64Line   = 76  // RFC 2045 limit on an encoded line
	maxFileName  = 255
	defaultCType = "application/octet-stream"
)

func compose(m *Message, from *netmail.Address, helo string, now time.Time) (*envelope, error) {
	if m == nil {
		return nil, icrec.Errorf(icrec.Invalid, "", "no message to send")
	}
	if len(m.To) == 0 {
		return nil, icrec.MissingProperty("to", "a message needs at least one To address")
	}
	e := &envelope{}
	seen := map[string]bool{}
	to, err := addressList("to", m.To, e, seen)
	if err != nil {
		return nil, err
	}
	cc, err := addressList("cc", m.Cc, e, seen)
	if err != nil {
		return nil, err
	}
	var replyTo string
	if m.ReplyTo != "" {
		if hasControl(m.ReplyTo) {
			return nil, injection("replyTo")
		}
		list, err := netmail.ParseAddressList(m.ReplyTo)
		if err != nil {
			return nil, icrec.InvalidProperty("replyTo", "the Reply-To %q is not an address list (%v)", m.ReplyTo, err)
		}
		replyTo = formatList(list)
	}
	if hasControl(m.Subject) {
		return nil, injection("subject")
	}
	if !utf8.ValidString(m.Subject) {
		return nil, icrec.InvalidProperty("subject", "the subject is not valid UTF-8")
	}
	if !utf8.ValidString(m.Body) {
		return nil, icrec.InvalidProperty("body", "the body is not valid UTF-8")
	}

	id, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	e.messageID = "<" + id + "@" + idDomain(helo, from.Address) + ">"
	if e.boundary, err = randomHex(16); err != nil {
		return nil, err
	}
	// "=_" cannot occur in quoted-printable or base64 text, so the
	// boundary cannot collide with content.
	e.boundary = "=_icrec_" + e.boundary

	xPriority, importance := priority(m.Priority)
	var h bytes.Buffer
	fields := []struct{ name, value string }{
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", e.messageID},
		{"From", from.String()},
		{"To", to},
		{"Cc", cc},
		{"Reply-To", replyTo},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"MIME-Version", "1.0"},
		{"X-Priority", xPriority},
		{"Importance", importance},
		{"Content-Type", `multipart/mixed; boundary="` + e.boundary + `"`},
	}
	for _, f := range fields {
		if f.value == "" && f.name != "Subject" {
			continue
		}
		if !writeField(&h, f.name, f.value) {
			return nil, icrec.InvalidProperty(strings.ToLower(f.name), "the %s has a word too long for a mail header", f.name)
		}
	}
	h.WriteString("\r\n--" + e.boundary + "\r\n")
	h.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
	h.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&h)
	qp.Write([]byte(m.Body)) // a bytes.Buffer does not fail
	qp.Close()
	e.head = h.Bytes()
	e.size = int64(len(e.head))

	for i, a := range m.Attachments {
		p, err := attachmentPart(i, a, e.boundary)
		if err != nil {
			return nil, err
		}
		e.parts = append(e.parts, p)
		e.size += int64(len(p.header)) + encodedLen(a.Size)
	}
	e.size += int64(len("\r\n--" + e.boundary + "--\r\n"))
	return e, nil
}

func injection(field string) *icrec.Error {
	return icrec.InvalidProperty(field, "the %s must not contain line breaks (CR or LF) or other control characters", field)
}

// addressList checks the addresses of one field, adds them to e's
// recipients, and formats them for the header.
func addressList(field string, list []netmail.Address, e *envelope, seen map[string]bool) (string, error) {
	for i, a := range list {
		prop := fmt.Sprintf("%s[%d]", field, i)
		if hasControl(a.Name) || hasControl(a.Address) {
			return "", injection(prop)
		}
		p, problem := parseAddress(a.Address)
		if problem != "" {
			return "", icrec.InvalidProperty(prop, "%s: %s", prop, problem)
		}
		if p.Address != a.Address || p.Name != "" {
			// A display name or a list in the address field would send
			// to someone the header does not show.
			return "", icrec.InvalidProperty(prop, "%s: %q must be a bare address, with any display name in Name", prop, a.Address)
		}
		if key := strings.ToLower(a.Address); !seen[key] {
			seen[key] = true
			e.rcpts = append(e.rcpts, recipient{a.Address, prop})
		}
	}
	ptrs := make([]*netmail.Address, len(list))
	for i := range list {
		ptrs[i] = &list[i]
	}
	return formatList(ptrs), nil
}

func formatList(list []*netmail.Address) string {
	s := make([]string, len(list))
	for i, a := range list {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

func attachmentPart(i int, a Attachment, boundary string) (part, error) {
	prop := fmt.Sprintf("attachments[%d]", i)
	switch {
	case a.FileName == "":
		return part{}, icrec.MissingProperty(prop+".fileName", "attachment %d has no file name", i)
	case hasControl(a.FileName):
		return part{}, injection(prop + ".fileName")
	case hasControl(a.ContentType):
		return part{}, injection(prop + ".contentType")
	case !utf8.ValidString(a.FileName) || len(a.FileName) > maxFileName:
		return part{}, icrec.InvalidProperty(prop+".fileName", "the file name of attachment %d must be UTF-8 of at most %d bytes", i, maxFileName)
	case a.Open == nil:
		return part{}, icrec.InvalidProperty(prop+".open", "attachment %q has no content (Open is nil)", a.FileName)
	case a.Size < 0:
		return part{}, icrec.InvalidProperty(prop+".size", "attachment %q has a negative size", a.FileName)
	}
	ct := a.ContentType
	if ct == "" {
		ct = defaultCType
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && !strings.Contains(mt, "/") {
		err = fmt.Errorf("no subtype")
	}
	if err != nil {
		return part{}, icrec.InvalidProperty(prop+".contentType", "%q is not a media type (%v)", ct, err)
	}
	fallback := asciiFileName(a.FileName)
	if params["name"] == "" {
		params["name"] = fallback // for mail readers that ignore the disposition
	}
	ct = mime.FormatMediaType(mt, params)
	if ct == "" {
		return part{}, icrec.InvalidProperty(prop+".contentType", "%q is not a media type", a.ContentType)
	}

	var h strings.Builder
	writeField(&h, "Content-Type", ct)
	h.WriteString("Content-Transfer-Encoding: base64\r\n")
	// The quoted name is for readers that do not know RFC 2231; those
	// that do prefer filename*, which keeps the name exactly.
	h.WriteString("Content-Disposition: attachment;\r\n filename=\"" + fallback + "\";\r\n filename*=UTF-8''" + percentEncode(a.FileName))
	if a.Size > 0 {
		h.WriteString(";\r\n size=" + strconv.FormatInt(a.Size, 10))
	}
	h.WriteString("\r\n\r\n")
	return part{
		name:   a.FileName,
		header: []byte("\r\n--" + boundary + "\r\n" + h.String()),
		open:   a.Open,
		size:   a.Size,
	}, nil
}

// writeField writes "name: value" folded at spaces so that lines stay
// within foldAt where the words allow, and reports false if a line is
// still over maxLine.
func writeField(w io.StringWriter, name, value string) bool {
	ok := true
	w.WriteString(name + ":")
	col := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 || word != "" {
			if col+1+len(word) > foldAt && col > 1 {
				w.WriteString("\r\n")
				col = 0
			}
			w.WriteString(" " + word)
			col += 1 + len(word)
		}
		if col > maxLine {
			ok = false
		}
	}
	w.WriteString("\r\n")
	return ok
}

func priority(p int) (xPriority, importance string) {
	switch p {
	case PriorityHigh:
		return "1", "high"
	case PriorityLow:
		return "5", "low"
	default:
		return "3", "normal"
	}
}

// idDomain picks the Message-ID's right-hand side: the HELO name when it is
// a real domain, else the From address's domain.
func idDomain(helo, from string) string {
	if strings.Contains(helo, ".") && net.ParseIP(helo) == nil {
		return helo
	}
	return from[strings.LastIndex(from, "@")+1:]
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", &icrec.Error{Kind: icrec.Internal, Message: "mail: no randomness for a Message-ID", Err: err}
	}
	return hex.EncodeToString(b), nil
}

// asciiFileName makes the fallback name: accents dropped ("ü" to "u"),
// anything else outside printable ASCII, and the quote and backslash that a
// quoted-string would need escaped, replaced by '_'.
func asciiFileName(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r >= ' ' && r <= '~' && r != '"' && r != '\\':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// percentEncode encodes s as an RFC 8187 value-chars: bytes other than
// attr-char become %XX.
func percentEncode(s string) string {
	const attrChar = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attrChar, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// encodedLen is the length of n bytes in base64 lines of base64Line, with
// CRLF between lines.
func encodedLen(n int64) int64 {
	if n <= 0 {
		return 0
	}
	chars := (n + 2) / 3 * 4
	return chars + 2*((chars-1)/base64Line)
}

// writeTo writes the message to w, streaming each attachment from its Open.
// An error from w is returned as is; an error from an attachment is
// wrapped as sourceError, so the caller can tell which side failed.
func (e *envelope) writeTo(w io.Writer) error {
	if _, err := w.Write(e.head); err != nil {
		return err
	}
	for _, p := range e.parts {
		if _, err := w.Write(p.header); err != nil {
			return err
		}
		if err := p.writeContent(w); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "\r\n--"+e.boundary+"--\r\n")
	return err
}

// sourceError is a failure to read an attachment, as opposed to one to
// write to the server.
type sourceError struct {
	name string
	err  error
}

func (e *sourceError) Error() string { return fmt.Sprintf("attachment %q: %v", e.name, e.err) }
func (e *sourceError) Unwrap() error { return e.err }

func (p part) writeContent(w io.Writer) error {
	r, err := p.open()
	if err != nil {
		return &sourceError{p.name, err}
	}
	defer r.Close()
	sink := &errWriter{w: w}
	enc := base64.NewEncoder(base64.StdEncoding, &lineWriter{w: sink})
	n, err := io.Copy(enc, r)
	if sink.err != nil {
		return sink.err
	}
	if err != nil {
		return &sourceError{p.name, err}
	}
	if p.size > 0 && n != p.size {
		return &sourceError{p.name, fmt.Errorf("read %d bytes, but its Size is %d", n, p.size)}
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return sink.err
}

// errWriter keeps the first write error, which io.Copy would otherwise
// not tell apart from a read error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// lineWriter breaks base64 text into lines of base64Line. It writes each
// CRLF before the next line rather than after the last, so the part ends
// without an empty line before the boundary.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if l.col == base64Line {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return n, err
			}
			l.col = 0
		}
		k := min(base64Line-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return n, err
		}
		n += k
		l.col += k
		p = p[k:]
	}
	return n, nil
}
