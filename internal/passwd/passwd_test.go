package passwd_test

import (
	"encoding/base64"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"example.com/icrec"
	"example.com/icrec/internal/passwd"
)

// fast keeps the tests quick; DefaultParams is exercised by
// TestDefaultParams and the benchmarks.
var fast = passwd.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const password = icrec.Secret("correct horse battery staple")

// refHash is the argon2id known-answer vector of the reference
// implementation's test suite (phc-winner-argon2 src/test.c): password
// "password", salt "somesalt", m=65536, t=2, p=1.
const refHash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"

func mustHash(t testing.TB, h *passwd.Hasher, pw icrec.Secret) string {
	t.Helper()
	s, err := h.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultParams(t *testing.T) {
	if err := passwd.DefaultParams.Validate(); err != nil {
		t.Fatal(err)
	}
	h := passwd.New(passwd.DefaultParams)
	s := mustHash(t, h, password)
	re := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !re.MatchString(s) {
		t.Fatalf("Hash = %q, want match for %s", s, re)
	}
	ok, rehash, err := h.Verify(s, password)
	if err != nil || !ok || rehash {
		t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestReferenceVector(t *testing.T) {
	h := passwd.New(fast)
	ok, rehash, err := h.Verify(refHash, "password")
	// m and t are above fast's, but the 8-byte salt is shorter than 16.
	if err != nil || !ok || !rehash {
		t.Fatalf("Verify = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(refHash, "Password"); ok {
		t.Fatal("Verify accepted the wrong password")
	}
	if got, err := passwd.Reencode(refHash); err != nil || got != refHash {
		t.Fatalf("Reencode = %q, %v; want %q", got, err, refHash)
	}
}

func TestRoundTrip(t *testing.T) {
	h := passwd.New(fast)
	for _, pw := range []icrec.Secret{"", "x", password, "pässwörd ✓", icrec.Secret(strings.Repeat("long", 1000))} {
		s := mustHash(t, h, pw)
		ok, rehash, err := h.Verify(s, pw)
		if err != nil || !ok || rehash {
			t.Errorf("Verify(Hash(%d-byte password)) = %v, %v, %v; want true, false, nil", len(pw), ok, rehash, err)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	h := passwd.New(fast)
	s := mustHash(t, h, password)
	for _, pw := range []icrec.Secret{"", password + " ", password[:len(password)-1], "Correct horse battery staple"} {
		ok, rehash, err := h.Verify(s, pw)
		if err != nil || ok || rehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want false, false, nil", string(pw), ok, rehash, err)
		}
	}
}

func TestSaltsDiffer(t *testing.T) {
	h := passwd.New(fast)
	a, b := mustHash(t, h, password), mustHash(t, h, password)
	if a == b {
		t.Fatalf("two hashes of the same password are equal: %q", a)
	}
	if a[:strings.LastIndexByte(a, '$')] == b[:strings.LastIndexByte(b, '$')] {
		t.Fatalf("two hashes share a salt: %q, %q", a, b)
	}
}

func TestRehash(t *testing.T) {
	with := func(f func(*passwd.Params)) passwd.Params {
		p := fast
		f(&p)
		return p
	}
	tests := []struct {
		name         string
		stored, want passwd.Params // stored made the hash; want is the hasher's now
		rehash       bool
	}{
		{"OK", fast, fast, false},
		{"WeakerMemory", fast, with(func(p *passwd.Params) { p.Memory *= 2 }), true},
		{"WeakerTime", fast, with(func(p *passwd.Params) { p.Time++ }), true},
		{"ShorterSalt", with(func(p *passwd.Params) { p.SaltLen = 8 }), fast, true},
		{"LongerKeyWanted", fast, with(func(p *passwd.Params) { p.KeyLen = 64 }), true},
		{"ShorterKeyWanted", fast, with(func(p *passwd.Params) { p.KeyLen = 16 }), true},
		{"StrongerMemory", with(func(p *passwd.Params) { p.Memory *= 2 }), fast, false},
		{"StrongerTime", with(func(p *passwd.Params) { p.Time++ }), fast, false},
		{"LongerSalt", with(func(p *passwd.Params) { p.SaltLen = 32 }), fast, false},
		{"OtherThreads", with(func(p *passwd.Params) { p.Threads = 2 }), fast, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustHash(t, passwd.New(tt.stored), password)
			h := passwd.New(tt.want)
			ok, rehash, err := h.Verify(s, password)
			if err != nil || !ok {
				t.Fatalf("Verify = %v, %v; want true, nil", ok, err)
			}
			if rehash != tt.rehash {
				t.Fatalf("rehash = %v, want %v", rehash, tt.rehash)
			}
			// A wrong password must never ask for a rehash, or a careless
			// caller would store a hash of it.
			if ok, rehash, err := h.Verify(s, "wrong"); ok || rehash || err != nil {
				t.Fatalf("Verify(wrong) = %v, %v, %v; want false, false, nil", ok, rehash, err)
			}
		})
	}
}

func b64(n int) string { return base64.RawStdEncoding.EncodeToString(make([]byte, n)) }

// malformed are encodings Verify must reject. They are also the fuzz seeds.
var malformed = []struct{ name, encoded string }{
	{"Empty", ""},
	{"Plaintext", "correct horse battery staple"},
	{"NoLeadingDollar", refHash[1:]},
	{"Argon2i", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA"},
	{"Argon2d", strings.Replace(refHash, "argon2id", "argon2d", 1)},
	{"Bcrypt", "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
	{"UpperCaseAlgorithm", strings.Replace(refHash, "argon2id", "ARGON2ID", 1)},
	{"MissingVersion", strings.Replace(refHash, "$v=19", "", 1)},
	{"Version16", strings.Replace(refHash, "v=19", "v=16", 1)},
	{"VersionLeadingZero", strings.Replace(refHash, "v=19", "v=019", 1)},
	{"VersionEmpty", strings.Replace(refHash, "v=19", "v=", 1)},
	{"EmptyParams", strings.Replace(refHash, "m=65536,t=2,p=1", "", 1)},
	{"MissingM", strings.Replace(refHash, "m=65536,", "", 1)},
	{"MissingT", strings.Replace(refHash, "t=2,", "", 1)},
	{"MissingP", strings.Replace(refHash, ",p=1", "", 1)},
	{"DuplicateM", strings.Replace(refHash, "m=65536", "m=65536,m=65536", 1)},
	{"DuplicateP", strings.Replace(refHash, "p=1", "p=1,p=1", 1)},
	{"UnknownParam", strings.Replace(refHash, "p=1", "p=1,x=1", 1)},
	{"KeyID", strings.Replace(refHash, "p=1", "p=1,keyid=AAAA", 1)},
	{"Data", strings.Replace(refHash, "p=1", "p=1,data=AAAA", 1)},
	{"OutOfOrder", strings.Replace(refHash, "m=65536,t=2", "t=2,m=65536", 1)},
	{"NoEquals", strings.Replace(refHash, "m=65536", "m65536", 1)},
	{"EmptyValue", strings.Replace(refHash, "m=65536", "m=", 1)},
	{"TrailingComma", strings.Replace(refHash, "p=1", "p=1,", 1)},
	{"SpaceInParams", strings.Replace(refHash, "t=2", "t= 2", 1)},
	{"NotANumber", strings.Replace(refHash, "m=65536", "m=lots", 1)},
	{"LeadingZero", strings.Replace(refHash, "m=65536", "m=065536", 1)},
	{"PlusSign", strings.Replace(refHash, "m=65536", "m=+65536", 1)},
	{"Negative", strings.Replace(refHash, "t=2", "t=-2", 1)},
	{"Hex", strings.Replace(refHash, "m=65536", "m=0x10000", 1)},
	{"Underscore", strings.Replace(refHash, "m=65536", "m=65_536", 1)},
	{"Overflow32", strings.Replace(refHash, "m=65536", "m=4294967296", 1)},
	{"HugeNumber", strings.Replace(refHash, "m=65536", "m=99999999999999999999999", 1)},
	{"MemoryOverLimit", strings.Replace(refHash, "m=65536", "m=1048577", 1)},
	{"MemoryMax32", strings.Replace(refHash, "m=65536", "m=4294967295", 1)},
	{"MemoryZero", strings.Replace(refHash, "m=65536", "m=0", 1)},
	{"MemoryBelow8PerLane", strings.Replace(refHash, "m=65536,t=2,p=1", "m=31,t=2,p=4", 1)},
	{"TimeZero", strings.Replace(refHash, "t=2", "t=0", 1)},
	{"TimeOverLimit", strings.Replace(refHash, "t=2", "t=65", 1)},
	{"ThreadsZero", strings.Replace(refHash, "p=1", "p=0", 1)},
	{"ThreadsOverLimit", strings.Replace(refHash, "p=1", "p=65", 1)},
	{"ThreadsOver255", strings.Replace(refHash, "p=1", "p=257", 1)},
	{"MissingKey", refHash[:strings.LastIndexByte(refHash, '$')]},
	{"EmptyKey", refHash[:strings.LastIndexByte(refHash, '$')+1]},
	{"ExtraField", refHash + "$AAAA"},
	{"TrailingDollar", refHash + "$"},
	{"SaltInvalidChar", strings.Replace(refHash, "c29tZXNhbHQ", "c29tZXNhbH!", 1)},
	{"SaltPadded", strings.Replace(refHash, "c29tZXNhbHQ", "c29tZXNhbHQ=", 1)},
	{"SaltURLAlphabet", strings.Replace(refHash, "c29tZXNhbHQ", "c29tZXNh-_Q", 1)},
	{"SaltNewline", strings.Replace(refHash, "c29tZXNhbHQ", "c29tZX\nNhbHQ", 1)},
	{"SaltStrayBits", strings.Replace(refHash, "c29tZXNhbHQ", "c29tZXNhbHR", 1)},
	{"SaltImpossibleLength", strings.Replace(refHash, "c29tZXNhbHQ", "c29tZXNhbHQAA", 1)},
	{"SaltEmpty", strings.Replace(refHash, "c29tZXNhbHQ", "", 1)},
	{"SaltTooShort", strings.Replace(refHash, "c29tZXNhbHQ", b64(7), 1)},
	{"SaltTooLong", strings.Replace(refHash, "c29tZXNhbHQ", b64(65), 1)},
	{"KeyTooShort", refHash[:strings.LastIndexByte(refHash, '$')+1] + b64(15)},
	{"KeyTooLong", refHash[:strings.LastIndexByte(refHash, '$')+1] + b64(129)},
	{"KeyTrailingNewline", refHash + "\n"},
	{"KeyTrailingSpace", refHash + " "},
	{"LeadingSpace", " " + refHash},
	{"TooLong", refHash + strings.Repeat("A", 1000)},
	{"ManyDollars", strings.Repeat("$", 10000)},
	{"ManyCommas", strings.Replace(refHash, "p=1", "p=1"+strings.Repeat(",", 300), 1)},
}

func TestVerifyMalformed(t *testing.T) {
	h := passwd.New(fast)
	const secret = "hunter2-do-not-log-me"
	for _, tt := range malformed {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.encoded, secret)
			if err == nil {
				t.Fatalf("Verify(%q) = %v, %v, nil; want an error", tt.encoded, ok, rehash)
			}
			if ok || rehash {
				t.Errorf("Verify returned ok=%v, rehash=%v with an error", ok, rehash)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "passwd: malformed hash: ") {
				t.Errorf("error %q lacks the passwd prefix", msg)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("error %q contains the password", msg)
			}
			if strings.Contains(msg, "c29tZXNhbHQ") || strings.Contains(msg, "CTFhFdXP") {
				t.Errorf("error %q quotes the salt or key", msg)
			}
			t.Log(msg)
		})
	}
}

// The bounds themselves are accepted; one past them is not. Only Validate is
// called at the upper bounds, since hashing there costs a gigabyte.
func TestValidateBounds(t *testing.T) {
	max := passwd.Params{Memory: 1 << 20, Time: 64, Threads: 64, SaltLen: 64, KeyLen: 128}
	min := passwd.Params{Memory: 8, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}
	for _, p := range []passwd.Params{max, min} {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	bad := []passwd.Params{
		{},
		{Memory: max.Memory + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: max.Time + 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: max.Threads + 1, SaltLen: 16, KeyLen: 32},
		{Memory: 15, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 7, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 65, KeyLen: 32},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 15},
		{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 129},
	}
	for _, p := range bad {
		if err := p.Validate(); err == nil {
			t.Errorf("%+v: Validate = nil, want an error", p)
		}
	}
}

func TestNewPanicsOnInvalidParams(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(Params{}) did not panic")
		}
	}()
	passwd.New(passwd.Params{})
}

func TestDummyHash(t *testing.T) {
	h := passwd.New(fast)
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Go(func() { got[i] = h.DummyHash() })
	}
	wg.Wait()
	for _, s := range got[1:] {
		if s != got[0] {
			t.Fatalf("DummyHash changed: %q, then %q", got[0], s)
		}
	}
	want := mustHash(t, h, password)
	// Same parameters as a real hash, so verifying it costs the same.
	prefix := func(s string) string { return s[:strings.LastIndexByte(s[:strings.LastIndexByte(s, '$')], '$')] }
	if prefix(got[0]) != prefix(want) {
		t.Errorf("DummyHash parameters %q, want %q", prefix(got[0]), prefix(want))
	}
	for _, pw := range []icrec.Secret{"", password} {
		ok, rehash, err := h.Verify(got[0], pw)
		if err != nil || ok || rehash {
			t.Errorf("Verify(DummyHash, %q) = %v, %v, %v; want false, false, nil", string(pw), ok, rehash, err)
		}
	}
}

func TestConcurrent(t *testing.T) {
	h := passwd.New(fast)
	s := mustHash(t, h, password)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if ok, _, err := h.Verify(s, password); !ok || err != nil {
				t.Errorf("Verify = %v, %v", ok, err)
			}
			if _, err := h.Hash(password); err != nil {
				t.Error(err)
			}
			h.DummyHash()
		})
	}
	wg.Wait()
}

// FuzzVerify checks that no stored string, however broken or hostile, makes
// Verify panic or allocate more than its bounds allow, and that whatever it
// accepts has exactly one spelling. The bounds are lowered so that valid
// hashes stay cheap enough to fuzz; TestValidateBounds and the malformed
// table cover the production bounds.
func FuzzVerify(f *testing.F) {
	cheap := passwd.Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}
	const maxMemoryKiB = 64
	h := passwd.NewWithLimits(cheap, maxMemoryKiB, 2, 4)
	for _, pw := range []string{"", "password", "pässwörd"} {
		f.Add(mustHash(f, h, icrec.Secret(pw)), pw)
		f.Add(mustHash(f, passwd.NewWithLimits(passwd.Params{Memory: 64, Time: 2, Threads: 4, SaltLen: 8, KeyLen: 16}, 64, 2, 4), icrec.Secret(pw)), pw)
	}
	f.Add(refHash, "password")
	for _, tt := range malformed {
		f.Add(tt.encoded, "password")
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ok, rehash, err := h.Verify(encoded, icrec.Secret(pw))
		runtime.ReadMemStats(&after)

		// argon2 needs 1 KiB per KiB of m; the rest is copies of the inputs.
		budget := uint64(maxMemoryKiB<<10 + 2*len(encoded) + len(pw) + 64<<10)
		if used := after.TotalAlloc - before.TotalAlloc; used > budget {
			t.Errorf("Verify allocated %d bytes, budget %d", used, budget)
		}
		if err != nil {
			if ok || rehash {
				t.Errorf("Verify returned ok=%v, rehash=%v with error %v", ok, rehash, err)
			}
			return
		}
		if got, err := passwd.Reencode(encoded); err != nil || got != encoded {
			t.Errorf("accepted %q, which encodes back as %q (%v)", encoded, got, err)
		}
	})
}

// BenchmarkHash and BenchmarkVerify measure DefaultParams: Verify is the CPU
// cost of one login, Hash that of setting a password.
func BenchmarkHash(b *testing.B) {
	h := passwd.New(passwd.DefaultParams)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(password); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h := passwd.New(passwd.DefaultParams)
	s := mustHash(b, h, password)
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(s, password); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
