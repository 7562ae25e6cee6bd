package signedurl_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/signedurl"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a fixed clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// secret is a made-up 32-byte secret, every byte fill.
func secret(fill byte) []byte { return bytes.Repeat([]byte{fill}, 32) }

func keySpec(id string, fill byte) string {
	return id + ":" + base64.StdEncoding.EncodeToString(secret(fill))
}

func specRing(t testing.TB, spec string) *signedurl.Keyring {
	t.Helper()
	r, err := signedurl.FromSpec(spec)
	if err != nil {
		t.Fatalf("FromSpec: %v", err)
	}
	return r
}

func specSigner(t testing.TB, spec string) *signedurl.Signer {
	t.Helper()
	return signedurl.New(specRing(t, spec), func() time.Time { return t0 })
}

func sampleLink() *icrec.ExportLink {
	return &icrec.ExportLink{
		RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001",
		Attachment:  0,
		UserID:      "alice",
		SessionID:   "sess-1234",
		Expires:     t0.Add(time.Hour),
		ClientAddr:  "192.0.2.7",
	}
}

func sign(t testing.TB, s *signedurl.Signer, l *icrec.ExportLink) string {
	t.Helper()
	tok, err := s.Sign(l)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return string(tok)
}

// tokenKeyID reads the key id out of a token, as the layout places it.
func tokenKeyID(t testing.TB, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) < 2 || len(b) < 2+int(b[1]) {
		t.Fatalf("token is not a token: %v", err)
	}
	return string(b[2 : 2+int(b[1])])
}

// wantError fails unless err is an *icrec.Error of kind and id that does
// not quote token.
func wantError(t testing.TB, err error, kind icrec.Kind, id, token string) *icrec.Error {
	t.Helper()
	e, ok := errors.AsType[*icrec.Error](err)
	if !ok {
		t.Fatalf("got error %v (%T), want an *icrec.Error of kind %v", err, err, kind)
	}
	if e.Kind != kind || e.ID != id {
		t.Fatalf("got %v/%s (%v), want %v/%s", e.Kind, e.ID, err, kind, id)
	}
	if len(token) >= 8 && (strings.Contains(e.Error(), token) || strings.Contains(e.Message, token)) {
		t.Fatalf("error %q quotes the token", e.Error())
	}
	return e
}

func wantForbidden(t testing.TB, s *signedurl.Signer, token string, now time.Time) {
	t.Helper()
	l, err := s.Verify(token, now)
	if err == nil {
		t.Fatalf("Verify(%q) = %+v, want Forbidden", token, l)
	}
	wantError(t, err, icrec.Forbidden, icrec.IDAccessDenied, token)
}
