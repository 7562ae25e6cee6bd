package signedurl_test

import (
	"encoding/base64"
	"math"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/signedurl"
)

func TestRoundTrip(t *testing.T) {
	s := specSigner(t, keySpec("k1", 1))
	long := strings.Repeat("u", 300)
	tests := []struct {
		name string
		link icrec.ExportLink
	}{
		{"PrimaryBound", *sampleLink()},
		{"Unbound", icrec.ExportLink{RecordingID: "FFFFFFFF-0000-1111-2222-333333333333", UserID: "bob", SessionID: "s", Expires: t0.Add(time.Second)}},
		{"Attachment", icrec.ExportLink{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", Attachment: 3, UserID: "u", SessionID: "s", Expires: t0.Add(time.Hour), ClientAddr: "2001:db8::1"}},
		{"Playback", icrec.ExportLink{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", Purpose: icrec.LinkPlayback, UserID: "u", SessionID: "s", Expires: t0.Add(time.Hour)}},
		{"Email", icrec.ExportLink{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", Purpose: icrec.LinkEmail, UserID: "u", SessionID: "s", Expires: t0.Add(time.Hour)}},
		{"LargeAttachment", icrec.ExportLink{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", Attachment: math.MaxInt, UserID: "u", SessionID: "s", Expires: t0.Add(time.Hour)}},
		{"EmptyIDs", icrec.ExportLink{RecordingID: "00000000-0000-0000-0000-000000000000", Expires: t0.Add(time.Hour)}},
		{"LongFields", icrec.ExportLink{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", UserID: long, SessionID: long, Expires: t0.Add(signedurl.RetireAfter), ClientAddr: "ünïcode\x00addr"}},
		{"PresetID", icrec.ExportLink{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", UserID: "u", SessionID: "s", Expires: t0.Add(time.Hour), ID: "00112233445566778899aabbccddeeff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := tt.link
			tok := sign(t, s, &l)
			if tt.link.ID != "" && l.ID != tt.link.ID {
				t.Errorf("Sign changed ID %q to %q", tt.link.ID, l.ID)
			}
			if len(l.ID) != 32 {
				t.Errorf("ID %q, want 32 hex digits", l.ID)
			}
			if len(tok) > 1024 || strings.ContainsAny(tok, "/.=+") {
				t.Errorf("token %q is not a compact path segment", tok)
			}
			got, err := s.Verify(tok, t0)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if *got != l || !got.Expires.Equal(l.Expires) {
				t.Errorf("got  %+v\nwant %+v", *got, l)
			}
		})
	}
}

func TestSignTwice(t *testing.T) {
	s := specSigner(t, keySpec("k1", 1))
	a, b := sampleLink(), sampleLink()
	ta, tb := sign(t, s, a), sign(t, s, b)
	if ta == tb || a.ID == b.ID {
		t.Errorf("two links for the same recording got the same token or ID %q", a.ID)
	}
	// With the ID given, signing is deterministic: the ID is what
	// tells links apart.
	c := sampleLink()
	c.ID = a.ID
	if tc := sign(t, s, c); tc != ta {
		t.Errorf("re-signing link %s gave another token", a.ID)
	}
}

func TestSignRejects(t *testing.T) {
	s := specSigner(t, keySpec("k1", 1))
	tests := []struct {
		name   string
		change func(l *icrec.ExportLink)
	}{
		{"LowerCaseGUID", func(l *icrec.ExportLink) { l.RecordingID = strings.ToLower(l.RecordingID) }},
		{"BracedGUID", func(l *icrec.ExportLink) { l.RecordingID = "{" + l.RecordingID + "}" }},
		{"NotGUID", func(l *icrec.ExportLink) { l.RecordingID = "42" }},
		{"NegativeAttachment", func(l *icrec.ExportLink) { l.Attachment = -1 }},
		{"NoExpiry", func(l *icrec.ExportLink) { l.Expires = time.Time{} }},
		{"FractionalExpiry", func(l *icrec.ExportLink) { l.Expires = l.Expires.Add(time.Millisecond) }},
		{"ExpiryBeyondKeys", func(l *icrec.ExportLink) { l.Expires = t0.Add(signedurl.RetireAfter + time.Second) }},
		{"BadID", func(l *icrec.ExportLink) { l.ID = "not-hex" }},
		{"UpperHexID", func(l *icrec.ExportLink) { l.ID = "00112233445566778899AABBCCDDEEFF" }},
		{"TooLong", func(l *icrec.ExportLink) { l.UserID = strings.Repeat("x", 800) }},
		{"UnknownPurpose", func(l *icrec.ExportLink) { l.Purpose = icrec.LinkEmail + 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := sampleLink()
			tt.change(l)
			id := l.ID
			if tok, err := s.Sign(l); err == nil {
				t.Fatalf("Sign(%+v) = %q, want an error", l, string(tok))
			}
			if l.ID != id {
				t.Errorf("a failed Sign set ID to %q", l.ID)
			}
		})
	}
}

func TestTampered(t *testing.T) {
	s := specSigner(t, keySpec("k1", 1))
	tok := sign(t, s, sampleLink())
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("EveryBitOfTheBytes", func(t *testing.T) {
		for i := range raw {
			for bit := range 8 {
				b := []byte(string(raw))
				b[i] ^= 1 << bit
				wantForbidden(t, s, base64.RawURLEncoding.EncodeToString(b), t0)
			}
		}
	})
	t.Run("EveryBitOfTheText", func(t *testing.T) {
		for i := range len(tok) {
			for bit := range 8 {
				b := []byte(tok)
				b[i] ^= 1 << bit
				wantForbidden(t, s, string(b), t0)
			}
		}
	})
	t.Run("EveryCharacter", func(t *testing.T) {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		for i := range len(tok) {
			for _, c := range []byte(alphabet) {
				if c == tok[i] {
					continue
				}
				b := []byte(tok)
				b[i] = c
				wantForbidden(t, s, string(b), t0)
			}
		}
	})
	t.Run("WrongVersion", func(t *testing.T) {
		b := []byte(string(raw))
		b[0] = 2
		wantForbidden(t, s, base64.RawURLEncoding.EncodeToString(b), t0)
	})
	t.Run("ExpiredAndTampered", func(t *testing.T) {
		// Forbidden, not Gone: no field counts before the tag.
		b := []byte(string(raw))
		b[len(b)-1] ^= 1
		wantForbidden(t, s, base64.RawURLEncoding.EncodeToString(b), t0.Add(24*time.Hour))
	})
}

func TestTruncated(t *testing.T) {
	s := specSigner(t, keySpec("k1", 1))
	tok := sign(t, s, sampleLink())
	for n := range len(tok) {
		wantForbidden(t, s, tok[:n], t0)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for n := range len(raw) {
		wantForbidden(t, s, base64.RawURLEncoding.EncodeToString(raw[:n]), t0)
	}
}

func TestPadded(t *testing.T) {
	s := specSigner(t, keySpec("k1", 1))
	tok := sign(t, s, sampleLink())
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for name, bad := range map[string]string{
		"StdPadding":     base64.URLEncoding.EncodeToString(raw),
		"OneEquals":      tok + "=",
		"TwoEquals":      tok + "==",
		"OneChar":        tok + "A",
		"TwoChars":       tok + "AA",
		"FourChars":      tok + "AAAA",
		"TrailingByte":   base64.RawURLEncoding.EncodeToString(append(raw[:len(raw):len(raw)], 0)),
		"TrailingNL":     tok + "\n",
		"LeadingNL":      "\n" + tok,
		"InnerCRLF":      tok[:10] + "\r\n" + tok[10:],
		"Space":          " " + tok,
		"Plus":           "+" + tok[1:],
		"InnerSlash":     tok[:5] + "/" + tok[6:],
		"Dot":            tok + ".",
		"Slash":          tok + "/",
		"Oversize":       tok + strings.Repeat("A", 2048),
		"OversizeQuads":  strings.Repeat("AAAA", 257),
		"Empty":          "",
		"DoubleEncoding": base64.RawURLEncoding.EncodeToString([]byte(tok)),
	} {
		t.Run(name, func(t *testing.T) { wantForbidden(t, s, bad, t0) })
	}
}

func TestKeyMismatch(t *testing.T) {
	verifier := specSigner(t, keySpec("k1", 1))
	t.Run("SameIDOtherSecret", func(t *testing.T) {
		tok := sign(t, specSigner(t, keySpec("k1", 2)), sampleLink())
		wantForbidden(t, verifier, tok, t0)
	})
	t.Run("UnknownID", func(t *testing.T) {
		tok := sign(t, specSigner(t, keySpec("k2", 1)), sampleLink())
		wantForbidden(t, verifier, tok, t0)
	})
	t.Run("SecondKeyVerifies", func(t *testing.T) {
		both := specSigner(t, keySpec("k1", 1)+","+keySpec("k2", 2))
		tok := sign(t, specSigner(t, keySpec("k2", 2)), sampleLink())
		if _, err := both.Verify(tok, t0); err != nil {
			t.Fatalf("Verify with the second key: %v", err)
		}
		if id := tokenKeyID(t, sign(t, both, sampleLink())); id != "k1" {
			t.Errorf("signed with %s, want the first key k1", id)
		}
	})
}

func TestExpiry(t *testing.T) {
	s := specSigner(t, keySpec("k1", 1))
	l := sampleLink()
	tok := sign(t, s, l)
	if _, err := s.Verify(tok, l.Expires.Add(-time.Second)); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	if _, err := s.Verify(tok, l.Expires.Add(-time.Nanosecond)); err != nil {
		t.Fatalf("a nanosecond before expiry: %v", err)
	}
	for _, now := range []time.Time{l.Expires, l.Expires.Add(time.Nanosecond), l.Expires.Add(30 * 24 * time.Hour)} {
		_, err := s.Verify(tok, now)
		e := wantError(t, err, icrec.Gone, icrec.IDGone, tok)
		if want := "This export link expired at 2026-03-01T13:00:00Z"; !strings.HasPrefix(e.Message, want) {
			t.Errorf("message %q, want it to start %q", e.Message, want)
		}
	}
	// Signing links that are already expired works; they are Gone.
	old := sampleLink()
	old.Expires = t0.Add(-time.Hour)
	_, err := s.Verify(sign(t, s, old), t0)
	wantError(t, err, icrec.Gone, icrec.IDGone, "")
}
