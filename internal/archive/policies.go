package archive

import (
	"context"
	"fmt"

	"example.com/icrec"
)

// NewPolicy describes a policy to add.
type NewPolicy struct {
	Name       string
	Users      []string
	Roles      []string
	Workgroups []string
	Scopes     []icrec.Scope
	Rights     icrec.Rights
}

// AddPolicy validates a policy and adds it at the end of the order.
func (s *Service) AddPolicy(ctx context.Context, in NewPolicy) (*icrec.Policy, error) {
	if err := icrec.ValidateID("policy name", in.Name); err != nil {
		return nil, err
	}
	p := &icrec.Policy{Name: in.Name, Rights: in.Rights, Scopes: in.Scopes}
	if len(in.Users)+len(in.Roles)+len(in.Workgroups) == 0 {
		return nil, icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "policy %q names nobody: give users (%q for everyone), roles or workgroups", in.Name, icrec.EveryUser)
	}
	for _, u := range in.Users {
		if u != icrec.EveryUser {
			if err := icrec.ValidateID("user id", u); err != nil {
				return nil, err
			}
		}
	}
	p.Users = dedupe(in.Users)
	var err error
	if p.Roles, err = icrec.NormalizeNames("role", in.Roles); err != nil {
		return nil, err
	}
	if p.Workgroups, err = icrec.NormalizeNames("workgroup", in.Workgroups); err != nil {
		return nil, err
	}
	if in.Rights&icrec.AllRights == 0 || in.Rights&^icrec.AllRights != 0 {
		return nil, icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "policy %q must grant at least one right", in.Name)
	}
	for _, sc := range in.Scopes {
		if sc.Kind == icrec.ScopeAll && len(in.Scopes) > 1 {
			return nil, icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "scope all covers every recording and cannot be combined with other scopes")
		}
	}
	if err := s.policies.CreatePolicy(ctx, p); err != nil {
		return nil, err
	}
	return p, s.policyEvent(ctx, "add", p.Name, fmt.Sprintf(`,"rights":%q,"position":%d`, p.Rights, p.Position))
}

// policyEvent audits a change to the policies.
func (s *Service) policyEvent(ctx context.Context, action, name, extra string) error {
	return s.record(ctx, &icrec.AuditEvent{Kind: icrec.AuditPolicyChange, Outcome: "ok",
		Detail: fmt.Sprintf(`{"action":%q,"policy":%q%s}`, action, name, extra)})
}

// dedupe removes case-insensitive duplicates, keeping order.
func dedupe(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if f := icrec.FoldID(id); !seen[f] {
			seen[f] = true
			out = append(out, id)
		}
	}
	return out
}

// Policies lists the policies in order.
func (s *Service) Policies(ctx context.Context) ([]*icrec.Policy, error) {
	return s.policies.ListPolicies(ctx)
}

// DeletePolicy removes a policy.
func (s *Service) DeletePolicy(ctx context.Context, name string) error {
	if err := s.policies.DeletePolicy(ctx, name); err != nil {
		return err
	}
	return s.policyEvent(ctx, "delete", name, "")
}

// MovePolicy moves a policy before another.
func (s *Service) MovePolicy(ctx context.Context, name, before string) error {
	if err := s.policies.MovePolicy(ctx, name, before); err != nil {
		return err
	}
	return s.policyEvent(ctx, "move", name, fmt.Sprintf(`,"before":%q`, before))
}
