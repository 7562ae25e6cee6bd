package archive_test

import (
	"fmt"
	"testing"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
)

// BenchmarkEvaluate measures rights evaluation as export-uri and every
// download do it: a supervisor against 50 policies, of which a few apply,
// on a call of their workgroup with two participants.
func BenchmarkEvaluate(b *testing.B) {
	rec := &icrec.Recording{ID: "C", MediaType: icrec.MediaCall, Workgroups: []string{"Support"},
		Participants: []icrec.Participant{{UserID: "agent1"}, {Name: "Caller", Address: "+1555"}}}
	u := &icrec.User{ID: "supervisor", Roles: []string{"supervisor"}, Workgroups: []string{"Support", "Quality"}}
	var policies []*icrec.Policy
	for i := range 50 {
		p := &icrec.Policy{Name: fmt.Sprintf("policy %d", i), Rights: icrec.ReadAccess | icrec.CanPlay}
		switch i % 5 {
		case 0:
			p.Roles = []string{"supervisor"}
			p.Scopes = []icrec.Scope{{Kind: icrec.ScopeWorkgroup, Value: fmt.Sprintf("Team%d", i)}}
		case 1:
			p.Users = []string{fmt.Sprintf("user%d", i)}
			p.Scopes = []icrec.Scope{{Kind: icrec.ScopeAll}}
		case 2:
			p.Workgroups = []string{"Quality"}
			p.Scopes = []icrec.Scope{{Kind: icrec.ScopeMedia, Value: "Email"}}
		case 3:
			p.Roles = []string{"supervisor"}
			p.Scopes = []icrec.Scope{{Kind: icrec.ScopeWorkgroup, Value: "support"}}
			p.Rights |= icrec.CanExportOrArchive
		default:
			p.Users = []string{icrec.EveryUser}
			p.Scopes = []icrec.Scope{{Kind: icrec.ScopeOwn}}
		}
		policies = append(policies, p)
	}
	b.ReportAllocs()
	for b.Loop() {
		if g := archive.Evaluate(policies, u, rec); !g.Rights.Has(icrec.CanExportOrArchive) {
			b.Fatalf("rights %v", g.Rights)
		}
	}
}
