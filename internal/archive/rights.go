package archive

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"example.com/icrec"
)

// The built-in policies, which hold whatever the configured ones say.
const (
	// BuiltinAdmin gives users with the admin role every right on every
	// recording, as the Recorder's Administrators policy does.
	BuiltinAdmin = "built-in: administrators"
	// BuiltinParticipant lets a participant see and play a recording they
	// took part in.
	BuiltinParticipant = "built-in: participants"
)

// ParticipantRights are what BuiltinParticipant grants.
const ParticipantRights = icrec.ReadAccess | icrec.CanPlay

// Grant is a user's rights on one recording, with the policies they came
// from, in policy order.
type Grant struct {
	Rights  icrec.Rights
	Sources []GrantSource
}

// GrantSource is one policy that applied and what it granted.
type GrantSource struct {
	Policy string
	Rights icrec.Rights
}

// Evaluate computes a user's rights on a recording from the ordered
// policies: the union of every policy that applies to the user and covers
// the recording, plus the built-in ones. A disabled user has none.
func Evaluate(policies []*icrec.Policy, u *icrec.User, r *icrec.Recording) Grant {
	var g Grant
	if u == nil || u.Disabled {
		return g
	}
	add := func(name string, rights icrec.Rights) {
		g.Rights |= rights
		g.Sources = append(g.Sources, GrantSource{Policy: name, Rights: rights})
	}
	if u.HasRole(icrec.RoleAdmin) {
		add(BuiltinAdmin, icrec.AllRights)
	}
	if r.HasParticipant(u.ID) {
		add(BuiltinParticipant, ParticipantRights)
	}
	for _, p := range policies {
		if appliesTo(p, u) && covers(p, u, r) {
			add(p.Name, p.Rights)
		}
	}
	return g
}

// appliesTo reports whether p names u: by user id, role or workgroup.
func appliesTo(p *icrec.Policy, u *icrec.User) bool {
	if slices.ContainsFunc(p.Users, func(id string) bool { return id == icrec.EveryUser || icrec.SameID(id, u.ID) }) {
		return true
	}
	if slices.ContainsFunc(p.Roles, u.HasRole) {
		return true
	}
	return slices.ContainsFunc(p.Workgroups, func(w string) bool {
		return slices.ContainsFunc(u.Workgroups, func(uw string) bool { return icrec.SameID(uw, w) })
	})
}

// covers applies a policy's scopes to a recording: one scope of each kind
// present must match (see icrec.Scope).
func covers(p *icrec.Policy, u *icrec.User, r *icrec.Recording) bool {
	// Per kind: whether the policy has a scope of it, and whether one matched.
	var has, matched [8]bool
	for _, s := range p.Scopes {
		match := false
		switch s.Kind {
		case icrec.ScopeAll:
			match = true
		case icrec.ScopeOwn:
			match = r.HasParticipant(u.ID)
		case icrec.ScopeWorkgroup:
			match = r.InWorkgroup(s.Value)
		case icrec.ScopeMedia:
			match = strings.EqualFold(r.MediaType.String(), s.Value)
		}
		k := int(s.Kind) % len(has)
		has[k] = true
		matched[k] = matched[k] || match
	}
	return has == matched
}

// Rights returns what a user may do with a recording, and why.
func (s *Service) Rights(ctx context.Context, u *icrec.User, r *icrec.Recording) (Grant, error) {
	w, err := s.view(ctx)
	if err != nil {
		return Grant{}, err
	}
	return w.rights(ctx, u, r)
}

// Authorize returns nil if the user holds every right in want on the
// recording, and a Forbidden error otherwise.
func (s *Service) Authorize(ctx context.Context, u *icrec.User, r *icrec.Recording, want icrec.Rights) error {
	w, err := s.view(ctx)
	if err != nil {
		return err
	}
	return w.authorize(ctx, u, r, want)
}

// rights is Rights within a check that has its view.
func (w view) rights(ctx context.Context, u *icrec.User, r *icrec.Recording) (Grant, error) {
	policies, err := w.policies(ctx)
	if err != nil {
		return Grant{}, err
	}
	return Evaluate(policies, u, r), nil
}

// authorize is Authorize within a check that has its view.
func (w view) authorize(ctx context.Context, u *icrec.User, r *icrec.Recording, want icrec.Rights) error {
	g, err := w.rights(ctx, u, r)
	if err != nil {
		return err
	}
	if !g.Rights.Has(want) {
		return icrec.Errorf(icrec.Forbidden, icrec.IDAccessDenied, "The user is not authorized to %s the recording.", verb(want))
	}
	return nil
}

func verb(want icrec.Rights) string {
	switch want {
	case icrec.CanExportOrArchive:
		return "export"
	case icrec.CanPlay:
		return "play"
	case icrec.CanEmail:
		return "email"
	case icrec.ReadAccess:
		return "access"
	case icrec.WriteAccess:
		return "change the retention of"
	case icrec.CanViewCustomAttributes:
		return "view the attributes of"
	case icrec.CanModifyCustomAttributes:
		return "change the attributes of"
	case icrec.CanViewTags:
		return "view the tags of"
	case icrec.CanModifyTags:
		return "change the tags of"
	}
	return fmt.Sprintf("use (%s) with", want)
}
