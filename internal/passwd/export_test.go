package passwd

// Hooks for passwd_test; they exist only while testing.

// NewWithLimits returns a Hasher whose Verify applies smaller bounds than
// production, so that the fuzzer can reach valid hashes without spending a
// second and a gigabyte on each.
func NewWithLimits(p Params, memory, time uint32, threads uint8) *Hasher {
	h := New(p)
	h.max = limits{memory: memory, time: time, threads: threads}
	return h
}

// Reencode parses s as Verify does and encodes the result again.
func Reencode(s string) (string, error) {
	p, salt, key, err := decode(s, defaultLimits)
	if err != nil {
		return "", err
	}
	return encode(p, salt, key), nil
}
