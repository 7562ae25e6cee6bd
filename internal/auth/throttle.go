package auth

import (
	"sync"
	"time"
)

// ThrottleConfig limits failed logins. A key (a user id, or a client
// address) that reaches its failure limit is locked out for Lockout, doubled
// with every further failure up to MaxLockout. Failures are forgotten
// MaxLockout after the last one. A successful login clears its user id's
// count and leaves its address's as it was. A limit of zero turns that half
// of the throttle off.
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
	last        time.Time // of the latest failure: the entry is forgotten MaxLockout after it
	lockedUntil time.Time
	// pending counts attempts that have begun and not finished. They are
	// kept apart from failures so that a success can take its own attempt
	// back without undoing what attempts that overlapped it recorded.
	pending int
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
// password is checked; finish must follow. While it is in flight the
// attempt counts as a failure, so a burst of parallel attempts cannot all
// slip in before the first failure is recorded. If either key is locked
// out, begin returns how long remains and records nothing.
func (t *throttle) begin(user, addr string, now time.Time) (retryAfter time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	uk, ak := userKey(user), addrKey(addr)
	retryAfter = max(t.wait(uk, t.cfg.UserFailures, now), t.wait(ak, t.cfg.AddrFailures, now))
	if retryAfter > 0 {
		return retryAfter
	}
	t.start(uk, t.cfg.UserFailures, now)
	t.start(ak, t.cfg.AddrFailures, now)
	return 0
}

// finish records how an attempt that begin let through ended. A failure
// counts against both keys. A success clears the user's failures but
// leaves the address as it was: its lockout and the time its failures are
// forgotten stay those of its real failures, so one person's good login
// at an office NAT address neither locks the others out nor keeps a
// password spray remembered, and one good account does not let an
// attacker reset the address's count between guesses.
func (t *throttle) finish(user, addr string, ok bool, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	uk, ak := userKey(user), addrKey(addr)
	for _, k := range []string{uk, ak} {
		// The entry may be gone if prune had to drop it; there is
		// nothing to take back then.
		if e := t.keys[k]; e != nil && e.pending > 0 {
			e.pending--
		}
	}
	if !ok {
		t.fail(uk, t.cfg.UserFailures, now)
		t.fail(ak, t.cfg.AddrFailures, now)
		return
	}
	if e := t.keys[uk]; e != nil {
		if e.pending == 0 {
			delete(t.keys, uk)
		} else {
			// Other attempts at this user are in flight; keep their count.
			e.failures, e.last, e.lockedUntil = 0, time.Time{}, time.Time{}
		}
	}
}

// wait returns how long k must wait before another attempt: the rest of
// its lockout, or, if the attempts in flight would lock it out should they
// fail, the lockout the last of them would set.
func (t *throttle) wait(k string, limit int, now time.Time) time.Duration {
	e := t.live(k, now)
	switch {
	case e == nil || limit <= 0:
		return 0
	case now.Before(e.lockedUntil):
		return e.lockedUntil.Sub(now)
	case e.pending > 0 && e.failures+e.pending >= limit:
		return t.lockout(e.failures + e.pending - limit)
	}
	return 0
}

// start counts an attempt in flight against k.
func (t *throttle) start(k string, limit int, now time.Time) {
	if limit > 0 {
		t.entry(k, now).pending++
	}
}

// fail counts a failed attempt against k, locking it out once it is over
// its limit.
func (t *throttle) fail(k string, limit int, now time.Time) {
	if limit <= 0 {
		return
	}
	e := t.entry(k, now)
	e.failures++
	e.last = now
	if over := e.failures - limit; over >= 0 {
		e.lockedUntil = now.Add(t.lockout(over))
	}
}

// lockout returns how long a key is locked out by a failure that is over
// failures past its limit: Lockout, doubled for each, up to MaxLockout.
func (t *throttle) lockout(over int) time.Duration {
	d := t.cfg.Lockout
	for i := 0; i < over && d < t.cfg.MaxLockout; i++ {
		d *= 2
	}
	return min(d, t.cfg.MaxLockout)
}

// entry returns the live entry for k, creating it.
func (t *throttle) entry(k string, now time.Time) *throttleEntry {
	e := t.live(k, now)
	if e == nil {
		if len(t.keys) >= maxThrottleKeys {
			t.prune(now)
		}
		e = &throttleEntry{}
		t.keys[k] = e
	}
	return e
}

// live returns the entry for k, dropping it if it has been forgotten. An
// entry with attempts in flight is kept: finish will need it.
func (t *throttle) live(k string, now time.Time) *throttleEntry {
	e := t.keys[k]
	if e != nil && e.pending == 0 && now.Sub(e.last) > t.cfg.MaxLockout && !now.Before(e.lockedUntil) {
		delete(t.keys, k)
		return nil
	}
	return e
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
