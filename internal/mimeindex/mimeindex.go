// Package mimeindex indexes the attachments of a recorded email and streams
// any one of them back out, decoded. The message is a whole RFC 5322
// message (message/rfc822) as archived; both Scan and Extract read it once,
// front to back, and hold only a few buffers whatever its size.
//
// # Parts
//
// A part is named by its IMAP-style path: the body parts of a multipart
// are numbered 1, 2, … and a part nested in part 2 is 2.1, 2.2, …; the body
// of a message that is not multipart is part 1. A message/rfc822 part (a
// forwarded mail) is a leaf like any other: it is not descended into. Every
// multipart/* type is a container (unknown subtypes are read as
// multipart/mixed, RFC 2046 §5.1.3); the body parts of a multipart/digest
// default to message/rfc822, all others to text/plain.
//
// # Which parts are attachments
//
// Every leaf (non-multipart) part is an attachment, numbered 1…n in the
// order the parts appear, except the text body: a leaf whose content type
// is text/plain or text/html, whose Content-Disposition is absent or
// "inline", and that has no file name (no non-blank filename or name
// parameter). The rule is the same wherever the part is, so the text and
// HTML of a multipart/alternative and the HTML of a multipart/related are
// body, while an inline image of a multipart/related is an attachment,
// named or not. Unknown disposition types count as "attachment" (RFC 2183
// §2.8).
//
// # Names, types and content
//
// The file name comes from the Content-Disposition filename parameter,
// else the Content-Type name parameter. RFC 2231 values (charsets,
// continuations) take precedence over plain ones; plain values may carry
// RFC 2047 encoded-words. Charsets are those of the WHATWG Encoding
// Standard. The name is then made safe to offer: the last path element
// only (after / or \), control and bidirectional formatting characters
// removed, invalid UTF-8 replaced by "_", blanks trimmed, "." and ".."
// refused, cut to 255 bytes on a rune boundary keeping a short extension. A
// part with no usable name is called attachment-N plus an extension chosen
// by its content type from a fixed table ("attachment-3.pdf"), or none for
// a type the table lacks: never from the host's mime.types, so that the
// name is the same on every host that rebuilds the index. A safe name may
// still hold quotes, colons and the like: whoever puts it in a
// Content-Disposition header must encode it (RFC 6266).
//
// ContentType is the lower-cased media type without parameters; it is
// text/plain when Content-Type is absent or malformed (RFC 2045 §5.2).
// Comments and blanks around the "/" are not malformations:
// "multipart / mixed (digest follows)" is multipart/mixed. A boundary may
// be given in RFC 2231 form (boundary*=us-ascii'en'b, or in sections),
// which takes precedence over a plain one, as for names.
// Size and SHA256 are those of the decoded content. The transfer encodings
// are 7bit, 8bit and binary (the bytes as they are), quoted-printable and
// base64. An unknown encoding is not an error: as RFC 2045 §6.4 requires,
// the content is delivered as it is, undecoded, with the content type
// application/octet-stream. The encoding of a multipart is ignored.
//
// Base64 may be broken into lines and carry spaces and tabs; padding may
// be missing at the end, and a padded group may be followed by more base64
// (concatenated encodings). Any other byte is an error. Quoted-printable
// is decoded leniently: blanks at the end of a line go, a "=" ending a line
// joins it to the next, and a "=" not followed by two hex digits is kept
// as it is. Line breaks inside 7bit, 8bit and quoted-printable content are
// delivered as stored (CRLF or LF); the line break before a boundary
// belongs to the boundary. Lines end with LF or CRLF; a lone CR is data.
//
// # Errors
//
// Scan and Extract refuse what they cannot read with one meaning: a
// multipart without a boundary, with an unusable one (empty, in an unknown
// charset, over 200 bytes, with control characters, or one that an
// enclosing multipart's boundary lines could match), whose boundary never
// appears, or which is not closed before the message (or its enclosing
// multipart) ends; a header line without a colon, with a malformed field
// name, or folded with nothing to fold into; a NUL byte in a header;
// malformed base64 in a part they decode; and anything over the Limits.
// Each of these is an *icrec.Error of kind icrec.Invalid whose message
// names the part ("part 2.1: multipart/mixed without a boundary
// parameter"; the message's own header and a top-level multipart are
// "message"). Errors reading the message or writing to Extract's writer
// are not the message's fault: they are returned wrapped, not as an
// *icrec.Error, so they count as Internal.
//
// Scan decodes only attachments, so a broken text body does not keep the
// attachments from being indexed. Extract decodes only the part asked for
// and stops reading once it has it. A message that Scan accepts therefore
// yields, for each attachment, exactly the bytes Scan measured, provided
// Extract is given the same Limits.
//
// An mbox "From " line before the first header is skipped. MIME-Version is
// not required.
package mimeindex

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"strconv"
	"strings"

	"example.com/icrec"
)

// Limits bound the work a message can ask for. A field that is zero (or
// negative) takes its value from DefaultLimits.
type Limits struct {
	// MaxDepth bounds the numbers in a part path, so it bounds how deeply
	// multiparts nest: with 16, part 1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1 is the
	// deepest there can be.
	MaxDepth int
	// MaxParts bounds the body parts in the whole message, multiparts
	// included.
	MaxParts int
	// MaxHeaderBytes bounds one header: the message's or one part's,
	// counting line breaks.
	MaxHeaderBytes int
	// MaxHeaderLines bounds the header lines of the whole message, all
	// headers together.
	MaxHeaderLines int
}

// DefaultLimits suit recorded business email: far above what mail clients
// produce, low enough that a hostile message fails fast.
var DefaultLimits = Limits{
	MaxDepth:       16,
	MaxParts:       1000,
	MaxHeaderBytes: 64 << 10,
	MaxHeaderLines: 20000,
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxParts <= 0 {
		l.MaxParts = DefaultLimits.MaxParts
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	if l.MaxHeaderLines <= 0 {
		l.MaxHeaderLines = DefaultLimits.MaxHeaderLines
	}
	return l
}

// Scan reads the whole message from r and returns its attachments, in
// order, numbered from 1. A message without attachments yields an empty
// slice. See the package comment for the rules and the errors.
func Scan(r io.Reader, lim Limits) ([]icrec.Attachment, error) {
	p := newParser(r, lim)
	p.scan = true
	p.hash = sha256.New()
	if err := p.run(); err != nil {
		return nil, err
	}
	if p.atts == nil {
		p.atts = []icrec.Attachment{}
	}
	return p.atts, nil
}

// Extract writes the decoded content of the leaf part named by the path
// part (an Attachment's Part) to w and returns the number of bytes
// written. It reads r only as far as the end of that part. A path that
// names no leaf of the message is a NotFound error; see the package comment
// for the others. On an error some bytes may have been written already.
func Extract(r io.Reader, part string, w io.Writer, lim Limits) (int64, error) {
	lim = lim.withDefaults()
	if !validPath(part, lim.MaxDepth) {
		return 0, icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "the message has no part %q", part)
	}
	cw := &countingWriter{w: w}
	p := newParser(r, lim)
	p.target = part
	p.sink = cw
	if err := p.run(); err != nil {
		return cw.n, err
	}
	if !p.found {
		return 0, icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "the message has no part %q", part)
	}
	return cw.n, nil
}

// validPath reports whether s is a well-formed part path ("1", "2.13")
// of at most maxDepth numbers, so that Extract can answer NotFound without
// reading for anything else.
func validPath(s string, maxDepth int) bool {
	n := 0
	for f := range strings.SplitSeq(s, ".") {
		if n++; n > maxDepth {
			return false
		}
		if f == "" || f[0] == '0' || len(f) > 9 {
			return false
		}
		if _, err := strconv.Atoi(f); err != nil || strings.ContainsAny(f, "+-") {
			return false
		}
	}
	return true
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// hashSink counts and hashes what Scan decodes; it never fails.
type hashSink struct {
	h hash.Hash
	n int64
}

func (s *hashSink) Write(b []byte) (int, error) {
	s.h.Write(b)
	s.n += int64(len(b))
	return len(b), nil
}

func (s *hashSink) sum() string { return hex.EncodeToString(s.h.Sum(nil)) }
