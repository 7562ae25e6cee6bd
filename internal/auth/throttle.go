package auth

import (
	"sync"
	"time"
)

// ThrottleConfig limits failed logins. A key (a user id, or a client
// address) that reaches its failure limit is locked out for Lockout, doubled
// with every further failure up to MaxLockout. Failures are forgotten
// MaxLockout after the last one, and a successful login clears its user
// id's count. A limit of zero turns that half of the throttle off.
type ThrottleConfig struct {
	UserFailures int // failures per user id before the first lockout
	AddrFailures int // failures per client address before the first lockout
	Lockout      time.Duration
	MaxLockout   time.Duration
}

// DefaultThrottleConfig returns the documented defaults. The per-address
// limit is ten times the per-user one, so that an office behind one NAT
// address is not locked out by one person's typos, while password spraying
// (one try at each of many users) from one address is still stopped.
func DefaultThrottleConfig() ThrottleConfig {
	return ThrottleConfig{UserFailures: 5, AddrFailures: 50, Lockout: time.Second, MaxLockout: 15 * time.Minute}
}

// maxThrottleKeys bounds the throttle's memory whatever an attacker sends.
const maxThrottleKeys = 100_000

type throttleEntry struct {
	failures    int
	last        time.Time
	lockedUntil time.Time
}

type throttle struct {
	cfg  ThrottleConfig
	mu   sync.Mutex
	keys map[string]*throttleEntry
}

func newThrottle(cfg ThrottleConfig) *throttle {
	return &throttle{cfg: cfg, keys: make(map[string]*throttleEntry)}
}

// userKey and addrKey keep the two kinds of key apart in one map.
func userKey(foldedID string) string { return "u:" + foldedID }
func addrKey(addr string) string     { return "a:" + addr }

// begin records a login attempt for a user and an address before the
// password is checked, counting it as a failure until finish says
// otherwise. Counting up front means a burst of parallel attempts cannot
// all slip in before the first failure is recorded. If either key is locked
// out, begin returns how long remains and records nothing.
func (t *throttle) begin(user, addr string, now time.Time) (retryAfter time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	uk, ak := userKey(user), addrKey(addr)
	for _, k := range []string{uk, ak} {
		if e := t.live(k, now); e != nil && now.Before(e.lockedUntil) {
			retryAfter = max(retryAfter, e.lockedUntil.Sub(now))
		}
	}
	if retryAfter > 0 {
		return retryAfter
	}
	t.fail(uk, t.cfg.UserFailures, now)
	t.fail(ak, t.cfg.AddrFailures, now)
	return 0
}

// succeeded undoes what begin recorded for a login that succeeded: the
// user's failures are forgotten, and the address's provisional failure is
// taken back (but not its earlier ones, or one good account would let an
// attacker reset the address's count between guesses).
func (t *throttle) succeeded(user, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, userKey(user))
	if e := t.keys[addrKey(addr)]; e != nil && e.failures > 0 {
		e.failures--
		if e.failures < t.cfg.AddrFailures {
			// A lockout set by this attempt's provisional failure.
			e.lockedUntil = time.Time{}
		}
	}
}

// live returns the entry for k, dropping it if it has been forgotten.
func (t *throttle) live(k string, now time.Time) *throttleEntry {
	e := t.keys[k]
	if e != nil && now.Sub(e.last) > t.cfg.MaxLockout && !now.Before(e.lockedUntil) {
		delete(t.keys, k)
		return nil
	}
	return e
}

func (t *throttle) fail(k string, limit int, now time.Time) {
	if limit <= 0 {
		return
	}
	e := t.live(k, now)
	if e == nil {
		if len(t.keys) >= maxThrottleKeys {
			t.prune(now)
		}
		e = &throttleEntry{}
		t.keys[k] = e
	}
	e.failures++
	e.last = now
	if over := e.failures - limit; over >= 0 {
		d := t.cfg.Lockout
		for i := 0; i < over && d < t.cfg.MaxLockout; i++ {
			d *= 2
		}
		e.lockedUntil = now.Add(min(d, t.cfg.MaxLockout))
	}
}

// prune drops forgotten entries, and if the map is still full, arbitrary
// ones: an attacker who can fill it has many addresses anyway, and memory
// must stay bounded.
func (t *throttle) prune(now time.Time) {
	for k := range t.keys {
		t.live(k, now)
	}
	for k := range t.keys {
		if len(t.keys) < maxThrottleKeys {
			break
		}
		delete(t.keys, k)
	}
}
