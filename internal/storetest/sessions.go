package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
)

func testCreateSession(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("Agent1"))
		sess := newSession("1001", "Agent1")
		if err := s.CreateSession(t.Context(), sess); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		checkSession(t, mustFindSession(t, s, "1001"), sess)
	})

	// User ids ignore case everywhere, so a session may name its user in
	// any spelling. Which spelling comes back is the store's choice.
	t.Run("OKUserIDIgnoresCase", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("Émile"))
		mustCreateSession(t, s, newSession("1001", "ÉMILE"))
		if got := mustFindSession(t, s, "1001").UserID; !equalFold(got, "Émile") {
			t.Errorf("UserID = %q, want %q in any case", got, "Émile")
		}
		// And the session is the user's: deleting the user ends it.
		if err := s.DeleteUser(t.Context(), "émile"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		wantSessionGone(t, s, "1001")
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		mustCreateUser(t, s, newUser("agent2"))
		first := mustCreateSession(t, s, newSession("1001", "agent1"))
		second := newSession("1001", "agent2")
		second.Language = "de"
		wantKind(t, s.CreateSession(t.Context(), second), icrec.Conflict)
		checkSession(t, mustFindSession(t, s, "1001"), first)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		wantKind(t, s.CreateSession(t.Context(), newSession("1001", "agent2")), icrec.NotFound)
		wantSessionGone(t, s, "1001")
	})
}

func testFindSessionByID(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		mustCreateUser(t, s, newUser("agent2"))
		var sessions []*icrec.Session
		for i, user := range []string{"agent1", "agent2", "agent1"} {
			sess := newSession(fmt.Sprint(1001+i), user)
			sess.Expires = sess.Expires.Add(time.Duration(i) * time.Hour)
			sessions = append(sessions, mustCreateSession(t, s, sess))
		}
		for _, want := range sessions {
			checkSession(t, mustFindSession(t, s, want.ID), want)
		}
	})

	t.Run("OKExpired", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := newSession("1001", "agent1")
		sess.Created = t0.Add(-48 * time.Hour)
		sess.LastSeen = t0.Add(-47 * time.Hour)
		sess.Expires = t0.Add(-40 * time.Hour)
		mustCreateSession(t, s, sess)
		checkSession(t, mustFindSession(t, s, "1001"), sess)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		wantSessionGone(t, s, "1001")
		mustCreateUser(t, s, newUser("agent1"))
		mustCreateSession(t, s, newSession("1001", "agent1"))
		wantSessionGone(t, s, "1002")
	})
}

func testTouchSession(t *testing.T, open func(t *testing.T) Store) {
	// setup returns a store holding a session last seen at t0+1m, and
	// another session that touching the first must leave alone.
	setup := func(t *testing.T) (Store, *icrec.Session, *icrec.Session) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		return s, mustCreateSession(t, s, newSession("1001", "agent1")),
			mustCreateSession(t, s, newSession("1002", "agent1"))
	}
	touch := func(t *testing.T, s Store, id string, at time.Time) {
		t.Helper()
		if err := s.TouchSession(t.Context(), id, at); err != nil {
			t.Fatalf("TouchSession(%q, %v): %v", id, at, err)
		}
	}

	t.Run("OKForward", func(t *testing.T) {
		s, sess, other := setup(t)
		at := sess.LastSeen.Add(5 * time.Minute)
		touch(t, s, sess.ID, at)
		want := *sess
		want.LastSeen = at
		checkSession(t, mustFindSession(t, s, sess.ID), &want)
		checkSession(t, mustFindSession(t, s, other.ID), other)

		at = at.Add(time.Millisecond)
		touch(t, s, sess.ID, at)
		want.LastSeen = at
		checkSession(t, mustFindSession(t, s, sess.ID), &want)
	})

	t.Run("OKNotBackward", func(t *testing.T) {
		s, sess, _ := setup(t)
		touch(t, s, sess.ID, sess.LastSeen.Add(-time.Minute))
		checkSession(t, mustFindSession(t, s, sess.ID), sess)

		later := sess.LastSeen.Add(5 * time.Minute)
		touch(t, s, sess.ID, later)
		touch(t, s, sess.ID, later.Add(-2*time.Minute))
		if got := mustFindSession(t, s, sess.ID).LastSeen; !sameTime(got, later) {
			t.Errorf("LastSeen = %v, want %v", got, later)
		}
	})

	t.Run("OKSameTime", func(t *testing.T) {
		s, sess, _ := setup(t)
		touch(t, s, sess.ID, sess.LastSeen)
		checkSession(t, mustFindSession(t, s, sess.ID), sess)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s, sess, _ := setup(t)
		wantKind(t, s.TouchSession(t.Context(), "9999", t0), icrec.NotFound)
		wantSessionGone(t, s, "9999")
		// Even when the touch would not move LastSeen.
		if err := s.DeleteSession(t.Context(), sess.ID); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		wantKind(t, s.TouchSession(t.Context(), sess.ID, t0.Add(-time.Hour)), icrec.NotFound)
	})
}

func testDeleteSession(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "agent1"))
		other := mustCreateSession(t, s, newSession("1002", "agent1"))
		if err := s.DeleteSession(t.Context(), sess.ID); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		wantSessionGone(t, s, sess.ID)
		checkSession(t, mustFindSession(t, s, other.ID), other)
		// The user stays.
		mustFindUser(t, s, "agent1")
	})

	t.Run("OKDeletesAuthTokens", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "agent1"))
		other := mustCreateSession(t, s, newSession("1002", "agent1"))
		tok1 := mustCreateAuthToken(t, s, newAuthToken("1", sess))
		tok2 := mustCreateAuthToken(t, s, newAuthToken("2", sess))
		otherTok := mustCreateAuthToken(t, s, newAuthToken("other", other))
		if err := s.DeleteSession(t.Context(), sess.ID); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		wantTokenGone(t, s, tok1)
		wantTokenGone(t, s, tok2)
		wantTokenConsumable(t, s, otherTok)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		wantKind(t, s.DeleteSession(t.Context(), "1001"), icrec.NotFound)
		mustCreateUser(t, s, newUser("agent1"))
		mustCreateSession(t, s, newSession("1001", "agent1"))
		if err := s.DeleteSession(t.Context(), "1001"); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		wantKind(t, s.DeleteSession(t.Context(), "1001"), icrec.NotFound)
	})
}

// The expiry fixture: at now, with sessions idle when last seen before
// idleBefore. Its sessions sit on each side of both limits.
var (
	expiryNow        = t0.Add(10 * time.Hour)
	expiryIdleBefore = expiryNow.Add(-30 * time.Minute)
)

// expirySessions are the fixture's sessions, with whether they have expired
// at expiryNow. Stores need be exact to the millisecond only, so a session is
// either exactly on a limit or at least a millisecond away from it.
var expirySessions = []struct {
	id       string
	lastSeen time.Time
	expires  time.Time
	expired  bool
}{
	{"1", expiryNow.Add(-time.Minute), expiryNow.Add(time.Hour), false},            // in use
	{"2", expiryIdleBefore.Add(-time.Millisecond), expiryNow.Add(time.Hour), true}, // idle
	{"3", expiryIdleBefore, expiryNow.Add(time.Hour), false},                       // idle from the next ms on
	{"4", expiryNow.Add(-time.Minute), expiryNow, true},                            // lifetime ends now
	{"5", expiryNow.Add(-time.Minute), expiryNow.Add(-time.Hour), true},            // lifetime ended
	{"6", expiryNow.Add(-time.Minute), expiryNow.Add(time.Millisecond), false},     // lifetime ends next ms
	{"7", expiryIdleBefore.Add(-time.Hour), expiryNow.Add(-time.Hour), true},       // both
	{"8", expiryNow.Add(time.Minute), expiryNow.Add(time.Hour), false},             // seen after now (clock skew)
}

// setupExpiry returns a store with the fixture's sessions (of two users)
// and the ids of those that have expired and that have not.
func setupExpiry(t *testing.T, open func(t *testing.T) Store) (s Store, expired, live []string) {
	s = open(t)
	mustCreateUser(t, s, newUser("agent1"))
	mustCreateUser(t, s, newUser("agent2"))
	for i, e := range expirySessions {
		sess := newSession(e.id, []string{"agent1", "agent2"}[i%2])
		sess.Created = expiryNow.Add(-2 * time.Hour)
		sess.LastSeen, sess.Expires = e.lastSeen, e.expires
		mustCreateSession(t, s, sess)
		if e.expired {
			expired = append(expired, e.id)
		} else {
			live = append(live, e.id)
		}
	}
	return s, expired, live
}

func testDeleteExpiredSessions(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s, expired, live := setupExpiry(t, open)
		got, err := s.DeleteExpiredSessions(t.Context(), expiryIdleBefore, expiryNow)
		if err != nil {
			t.Fatalf("DeleteExpiredSessions: %v", err)
		}
		// In any order, each once.
		checkNames(t, "deleted ids", sorted(got), expired)
		for _, id := range expired {
			wantSessionGone(t, s, id)
		}
		for _, id := range live {
			mustFindSession(t, s, id)
		}

		got, err = s.DeleteExpiredSessions(t.Context(), expiryIdleBefore, expiryNow)
		if err != nil {
			t.Fatalf("DeleteExpiredSessions again: %v", err)
		}
		if len(got) != 0 {
			t.Errorf("DeleteExpiredSessions again = %q, want none", got)
		}
	})

	t.Run("OKNone", func(t *testing.T) {
		s := open(t)
		got, err := s.DeleteExpiredSessions(t.Context(), expiryIdleBefore, expiryNow)
		if err != nil {
			t.Fatalf("DeleteExpiredSessions: %v", err)
		}
		if len(got) != 0 {
			t.Errorf("DeleteExpiredSessions = %q, want none", got)
		}
	})
}

func testCountSessions(t *testing.T, open func(t *testing.T) Store) {
	count := func(t *testing.T, s Store) int {
		t.Helper()
		n, err := s.CountSessions(t.Context(), expiryIdleBefore, expiryNow)
		if err != nil {
			t.Fatalf("CountSessions: %v", err)
		}
		return n
	}

	t.Run("OK", func(t *testing.T) {
		s, _, live := setupExpiry(t, open)
		if got, want := count(t, s), len(live); got != want {
			t.Errorf("CountSessions = %d, want %d", got, want)
		}
		// Counting deletes nothing.
		if got, want := count(t, s), len(live); got != want {
			t.Errorf("CountSessions again = %d, want %d", got, want)
		}
		if _, err := s.DeleteExpiredSessions(t.Context(), expiryIdleBefore, expiryNow); err != nil {
			t.Fatalf("DeleteExpiredSessions: %v", err)
		}
		if got, want := count(t, s), len(live); got != want {
			t.Errorf("CountSessions after DeleteExpiredSessions = %d, want %d", got, want)
		}
	})

	t.Run("OKEmpty", func(t *testing.T) {
		if got := count(t, open(t)); got != 0 {
			t.Errorf("CountSessions = %d, want 0", got)
		}
	})
}

func testCreateAuthToken(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("Agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "Agent1"))
		tok := newAuthToken("a", sess)
		if err := s.CreateAuthToken(t.Context(), tok); err != nil {
			t.Fatalf("CreateAuthToken: %v", err)
		}
		wantTokenConsumable(t, s, tok)
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "agent1"))
		other := mustCreateSession(t, s, newSession("1002", "agent1"))
		tok := mustCreateAuthToken(t, s, newAuthToken("a", sess))
		dup := newAuthToken("a", other) // same hash
		dup.Seed = "another seed"
		wantKind(t, s.CreateAuthToken(t.Context(), dup), icrec.Conflict)
		wantTokenConsumable(t, s, tok)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		mustCreateSession(t, s, newSession("1001", "agent1"))
		tok := newAuthToken("a", newSession("1002", "agent1"))
		wantKind(t, s.CreateAuthToken(t.Context(), tok), icrec.NotFound)
		wantTokenGone(t, s, tok)
	})
}

func testConsumeAuthToken(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OKOnce", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "agent1"))
		tok := mustCreateAuthToken(t, s, newAuthToken("a", sess))
		other := mustCreateAuthToken(t, s, newAuthToken("b", sess))
		wantTokenConsumable(t, s, tok)
		wantTokenGone(t, s, tok)
		// Consuming a token leaves its session and the session's other
		// tokens alone.
		checkSession(t, mustFindSession(t, s, sess.ID), sess)
		wantTokenConsumable(t, s, other)
	})

	t.Run("OKExpired", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "agent1"))
		tok := newAuthToken("a", sess)
		tok.Expires = t0.Add(-time.Hour)
		mustCreateAuthToken(t, s, tok)
		wantTokenConsumable(t, s, tok)
		wantTokenGone(t, s, tok)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		wantTokenGone(t, s, &icrec.AuthToken{Hash: hash("token a")})
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "agent1"))
		mustCreateAuthToken(t, s, newAuthToken("a", sess))
		wantTokenGone(t, s, newAuthToken("b", sess))
	})
}

func testDeleteExpiredAuthTokens(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "agent1"))
		now := t0.Add(time.Hour)
		token := func(name string, expires time.Time) *icrec.AuthToken {
			tok := newAuthToken(name, sess)
			tok.Expires = expires
			return mustCreateAuthToken(t, s, tok)
		}
		past := token("past", now.Add(-time.Minute))
		atNow := token("now", now)
		next := token("next", now.Add(time.Millisecond))
		future := token("future", now.Add(time.Minute))

		if err := s.DeleteExpiredAuthTokens(t.Context(), now); err != nil {
			t.Fatalf("DeleteExpiredAuthTokens: %v", err)
		}
		wantTokenGone(t, s, past)
		wantTokenGone(t, s, atNow)
		wantTokenConsumable(t, s, next)
		wantTokenConsumable(t, s, future)
		// The session stays.
		mustFindSession(t, s, sess.ID)
	})

	t.Run("OKNone", func(t *testing.T) {
		if err := open(t).DeleteExpiredAuthTokens(t.Context(), t0); err != nil {
			t.Fatalf("DeleteExpiredAuthTokens: %v", err)
		}
	})
}

func testConcurrency(t *testing.T, open func(t *testing.T) Store) {
	// However many clients race to redeem one token, one gets it: a token
	// that opened two sessions would defeat its purpose.
	t.Run("ConsumeAuthTokenOnce", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("1001", "agent1"))
		tok := mustCreateAuthToken(t, s, newAuthToken("a", sess))

		const n = 16
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			got    []*icrec.AuthToken
			start  = make(chan struct{})
			others []error
		)
		for range n {
			wg.Go(func() {
				<-start
				tk, err := s.ConsumeAuthToken(t.Context(), tok.Hash)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					got = append(got, tk)
				case !icrec.IsKind(err, icrec.NotFound):
					others = append(others, err)
				}
			})
		}
		close(start)
		wg.Wait()
		for _, err := range others {
			t.Errorf("ConsumeAuthToken: %v, want nil or NotFound", err)
		}
		if len(got) != 1 {
			t.Fatalf("%d of %d consumers got the token, want 1", len(got), n)
		}
		checkAuthToken(t, got[0], tok)
	})

	t.Run("CreateSessions", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		mustCreateUser(t, s, newUser("agent2"))
		const n = 32
		sessions := make([]*icrec.Session, n)
		for i := range sessions {
			sessions[i] = newSession(fmt.Sprint(1000+i), []string{"agent1", "agent2"}[i%2])
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, sess := range sessions {
			wg.Go(func() {
				<-start
				if err := s.CreateSession(t.Context(), sess); err != nil {
					t.Errorf("CreateSession(%q): %v", sess.ID, err)
				}
			})
		}
		close(start)
		wg.Wait()
		got, err := s.CountSessions(t.Context(), t0, t0)
		if err != nil {
			t.Fatalf("CountSessions: %v", err)
		}
		if got != n {
			t.Errorf("CountSessions = %d, want %d", got, n)
		}
		for _, want := range sessions {
			checkSession(t, mustFindSession(t, s, want.ID), want)
		}
	})
}
