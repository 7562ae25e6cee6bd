package icrec_test

import (
	"slices"
	"strings"
	"testing"

	"example.com/icrec"
)

// checkInvalid fails t unless err is an Invalid *icrec.Error with the
// invalid-property errorId whose message contains each of parts.
func checkInvalid(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("err=nil, want an error")
	}
	e, ok := err.(*icrec.Error)
	if !ok {
		t.Fatalf("err=%v (%T), want *icrec.Error", err, err)
	}
	if got, want := e.Kind, icrec.Invalid; got != want {
		t.Errorf("Kind=%v, want %v", got, want)
	}
	if got, want := e.ID, icrec.IDInvalidProperty; got != want {
		t.Errorf("ID=%q, want %q", got, want)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("Message=%q, want it to contain %q", e.Message, p)
		}
	}
}

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		name, id string
	}{
		{"OK", "agent1"},
		{"OKInnerSpaces", "John Q Smith"},
		{"OKNonASCII", "Jörg.Müller-日本"},
		{"OKMaxLength", strings.Repeat("a", icrec.MaxIDLength)},
		{"OKMaxLengthMultibyte", strings.Repeat("é", icrec.MaxIDLength/2)}, // 2 bytes each
		{"OKPunctuation", `dom\user@example.com`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := icrec.ValidateID("user id", tc.id); err != nil {
				t.Errorf("ValidateID(%q)=%v, want nil", tc.id, err)
			}
		})
	}
	for _, tc := range []struct {
		name, id, message string
	}{
		{"ErrEmpty", "", "must not be empty"},
		{"ErrTooLong", strings.Repeat("a", icrec.MaxIDLength+1), "129 bytes long"},
		// The limit is in bytes, not runes: 65 two-byte runes are too long.
		{"ErrTooLongMultibyte", strings.Repeat("é", icrec.MaxIDLength/2+1), "130 bytes long"},
		{"ErrInvalidUTF8", "agent\xff1", "not valid UTF-8"},
		{"ErrTruncatedUTF8", "agent\xc3", "not valid UTF-8"},
		{"ErrLeadingSpace", " agent1", "leading or trailing space"},
		{"ErrTrailingSpace", "agent1 ", "leading or trailing space"},
		{"ErrLeadingTab", "\tagent1", "leading or trailing space"},
		{"ErrTrailingNewline", "agent1\n", "leading or trailing space"},
		{"ErrLeadingNoBreakSpace", "\u00a0agent1", "leading or trailing space"},
		{"ErrControlNUL", "agent\x001", "control character"},
		{"ErrControlTab", "agent\t1", "control character"},
		{"ErrControlNewline", "agent\n1", "control character"},
		{"ErrControlDEL", "agent\x7f1", "control character"},
		{"ErrControlC1", "agent\u00851", "control character"},
		{"ErrBidiOverride", "agent\u202e1", "invisible format"},
		{"ErrZeroWidthSpace", "agent\u200b1", "invisible format"},
		{"ErrLineSeparator", "agent\u20281", "separator"},
		{"ErrComma", "agent,1", "reserved characters"},
		{"ErrPipe", "agent|1", "reserved characters"},
		{"ErrSemicolon", "agent;1", "reserved characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := icrec.ValidateID("workgroup", tc.id)
			checkInvalid(t, err, "workgroup", tc.message)
		})
	}
}

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name, value string
	}{
		{"OK", "Agent One"},
		{"OKEmpty", ""},
		{"OKNonASCII", "Jörg Müller (日本)"},
		{"OKMaxLength", strings.Repeat("n", icrec.MaxNameLength)},
		// Display names, unlike ids, may contain the reserved characters.
		{"OKPunctuation", "Smith, John | Sales; EMEA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := icrec.ValidateName(tc.value); err != nil {
				t.Errorf("ValidateName(%q)=%v, want nil", tc.value, err)
			}
		})
	}
	for _, tc := range []struct {
		name, value, message string
	}{
		{"ErrTooLong", strings.Repeat("n", icrec.MaxNameLength+1), "257 bytes long"},
		{"ErrInvalidUTF8", "Agent\xffOne", "not valid UTF-8"},
		{"ErrControlChar", "Agent\x1bOne", "control character"},
		{"ErrNewline", "Agent\nOne", "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkInvalid(t, icrec.ValidateName(tc.value), tc.message)
		})
	}
}

func TestNormalizeNames(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		in := []string{"Supervisors", "agents", "Admin", "AGENTS", "admin", "Billing", "Ägypten", "zulu"}
		orig := slices.Clone(in)
		got, err := icrec.NormalizeNames("role", in)
		if err != nil {
			t.Fatal(err)
		}
		// Sorted by folded form (a byte sort would put "Admin", "Billing"
		// and "Supervisors" before "agents"), first spelling kept.
		want := []string{"Admin", "agents", "Billing", "Supervisors", "zulu", "Ägypten"}
		if !slices.Equal(got, want) {
			t.Errorf("NormalizeNames(%q)=%q, want %q", in, got, want)
		}
		if !slices.Equal(in, orig) {
			t.Errorf("NormalizeNames changed its input to %q", in)
		}
		again, err := icrec.NormalizeNames("role", got)
		if err != nil || !slices.Equal(again, got) {
			t.Errorf("NormalizeNames(%q)=%q, %v, want it unchanged", got, again, err)
		}
	})
	t.Run("OKFirstSpellingWins", func(t *testing.T) {
		got, err := icrec.NormalizeNames("workgroup", []string{"SALES", "Sales", "sales"})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"SALES"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	// Empty input, nil or not, yields an empty non-nil slice.
	for name, in := range map[string][]string{"OKNil": nil, "OKEmpty": {}} {
		t.Run(name, func(t *testing.T) {
			got, err := icrec.NormalizeNames("role", in)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil || len(got) != 0 {
				t.Errorf("NormalizeNames(%#v)=%#v, want an empty non-nil slice", in, got)
			}
		})
	}
	t.Run("ErrInvalidEntry", func(t *testing.T) {
		got, err := icrec.NormalizeNames("workgroup", []string{"Sales", "Support,EMEA", "Billing"})
		if got != nil {
			t.Errorf("names=%q, want nil", got)
		}
		checkInvalid(t, err, "workgroup", "Support,EMEA")
	})
	t.Run("ErrEmptyEntry", func(t *testing.T) {
		got, err := icrec.NormalizeNames("role", []string{"admin", ""})
		if got != nil {
			t.Errorf("names=%q, want nil", got)
		}
		checkInvalid(t, err, "role", "must not be empty")
	})
}

func TestUserDisplayName(t *testing.T) {
	for _, tc := range []struct {
		name string
		user icrec.User
		want string
	}{
		{"OKName", icrec.User{ID: "agent1", Name: "Agent One"}, "Agent One"},
		{"OKFallbackToID", icrec.User{ID: "agent1"}, "agent1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := tc.user.DisplayName(), tc.want; got != want {
				t.Errorf("DisplayName()=%q, want %q", got, want)
			}
		})
	}
}

func TestUserHasRole(t *testing.T) {
	u := &icrec.User{ID: "agent1", Roles: []string{"Admin", "Supervisor"}}
	for _, tc := range []struct {
		role string
		want bool
	}{
		{"Admin", true},
		{"admin", true},
		{icrec.RoleAdmin, true},
		{"ADMIN", true},
		{"sUPERVISOR", true},
		{"agent", false},
		{"Admin ", false},
		{"Adm", false},
		{"", false},
	} {
		if got, want := u.HasRole(tc.role), tc.want; got != want {
			t.Errorf("HasRole(%q)=%v, want %v", tc.role, got, want)
		}
	}
	t.Run("NoRoles", func(t *testing.T) {
		if (&icrec.User{ID: "admin"}).HasRole("admin") {
			t.Error("HasRole(admin)=true for a user without roles, want false")
		}
	})
}

func TestFoldID(t *testing.T) {
	for _, tc := range []struct {
		id, want string
	}{
		{"Agent1", "agent1"},
		{"agent1", "agent1"},
		{"JÖRG Müller", "jörg müller"},
		{"", ""},
	} {
		if got := icrec.FoldID(tc.id); got != tc.want {
			t.Errorf("FoldID(%q)=%q, want %q", tc.id, got, tc.want)
		}
	}
	t.Run("CaseVariantsMatch", func(t *testing.T) {
		for _, v := range []string{"AGENT1", "Agent1", "aGeNt1"} {
			if got, want := icrec.FoldID(v), icrec.FoldID("agent1"); got != want {
				t.Errorf("FoldID(%q)=%q, want %q", v, got, want)
			}
		}
	})
}

func TestSameID(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"Support", "support", true}, {"SUPPORT", "support", true}, {"support", "supports", false},
		{"", "", true}, {"a", "", false}, {"Zoë", "ZOË", true}, {"Zoë", "zoe", false},
		{"agent_1", "AGENT_1", true}, {"agent[1", "agent{1", false}, {"K", "\u212a", true},
	} {
		if got := icrec.SameID(c.a, c.b); got != c.want || got != (icrec.FoldID(c.a) == icrec.FoldID(c.b)) {
			t.Errorf("SameID(%q, %q) = %v, want %v (as FoldID compares)", c.a, c.b, got, c.want)
		}
	}
}

func FuzzSameID(f *testing.F) {
	f.Add("Support", "support")
	f.Add("Zoë", "ZOË")
	f.Fuzz(func(t *testing.T, a, b string) {
		if got, want := icrec.SameID(a, b), icrec.FoldID(a) == icrec.FoldID(b); got != want {
			t.Fatalf("SameID(%q, %q) = %v, FoldID says %v", a, b, got, want)
		}
	})
}
