package mimeindex

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
)

// A decoder undoes a Content-Transfer-Encoding as the body streams past.
// The parser calls data with the content of each line (or piece of a long
// line), eol with a line break once it knows the break is content (the one
// before a boundary is not), and end after the last line. Decoders write
// to a bufio.Writer whose errors are the sink's, and report malformed
// input as a badInput.
type decoder interface {
	data(b []byte) error
	eol(b []byte) error
	end() error
}

// badInput is malformed encoded content; the parser adds the part path.
type badInput string

func (e badInput) Error() string { return string(e) }

// identityDecoder passes 7bit, 8bit, binary and unknown encodings through.
type identityDecoder struct{ w *bufio.Writer }

func (d *identityDecoder) data(b []byte) error {
	_, err := d.w.Write(b)
	return err
}

func (d *identityDecoder) eol(b []byte) error {
	_, err := d.w.Write(b)
	return err
}

func (d *identityDecoder) end() error { return nil }

// base64Decoder decodes RFC 2045 base64. Line breaks, spaces and tabs are
// ignored; "=" pads the current group, after which a new group may start
// (some mailers concatenate encodings); the final group may lack its
// padding. Anything else, and a group of a single character, is malformed.
type base64Decoder struct {
	w   *bufio.Writer
	acc uint32 // the sextets of the current group
	n   int    // how many
	out [3 * 1024]byte
	o   int
}

const (
	b64Skip    = 0xfe // whitespace
	b64Pad     = 0xfd
	b64Invalid = 0xff
)

var b64Values = func() [256]byte {
	var t [256]byte
	for i := range t {
		t[i] = b64Invalid
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	for _, c := range []byte(" \t\r\n\v\f") {
		t[c] = b64Skip
	}
	t['='] = b64Pad
	return t
}()

func (d *base64Decoder) reset(w *bufio.Writer) {
	*d = base64Decoder{w: w}
}

func (d *base64Decoder) data(b []byte) error {
	// Fast path: whole groups of plain base64, as nearly every line is.
	// Anything else (blanks, padding, a CR, bad bytes) makes the standard
	// decoder fail, and then the loop below decodes it byte by byte.
	for d.n == 0 && len(b) >= 4 {
		k := min(len(b)&^3, (len(d.out)-d.o)/3*4)
		if k == 0 {
			if _, err := d.w.Write(d.out[:d.o]); err != nil {
				return err
			}
			d.o = 0
			continue
		}
		if bytes.IndexByte(b[:k], '\r') >= 0 {
			break // the standard decoder would skip it and lose the group alignment
		}
		m, err := base64.RawStdEncoding.Decode(d.out[d.o:], b[:k])
		if err != nil {
			break
		}
		d.o += m
		b = b[k:]
	}
	acc, n, o := d.acc, d.n, d.o
	for _, c := range b {
		v := b64Values[c]
		if v < 64 {
			acc = acc<<6 | uint32(v)
			if n++; n == 4 {
				if o > len(d.out)-3 {
					if _, err := d.w.Write(d.out[:o]); err != nil {
						return err
					}
					o = 0
				}
				d.out[o], d.out[o+1], d.out[o+2] = byte(acc>>16), byte(acc>>8), byte(acc)
				o += 3
				acc, n = 0, 0
			}
			continue
		}
		switch v {
		case b64Skip:
			continue
		case b64Pad:
			d.acc, d.n, d.o = acc, n, o
			if err := d.finishGroup(); err != nil {
				return err
			}
			acc, n, o = 0, 0, d.o
			continue
		}
		return badInput(fmt.Sprintf("malformed base64: unexpected byte 0x%02x", c))
	}
	d.acc, d.n, d.o = acc, n, o
	return nil
}

// finishGroup writes out a group cut short by padding or by the end.
func (d *base64Decoder) finishGroup() error {
	if d.n == 1 {
		return badInput("malformed base64: a group of a single character")
	}
	if d.n > 1 && d.o > len(d.out)-2 {
		if _, err := d.w.Write(d.out[:d.o]); err != nil {
			return err
		}
		d.o = 0
	}
	switch d.n {
	case 2:
		d.out[d.o] = byte(d.acc >> 4)
		d.o++
	case 3:
		d.out[d.o], d.out[d.o+1] = byte(d.acc>>10), byte(d.acc>>2)
		d.o += 2
	}
	d.acc, d.n = 0, 0
	return nil
}

func (d *base64Decoder) eol([]byte) error { return nil }

func (d *base64Decoder) end() error {
	if err := d.finishGroup(); err != nil {
		return err
	}
	_, err := d.w.Write(d.out[:d.o])
	d.o = 0
	return err
}

// qpDecoder decodes RFC 2045 quoted-printable. Blanks at the end of a line
// are dropped; a line ending in "=" (maybe followed by blanks) continues on
// the next without a break; "=" and two hex digits (either case) is a byte;
// any other "=" is kept as it is, as are all other bytes.
//
// What the decoder cannot decide yet waits in pend: an "=", an "=" and one
// hex digit, or blanks that may be trailing, possibly after an "=". A run
// of blanks longer than maxPend is taken as content rather than held.
type qpDecoder struct {
	w    *bufio.Writer
	pend []byte
	buf  [maxPend]byte
}

const maxPend = 1024

func (d *qpDecoder) reset(w *bufio.Writer) {
	d.w = w
	d.pend = d.buf[:0]
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func (d *qpDecoder) data(b []byte) error {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if len(d.pend) == 0 {
			// Fast paths: a run of bytes that stand for themselves, and
			// an escape that is all there.
			j := i
			for j < len(b) && b[j] != '=' && !isBlank(b[j]) {
				j++
			}
			if j > i {
				if _, err := d.w.Write(b[i:j]); err != nil {
					return err
				}
				if i = j; i == len(b) {
					break
				}
				c = b[i]
			}
			if c == '=' && i+2 < len(b) {
				hi, ok1 := unhex(b[i+1])
				lo, ok2 := unhex(b[i+2])
				if ok1 && ok2 {
					if err := d.w.WriteByte(hi<<4 | lo); err != nil {
						return err
					}
					i += 2
					continue
				}
			}
		}
		if len(d.pend) > 0 {
			if d.pend[0] == '=' && len(d.pend) == 1 {
				if _, ok := unhex(c); ok || isBlank(c) {
					d.pend = append(d.pend, c)
					continue
				}
			} else if hi, ok := unhex(d.pend[len(d.pend)-1]); ok && d.pend[0] == '=' && len(d.pend) == 2 {
				if lo, ok := unhex(c); ok {
					if err := d.w.WriteByte(hi<<4 | lo); err != nil {
						return err
					}
					d.pend = d.pend[:0]
					continue
				}
			} else if isBlank(c) && len(d.pend) < maxPend {
				d.pend = append(d.pend, c)
				continue
			}
			// Not an escape, not trailing: what waited is content.
			if _, err := d.w.Write(d.pend); err != nil {
				return err
			}
			d.pend = d.pend[:0]
		}
		if c == '=' || isBlank(c) {
			d.pend = append(d.pend, c)
			continue
		}
		if err := d.w.WriteByte(c); err != nil {
			return err
		}
	}
	return nil
}

// lineEnd settles what waits at the end of a line and reports whether the
// line break is soft.
func (d *qpDecoder) lineEnd() (soft bool, err error) {
	defer func() { d.pend = d.pend[:0] }()
	if len(d.pend) == 0 {
		return false, nil
	}
	if d.pend[0] != '=' {
		return false, nil // trailing blanks
	}
	if len(d.pend) == 1 || isBlank(d.pend[1]) {
		return true, nil
	}
	// "=" and one hex digit: not an escape.
	_, err = d.w.Write(d.pend)
	return false, err
}

func (d *qpDecoder) eol(b []byte) error {
	soft, err := d.lineEnd()
	if err != nil || soft {
		return err
	}
	_, err = d.w.Write(b)
	return err
}

func (d *qpDecoder) end() error {
	_, err := d.lineEnd()
	return err
}
