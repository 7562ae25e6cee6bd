package signedurl

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
)

// Keyring is a set of keys: one that signs, and any number that only
// verify. It does not change once made; Rotate writes a new file, and
// Signer switches to the keyring read from it.
type Keyring struct {
	keys    []Key
	signing int // index in keys of the key that signs, or -1
	// path is the file the keys came from, "" for FromSpec; file is what
	// it was when read, so that a Signer can tell it was replaced.
	path string
	file os.FileInfo
}

func newKeyring(keys []Key, path string, file os.FileInfo) *Keyring {
	r := &Keyring{keys: keys, signing: -1, path: path, file: file}
	for i, k := range keys {
		if k.Active() && (r.signing < 0 || k.Created.After(keys[r.signing].Created)) {
			r.signing = i
		}
	}
	return r
}

// FromSpec returns the keyring of a comma-separated list of ID:SECRET
// entries, as --link-keys gives it, where SECRET is at least 32 bytes in
// standard or URL-safe base64, padded or not. The first key signs, and all
// verify; since the list is not written anywhere, rotating is the
// operator's job: put a new key first and keep the old one for
// RetireAfter. Errors name the bad entry by position and never quote a
// secret.
func FromSpec(spec string) (*Keyring, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("no keys given: give ID:BASE64SECRET, or several separated by commas")
	}
	entries := strings.Split(spec, ",")
	keys := make([]Key, 0, len(entries))
	for i, e := range entries {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("key %d of %d: %s", i+1, len(entries), fmt.Sprintf(format, args...))
		}
		id, secret, ok := strings.Cut(strings.TrimSpace(e), ":")
		switch {
		case strings.TrimSpace(e) == "":
			return nil, bad("empty entry")
		case !ok:
			// Without a colon the entry may be a secret alone: do not
			// quote any of it.
			return nil, bad("no ':' between the id and the secret; give ID:BASE64SECRET")
		case !validKeyID(id):
			return nil, bad("the id must be 1 to %d letters, digits, '-' or '_'", maxKeyIDLen)
		}
		b, err := decodeSecret(secret)
		switch {
		case err != nil:
			return nil, bad("the secret of key %s is not base64", id)
		case len(b) < minSecretLen:
			return nil, bad("the secret of key %s is %d bytes; it must be at least %d (make one with: head -c 32 /dev/urandom | base64)", id, len(b), minSecretLen)
		}
		if j := slices.IndexFunc(keys, func(k Key) bool { return k.ID == id }); j >= 0 {
			return nil, bad("the id %s is also the id of key %d", id, j+1)
		}
		keys = append(keys, Key{ID: id, Secret: b})
	}
	// All Created times are zero, so newKeyring picks the first.
	return newKeyring(keys, "", nil), nil
}

// decodeSecret accepts both base64 alphabets, padded or not, since people
// paste what their tools print.
func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, errors.New("empty")
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	return enc.DecodeString(s)
}

// Keys returns copies of the keys, in the order of the file (newest first,
// as Rotate writes it) or of the spec.
func (r *Keyring) Keys() []Key {
	keys := make([]Key, len(r.keys))
	for i, k := range r.keys {
		k.Secret = slices.Clone(k.Secret)
		keys[i] = k
	}
	return keys
}

// SigningKeyID returns the id of the key that signs, or "" if none does.
func (r *Keyring) SigningKeyID() string {
	if k, ok := r.signingKey(); ok {
		return k.ID
	}
	return ""
}

// Path returns the key file the keys came from, or "" if they came from a
// spec.
func (r *Keyring) Path() string { return r.path }

func (r *Keyring) signingKey() (*Key, bool) {
	if r == nil || r.signing < 0 {
		return nil, false
	}
	return &r.keys[r.signing], true
}

// verifyingKey returns the key named id if it verifies at now.
func (r *Keyring) verifyingKey(id string, now time.Time) (*Key, bool) {
	if r == nil {
		return nil, false
	}
	for i := range r.keys {
		if k := &r.keys[i]; k.ID == id && k.verifies(now) {
			return k, true
		}
	}
	return nil, false
}

// String lists the key ids and which one signs, never the secrets. It
// and the other formatting methods have value receivers so that a Keyring
// value, not only a pointer, formats without its secrets.
func (r Keyring) String() string {
	var b strings.Builder
	b.WriteString("Keyring{")
	if r.path != "" {
		b.WriteString(r.path + ": ")
	}
	for i, k := range r.keys {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(k.ID)
		switch {
		case i == r.signing:
			b.WriteString("(signs)")
		case !k.Active():
			b.WriteString("(retired " + k.Retired.Format(time.RFC3339) + ")")
		}
	}
	return b.String() + "}"
}

// GoString keeps %#v from printing the secrets.
func (r Keyring) GoString() string { return r.String() }

// Format writes String for every verb, since the default formats would
// print the secrets.
func (r Keyring) Format(f fmt.State, verb rune) { f.Write([]byte(r.String())) }

// LogValue implements slog.LogValuer.
func (r Keyring) LogValue() slog.Value {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.ID
	}
	return slog.GroupValue(slog.String("path", r.path), slog.String("signing", r.SigningKeyID()), slog.Any("keys", ids))
}
