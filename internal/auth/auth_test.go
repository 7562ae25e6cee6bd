package auth_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/passwd"
	"example.com/icrec/internal/sqlite"
	"example.com/icrec/internal/testutil"
)

var fastParams = passwd.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const pw = "correct horse battery"

// countingHasher counts the verifications a real hasher does, to show
// which logins pay for a password check.
type countingHasher struct {
	*passwd.Hasher
	verifies atomic.Int64
	dummy    atomic.Int64
	// hold, if set before the logins start, runs before each verification,
	// so that a test can keep a login inside its password check.
	hold func()
}

func (h *countingHasher) Verify(encoded string, p icrec.Secret) (bool, bool, error) {
	if h.hold != nil {
		h.hold()
	}
	h.verifies.Add(1)
	if encoded == h.Hasher.DummyHash() {
		h.dummy.Add(1)
	}
	return h.Hasher.Verify(encoded, p)
}

// countingStore counts the session writes of a real store.
type countingStore struct {
	*sqlite.DB
	touches atomic.Int64
}

func (s *countingStore) TouchSession(ctx context.Context, id string, at time.Time) error {
	s.touches.Add(1)
	return s.DB.TouchSession(ctx, id, at)
}

type fixture struct {
	svc    *auth.Service
	db     *sqlite.DB
	store  *countingStore
	hasher *countingHasher
	clock  *testutil.Clock
	ended  *endLog
}

type endLog struct {
	mu   sync.Mutex
	ends map[string]icrec.SessionEnd
}

func (l *endLog) record(id string, why icrec.SessionEnd) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ends[id] = why
}

func (l *endLog) get(id string) icrec.SessionEnd {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ends[id]
}

func newFixture(t *testing.T, mod func(*auth.Config)) *fixture {
	t.Helper()
	f := &fixture{clock: testutil.NewClock(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)), ended: &endLog{ends: map[string]icrec.SessionEnd{}}}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "icrec.db"), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f.db, f.store = db, &countingStore{DB: db}
	f.hasher = &countingHasher{Hasher: passwd.New(fastParams)}
	cfg := auth.DefaultConfig()
	cfg.SessionEnded = f.ended.record
	if mod != nil {
		mod(&cfg)
	}
	f.svc, err = auth.New(f.store, f.store, f.hasher, cfg, discard(), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"agent1", "agent2"} {
		if _, err := f.svc.AddUser(t.Context(), auth.NewUser{ID: id, Password: pw}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) login(t *testing.T, user string) *auth.NewSession {
	t.Helper()
	ns, err := f.svc.Login(t.Context(), auth.Login{UserID: user, Password: pw, ClientAddr: "192.0.2.1", Language: "en-us"})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func creds(ns *auth.NewSession) auth.Credentials {
	return auth.Credentials{SessionID: ns.Session.ID, Cookies: []string{string(ns.Cookie)}, CSRFToken: string(ns.CSRFToken)}
}

func TestAuthenticateWritesRarely(t *testing.T) {
	f := newFixture(t, nil)
	ns := f.login(t, "agent1")
	ctx := t.Context()
	// A burst of requests within the touch interval writes nothing.
	for range 100 {
		f.clock.Advance(100 * time.Millisecond)
		if _, err := f.svc.Authenticate(ctx, creds(ns)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.store.touches.Load(); n != 0 {
		t.Errorf("%d session writes for 100 requests in 10 s, want 0", n)
	}
	stored, _ := f.db.FindSessionByID(ctx, ns.Session.ID)
	if !stored.LastSeen.Equal(ns.Session.LastSeen) {
		t.Errorf("LastSeen moved to %v without a touch", stored.LastSeen)
	}
	// Once the interval (a minute, for the default idle timeout) has
	// passed, one request writes once.
	f.clock.Advance(time.Minute)
	for range 10 {
		if _, err := f.svc.Authenticate(ctx, creds(ns)); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.store.touches.Load(); n != 1 {
		t.Errorf("%d session writes after a minute, want 1", n)
	}
	stored, _ = f.db.FindSessionByID(ctx, ns.Session.ID)
	if !stored.LastSeen.Equal(f.clock.Now()) {
		t.Errorf("LastSeen=%v, want %v", stored.LastSeen, f.clock.Now())
	}
}

func TestLoginChecksEveryPassword(t *testing.T) {
	// Unknown and disabled users cost one hash verification, like a wrong
	// password; unknown ones are checked against the dummy hash.
	f := newFixture(t, nil)
	ctx := t.Context()
	if _, err := f.svc.SetDisabled(ctx, "agent2", true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ user, pw string }{{"agent1", "wrong"}, {"nobody", pw}, {"agent2", pw}} {
		before := f.hasher.verifies.Load()
		_, err := f.svc.Login(ctx, auth.Login{UserID: tc.user, Password: icrec.Secret(tc.pw), ClientAddr: "192.0.2.9"})
		e, ok := err.(*icrec.Error)
		if !ok || e.ID != icrec.IDAuthenticationFailure || e.Message != "The authentication process failed." {
			t.Errorf("%s: err=%v", tc.user, err)
		}
		if got := f.hasher.verifies.Load() - before; got != 1 {
			t.Errorf("%s: %d verifications, want 1", tc.user, got)
		}
	}
	if got := f.hasher.dummy.Load(); got != 1 {
		t.Errorf("%d verifications against the dummy hash, want 1 (the unknown user)", got)
	}
}

func TestLoginUpgradesHash(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	stronger := passwd.New(passwd.Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32})
	svc, err := auth.New(f.db, f.db, stronger, auth.DefaultConfig(), discard(), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.db.FindUserByID(ctx, "agent1")
	if _, err := svc.Login(ctx, auth.Login{UserID: "agent1", Password: pw, ClientAddr: "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	after, _ := f.db.FindUserByID(ctx, "agent1")
	if after.PasswordHash == before.PasswordHash || !strings.Contains(after.PasswordHash, "m=128,t=2") {
		t.Errorf("hash not upgraded: %s", after.PasswordHash)
	}
	if _, err := svc.Login(ctx, auth.Login{UserID: "agent1", Password: pw, ClientAddr: "192.0.2.1"}); err != nil {
		t.Errorf("login with the upgraded hash: %v", err)
	}
}

func TestThrottle(t *testing.T) {
	login := func(f *fixture, user, password, addr string) error {
		_, err := f.svc.Login(t.Context(), auth.Login{UserID: user, Password: icrec.Secret(password), ClientAddr: addr})
		return err
	}
	throttled := func(err error) bool { return auth.IsThrottled(err) }

	t.Run("ExponentialPerUser", func(t *testing.T) {
		f := newFixture(t, func(c *auth.Config) {
			c.Throttle = auth.ThrottleConfig{UserFailures: 3, AddrFailures: 0, Lockout: time.Second, MaxLockout: 10 * time.Second}
		})
		for i := range 3 {
			if err := login(f, "agent1", "wrong", "192.0.2.1"); throttled(err) {
				t.Fatalf("failure %d was throttled", i+1)
			}
		}
		// Each further failure doubles the lockout, up to the cap.
		for _, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
			err := login(f, "agent1", pw, "192.0.2.1")
			e, _ := err.(*icrec.Error)
			if e == nil || e.RetryAfter != want {
				t.Fatalf("lockout: err=%v, want Retry-After %v", err, want)
			}
			// From another address too: the user id is what is locked.
			if err := login(f, "agent1", pw, "198.51.100.1"); !throttled(err) {
				t.Fatalf("another address got through: %v", err)
			}
			f.clock.Advance(want)
			if err := login(f, "agent1", "wrong", "192.0.2.1"); throttled(err) {
				t.Fatalf("after %v the lockout still held", want)
			}
		}
		// Success clears the user's record.
		f.clock.Advance(10 * time.Second)
		if err := login(f, "agent1", pw, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := login(f, "agent1", "wrong", "192.0.2.1"); throttled(err) {
				t.Fatalf("failure %d after a success was throttled", i+1)
			}
		}
	})
	t.Run("Forgotten", func(t *testing.T) {
		f := newFixture(t, func(c *auth.Config) {
			c.Throttle = auth.ThrottleConfig{UserFailures: 2, Lockout: time.Second, MaxLockout: time.Minute}
		})
		login(f, "agent1", "wrong", "a")
		f.clock.Advance(2 * time.Minute)
		login(f, "agent1", "wrong", "a")
		if err := login(f, "agent1", pw, "a"); err != nil {
			t.Errorf("failures a window apart were added up: %v", err)
		}
	})
	t.Run("PerAddress", func(t *testing.T) {
		f := newFixture(t, func(c *auth.Config) {
			c.Throttle = auth.ThrottleConfig{UserFailures: 100, AddrFailures: 4, Lockout: time.Second, MaxLockout: time.Minute}
		})
		// Password spraying: one try at each of many user ids.
		for i := range 4 {
			login(f, "user"+string(rune('a'+i)), "guess", "203.0.113.5")
		}
		if err := login(f, "agent1", pw, "203.0.113.5"); !throttled(err) {
			t.Errorf("the spraying address was not throttled: %v", err)
		}
		if err := login(f, "agent1", pw, "192.0.2.1"); err != nil {
			t.Errorf("another address was throttled: %v", err)
		}
	})
	t.Run("SuccessKeepsAddressCount", func(t *testing.T) {
		f := newFixture(t, func(c *auth.Config) {
			c.Throttle = auth.ThrottleConfig{UserFailures: 100, AddrFailures: 3, Lockout: time.Second, MaxLockout: time.Minute}
		})
		// An attacker with one good account cannot reset the address's
		// count between guesses.
		login(f, "x", "guess", "203.0.113.5")
		login(f, "agent2", pw, "203.0.113.5")
		login(f, "y", "guess", "203.0.113.5")
		login(f, "agent2", pw, "203.0.113.5")
		login(f, "z", "guess", "203.0.113.5")
		if err := login(f, "agent1", pw, "203.0.113.5"); !throttled(err) {
			t.Errorf("address not throttled after three failures around successes: %v", err)
		}
	})
	t.Run("SuccessLeavesAddressAlone", func(t *testing.T) {
		// An office behind one NAT address, after a password spray from
		// it: its people's good logins must neither lock each other out
		// nor keep the spray remembered.
		cfg := auth.ThrottleConfig{UserFailures: 100, AddrFailures: 3, Lockout: time.Second, MaxLockout: time.Minute}
		f := newFixture(t, func(c *auth.Config) { c.Throttle = cfg })
		const office = "203.0.113.5"
		for _, u := range []string{"x", "y", "z"} {
			login(f, u, "guess", office)
		}
		lastFailure := f.clock.Now()
		f.clock.Advance(2 * cfg.Lockout)
		if err := login(f, "agent1", pw, office); err != nil {
			t.Fatalf("first good login after the lockout: %v", err)
		}
		if err := login(f, "agent2", pw, office); err != nil {
			t.Errorf("a good login right after another one from the same address: %v", err)
		}
		f.clock.Advance(lastFailure.Add(cfg.MaxLockout + time.Second).Sub(f.clock.Now()))
		// Forgotten, so this failure is the first of a new count, below
		// the limit.
		login(f, "w", "guess", office)
		if err := login(f, "agent1", pw, office); err != nil {
			t.Errorf("the spray was not forgotten %v after its last failure: %v", cfg.MaxLockout, err)
		}
	})
	t.Run("SuccessKeepsOverlappingFailures", func(t *testing.T) {
		// Failures that happen while a good login is being checked stay
		// counted when it succeeds.
		f := newFixture(t, func(c *auth.Config) {
			c.Throttle = auth.ThrottleConfig{UserFailures: 100, AddrFailures: 3, Lockout: time.Second, MaxLockout: time.Minute}
			// The held check takes a slot; the guesses need others.
			c.HashConcurrency = 4
		})
		const addr = "203.0.113.5"
		entered, release := make(chan struct{}), make(chan struct{})
		var held atomic.Bool
		f.hasher.hold = func() {
			if held.CompareAndSwap(false, true) { // only the first check waits
				close(entered)
				<-release
			}
		}
		good := make(chan error, 1)
		go func() { good <- login(f, "agent2", pw, addr) }()
		<-entered
		for _, u := range []string{"x", "y"} {
			if err := login(f, u, "guess", addr); throttled(err) {
				t.Fatalf("guess at %s was throttled: %v", u, err)
			}
		}
		close(release)
		if err := <-good; err != nil {
			t.Fatalf("the overlapping good login: %v", err)
		}
		login(f, "z", "guess", addr) // the third failure: the limit
		if err := login(f, "agent1", pw, addr); !throttled(err) {
			t.Errorf("address not throttled after three failures, two during a success: %v", err)
		}
	})
	t.Run("ParallelBurst", func(t *testing.T) {
		// Failures count from the start of an attempt, so a burst of
		// parallel guesses gets no more password checks than the limit.
		f := newFixture(t, func(c *auth.Config) {
			c.Throttle = auth.ThrottleConfig{UserFailures: 5, AddrFailures: 0, Lockout: time.Minute, MaxLockout: time.Hour}
		})
		before := f.hasher.verifies.Load()
		var wg sync.WaitGroup
		for range 40 {
			wg.Go(func() { login(f, "agent1", "wrong", "192.0.2.1") })
		}
		wg.Wait()
		if n := f.hasher.verifies.Load() - before; n != 5 {
			t.Errorf("%d password checks for 40 parallel guesses, want 5", n)
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		f := newFixture(t, func(c *auth.Config) {
			c.Throttle = auth.ThrottleConfig{Lockout: time.Second, MaxLockout: time.Minute}
		})
		for range 50 {
			if err := login(f, "agent1", "wrong", "a"); throttled(err) {
				t.Fatal("throttled with both limits at zero")
			}
		}
	})
}

func TestKeepAliveAndSweep(t *testing.T) {
	f := newFixture(t, func(c *auth.Config) { c.Lifetime = time.Hour })
	ctx := t.Context()
	a, b := f.login(t, "agent1"), f.login(t, "agent2")
	// A session with an open stream is kept alive without requests.
	for range 2 {
		f.clock.Advance(20 * time.Minute)
		if ok, why := f.svc.KeepAlive(ctx, a.Session.ID); !ok {
			t.Fatalf("keep-alive failed before the lifetime ended: %v", why)
		}
	}
	// b, without requests or stream, idled out; a reaches its lifetime.
	f.clock.Advance(20 * time.Minute)
	if ok, why := f.svc.KeepAlive(ctx, a.Session.ID); ok || why != icrec.SessionExpired {
		t.Errorf("KeepAlive after the lifetime: %v %v", ok, why)
	}
	n, err := f.svc.Sweep(ctx)
	if err != nil || n != 1 {
		t.Errorf("Sweep removed %d (%v), want 1 (the idle session)", n, err)
	}
	if f.ended.get(b.Session.ID) != icrec.SessionExpired || f.ended.get(a.Session.ID) != icrec.SessionExpired {
		t.Errorf("ended: %v", f.ended.ends)
	}
	if ok, why := f.svc.KeepAlive(ctx, b.Session.ID); ok || why != icrec.SessionRevoked {
		t.Errorf("KeepAlive of a deleted session: %v %v", ok, why)
	}
	if n, err := f.svc.ActiveSessions(ctx); err != nil || n != 0 {
		t.Errorf("ActiveSessions=%d (%v), want 0", n, err)
	}
}

func TestAliveIsNotActivity(t *testing.T) {
	// The server checks sessions that have queued messages but no stream
	// every few seconds; a client that stopped polling must still idle
	// out (the default idle timeout is 30 minutes).
	f := newFixture(t, nil)
	ctx := t.Context()
	ns := f.login(t, "agent1")
	for range 30 {
		f.clock.Advance(time.Minute)
		if ok, why := f.svc.Alive(ctx, ns.Session.ID); !ok {
			t.Fatalf("Alive=false (%v) %v after login, within the idle timeout", why, f.clock.Now().Sub(ns.Session.LastSeen))
		}
	}
	if n := f.store.touches.Load(); n != 0 {
		t.Errorf("%d session writes from Alive, want 0", n)
	}
	f.clock.Advance(time.Minute)
	if ok, why := f.svc.Alive(ctx, ns.Session.ID); ok || why != icrec.SessionExpired {
		t.Errorf("Alive 31 minutes after the last request: %v %v, want false %v", ok, why, icrec.SessionExpired)
	}
	if got := f.ended.get(ns.Session.ID); got != icrec.SessionExpired {
		t.Errorf("session ended with %v, want %v", got, icrec.SessionExpired)
	}
	if ok, why := f.svc.Alive(ctx, ns.Session.ID); ok || why != icrec.SessionRevoked {
		t.Errorf("Alive of a deleted session: %v %v", ok, why)
	}
}

// blockingHasher holds every verification until released: a fault that
// makes hashing slow.
type blockingHasher struct {
	*passwd.Hasher
	entered chan struct{}
	release chan struct{}
}

func (h *blockingHasher) Verify(encoded string, p icrec.Secret) (bool, bool, error) {
	h.entered <- struct{}{}
	<-h.release
	return h.Hasher.Verify(encoded, p)
}

func TestLoginWaitsForHashSlot(t *testing.T) {
	f := newFixture(t, nil)
	h := &blockingHasher{Hasher: passwd.New(fastParams), entered: make(chan struct{}, 8), release: make(chan struct{})}
	cfg := auth.DefaultConfig()
	cfg.HashConcurrency = 1
	svc, err := auth.New(f.db, f.db, h, cfg, discard(), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() {
		_, err := svc.Login(context.Background(), auth.Login{UserID: "agent1", Password: pw, ClientAddr: "a"})
		first <- err
	}()
	<-h.entered // the first login holds the only slot
	ctx, cancel := context.WithCancel(t.Context())
	second := make(chan error, 1)
	go func() {
		_, err := svc.Login(ctx, auth.Login{UserID: "agent2", Password: pw, ClientAddr: "b"})
		second <- err
	}()
	select {
	case <-h.entered:
		t.Fatal("a second password check ran beside the first with one slot")
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-second:
		if err != context.Canceled {
			t.Errorf("waiting login returned %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a canceled login kept waiting for the slot")
	}
	close(h.release)
	if err := <-first; err != nil {
		t.Errorf("the first login failed: %v", err)
	}
}

func TestUsers(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		u    auth.NewUser
		want string
	}{
		{"ErrID", auth.NewUser{ID: "", Password: pw}, "user id must not be empty"},
		{"ErrName", auth.NewUser{ID: "x", Name: "a\x00b", Password: pw}, "control character"},
		{"ErrRole", auth.NewUser{ID: "x", Roles: []string{"a|b"}, Password: pw}, "role"},
		{"ErrWorkgroup", auth.NewUser{ID: "x", Workgroups: []string{" w"}, Password: pw}, "workgroup"},
		{"ErrShortPassword", auth.NewUser{ID: "x", Password: "1234567"}, "at least 8"},
		{"ErrLongPassword", auth.NewUser{ID: "x", Password: icrec.Secret(strings.Repeat("p", 1025))}, "limit is 1024"},
		{"ErrBadUTF8Password", auth.NewUser{ID: "x", Password: "abcdefgh\xff"}, "UTF-8"},
		{"ErrConflict", auth.NewUser{ID: "AGENT1", Password: pw}, "already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.AddUser(ctx, tc.u)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err=%v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("OKNormalised", func(t *testing.T) {
		u, err := f.svc.AddUser(ctx, auth.NewUser{ID: "Émile", Roles: []string{"b", "A", "a"}, Workgroups: []string{"Support"}, Password: "ünïcödé pw"})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := f.svc.User(ctx, "émile")
		if got.ID != "Émile" || strings.Join(got.Roles, ",") != "A,b" || u.PasswordHash == "" {
			t.Errorf("user %+v", got)
		}
		if _, err := f.svc.Login(ctx, auth.Login{UserID: "ÉMILE", Password: "ünïcödé pw", ClientAddr: "a"}); err != nil {
			t.Errorf("login ignoring case: %v", err)
		}
	})
	t.Run("ErrPasswordNotChanged", func(t *testing.T) {
		if err := f.svc.SetPassword(ctx, "agent1", "short"); err == nil {
			t.Error("short password accepted")
		}
		if err := f.svc.SetPassword(ctx, "nobody", "long enough"); !icrec.IsKind(err, icrec.NotFound) {
			t.Errorf("SetPassword of an unknown user: %v", err)
		}
	})
}
