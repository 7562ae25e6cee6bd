package storetest

import (
	"testing"
	"time"

	"example.com/icrec"
)

// caseTwins are pairs of user ids that differ only in case. The non-ASCII
// ones catch a store that folds case with an ASCII-only function, such as
// SQL lower() in SQLite.
var caseTwins = []struct {
	name, id, twin string
}{
	{"ASCII", "Agent1", "agent1"},
	{"ASCIIUpper", "agent1", "AGENT1"},
	{"NonASCII", "Émile", "émile"},
	{"NonASCIIUpper", "émile", "ÉMILE"},
}

func testCreateUser(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		u := newUser("Agent1")
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if u.Created.IsZero() {
			t.Errorf("Created is zero; CreateUser must set it")
		}
		if !sameTime(u.Updated, u.Created) {
			t.Errorf("Updated = %v, want Created %v", u.Updated, u.Created)
		}
		checkUser(t, mustFindUser(t, s, "Agent1"), u)
	})

	t.Run("OKNoNames", func(t *testing.T) {
		s := open(t)
		u := mustCreateUser(t, s, &icrec.User{ID: "bare", PasswordHash: "x", Disabled: true})
		checkUser(t, mustFindUser(t, s, "bare"), u)
	})

	// Names are given unsorted here: stores return them sorted by folded
	// form. Plain byte order would put "Beta" before "alpha", and an
	// ASCII-only fold would put "Émeute" before "éclair".
	t.Run("OKSortsNames", func(t *testing.T) {
		s := open(t)
		u := newUser("agent1")
		u.Roles = []string{"Zeta", "Émeute", "alpha", "éclair", "Beta"}
		u.Workgroups = []string{"support", "Émeute", "Sales", "éclair"}
		mustCreateUser(t, s, u)
		got := mustFindUser(t, s, "agent1")
		checkNames(t, "Roles", got.Roles, []string{"alpha", "Beta", "Zeta", "éclair", "Émeute"})
		checkNames(t, "Workgroups", got.Workgroups, []string{"Sales", "support", "éclair", "Émeute"})
	})

	t.Run("ErrConflict", func(t *testing.T) {
		for _, tc := range caseTwins {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				first := mustCreateUser(t, s, newUser(tc.id))
				second := newUser(tc.twin)
				second.Name = "someone else"
				wantKind(t, s.CreateUser(t.Context(), second), icrec.Conflict)
				checkUser(t, mustFindUser(t, s, tc.id), first)
				if n, err := s.CountUsers(t.Context()); err != nil || n != 1 {
					t.Errorf("CountUsers = %d, %v; want 1, nil", n, err)
				}
			})
		}
	})

	t.Run("ErrConflictSameID", func(t *testing.T) {
		s := open(t)
		first := mustCreateUser(t, s, newUser("agent1"))
		second := newUser("agent1")
		second.Name = "someone else"
		wantKind(t, s.CreateUser(t.Context(), second), icrec.Conflict)
		checkUser(t, mustFindUser(t, s, "agent1"), first)
	})
}

func testFindUserByID(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OKIgnoresCase", func(t *testing.T) {
		for _, tc := range caseTwins {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				u := mustCreateUser(t, s, newUser(tc.id))
				// The id comes back as it was created, not as looked up.
				checkUser(t, mustFindUser(t, s, tc.twin), u)
			})
		}
	})

	t.Run("OKAmongOthers", func(t *testing.T) {
		s := open(t)
		var users []*icrec.User
		for _, id := range []string{"alice", "bob", "carol"} {
			users = append(users, mustCreateUser(t, s, newUser(id)))
		}
		for _, u := range users {
			checkUser(t, mustFindUser(t, s, u.ID), u)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.FindUserByID(t.Context(), "agent1")
		wantKind(t, err, icrec.NotFound)

		mustCreateUser(t, s, newUser("agent1"))
		_, err = s.FindUserByID(t.Context(), "agent2")
		wantKind(t, err, icrec.NotFound)
	})
}

func testListUsers(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OKEmpty", func(t *testing.T) {
		s := open(t)
		users, err := s.ListUsers(t.Context())
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if len(users) != 0 {
			t.Errorf("ListUsers = %q, want none", ids(users))
		}
	})

	// Ordered by folded id: plain byte order would put "Bob" first and
	// "Émile" before "éclair".
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		created := make(map[string]*icrec.User)
		for _, id := range []string{"carol", "Émile", "Bob", "zed", "alice", "éclair"} {
			u := newUser(id)
			u.Roles = []string{"role of " + id}
			u.Disabled = id == "zed"
			created[id] = mustCreateUser(t, s, u)
		}
		users, err := s.ListUsers(t.Context())
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		checkNames(t, "ids", ids(users), []string{"alice", "Bob", "carol", "zed", "éclair", "Émile"})
		for _, u := range users {
			if want := created[u.ID]; want != nil {
				checkUser(t, u, want)
			}
		}
	})
}

func testCountUsers(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		wantCount := func(want int) {
			t.Helper()
			n, err := s.CountUsers(t.Context())
			if err != nil {
				t.Fatalf("CountUsers: %v", err)
			}
			if n != want {
				t.Errorf("CountUsers = %d, want %d", n, want)
			}
		}
		wantCount(0)
		for _, id := range []string{"a", "b", "c"} {
			mustCreateUser(t, s, newUser(id))
		}
		wantCount(3)
		if err := s.DeleteUser(t.Context(), "b"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		wantCount(2)
	})
}

func ptr[T any](v T) *T { return &v }

func testUpdateUser(t *testing.T, open func(t *testing.T) Store) {
	// Each case changes one field of a user created from newUser, but
	// disabled, so that every field starts from a value other than its
	// zero; want makes the same change to the expected user.
	fields := []struct {
		name string
		upd  icrec.UserUpdate
		want func(u *icrec.User)
	}{
		{"Name", icrec.UserUpdate{Name: ptr("Agent Smith")}, func(u *icrec.User) { u.Name = "Agent Smith" }},
		{"NameEmpty", icrec.UserUpdate{Name: ptr("")}, func(u *icrec.User) { u.Name = "" }},
		{"Roles", icrec.UserUpdate{Roles: ptr([]string{"admin", "Auditor"})}, func(u *icrec.User) { u.Roles = []string{"admin", "Auditor"} }},
		{"RolesEmpty", icrec.UserUpdate{Roles: ptr([]string{})}, func(u *icrec.User) { u.Roles = nil }},
		{"Workgroups", icrec.UserUpdate{Workgroups: ptr([]string{"Billing", "sales"})}, func(u *icrec.User) { u.Workgroups = []string{"Billing", "sales"} }},
		{"WorkgroupsEmpty", icrec.UserUpdate{Workgroups: ptr([]string{})}, func(u *icrec.User) { u.Workgroups = nil }},
		{"PasswordHash", icrec.UserUpdate{PasswordHash: ptr("$argon2id$new")}, func(u *icrec.User) { u.PasswordHash = "$argon2id$new" }},
		{"Enable", icrec.UserUpdate{Disabled: ptr(false)}, func(u *icrec.User) { u.Disabled = false }},
		{"Nothing", icrec.UserUpdate{}, func(u *icrec.User) {}},
		{"Everything", icrec.UserUpdate{
			Name:         ptr("New Name"),
			Roles:        ptr([]string{"x"}),
			Workgroups:   ptr([]string{"y"}),
			PasswordHash: ptr("new hash"),
			Disabled:     ptr(false),
		}, func(u *icrec.User) {
			u.Name, u.Roles, u.Workgroups, u.PasswordHash, u.Disabled = "New Name", []string{"x"}, []string{"y"}, "new hash", false
		}},
	}
	for _, tc := range fields {
		t.Run("OK"+tc.name, func(t *testing.T) {
			s := open(t)
			u := newUser("Agent1")
			u.Disabled = true
			mustCreateUser(t, s, u)
			other := mustCreateUser(t, s, newUser("agent2"))
			want := *u
			tc.want(&want)

			// By another spelling of the id: updates ignore case too.
			got, err := s.UpdateUser(t.Context(), "AGENT1", tc.upd)
			if err != nil {
				t.Fatalf("UpdateUser: %v", err)
			}
			// Updated is the store's to set; it must not go back.
			if got.Updated.Before(u.Updated.Truncate(time.Millisecond)) {
				t.Errorf("Updated = %v, before the previous %v", got.Updated, u.Updated)
			}
			want.Updated = got.Updated
			checkUser(t, got, &want)
			checkUser(t, mustFindUser(t, s, "Agent1"), &want)
			checkUser(t, mustFindUser(t, s, "agent2"), other)
		})
	}

	t.Run("OKDisable", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		got, err := s.UpdateUser(t.Context(), "agent1", icrec.UserUpdate{Disabled: ptr(true)})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if !got.Disabled {
			t.Errorf("returned Disabled = false, want true")
		}
		if !mustFindUser(t, s, "agent1").Disabled {
			t.Errorf("stored Disabled = false, want true")
		}
	})

	t.Run("OKEndSessions", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("Agent1"))
		mustCreateUser(t, s, newUser("agent2"))
		a1 := mustCreateSession(t, s, newSession("101", "Agent1"))
		a2 := mustCreateSession(t, s, newSession("102", "Agent1"))
		b1 := mustCreateSession(t, s, newSession("201", "agent2"))
		ta1 := mustCreateAuthToken(t, s, newAuthToken("a1", a1))
		ta2 := mustCreateAuthToken(t, s, newAuthToken("a2", a2))
		tb1 := mustCreateAuthToken(t, s, newAuthToken("b1", b1))

		got, err := s.UpdateUser(t.Context(), "agent1", icrec.UserUpdate{PasswordHash: ptr("new"), EndSessions: true})
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if got.PasswordHash != "new" {
			t.Errorf("PasswordHash = %q, want %q", got.PasswordHash, "new")
		}
		wantSessionGone(t, s, a1.ID)
		wantSessionGone(t, s, a2.ID)
		wantTokenGone(t, s, ta1)
		wantTokenGone(t, s, ta2)
		checkSession(t, mustFindSession(t, s, b1.ID), b1)
		wantTokenConsumable(t, s, tb1)
	})

	t.Run("OKKeepsSessions", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		sess := mustCreateSession(t, s, newSession("101", "agent1"))
		tok := mustCreateAuthToken(t, s, newAuthToken("a", sess))
		if _, err := s.UpdateUser(t.Context(), "agent1", icrec.UserUpdate{Name: ptr("x")}); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		checkSession(t, mustFindSession(t, s, sess.ID), sess)
		wantTokenConsumable(t, s, tok)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		_, err := s.UpdateUser(t.Context(), "agent2", icrec.UserUpdate{Name: ptr("x")})
		wantKind(t, err, icrec.NotFound)
		_, err = s.UpdateUser(t.Context(), "agent2", icrec.UserUpdate{EndSessions: true})
		wantKind(t, err, icrec.NotFound)
		if _, err := s.FindUserByID(t.Context(), "agent2"); !icrec.IsKind(err, icrec.NotFound) {
			t.Errorf("FindUserByID(agent2) after a failed update: err = %v, want NotFound", err)
		}
	})
}

func testDeleteUser(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("Agent1"))
		other := mustCreateUser(t, s, newUser("agent2"))
		if err := s.DeleteUser(t.Context(), "AGENT1"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		_, err := s.FindUserByID(t.Context(), "Agent1")
		wantKind(t, err, icrec.NotFound)
		checkUser(t, mustFindUser(t, s, "agent2"), other)
	})

	t.Run("OKCascades", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		mustCreateUser(t, s, newUser("agent2"))
		a1 := mustCreateSession(t, s, newSession("101", "agent1"))
		a2 := mustCreateSession(t, s, newSession("102", "agent1"))
		b1 := mustCreateSession(t, s, newSession("201", "agent2"))
		ta1 := mustCreateAuthToken(t, s, newAuthToken("a1", a1))
		tb1 := mustCreateAuthToken(t, s, newAuthToken("b1", b1))

		if err := s.DeleteUser(t.Context(), "agent1"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		wantSessionGone(t, s, a1.ID)
		wantSessionGone(t, s, a2.ID)
		wantTokenGone(t, s, ta1)
		checkSession(t, mustFindSession(t, s, b1.ID), b1)
		wantTokenConsumable(t, s, tb1)
	})

	// A new user under a deleted user's id starts afresh: nothing of the
	// old one, roles included, comes back.
	t.Run("OKIDReusable", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		if err := s.DeleteUser(t.Context(), "agent1"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		u := mustCreateUser(t, s, &icrec.User{ID: "Agent1", PasswordHash: "new"})
		checkUser(t, mustFindUser(t, s, "agent1"), u)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreateUser(t, s, newUser("agent1"))
		wantKind(t, s.DeleteUser(t.Context(), "agent2"), icrec.NotFound)
		if err := s.DeleteUser(t.Context(), "agent1"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		wantKind(t, s.DeleteUser(t.Context(), "agent1"), icrec.NotFound)
	})
}
