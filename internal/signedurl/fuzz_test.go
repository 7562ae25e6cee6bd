package signedurl_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
)

// FuzzVerify checks that Verify never panics, fails only with Forbidden or
// Gone, and accepts nothing but the tokens signed here: the key and the
// link ids are fixed, so every fuzzing process makes the same tokens.
func FuzzVerify(f *testing.F) {
	s := specSigner(f, keySpec("fz", 0x5a)+","+keySpec("old", 0x33))
	signed := map[string]icrec.ExportLink{}
	add := func(l icrec.ExportLink) {
		tok := sign(f, s, &l)
		signed[tok] = l
		f.Add(tok)
	}
	for i, l := range []icrec.ExportLink{
		*sampleLink(),
		{RecordingID: "00000000-0000-0000-0000-000000000000", Expires: t0.Add(time.Second)},
		{RecordingID: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", Attachment: 1 << 40, UserID: "ü", SessionID: strings.Repeat("s", 200), Expires: t0.Add(time.Hour), ClientAddr: "2001:db8::1"},
		{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", Attachment: 2, UserID: "u", SessionID: "s", Expires: t0.Add(-time.Hour)}, // expired
		{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", Purpose: icrec.LinkPlayback, UserID: "u", SessionID: "s", Expires: t0.Add(time.Hour)},
		{RecordingID: "0DE0C017-CD4F-D013-8E31-18D8B7470001", UserID: "u", SessionID: "s", Expires: t0}, // expires now
	} {
		l.ID = fmt.Sprintf("%032x", i+1)
		add(l)
	}
	for _, garbage := range []string{"", "A", "AAAA", "AQ", "_-_-", "====", "!!!!", "AQJrMQ", strings.Repeat("A", 1025), "\n", "AQI\nrMQ"} {
		f.Add(garbage)
	}
	// A token of the other key, which the signer also has.
	other := specSigner(f, keySpec("old", 0x33))
	l := *sampleLink()
	l.ID = fmt.Sprintf("%032x", 99)
	tok := sign(f, other, &l)
	signed[tok] = l
	f.Add(tok)

	f.Fuzz(func(t *testing.T, token string) {
		got, err := s.Verify(token, t0)
		want, known := signed[token]
		if err == nil {
			if !known {
				t.Fatalf("Verify accepted a token not signed here: %+v", got)
			}
			if *got != want {
				t.Fatalf("got %+v, want %+v", *got, want)
			}
			// A link that verifies signs back to the same token under
			// the key that signed it.
			by := s
			if tokenKeyID(t, token) == "old" {
				by = other
			}
			again := *got
			if resigned, err := by.Sign(&again); err != nil || string(resigned) != token {
				t.Fatalf("re-signing %+v: %v, or another token", *got, err)
			}
			return
		}
		e, ok := errors.AsType[*icrec.Error](err)
		if !ok {
			t.Fatalf("error %v is a %T, not an *icrec.Error", err, err)
		}
		switch {
		case e.Kind == icrec.Gone && e.ID == icrec.IDGone:
			if !known || want.Expires.After(t0) {
				t.Fatalf("Gone for a token not signed here, or not expired: %v", err)
			}
		case e.Kind == icrec.Forbidden && e.ID == icrec.IDAccessDenied:
			if known && want.Expires.After(t0) {
				t.Fatalf("Forbidden for a valid token: %v", err)
			}
		default:
			t.Fatalf("error %v of kind %v, id %s", err, e.Kind, e.ID)
		}
		if len(token) >= 8 && strings.Contains(e.Error(), token) {
			t.Fatalf("error %q quotes the token", e.Error())
		}
	})
}
