// Package passwd hashes passwords for storage with argon2id and checks them
// at login.
//
// A hash is stored as a PHC string, the form the reference argon2 tool prints:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64. Because every hash carries
// its own parameters, the parameters can be raised later without breaking old
// hashes: Verify reads them from the hash, and reports rehash so that the
// caller replaces a weaker hash at the user's next successful login.
//
// The stored hash is input like any other: a corrupt row, an import from
// another system or an attacker with write access to the database can put
// anything there. Verify therefore parses strictly and refuses parameters
// that would let one login allocate gigabytes or run for minutes.
package passwd

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"example.com/icrec"
	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters of new hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // lanes; part of the hash, so changing it changes the result
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams is the OWASP Password Storage Cheat Sheet recommendation for
// argon2id (m=19 MiB, t=2, p=1). It keeps a login near the latency users
// accept while costing an attacker 19 MiB per guess.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Bounds on parameters, both for a Hasher and for the hashes Verify accepts.
// The upper ones are far above any sensible setting; they exist only so that a
// hostile hash cannot exhaust the server. The lower ones reject hashes too
// weak to be worth keeping (and the minima RFC 9106 sets).
const (
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
	maxThreads = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 128
)

// maxEncodedLen is comfortably above the longest hash within the bounds
// (about 310 bytes). Checking it first keeps Verify from splitting or decoding
// megabytes when the column holds something else entirely.
const maxEncodedLen = 512

// limits are the bounds Verify applies to a stored hash. They are a field of
// Hasher, rather than constants, only so that the fuzz test can lower them
// and still run thousands of verifications a second.
type limits struct {
	memory  uint32
	time    uint32
	threads uint8
}

var defaultLimits = limits{memory: maxMemory, time: maxTime, threads: maxThreads}

// Hasher hashes and verifies passwords with argon2id. It is safe for
// concurrent use. The zero Hasher is not usable; call New.
type Hasher struct {
	p     Params
	max   limits
	dummy func() string
}

var _ icrec.PasswordHasher = (*Hasher)(nil)

// New returns a Hasher that makes new hashes with p. It panics if p is
// invalid (see Params.Validate): parameters come from code or from
// configuration that the caller has validated, and a Hasher whose own hashes
// Verify would reject must never reach production.
func New(p Params) *Hasher {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	h := &Hasher{p: p, max: defaultLimits}
	// Computed on first use rather than here, so that commands that only
	// hash (user add) do not pay for a second hash.
	h.dummy = sync.OnceValue(func() string {
		pw := make([]byte, 32)
		rand.Read(pw) // never fails: crypto/rand crashes the program instead
		return h.hash(pw)
	})
	return h
}

// Validate reports whether p is within the bounds that Verify accepts.
func (p Params) Validate() error {
	if err := p.check(defaultLimits); err != nil {
		return fmt.Errorf("passwd: invalid parameters: %w", err)
	}
	return nil
}

func (p Params) check(lim limits) error {
	switch {
	case p.Threads < 1 || p.Threads > lim.threads:
		return fmt.Errorf("parallelism p=%d is outside 1..%d", p.Threads, lim.threads)
	// RFC 9106 requires at least 8 KiB of memory per lane.
	case p.Memory < 8*uint32(p.Threads) || p.Memory > lim.memory:
		return fmt.Errorf("memory m=%d KiB is outside %d..%d KiB", p.Memory, 8*uint32(p.Threads), lim.memory)
	case p.Time < 1 || p.Time > lim.time:
		return fmt.Errorf("passes t=%d is outside 1..%d", p.Time, lim.time)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d bytes is outside %d..%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d bytes is outside %d..%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Params returns the parameters h uses for new hashes.
func (h *Hasher) Params() Params { return h.p }

// Hash returns the PHC string of password under a fresh random salt. The
// error is always nil; it is there to satisfy icrec.PasswordHasher.
func (h *Hasher) Hash(password icrec.Secret) (string, error) {
	return h.hash([]byte(password)), nil
}

func (h *Hasher) hash(password []byte) string {
	salt := make([]byte, h.p.SaltLen)
	rand.Read(salt) // never fails: crypto/rand crashes the program instead
	return encode(h.p, salt, argon2.IDKey(password, salt, h.p.Time, h.p.Memory, h.p.Threads, h.p.KeyLen))
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether password matches encoded. rehash is true only when
// the password matched and the hash is weaker than h would make now (less
// memory, fewer passes, a shorter salt) or has a different key length; it is
// never true for a wrong password, so a caller that checks rehash before ok
// cannot store a hash of the wrong password. Stronger hashes are kept.
//
// An error means encoded is not a well-formed argon2id hash within bounds.
// Errors describe what is wrong but never quote the salt or key, and never
// mention the password.
func (h *Hasher) Verify(encoded string, password icrec.Secret) (ok, rehash bool, err error) {
	p, salt, key, err := decode(encoded, h.max)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false, nil
	}
	rehash = p.Memory < h.p.Memory || p.Time < h.p.Time || p.SaltLen < h.p.SaltLen || p.KeyLen != h.p.KeyLen
	return true, rehash, nil
}

// DummyHash returns a hash of a random password, made with h's parameters.
// For an unknown user id, callers verify the given password against it and
// then reject the login, so that "no such user" takes as long as "wrong
// password" and response times do not reveal which user ids exist. The hash
// is computed on the first call and the same one is returned after.
func (h *Hasher) DummyHash() string { return h.dummy() }

// decode parses a PHC argon2id string. It checks everything before it
// allocates anything proportional to the parameters.
func decode(s string, lim limits) (p Params, salt, key []byte, err error) {
	fail := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("passwd: malformed hash: "+format, args...)
	}
	if len(s) > maxEncodedLen {
		return fail("%d bytes long, more than any argon2id hash within bounds", len(s))
	}
	if s == "" {
		return fail("empty string")
	}
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		return fail("does not start with '$'; want $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>")
	}
	alg, rest, _ := strings.Cut(rest, "$")
	switch alg {
	case "argon2id":
	case "argon2i", "argon2d":
		// Name the variant: it is the likely mistake when importing hashes.
		return fail("algorithm is %s; only argon2id is supported", alg)
	default:
		// Do not quote it: a column that holds a plaintext password by
		// mistake must not end up in a log.
		return fail("algorithm is not argon2id")
	}
	ver, rest, _ := strings.Cut(rest, "$")
	v, ok := strings.CutPrefix(ver, "v=")
	if !ok {
		return fail("missing version field v=%d after the algorithm", argon2.Version)
	}
	if n, ok := parseUint(v); !ok || n != argon2.Version {
		return fail("unsupported version; only v=%d is supported", argon2.Version)
	}
	params, rest, _ := strings.Cut(rest, "$")
	saltB64, keyB64, ok := strings.Cut(rest, "$")
	if !ok {
		return fail("want 5 '$'-separated fields (algorithm, version, parameters, salt, key)")
	}
	if strings.Contains(keyB64, "$") {
		return fail("too many '$'-separated fields; want 5 (algorithm, version, parameters, salt, key)")
	}

	// The PHC format fixes the order m, t, p. Values are decimal without
	// sign or leading zeros, so each hash has exactly one spelling.
	names := [...]string{"m", "t", "p"}
	var vals [len(names)]uint32
	var seen [len(names)]bool
	inOrder := true
	for i, kv := range strings.Split(params, ",") {
		if kv == "" {
			return fail("parameter %d is empty", i+1)
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fail("parameter %d is not name=value", i+1)
		}
		j := slices.Index(names[:], k)
		switch {
		case j < 0 && (k == "keyid" || k == "data"):
			return fail("parameter %q is not supported", k)
		case j < 0:
			return fail("unknown parameter %q; want m, t and p", k)
		case seen[j]:
			return fail("duplicate parameter %q", k)
		}
		n, ok := parseUint(v)
		if !ok {
			return fail("parameter %s is not a decimal number below 2^32", k)
		}
		vals[j], seen[j] = n, true
		inOrder = inOrder && j == i
	}
	for j, name := range names {
		if !seen[j] {
			return fail("missing parameter %q", name)
		}
	}
	if !inOrder {
		return fail("parameters out of order; want m, t, p")
	}
	if vals[2] > 255 {
		return fail("parallelism p=%d is outside 1..%d", vals[2], lim.threads)
	}
	p = Params{Memory: vals[0], Time: vals[1], Threads: uint8(vals[2])}

	// The length check above bounds what these can allocate.
	if salt, err = decodeBase64(saltB64); err != nil {
		return fail("salt: %v", err)
	}
	if key, err = decodeBase64(keyB64); err != nil {
		return fail("key: %v", err)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(lim); err != nil {
		return fail("%v", err)
	}
	return p, salt, key, nil
}

// parseUint parses a canonical decimal uint32: digits only, no sign, no
// leading zero, no underscores.
func parseUint(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// decodeBase64 decodes unpadded standard base64 and insists on the canonical
// form, because the decoder alone skips newlines and tolerates stray bits.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		if ce, ok := errors.AsType[base64.CorruptInputError](err); ok {
			return nil, fmt.Errorf("invalid unpadded base64 at offset %d", int64(ce))
		}
		return nil, errors.New("invalid unpadded base64")
	}
	if base64.RawStdEncoding.EncodeToString(b) != s {
		return nil, errors.New("not canonical unpadded base64")
	}
	return b, nil
}
