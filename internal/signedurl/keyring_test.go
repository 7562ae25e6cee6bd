package signedurl_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"example.com/icrec/internal/signedurl"
)

func TestFromSpec(t *testing.T) {
	sec := secret(9)
	for name, spec := range map[string]string{
		"StdPadded":   "k1:" + base64.StdEncoding.EncodeToString(sec),
		"StdRaw":      "k1:" + base64.RawStdEncoding.EncodeToString(sec),
		"URLPadded":   "k1:" + base64.URLEncoding.EncodeToString(sec),
		"URLRaw":      "k1:" + base64.RawURLEncoding.EncodeToString(sec),
		"Spaces":      " k1:" + base64.StdEncoding.EncodeToString(sec) + " , " + keySpec("k2", 3),
		"LongSecret":  "k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat(sec, 3)),
		"SecondFirst": keySpec("k1", 9) + "," + keySpec("k0", 1),
	} {
		t.Run(name, func(t *testing.T) {
			r, err := signedurl.FromSpec(spec)
			if err != nil {
				t.Fatal(err)
			}
			keys := r.Keys()
			if r.SigningKeyID() != "k1" || keys[0].ID != "k1" || !bytes.HasPrefix(keys[0].Secret, sec) || r.Path() != "" {
				t.Errorf("keyring %v, want k1 first and signing", r)
			}
		})
	}

	t.Run("AllVerify", func(t *testing.T) {
		ring := specSigner(t, keySpec("new", 1)+","+keySpec("old", 2))
		tok := sign(t, specSigner(t, keySpec("old", 2)), sampleLink())
		if _, err := ring.Verify(tok, t0); err != nil {
			t.Errorf("a link of the second key: %v", err)
		}
		if err := ring.Reload(); err != nil {
			t.Errorf("Reload of a spec keyring: %v", err)
		}
	})
}

func TestFromSpecErrors(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(secret(5))
	short := base64.StdEncoding.EncodeToString(secret(5)[:31])
	tests := []struct {
		name, spec, want string
	}{
		{"Empty", "", "no keys"},
		{"Blank", "  ", "no keys"},
		{"NoColon", good, "key 1 of 1: no ':'"},
		{"EmptyID", ":" + good, "key 1 of 1: the id"},
		{"BadID", "a/b:" + good, "key 1 of 1: the id"},
		{"LongID", strings.Repeat("i", 33) + ":" + good, "key 1 of 1: the id"},
		{"EmptySecret", "k1:", "key 1 of 1: the secret of key k1 is not base64"},
		{"NotBase64", "k1:" + good[:20] + "!" + good[21:], "key 1 of 1: the secret of key k1 is not base64"},
		{"MixedAlphabets", "k1:+-" + good[2:], "not base64"},
		{"Short", "k1:" + short, "key 1 of 1: the secret of key k1 is 31 bytes"},
		{"TrailingComma", "k1:" + good + ",", "key 2 of 2: empty entry"},
		{"SecondBad", "k1:" + good + ",k2:" + short + ",k3:" + good, "key 2 of 3:"},
		{"Duplicate", "k1:" + good + ",k1:" + good, "key 2 of 2: the id k1 is also the id of key 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := signedurl.FromSpec(tt.spec)
			if err == nil {
				t.Fatalf("FromSpec = %v, want an error", r)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			for _, s := range []string{good, short, good[:20], good[21:]} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q quotes the secret", err)
				}
			}
		})
	}
}

// TestRedacted checks that no way of printing keys shows a secret.
func TestRedacted(t *testing.T) {
	path := keyPath(t)
	clk := newClock()
	if _, err := signedurl.LoadOrCreate(path, clk.Now); err != nil {
		t.Fatal(err)
	}
	if _, err := signedurl.Rotate(path, t0); err != nil {
		t.Fatal(err)
	}
	ring, err := signedurl.Load(path, t0)
	if err != nil {
		t.Fatal(err)
	}
	keys := ring.Keys()
	signer := signedurl.New(ring, clk.Now)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("keys", "ring", ring, "key", keys[0], "keys", keys)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("keys", "ring", ring, "key", keys[0], "keys", keys)

	var out strings.Builder
	out.WriteString(logs.String())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		fmt.Fprintf(&out, verb+"\n", ring)
		fmt.Fprintf(&out, verb+"\n", *ring)
		fmt.Fprintf(&out, verb+"\n", keys[0])
		fmt.Fprintf(&out, verb+"\n", &keys[0])
		fmt.Fprintf(&out, verb+"\n", keys)
		fmt.Fprintf(&out, verb+"\n", signer)
		fmt.Fprintf(&out, verb+"\n", struct{ K signedurl.Key }{keys[0]})
	}
	text := out.String()
	if !strings.Contains(text, keys[0].ID) || !strings.Contains(text, "REDACTED") {
		t.Fatalf("the output does not show the key ids:\n%s", text)
	}
	for _, k := range keys {
		for _, form := range []string{
			string(k.Secret),
			base64.StdEncoding.EncodeToString(k.Secret)[:12],
			base64.RawURLEncoding.EncodeToString(k.Secret)[:12],
			hex.EncodeToString(k.Secret)[:12],
			strings.ToUpper(hex.EncodeToString(k.Secret)[:12]),
			strings.Trim(fmt.Sprint([]byte(k.Secret)[:4]), "[]"),
		} {
			if strings.Contains(text, form) {
				t.Errorf("the secret of %s shows as %q in:\n%s", k.ID, form, text)
			}
		}
	}
}
