package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"example.com/icrec"
)

// newPolicy returns a policy with every field set but Position and Created.
// Users come in no order of their own, "*" among them: stores keep them as
// given. Scopes too keep the order given.
func newPolicy(name string) *icrec.Policy {
	return &icrec.Policy{
		Name:       name,
		Users:      []string{"zed", icrec.EveryUser, "Agent1", "émile"},
		Roles:      []string{"agent", "Supervisor"},
		Workgroups: []string{"Sales", "support"},
		Scopes: []icrec.Scope{
			{Kind: icrec.ScopeWorkgroup, Value: "Support"},
			{Kind: icrec.ScopeMedia, Value: "Call"},
			{Kind: icrec.ScopeWorkgroup, Value: "Sales"},
			{Kind: icrec.ScopeOwn},
		},
		Rights: icrec.ReadAccess | icrec.CanPlay | icrec.CanExportOrArchive | icrec.CanAssignQuestionnaires,
	}
}

func mustCreatePolicy(t *testing.T, s Store, p *icrec.Policy) *icrec.Policy {
	t.Helper()
	if err := s.CreatePolicy(t.Context(), p); err != nil {
		t.Fatalf("CreatePolicy(%q): %v", p.Name, err)
	}
	return p
}

func mustListPolicies(t *testing.T, s Store) []*icrec.Policy {
	t.Helper()
	policies, err := s.ListPolicies(t.Context())
	if err != nil {
		t.Fatalf("ListPolicies: %v", err)
	}
	return policies
}

// checkPolicy compares every field of got with want, Created to the
// millisecond.
func checkPolicy(t *testing.T, got, want *icrec.Policy) {
	t.Helper()
	if got == nil {
		t.Fatalf("policy = nil, want %q", want.Name)
	}
	checkField(t, "Name", got.Name, want.Name)
	checkNames(t, "Users", got.Users, want.Users)
	checkNames(t, "Roles", got.Roles, want.Roles)
	checkNames(t, "Workgroups", got.Workgroups, want.Workgroups)
	checkList(t, "Scopes", got.Scopes, want.Scopes)
	checkEqual(t, "Rights", got.Rights, want.Rights)
	checkEqual(t, "Position", got.Position, want.Position)
	checkTime(t, "Created", got.Created, want.Created)
}

// policyNames returns the names of policies, in order.
func policyNames(policies []*icrec.Policy) []string {
	out := make([]string, len(policies))
	for i, p := range policies {
		out[i] = p.Name
	}
	return out
}

// wantPolicies fails the test unless the store lists exactly the policies
// named, in that order, numbered 1..n, each otherwise as created (byName).
func wantPolicies(t *testing.T, s Store, byName map[string]*icrec.Policy, names ...string) {
	t.Helper()
	got := mustListPolicies(t, s)
	checkNames(t, "policies", policyNames(got), names)
	if len(got) != len(names) {
		return
	}
	for i, p := range got {
		want := *byName[names[i]]
		want.Position = i + 1
		checkPolicy(t, p, &want)
	}
}

// createPolicies creates a policy of each name, in order, and returns them
// by name.
func createPolicies(t *testing.T, s Store, names ...string) map[string]*icrec.Policy {
	t.Helper()
	byName := make(map[string]*icrec.Policy)
	for i, n := range names {
		p := newPolicy(n)
		p.Rights = icrec.Rights(1 << i) // tells the policies apart
		p.Users = append(p.Users, "user of "+n)
		byName[n] = mustCreatePolicy(t, s, p)
	}
	return byName
}

func testCreatePolicy(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		p := newPolicy("Support calls")
		if err := s.CreatePolicy(t.Context(), p); err != nil {
			t.Fatalf("CreatePolicy: %v", err)
		}
		if p.Created.IsZero() {
			t.Errorf("Created is zero; CreatePolicy must set it")
		}
		checkEqual(t, "Position", p.Position, 1)
		got := mustListPolicies(t, s)
		if len(got) != 1 {
			t.Fatalf("ListPolicies = %q, want one", policyNames(got))
		}
		checkPolicy(t, got[0], p)
	})

	// Each new policy goes at the end, whatever its name.
	t.Run("OKAppends", func(t *testing.T) {
		s := open(t)
		names := []string{"zeta", "Alpha", "mid", "Émile", "beta"}
		byName := make(map[string]*icrec.Policy)
		for i, n := range names {
			p := mustCreatePolicy(t, s, newPolicy(n))
			checkEqual(t, "Position of "+n, p.Position, i+1)
			byName[n] = p
		}
		wantPolicies(t, s, byName, names...)
	})

	t.Run("OKNoLists", func(t *testing.T) {
		s := open(t)
		p := mustCreatePolicy(t, s, &icrec.Policy{Name: "nothing"})
		wantPolicies(t, s, map[string]*icrec.Policy{"nothing": p}, "nothing")
	})

	// Roles and workgroups come back sorted by folded form, whatever order
	// they were stored in; users and scopes in the order given.
	t.Run("OKOrdersLists", func(t *testing.T) {
		s := open(t)
		p := newPolicy("p")
		p.Users = []string{"Zed", "émile", "*", "Alice", "bob"}
		p.Roles = []string{"Zeta", "Émeute", "alpha", "éclair", "Beta"}
		p.Workgroups = []string{"support", "Émeute", "Sales", "éclair"}
		p.Scopes = []icrec.Scope{{Kind: icrec.ScopeMedia, Value: "Email"}, {Kind: icrec.ScopeWorkgroup, Value: "b"}, {Kind: icrec.ScopeWorkgroup, Value: "A"}}
		mustCreatePolicy(t, s, p)
		want := *p
		want.Roles = []string{"alpha", "Beta", "Zeta", "éclair", "Émeute"}
		want.Workgroups = []string{"Sales", "support", "éclair", "Émeute"}
		wantPolicies(t, s, map[string]*icrec.Policy{"p": &want}, "p")
	})

	t.Run("OKScopeAll", func(t *testing.T) {
		s := open(t)
		p := newPolicy("everything")
		p.Scopes = []icrec.Scope{{Kind: icrec.ScopeAll}}
		p.Rights = icrec.AllRights
		mustCreatePolicy(t, s, p)
		wantPolicies(t, s, map[string]*icrec.Policy{"everything": p}, "everything")
	})

	t.Run("ErrConflict", func(t *testing.T) {
		for _, tc := range caseTwins {
			t.Run(tc.name, func(t *testing.T) {
				s := open(t)
				first := mustCreatePolicy(t, s, newPolicy(tc.id))
				second := newPolicy(tc.twin)
				second.Users = []string{"someone else"}
				wantKind(t, s.CreatePolicy(t.Context(), second), icrec.Conflict)
				// The failed create takes no place in the order.
				next := mustCreatePolicy(t, s, newPolicy("next"))
				checkEqual(t, "Position after a conflict", next.Position, 2)
				wantPolicies(t, s, map[string]*icrec.Policy{tc.id: first, "next": next}, tc.id, "next")
			})
		}
	})
}

func testListPolicies(t *testing.T, open func(t *testing.T) Store) {
	t.Run("OKEmpty", func(t *testing.T) {
		if got := mustListPolicies(t, open(t)); len(got) != 0 {
			t.Errorf("ListPolicies = %q, want none", policyNames(got))
		}
	})

	// The lists of each policy are its own.
	t.Run("OKLists", func(t *testing.T) {
		s := open(t)
		byName := make(map[string]*icrec.Policy)
		for i := range 4 {
			name := fmt.Sprint("policy ", i)
			p := &icrec.Policy{Name: name, Rights: icrec.Rights(i)}
			for j := range i {
				p.Users = append(p.Users, fmt.Sprintf("user %d.%d", i, j))
				p.Roles = append(p.Roles, fmt.Sprintf("role %d.%d", i, j))
				p.Workgroups = append(p.Workgroups, fmt.Sprintf("workgroup %d.%d", i, j))
				p.Scopes = append(p.Scopes, icrec.Scope{Kind: icrec.ScopeWorkgroup, Value: fmt.Sprintf("scope %d.%d", i, j)})
			}
			byName[name] = mustCreatePolicy(t, s, p)
		}
		wantPolicies(t, s, byName, "policy 0", "policy 1", "policy 2", "policy 3")
	})
}

func testDeletePolicy(t *testing.T, open func(t *testing.T) Store) {
	names := []string{"A", "B", "C", "D"}
	for i, n := range names {
		t.Run("OK"+n, func(t *testing.T) {
			s := open(t)
			byName := createPolicies(t, s, names...)
			// By another spelling of the name: names ignore case.
			if err := s.DeletePolicy(t.Context(), strings.ToLower(n)); err != nil {
				t.Fatalf("DeletePolicy: %v", err)
			}
			rest := slices.Delete(slices.Clone(names), i, i+1)
			wantPolicies(t, s, byName, rest...)
			// The next policy goes at the end of what is left.
			p := mustCreatePolicy(t, s, newPolicy("E"))
			checkEqual(t, "Position of the next policy", p.Position, len(rest)+1)
			byName["E"] = p
			wantPolicies(t, s, byName, append(rest, "E")...)
		})
	}

	t.Run("OKAll", func(t *testing.T) {
		s := open(t)
		byName := createPolicies(t, s, names...)
		for i, n := range []string{"B", "D", "A", "C"} {
			if err := s.DeletePolicy(t.Context(), n); err != nil {
				t.Fatalf("DeletePolicy(%q): %v", n, err)
			}
			if i == 1 {
				wantPolicies(t, s, byName, "A", "C")
			}
		}
		wantPolicies(t, s, byName)
		p := mustCreatePolicy(t, s, newPolicy("new"))
		checkEqual(t, "Position of a policy created after deleting all", p.Position, 1)
	})

	// A new policy under a deleted one's name starts afresh: nothing of the
	// old one's lists comes back.
	t.Run("OKCascades", func(t *testing.T) {
		s := open(t)
		createPolicies(t, s, "A", "B")
		if err := s.DeletePolicy(t.Context(), "A"); err != nil {
			t.Fatalf("DeletePolicy: %v", err)
		}
		p := &icrec.Policy{Name: "a", Users: []string{"agent9"}, Scopes: []icrec.Scope{{Kind: icrec.ScopeOwn}}, Rights: icrec.CanPlay}
		mustCreatePolicy(t, s, p)
		got := mustListPolicies(t, s)
		if len(got) != 2 {
			t.Fatalf("ListPolicies = %q, want B, a", policyNames(got))
		}
		checkPolicy(t, got[1], p)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		wantKind(t, s.DeletePolicy(t.Context(), "A"), icrec.NotFound)
		byName := createPolicies(t, s, "A", "B")
		wantKind(t, s.DeletePolicy(t.Context(), "C"), icrec.NotFound)
		if err := s.DeletePolicy(t.Context(), "A"); err != nil {
			t.Fatalf("DeletePolicy: %v", err)
		}
		wantKind(t, s.DeletePolicy(t.Context(), "A"), icrec.NotFound)
		wantPolicies(t, s, byName, "B")
	})
}

func testMovePolicy(t *testing.T, open func(t *testing.T) Store) {
	names := []string{"A", "B", "C", "D", "E"}
	for _, tc := range []struct {
		name, before string
		want         string
	}{
		{"E", "A", "EABCD"}, // last to first
		{"A", "E", "BCDAE"}, // first to just before last
		{"B", "D", "ACBDE"}, // down
		{"D", "B", "ADBCE"}, // up
		{"E", "D", "ABCED"}, // swap the last two
		{"B", "A", "BACDE"}, // swap the first two
		{"A", "B", "ABCDE"}, // already just before
		{"C", "D", "ABCDE"}, // already just before, in the middle
		{"C", "C", "ABCDE"}, // before itself
		{"e", "b", "AEBCD"}, // names ignore case
		{"d", "D", "ABCDE"}, // before itself, in another spelling
		{"A", "c", "BACDE"}, // down by one place
		{"D", "a", "DABCE"}, // up to the top from the middle
		{"B", "E", "ACDBE"}, // down to just before the last
	} {
		t.Run(fmt.Sprintf("OK%sBefore%s", tc.name, tc.before), func(t *testing.T) {
			s := open(t)
			byName := createPolicies(t, s, names...)
			if err := s.MovePolicy(t.Context(), tc.name, tc.before); err != nil {
				t.Fatalf("MovePolicy(%q, %q): %v", tc.name, tc.before, err)
			}
			wantPolicies(t, s, byName, strings.Split(tc.want, "")...)
		})
	}

	// Moves build on each other, and on deletes and creates.
	t.Run("OKSequence", func(t *testing.T) {
		s := open(t)
		byName := createPolicies(t, s, names...)
		step := func(what string, f func() error, want string) {
			t.Helper()
			if err := f(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			wantPolicies(t, s, byName, strings.Split(want, "")...)
		}
		move := func(name, before string) func() error {
			return func() error { return s.MovePolicy(t.Context(), name, before) }
		}
		step("move D before A", move("D", "A"), "DABCE")
		step("move A before E", move("A", "E"), "DBCAE")
		step("delete B", func() error { return s.DeletePolicy(t.Context(), "B") }, "DCAE")
		step("create F", func() error {
			byName["F"] = newPolicy("F")
			return s.CreatePolicy(t.Context(), byName["F"])
		}, "DCAEF")
		step("move F before D", move("F", "D"), "FDCAE")
		step("move D before E", move("D", "E"), "FCADE")
		step("delete F", func() error { return s.DeletePolicy(t.Context(), "f") }, "CADE")
		step("move E before C", move("E", "C"), "ECAD")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		wantKind(t, s.MovePolicy(t.Context(), "A", "A"), icrec.NotFound)
		byName := createPolicies(t, s, "A", "B", "C")
		for _, tc := range []struct{ name, before string }{
			{"X", "A"}, // the policy to move
			{"C", "X"}, // the one to move it before
			{"X", "Y"}, // both
			{"X", "X"}, // before itself
		} {
			wantKind(t, s.MovePolicy(t.Context(), tc.name, tc.before), icrec.NotFound)
		}
		wantPolicies(t, s, byName, "A", "B", "C")
	})
}

func testPolicyConcurrency(t *testing.T, open func(t *testing.T) Store) {
	// Policies created at once each get a place of their own: the order
	// stays 1..n with no position taken twice.
	t.Run("CreatePolicies", func(t *testing.T) {
		s := open(t)
		const n = 16
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				if err := s.CreatePolicy(t.Context(), newPolicy(fmt.Sprint("policy ", i))); err != nil {
					t.Errorf("CreatePolicy: %v", err)
				}
			})
		}
		close(start)
		wg.Wait()
		wantPositions(t, mustListPolicies(t, s), n)
	})

	// Moves, deletes and creates racing each other keep the order whole.
	t.Run("MoveDeleteCreate", func(t *testing.T) {
		s := open(t)
		const n = 12
		for i := range n {
			mustCreatePolicy(t, s, newPolicy(fmt.Sprint("p", i)))
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				var err error
				switch i % 3 {
				case 0:
					err = s.MovePolicy(t.Context(), fmt.Sprint("p", i), fmt.Sprint("p", (i+5)%n))
				case 1:
					err = s.DeletePolicy(t.Context(), fmt.Sprint("p", i))
				case 2:
					err = s.CreatePolicy(t.Context(), newPolicy(fmt.Sprint("q", i)))
				}
				// No move names a policy that a delete removes.
				if err != nil {
					t.Errorf("policy %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		wantPositions(t, mustListPolicies(t, s), n)
	})
}

// wantPositions fails the test unless policies are n, in positions 1..n.
func wantPositions(t *testing.T, policies []*icrec.Policy, n int) {
	t.Helper()
	if len(policies) != n {
		t.Errorf("%d policies, want %d", len(policies), n)
	}
	for i, p := range policies {
		if p.Position != i+1 {
			t.Errorf("policy %d of the list, %q, has position %d", i+1, p.Name, p.Position)
		}
	}
}
