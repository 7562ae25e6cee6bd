package signedurl_test

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/signedurl"
)

// TestSignerFollowsRotation plays icrec keys rotate while two servers
// run over the same key file.
func TestSignerFollowsRotation(t *testing.T) {
	path := keyPath(t)
	clk := newClock()
	open := func() *signedurl.Signer {
		ring, err := signedurl.LoadOrCreate(path, clk.Now)
		if err != nil {
			t.Fatal(err)
		}
		return signedurl.New(ring, clk.Now)
	}
	a, b := open(), open()
	k1 := a.Keyring().SigningKeyID()
	before := sign(t, a, sampleLink())

	rot, err := signedurl.Rotate(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	k2 := rot.New.ID
	// Within the second the Signers have not looked yet.
	if id := tokenKeyID(t, sign(t, a, sampleLink())); id != k1 {
		t.Errorf("signed with %s at once after the rotation, want the old key %s until the next check", id, k1)
	}
	clk.Add(time.Second)
	after := sign(t, a, sampleLink())
	if id := tokenKeyID(t, after); id != k2 {
		t.Errorf("signed with %s a second after the rotation, want %s", id, k2)
	}
	// b has not signed since; a token of the new key makes it look.
	if _, err := b.Verify(after, clk.Now()); err != nil {
		t.Errorf("b verifying a link of the new key: %v", err)
	}
	if b.Keyring().SigningKeyID() != k2 {
		t.Errorf("b signs with %s after reloading, want %s", b.Keyring().SigningKeyID(), k2)
	}
	for _, s := range []*signedurl.Signer{a, b} {
		if _, err := s.Verify(before, clk.Now()); err != nil {
			t.Errorf("a link signed before the rotation: %v", err)
		}
	}

	// Tokens naming unknown keys make a Signer look at most once a
	// second, so a key added in between waits for the next second.
	wantForbidden(t, b, sign(t, specSigner(t, keySpec("nokey", 1)), sampleLink()), clk.Now())
	rot, err = signedurl.Rotate(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	newest := sign(t, a, sampleLink())
	clk.Add(-time.Second / 2)
	wantForbidden(t, b, newest, clk.Now())
	clk.Add(time.Second / 2)
	if _, err := b.Verify(newest, clk.Now()); err != nil {
		t.Errorf("b verifying a link of key %s: %v", rot.New.ID, err)
	}
}

func TestReload(t *testing.T) {
	path := keyPath(t)
	clk := newClock()
	ring, err := signedurl.LoadOrCreate(path, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	s := signedurl.New(ring, clk.Now)
	var logs bytes.Buffer
	s.Log = slog.New(slog.NewTextHandler(&logs, nil))
	k1 := ring.SigningKeyID()

	rot, err := signedurl.Rotate(path, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if id := tokenKeyID(t, sign(t, s, sampleLink())); id != rot.New.ID {
		t.Errorf("signed with %s after Reload, want %s", id, rot.New.ID)
	}

	// A broken file leaves the Signer with the keys it has, and is
	// logged once however often the Signer looks.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Reload of a 0644 file: %v", err)
	}
	if _, err := signedurl.Rotate(path, clk.Now()); err == nil {
		t.Fatal("Rotate of a 0644 file succeeded")
	}
	os.Chmod(path, 0o600)
	if _, err := signedurl.Rotate(path, clk.Now()); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	for range 3 {
		clk.Add(time.Second)
		if id := tokenKeyID(t, sign(t, s, sampleLink())); id != rot.New.ID {
			t.Errorf("signed with %s while the file is broken, want %s", id, rot.New.ID)
		}
	}
	if n := strings.Count(logs.String(), "chmod 600"); n != 1 {
		t.Errorf("logged the failure %d times, want once:\n%s", n, logs.String())
	}
	if tok := sign(t, s, sampleLink()); tokenKeyID(t, tok) == k1 {
		t.Error("signed with the retired key")
	}
}
