package icrec

import (
	"fmt"
	"log/slog"
)

// Secret holds a password, token or key in memory. It formats and logs as
// "REDACTED", whatever the verb, so that a secret does not reach a log line
// or an error message by accident; code that needs the value converts it
// with string(s) on purpose. One gap remains: fmt cannot call methods on an
// unexported struct field, so keep secrets in exported fields of anything
// that may be formatted.
type Secret string

const redacted = "REDACTED"

func (Secret) String() string { return redacted }

// Format formats "REDACTED" as the string verbs would (so %q, %10s and %x
// behave), and writes it bare for every other verb, which would otherwise
// print the value. Only %p escapes: fmt handles it before any method.
func (Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		f.Write([]byte(redacted))
	case verb == 's', verb == 'v', verb == 'q', verb == 'x', verb == 'X':
		fmt.Fprintf(f, fmt.FormatString(f, verb), redacted)
	default:
		f.Write([]byte(redacted))
	}
}

// GoString keeps %#v from printing the value.
func (Secret) GoString() string { return redacted }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText keeps encoders from writing the value.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// PasswordHasher hashes passwords for storage and checks them at login.
type PasswordHasher interface {
	// Hash returns an encoded hash of password that includes its own
	// parameters and salt.
	Hash(password Secret) (string, error)
	// Verify reports whether password matches encoded. rehash is true when
	// the hash was made with weaker parameters than the hasher now uses, so
	// the caller should store a fresh hash. An error means encoded is not a
	// hash this hasher understands.
	Verify(encoded string, password Secret) (ok, rehash bool, err error)
	// DummyHash returns a valid hash of an unknown random password. Logins
	// for users that do not exist verify against it, so that they take as
	// long as a wrong password and do not reveal which users exist.
	DummyHash() string
}
