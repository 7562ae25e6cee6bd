package archive_test

import (
	"slices"
	"testing"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
)

func TestEvaluate(t *testing.T) {
	call := &icrec.Recording{ID: "C", MediaType: icrec.MediaCall, Workgroups: []string{"Support"},
		Participants: []icrec.Participant{{UserID: "Agent1"}, {Name: "Caller", Address: "+1555"}}}
	mail := &icrec.Recording{ID: "M", MediaType: icrec.MediaEmail, Workgroups: []string{"Sales"}}
	users := map[string]*icrec.User{
		"admin":      {ID: "admin", Roles: []string{"Admin"}},
		"agent1":     {ID: "agent1", Roles: []string{"agent"}, Workgroups: []string{"support"}},
		"agent2":     {ID: "agent2", Roles: []string{"agent"}, Workgroups: []string{"Sales"}},
		"supervisor": {ID: "supervisor", Roles: []string{"supervisor"}, Workgroups: []string{"Support"}},
		"disabled":   {ID: "disabled", Roles: []string{"admin"}, Disabled: true},
	}
	policies := []*icrec.Policy{
		{Name: "Support QA", Roles: []string{"SUPERVISOR"}, Scopes: []icrec.Scope{{Kind: icrec.ScopeWorkgroup, Value: "support"}}, Rights: icrec.ReadAccess | icrec.CanPlay | icrec.CanExportOrArchive},
		{Name: "Tags for everyone", Users: []string{icrec.EveryUser}, Scopes: []icrec.Scope{{Kind: icrec.ScopeOwn}}, Rights: icrec.CanViewTags},
		{Name: "Sales email", Workgroups: []string{"sales"}, Scopes: []icrec.Scope{{Kind: icrec.ScopeMedia, Value: "Email"}}, Rights: icrec.ReadAccess | icrec.CanEmail},
		{Name: "Calls of Support or Sales", Users: []string{"AGENT2"}, Scopes: []icrec.Scope{
			{Kind: icrec.ScopeWorkgroup, Value: "Support"}, {Kind: icrec.ScopeWorkgroup, Value: "Sales"}, {Kind: icrec.ScopeMedia, Value: "Call"},
		}, Rights: icrec.CanViewCustomAttributes},
	}
	for _, tc := range []struct {
		user    string
		rec     *icrec.Recording
		want    icrec.Rights
		sources []string
	}{
		{"admin", call, icrec.AllRights, []string{archive.BuiltinAdmin}},
		{"disabled", call, 0, nil},
		{"agent1", call, archive.ParticipantRights | icrec.CanViewTags, []string{archive.BuiltinParticipant, "Tags for everyone"}},
		{"agent1", mail, 0, nil},
		{"supervisor", call, icrec.ReadAccess | icrec.CanPlay | icrec.CanExportOrArchive, []string{"Support QA"}},
		{"supervisor", mail, 0, nil},
		{"agent2", mail, icrec.ReadAccess | icrec.CanEmail, []string{"Sales email"}},
		// Alternatives within a kind (Support or Sales) and every kind
		// (a call): agent2 sees attributes of Support's call, not Sales's mail.
		{"agent2", call, icrec.CanViewCustomAttributes, []string{"Calls of Support or Sales"}},
	} {
		g := archive.Evaluate(policies, users[tc.user], tc.rec)
		var sources []string
		for _, s := range g.Sources {
			sources = append(sources, s.Policy)
		}
		if g.Rights != tc.want || !slices.Equal(sources, tc.sources) {
			t.Errorf("%s on %s: rights %s from %q, want %s from %q", tc.user, tc.rec.ID, g.Rights, sources, tc.want, tc.sources)
		}
	}
	if g := archive.Evaluate(policies, nil, call); g.Rights != 0 {
		t.Errorf("no user: %s", g.Rights)
	}
	// No scope means every recording.
	open := []*icrec.Policy{{Name: "all", Users: []string{"agent1"}, Rights: icrec.CanPlay}}
	if g := archive.Evaluate(open, users["agent1"], mail); g.Rights != icrec.CanPlay {
		t.Errorf("policy without scope: %s", g.Rights)
	}
}
