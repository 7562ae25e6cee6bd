package icrec

import (
	"context"
	"strings"
	"time"
)

// Policy is a recording security policy, as the Interaction Recorder's
// Policy Editor has them: who (users, roles, workgroup members) may do what
// (Rights) with which recordings (Scopes). Policies are kept in order; a
// user's rights on a recording are the union of the rights of every policy
// that applies, so the order decides only how policies are listed and
// explained.
type Policy struct {
	Name string
	// Who: the policy applies to a user named in Users ("*" names every
	// user), holding one of Roles, or member of one of Workgroups.
	Users      []string
	Roles      []string
	Workgroups []string
	// Scopes say which recordings the policy covers; see Scope.
	Scopes []Scope
	Rights Rights
	// Position is the policy's place in the order, from 1.
	Position int
	Created  time.Time
}

// EveryUser in Policy.Users makes a policy apply to every user.
const EveryUser = "*"

// ScopeKind is a kind of recording selector.
type ScopeKind uint8

const (
	// ScopeAll covers every recording.
	ScopeAll ScopeKind = iota + 1
	// ScopeOwn covers recordings the user took part in.
	ScopeOwn
	// ScopeWorkgroup covers recordings of one workgroup.
	ScopeWorkgroup
	// ScopeMedia covers recordings of one media type.
	ScopeMedia
)

// Scope selects recordings. A policy covers a recording when, for each kind
// of scope it has, one scope of that kind matches: scopes of one kind are
// alternatives, different kinds must all hold. So workgroup:Support,
// workgroup:Sales, media:Call covers the calls of either workgroup. A
// policy with no scope, or ScopeAll alone, covers every recording; ScopeAll
// is never combined with other scopes.
type Scope struct {
	Kind ScopeKind
	// Value is the workgroup name, or the MediaType's name.
	Value string
}

func (s Scope) String() string {
	switch s.Kind {
	case ScopeAll:
		return "all"
	case ScopeOwn:
		return "own"
	case ScopeWorkgroup:
		return "workgroup:" + s.Value
	case ScopeMedia:
		return "media:" + s.Value
	}
	return "?"
}

// ParseScope parses all, own, workgroup:NAME or media:TYPE.
func ParseScope(s string) (Scope, error) {
	kind, value, hasValue := strings.Cut(strings.TrimSpace(s), ":")
	switch k := strings.ToLower(kind); {
	case k == "all" && !hasValue:
		return Scope{Kind: ScopeAll}, nil
	case k == "own" && !hasValue:
		return Scope{Kind: ScopeOwn}, nil
	case k == "workgroup" && hasValue:
		if err := ValidateID("workgroup", value); err != nil {
			return Scope{}, err
		}
		return Scope{Kind: ScopeWorkgroup, Value: value}, nil
	case k == "media" && hasValue:
		m, err := ParseMediaType(value)
		if err != nil {
			return Scope{}, err
		}
		return Scope{Kind: ScopeMedia, Value: m.String()}, nil
	}
	return Scope{}, Errorf(Invalid, IDInvalidProperty, "scope %q is not all, own, workgroup:NAME or media:TYPE", s)
}

// PolicyStore persists the ordered security policies.
type PolicyStore interface {
	// CreatePolicy adds p at the end of the order, setting its Position
	// and Created. Returns Conflict if a policy has the same name,
	// ignoring case.
	CreatePolicy(ctx context.Context, p *Policy) error
	// ListPolicies returns every policy, in order.
	ListPolicies(ctx context.Context) ([]*Policy, error)
	// DeletePolicy removes a policy, closing the gap in the order.
	// Returns NotFound if there is none.
	DeletePolicy(ctx context.Context, name string) error
	// MovePolicy moves the policy name to just before the policy before.
	// Returns NotFound if either does not exist.
	MovePolicy(ctx context.Context, name, before string) error
}
