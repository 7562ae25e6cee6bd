package signedurl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"example.com/icrec"
)

// Token layout, version 1. Integers are unsigned varints in their shortest
// form; a string is a varint length and then its bytes.
//
//	version     1 byte, tokenVersion
//	key id      1 byte length (1 to maxKeyIDLen), then the id
//	recording   16 bytes: the GUID's 32 hex digits
//	attachment  varint
//	purpose     1 byte: icrec.LinkPurpose (0 export, 1 playback, 2 email)
//	user id     string
//	session id  string
//	expires     varint, Unix seconds
//	client      string, empty when the link is not bound to an address
//	link id     16 bytes
//	tag         32 bytes: HMAC-SHA256, under the key, of all the above
//
// The whole is encoded as unpadded base64url, which has neither '/' nor
// '.', so that a token is one path segment that no router rewrites.
// Decoding is strict (no padding, no line breaks, no stray bits in the last
// character, no overlong varints, nothing after the tag), so that each link
// has exactly one token: otherwise a token could be changed and still
// verify, and the fuzz test could not tell forgeries from valid tokens.
const (
	tokenVersion = 1
	// maxTokenLen bounds the work an arbitrary request can cause, and
	// keeps links short enough for any client's URL limit.
	maxTokenLen = 1024
	guidLen     = 16
	linkIDLen   = 16
	tagLen      = sha256.Size

	// maxPurpose is the last icrec.LinkPurpose a token may carry.
	maxPurpose = icrec.LinkEmail
	// maxExpires is 9999-12-31T23:59:59Z, the last second RFC 3339 can
	// write.
	maxExpires = 253402300799
)

var encoding = base64.RawURLEncoding.Strict()

const hexUpper = "0123456789ABCDEF"

// seal returns the token of l signed with k, and the link id it carries,
// which is l.ID or, if that is empty, a new random one.
func seal(k *Key, l *icrec.ExportLink) (token, id string, err error) {
	guid, ok := guidBytes(l.RecordingID)
	if !ok {
		return "", "", fmt.Errorf("signedurl: the recording id %q is not a canonical GUID", l.RecordingID)
	}
	if l.Attachment < 0 {
		return "", "", fmt.Errorf("signedurl: the attachment %d is negative", l.Attachment)
	}
	sec := l.Expires.Unix()
	switch {
	case l.Expires.IsZero():
		return "", "", errors.New("signedurl: the link has no expiry")
	case l.Expires.Nanosecond() != 0:
		return "", "", fmt.Errorf("signedurl: the expiry %s is not a whole second", l.Expires.Format(time.RFC3339Nano))
	case sec <= 0 || sec > maxExpires:
		return "", "", fmt.Errorf("signedurl: the expiry %s is out of range", l.Expires.Format(time.RFC3339))
	}
	var linkID [linkIDLen]byte
	if id = l.ID; id == "" {
		rand.Read(linkID[:])
		id = hex.EncodeToString(linkID[:])
	} else if n, err := hex.Decode(linkID[:], []byte(id)); err != nil || n != linkIDLen || hex.EncodeToString(linkID[:]) != id {
		return "", "", fmt.Errorf("signedurl: the link id %q is not %d lower-case hex digits", id, 2*linkIDLen)
	}

	b := make([]byte, 0, 128+len(l.UserID)+len(l.SessionID)+len(l.ClientAddr))
	b = append(b, tokenVersion, byte(len(k.ID)))
	b = append(b, k.ID...)
	b = append(b, guid[:]...)
	b = binary.AppendUvarint(b, uint64(l.Attachment))
	if l.Purpose > maxPurpose {
		return "", "", fmt.Errorf("signedurl: unknown link %s", l.Purpose)
	}
	b = append(b, byte(l.Purpose))
	b = appendString(b, l.UserID)
	b = appendString(b, l.SessionID)
	b = binary.AppendUvarint(b, uint64(sec))
	b = appendString(b, l.ClientAddr)
	b = append(b, linkID[:]...)
	b = tag(b, k.Secret, b)
	if encoding.EncodedLen(len(b)) > maxTokenLen {
		return "", "", fmt.Errorf("signedurl: the user id, session id and client address (%d bytes together) are too long for a token",
			len(l.UserID)+len(l.SessionID)+len(l.ClientAddr))
	}
	return encoding.EncodeToString(b), id, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// tag appends to dst the HMAC-SHA256 of msg under secret.
func tag(dst, secret, msg []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(msg)
	return m.Sum(dst)
}

// opened is a token taken apart, not yet verified.
type opened struct {
	keyID string
	body  []byte // what the tag covers
	tag   []byte
	link  icrec.ExportLink
}

// open parses token without trusting it. Whatever is wrong with it is
// Forbidden.
func open(token string) (*opened, error) {
	if len(token) > maxTokenLen {
		return nil, malformed(fmt.Sprintf("%d characters long, over the limit of %d", len(token), maxTokenLen))
	}
	// The decoder skips line breaks; nothing but the alphabet may pass.
	for i := 0; i < len(token); i++ {
		if !isBase64URL(token[i]) {
			return nil, malformed(fmt.Sprintf("character %d is not base64url", i+1))
		}
	}
	raw, err := encoding.DecodeString(token)
	if err != nil {
		return nil, malformed("not base64url")
	}
	if len(raw) < tagLen {
		return nil, malformed("too short")
	}
	o := &opened{body: raw[:len(raw)-tagLen], tag: raw[len(raw)-tagLen:]}
	r := reader{b: o.body}
	if v := r.byte("version"); r.err == "" && v != tokenVersion {
		return nil, malformed(fmt.Sprintf("version %d, not %d", v, tokenVersion))
	}
	n := int(r.byte("key id"))
	if r.err == "" && (n == 0 || n > maxKeyIDLen) {
		return nil, malformed(fmt.Sprintf("a key id of %d bytes", n))
	}
	o.keyID = string(r.bytes(n, "key id"))
	o.link.RecordingID = guidString(r.bytes(guidLen, "recording id"))
	if a := r.uvarint("attachment"); a > math.MaxInt {
		r.fail("attachment out of range")
	} else {
		o.link.Attachment = int(a)
	}
	if p := icrec.LinkPurpose(r.byte("purpose")); r.err == "" && p > maxPurpose {
		r.fail(fmt.Sprintf("purpose %d", p))
	} else {
		o.link.Purpose = p
	}
	o.link.UserID = r.string("user id")
	o.link.SessionID = r.string("session id")
	if sec := r.uvarint("expiry"); r.err == "" && (sec == 0 || sec > maxExpires) {
		r.fail("expiry out of range")
	} else {
		o.link.Expires = time.Unix(int64(sec), 0).UTC()
	}
	o.link.ClientAddr = r.string("client address")
	o.link.ID = hex.EncodeToString(r.bytes(linkIDLen, "link id"))
	if r.err == "" && len(r.b) != 0 {
		r.fail(fmt.Sprintf("%d bytes too long", len(r.b)))
	}
	if r.err != "" {
		return nil, malformed(r.err)
	}
	return o, nil
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// reader reads the fields of a token body. The first failure sticks, and
// later reads return zero values, so that open checks once at the end.
type reader struct {
	b   []byte
	err string
}

func (r *reader) fail(why string) {
	if r.err == "" {
		r.err = why
	}
	r.b = nil
}

func (r *reader) bytes(n int, what string) []byte {
	if r.err != "" {
		return nil
	}
	if n > len(r.b) {
		r.fail("cut short in the " + what)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte(what string) byte {
	if b := r.bytes(1, what); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) uvarint(what string) uint64 {
	if r.err != "" {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	switch {
	case n == 0:
		r.fail("cut short in the " + what)
		return 0
	case n < 0:
		r.fail("the " + what + " overflows")
		return 0
	case n > 1 && r.b[n-1] == 0:
		// A shortest varint never ends in a zero byte; a longer one
		// would be a second token for the same link.
		r.fail("the " + what + " is not in its shortest form")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) string(what string) string {
	n := r.uvarint(what + " length")
	if r.err != "" {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.fail("cut short in the " + what)
		return ""
	}
	return string(r.bytes(int(n), what))
}

// verify checks o's tag under k.
func (o *opened) verify(k *Key) bool {
	var buf [tagLen]byte
	return hmac.Equal(tag(buf[:0], k.Secret, o.body), o.tag)
}

// guidBytes returns the 16 bytes of a canonical GUID.
func guidBytes(s string) (b [guidLen]byte, ok bool) {
	if c, ok := icrec.CanonicalGUID(s); !ok || c != s {
		return b, false
	}
	digits := make([]byte, 0, 2*guidLen)
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			digits = append(digits, s[i])
		}
	}
	if _, err := hex.Decode(b[:], digits); err != nil {
		return b, false
	}
	return b, true
}

// guidString writes b as a canonical GUID; nil, from a failed read, gives
// "".
func guidString(b []byte) string {
	if len(b) != guidLen {
		return ""
	}
	s := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s = append(s, '-')
		}
		s = append(s, hexUpper[c>>4], hexUpper[c&0xf])
	}
	return string(s)
}

// The messages are shown to whoever presents the token; the causes, which
// are logged, say what was wrong. Neither quotes the token: it is a
// credential.
func malformed(why string) error {
	return &icrec.Error{Kind: icrec.Forbidden, ID: icrec.IDAccessDenied,
		Message: "This export link is not valid: it is incomplete, altered or not an export link.",
		Err:     errors.New("signedurl: malformed token: " + why)}
}

func unknownKey(id string) error {
	return &icrec.Error{Kind: icrec.Forbidden, ID: icrec.IDAccessDenied,
		Message: "This export link was signed with a key this server does not have, or no longer has; ask for a new link.",
		Err:     fmt.Errorf("signedurl: no key %q", id)}
}

func badTag(id string) error {
	return &icrec.Error{Kind: icrec.Forbidden, ID: icrec.IDAccessDenied,
		Message: "This export link is not valid: it is incomplete, altered or not an export link.",
		Err:     fmt.Errorf("signedurl: the tag does not match under key %q", id)}
}

func expired(at time.Time) error {
	return icrec.Errorf(icrec.Gone, icrec.IDGone, "This export link expired at %s; ask for a new link.", at.UTC().Format(time.RFC3339))
}
