// Package storetest is the conformance suite for implementations of
// icrec.UserStore, icrec.SessionStore, icrec.RecordingStore, icrec.PolicyStore,
// icrec.AuditStore and icrec.HoldStore, and of icrec.VersionStore where a
// store keeps it. Every backend runs it from its own tests, so that the
// backends keep the contracts in step:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store {
//			return mustOpen(t) // a fresh, empty store, closed by t.Cleanup
//		})
//	}
//
// What the suite takes as given, beyond the interface documentation:
//
//   - Stores keep times, and recording durations, to at least millisecond
//     precision. The suite compares them truncated to the millisecond, and
//     its values have sub-millisecond parts far from a millisecond boundary,
//     so a store that rounds to microseconds passes too.
//   - A nil and an empty list (roles, workgroups, a recording's or a
//     policy's lists) are the same.
//   - Roles, workgroups, recording attributes and tags come back sorted by
//     folded form (icrec.FoldID), as icrec.NormalizeNames and
//     icrec.NormalizeAttributes sort them, whatever order they were stored
//     in. A recording's attachments come back by index. Participants,
//     policy users and policy scopes come back in the order given.
//   - RecordingFilter compares participants and workgroups ignoring case,
//     as Recording.HasParticipant and Recording.InWorkgroup do; a
//     participant filter matches user ids, never an external party's name.
//   - Recording ids are canonical, upper-case GUIDs (icrec.CanonicalGUID).
//   - PendingBlobs may list the keys in any order.
//   - Errors of kind NotFound and Conflict are *icrec.Error values with a
//     caller-safe Message, since the HTTP layer shows it to the client.
//
// The suite knows nothing of any particular database, and needs nothing
// from the store's clock: it runs the same way with a real or a fixed one.
package storetest

import (
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/testutil"
)

// Store is what a backend must implement to run the suite.
type Store interface {
	icrec.UserStore
	icrec.SessionStore
	icrec.RecordingStore
	icrec.PolicyStore
	icrec.AuditStore
	icrec.HoldStore
}

// Run runs the suite. open must return a new, empty store for each call,
// and release it when the test that called it ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("CreateUser", func(t *testing.T) { testCreateUser(t, open) })
	t.Run("FindUserByID", func(t *testing.T) { testFindUserByID(t, open) })
	t.Run("ListUsers", func(t *testing.T) { testListUsers(t, open) })
	t.Run("CountUsers", func(t *testing.T) { testCountUsers(t, open) })
	t.Run("UpdateUser", func(t *testing.T) { testUpdateUser(t, open) })
	t.Run("DeleteUser", func(t *testing.T) { testDeleteUser(t, open) })
	t.Run("CreateSession", func(t *testing.T) { testCreateSession(t, open) })
	t.Run("FindSessionByID", func(t *testing.T) { testFindSessionByID(t, open) })
	t.Run("TouchSession", func(t *testing.T) { testTouchSession(t, open) })
	t.Run("DeleteSession", func(t *testing.T) { testDeleteSession(t, open) })
	t.Run("DeleteExpiredSessions", func(t *testing.T) { testDeleteExpiredSessions(t, open) })
	t.Run("CountSessions", func(t *testing.T) { testCountSessions(t, open) })
	t.Run("CreateAuthToken", func(t *testing.T) { testCreateAuthToken(t, open) })
	t.Run("ConsumeAuthToken", func(t *testing.T) { testConsumeAuthToken(t, open) })
	t.Run("DeleteExpiredAuthTokens", func(t *testing.T) { testDeleteExpiredAuthTokens(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("CreateRecordings", func(t *testing.T) { testCreateRecordings(t, open) })
	t.Run("FindRecordingByID", func(t *testing.T) { testFindRecordingByID(t, open) })
	t.Run("FindRecordings", func(t *testing.T) { testFindRecordings(t, open) })
	t.Run("Pagination", func(t *testing.T) { testPagination(t, open) })
	t.Run("CountRecordings", func(t *testing.T) { testCountRecordings(t, open) })
	t.Run("DeleteRecordings", func(t *testing.T) { testDeleteRecordings(t, open) })
	t.Run("PendingBlobs", func(t *testing.T) { testPendingBlobs(t, open) })
	t.Run("RecordingByMediaKey", func(t *testing.T) { testRecordingByMediaKey(t, open) })
	t.Run("ExistingRecordings", func(t *testing.T) { testExistingRecordings(t, open) })
	t.Run("ExpiredRecordings", func(t *testing.T) { testExpiredRecordings(t, open) })
	t.Run("EditRecording", func(t *testing.T) { testEditRecording(t, open) })
	t.Run("CreatePolicy", func(t *testing.T) { testCreatePolicy(t, open) })
	t.Run("ListPolicies", func(t *testing.T) { testListPolicies(t, open) })
	t.Run("DeletePolicy", func(t *testing.T) { testDeletePolicy(t, open) })
	t.Run("MovePolicy", func(t *testing.T) { testMovePolicy(t, open) })
	t.Run("PolicyConcurrency", func(t *testing.T) { testPolicyConcurrency(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("CreateHold", func(t *testing.T) { testCreateHold(t, open) })
	t.Run("ListHolds", func(t *testing.T) { testListHolds(t, open) })
	t.Run("DeleteHold", func(t *testing.T) { testDeleteHold(t, open) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, open) })
}

// t0 is the time around which the suite's sessions and tokens live. Its
// sub-millisecond part tests that stores keep milliseconds.
var t0 = time.Date(2025, time.March, 14, 9, 26, 53, 589_793_238, time.UTC)

// newUser returns a user with every field set but the times.
func newUser(id string) *icrec.User {
	return &icrec.User{
		ID:           id,
		Name:         "Name of " + id,
		Roles:        []string{"agent", "Supervisor"},
		Workgroups:   []string{"Sales"},
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$" + id,
	}
}

func mustCreateUser(t *testing.T, s Store, u *icrec.User) *icrec.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%q): %v", u.ID, err)
	}
	return u
}

func mustFindUser(t *testing.T, s Store, id string) *icrec.User {
	t.Helper()
	u, err := s.FindUserByID(t.Context(), id)
	if err != nil {
		t.Fatalf("FindUserByID(%q): %v", id, err)
	}
	return u
}

// hash returns a 32-byte value, like the SHA-256 hashes the stores hold.
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newSession returns a session of user with every field set, created at t0
// with an eight-hour lifetime.
func newSession(id, userID string) *icrec.Session {
	return &icrec.Session{
		ID:          id,
		UserID:      userID,
		CookieHash:  hash("cookie " + id),
		CSRFHash:    hash("csrf " + id),
		Language:    "en-us",
		Application: "storetest " + id,
		ClientAddr:  "192.0.2.1:" + id,
		Created:     t0,
		LastSeen:    t0.Add(time.Minute),
		Expires:     t0.Add(8 * time.Hour),
	}
}

func mustCreateSession(t *testing.T, s Store, sess *icrec.Session) *icrec.Session {
	t.Helper()
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession(%q): %v", sess.ID, err)
	}
	return sess
}

func mustFindSession(t *testing.T, s Store, id string) *icrec.Session {
	t.Helper()
	sess, err := s.FindSessionByID(t.Context(), id)
	if err != nil {
		t.Fatalf("FindSessionByID(%q): %v", id, err)
	}
	return sess
}

// wantSessionGone fails the test unless the session with the given id is
// not found.
func wantSessionGone(t *testing.T, s Store, id string) {
	t.Helper()
	_, err := s.FindSessionByID(t.Context(), id)
	wantKind(t, err, icrec.NotFound)
}

// newAuthToken returns a token of the session, expiring a minute after t0.
func newAuthToken(name string, sess *icrec.Session) *icrec.AuthToken {
	return &icrec.AuthToken{
		Hash:      hash("token " + name),
		Seed:      "seed " + name,
		SessionID: sess.ID,
		UserID:    sess.UserID,
		Expires:   t0.Add(time.Minute),
	}
}

func mustCreateAuthToken(t *testing.T, s Store, tok *icrec.AuthToken) *icrec.AuthToken {
	t.Helper()
	if err := s.CreateAuthToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateAuthToken(seed %q): %v", tok.Seed, err)
	}
	return tok
}

// wantTokenGone fails the test unless tok cannot be consumed.
func wantTokenGone(t *testing.T, s Store, tok *icrec.AuthToken) {
	t.Helper()
	_, err := s.ConsumeAuthToken(t.Context(), tok.Hash)
	wantKind(t, err, icrec.NotFound)
}

// wantTokenConsumable fails the test unless tok can be consumed, and
// consumes it.
func wantTokenConsumable(t *testing.T, s Store, tok *icrec.AuthToken) {
	t.Helper()
	got, err := s.ConsumeAuthToken(t.Context(), tok.Hash)
	if err != nil {
		t.Fatalf("ConsumeAuthToken(seed %q): %v", tok.Seed, err)
	}
	checkAuthToken(t, got, tok)
}

var wantKind = testutil.WantKind

// sameTime reports whether got and want are equal to the millisecond, the
// precision every store must keep.
func sameTime(got, want time.Time) bool {
	return got.Truncate(time.Millisecond).Equal(want.Truncate(time.Millisecond))
}

func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !sameTime(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func checkField(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func checkNames(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) { // nil and empty are equal
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

// checkUser compares every field of got with want, times to the
// millisecond.
func checkUser(t *testing.T, got, want *icrec.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("user = nil, want %q", want.ID)
	}
	checkField(t, "ID", got.ID, want.ID)
	checkField(t, "Name", got.Name, want.Name)
	checkNames(t, "Roles", got.Roles, want.Roles)
	checkNames(t, "Workgroups", got.Workgroups, want.Workgroups)
	checkField(t, "PasswordHash", got.PasswordHash, want.PasswordHash)
	if got, want := got.Disabled, want.Disabled; got != want {
		t.Errorf("Disabled = %v, want %v", got, want)
	}
	checkTime(t, "Created", got.Created, want.Created)
	checkTime(t, "Updated", got.Updated, want.Updated)
}

// checkSession compares every field of got with want, times to the
// millisecond.
func checkSession(t *testing.T, got, want *icrec.Session) {
	t.Helper()
	if got == nil {
		t.Fatalf("session = nil, want %q", want.ID)
	}
	checkField(t, "ID", got.ID, want.ID)
	checkField(t, "UserID", got.UserID, want.UserID)
	checkField(t, "CookieHash", string(got.CookieHash), string(want.CookieHash))
	checkField(t, "CSRFHash", string(got.CSRFHash), string(want.CSRFHash))
	checkField(t, "Language", got.Language, want.Language)
	checkField(t, "Application", got.Application, want.Application)
	checkField(t, "ClientAddr", got.ClientAddr, want.ClientAddr)
	checkTime(t, "Created", got.Created, want.Created)
	checkTime(t, "LastSeen", got.LastSeen, want.LastSeen)
	checkTime(t, "Expires", got.Expires, want.Expires)
}

func checkAuthToken(t *testing.T, got, want *icrec.AuthToken) {
	t.Helper()
	if got == nil {
		t.Fatalf("auth token = nil, want seed %q", want.Seed)
	}
	checkField(t, "Hash", string(got.Hash), string(want.Hash))
	checkField(t, "Seed", got.Seed, want.Seed)
	checkField(t, "SessionID", got.SessionID, want.SessionID)
	checkField(t, "UserID", got.UserID, want.UserID)
	checkTime(t, "Expires", got.Expires, want.Expires)
}

// ids returns the ids of users, in order.
func ids(users []*icrec.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// equalFold reports whether a and b are the same id ignoring case, as
// stores compare ids.
func equalFold(a, b string) bool { return icrec.FoldID(a) == icrec.FoldID(b) }
