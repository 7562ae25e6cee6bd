package icrec

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// User is someone who can sign in to icrec.
type User struct {
	// ID is the user id as it was created. Lookups ignore case.
	ID string
	// Name is the display name; empty means "use the ID".
	Name string
	// Roles and Workgroups are free of case-insensitive duplicates and
	// sorted by folded form. Callers normalise them with NormalizeNames
	// before storing; stores return them in that order.
	Roles      []string
	Workgroups []string
	// PasswordHash is a PHC-format password hash. It never leaves the server.
	PasswordHash string
	Disabled     bool
	Created      time.Time
	Updated      time.Time
}

// DisplayName returns the name to show for u.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.ID
}

// HasRole reports whether u has role, ignoring case as FoldID does.
func (u *User) HasRole(role string) bool {
	return slices.ContainsFunc(u.Roles, func(r string) bool { return SameID(r, role) })
}

// RoleAdmin is the built-in administrator role.
const RoleAdmin = "admin"

// UserUpdate lists the changes to make to a user; nil fields stay as they are.
type UserUpdate struct {
	Name         *string
	Roles        *[]string
	Workgroups   *[]string
	PasswordHash *string
	Disabled     *bool
	// EndSessions deletes every session and pending auth token of the user
	// in the same transaction as the update, so that no request can use an
	// old session once the update is visible.
	EndSessions bool
}

// UserStore persists users.
type UserStore interface {
	// CreateUser adds u, setting its Created and Updated times. Returns
	// Conflict if a user with the same id, ignoring case, exists.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns the user whose id equals id, ignoring case.
	// Returns NotFound if there is none.
	FindUserByID(ctx context.Context, id string) (*User, error)
	// ListUsers returns every user, ordered by folded id.
	ListUsers(ctx context.Context) ([]*User, error)
	// CountUsers returns the number of users.
	CountUsers(ctx context.Context) (int, error)
	// UpdateUser applies upd to the user with the given id (ignoring case),
	// sets its Updated time, and returns the updated user. Returns NotFound
	// if there is none.
	UpdateUser(ctx context.Context, id string, upd UserUpdate) (*User, error)
	// DeleteUser removes the user and, in the same transaction, its sessions
	// and auth tokens. Returns NotFound if there is none.
	DeleteUser(ctx context.Context, id string) error
}

// FoldID returns the form of a user id, role or workgroup name under which
// case-insensitive comparison happens. Every store indexes this form, so
// changing it (to full Unicode case folding, say, where ß matches SS) would
// need a data migration.
func FoldID(id string) string {
	return strings.ToLower(id)
}

// SameID reports whether FoldID(a) == FoldID(b). Rights are evaluated on
// every export-uri and download, comparing many ids; for ASCII ids, the
// usual case, it compares in place instead of lower-casing copies.
func SameID(a, b string) bool {
	for i := 0; i < len(a); i++ {
		if a[i] >= utf8.RuneSelf {
			return FoldID(a) == FoldID(b)
		}
	}
	for i := 0; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return FoldID(a) == FoldID(b)
		}
	}
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Limits on names, chosen so that any PureConnect user id fits.
const (
	MaxIDLength   = 128 // user ids, roles, workgroups (in bytes)
	MaxNameLength = 256 // display names (in bytes)
)

// ValidateID checks a user id, role or workgroup name. what names it in the
// error ("user id", "role", ...). Ids may contain spaces inside, as
// PureConnect ids can, but no control characters and no leading or trailing
// space, so that what an administrator types is what a login must match.
func ValidateID(what, id string) error {
	switch {
	case id == "":
		return Errorf(Invalid, IDInvalidProperty, "%s must not be empty", what)
	case len(id) > MaxIDLength:
		return Errorf(Invalid, IDInvalidProperty, "%s is %d bytes long; the limit is %d", what, len(id), MaxIDLength)
	case !utf8.ValidString(id):
		return Errorf(Invalid, IDInvalidProperty, "%s %q is not valid UTF-8", what, id)
	case strings.TrimSpace(id) != id:
		return Errorf(Invalid, IDInvalidProperty, "%s %q has leading or trailing space", what, id)
	case strings.ContainsFunc(id, invisible):
		return Errorf(Invalid, IDInvalidProperty, "%s %q contains a control character or an invisible format or separator character", what, id)
	case strings.ContainsAny(id, ",|;"):
		// Commas separate list values in flags and environment variables;
		// '|' and ';' have meaning inside the ICWS session cookie.
		return Errorf(Invalid, IDInvalidProperty, "%s %q contains one of the reserved characters , | ;", what, id)
	}
	return nil
}

// invisible reports characters that would let two ids look alike or
// reorder a listing: controls, format characters (bidirectional overrides,
// zero-width spaces) and line or paragraph separators.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// ValidateName checks a display name.
func ValidateName(name string) error {
	switch {
	case len(name) > MaxNameLength:
		return Errorf(Invalid, IDInvalidProperty, "name is %d bytes long; the limit is %d", len(name), MaxNameLength)
	case !utf8.ValidString(name):
		return Errorf(Invalid, IDInvalidProperty, "name %q is not valid UTF-8", name)
	case strings.ContainsFunc(name, invisible):
		return Errorf(Invalid, IDInvalidProperty, "name %q contains a control character or an invisible format or separator character", name)
	}
	return nil
}

// NormalizeNames validates a list of role or workgroup names and returns it
// sorted by folded form, with case-insensitive duplicates removed (the first
// spelling wins).
func NormalizeNames(what string, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if err := ValidateID(what, n); err != nil {
			return nil, err
		}
		if f := FoldID(n); !seen[f] {
			seen[f] = true
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(FoldID(a), FoldID(b)) })
	return out, nil
}
