package signedurl

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

const (
	// minSecretLen is the HMAC-SHA256 output size: a shorter key would
	// be the weakest part of the tag.
	minSecretLen = 32
	maxKeyIDLen  = 32
	newIDLen     = 4 // random bytes in the id of a new key: 8 hex digits
)

// Key is one signing key. Tokens name their key by ID, so that a key can be
// replaced while links signed with it still work. A Key formats, logs and
// encodes to JSON without its Secret, so that it can go into an error or a
// log line; the key file has a type of its own.
type Key struct {
	ID     string
	Secret []byte
	// Created orders the keys of a file: the newest active one signs.
	Created time.Time
	// Retired is when the key stopped signing; zero while it is active.
	// It goes on verifying until RetireAfter later.
	Retired time.Time
}

// RetireAfter is how long a key verifies after a rotation retires it.
// It must stay longer than archive.MaxExportTTL, the longest a link can
// live: a link signed just before a rotation must not outlive its key. The
// margin also covers the second or so in which a running server goes on
// signing with the retired key until it notices the rotation.
const RetireAfter = 8 * 24 * time.Hour

// Active reports whether k signs (if it is the newest active key).
func (k Key) Active() bool { return k.Retired.IsZero() }

// verifies reports whether k still verifies at now.
func (k Key) verifies(now time.Time) bool {
	return k.Retired.IsZero() || now.Before(k.Retired.Add(RetireAfter))
}

func newKey(now time.Time, taken func(id string) bool) Key {
	k := Key{Secret: make([]byte, minSecretLen), Created: now.UTC().Truncate(time.Second)}
	rand.Read(k.Secret)
	var id [newIDLen]byte
	for {
		rand.Read(id[:])
		if k.ID = hex.EncodeToString(id[:]); !taken(k.ID) {
			return k
		}
	}
}

// validKeyID reports whether id can name a key. Ids appear in log lines,
// on command lines and in --link-keys lists, so they keep to characters
// that need no quoting in any of them.
func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isBase64URL(id[i]) {
			return false
		}
	}
	return true
}

func (k Key) String() string {
	s := "{ID:" + k.ID + " Secret:REDACTED"
	if !k.Created.IsZero() {
		s += " Created:" + k.Created.Format(time.RFC3339)
	}
	if !k.Retired.IsZero() {
		s += " Retired:" + k.Retired.Format(time.RFC3339)
	}
	return s + "}"
}

// GoString keeps %#v from printing the secret.
func (k Key) GoString() string { return "signedurl.Key" + k.String() }

// Format writes String for every verb, since the default formats would
// print the secret.
func (k Key) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		f.Write([]byte(k.GoString()))
		return
	}
	f.Write([]byte(k.String()))
}

// MarshalJSON leaves the secret out, for slog's JSON handler, which
// encodes a []Key without asking each Key for its LogValue.
func (k Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID      string    `json:"id"`
		Secret  string    `json:"secret"`
		Created time.Time `json:"created,omitzero"`
		Retired time.Time `json:"retired,omitzero"`
	}{k.ID, "REDACTED", k.Created, k.Retired})
}

// LogValue implements slog.LogValuer.
func (k Key) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("id", k.ID)}
	if !k.Created.IsZero() {
		attrs = append(attrs, slog.Time("created", k.Created))
	}
	if !k.Retired.IsZero() {
		attrs = append(attrs, slog.Time("retired", k.Retired))
	}
	return slog.GroupValue(attrs...)
}
