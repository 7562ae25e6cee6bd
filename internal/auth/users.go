package auth

import (
	"context"
	"strings"
	"unicode/utf8"

	"example.com/icrec"
)

// Password limits. The minimum follows NIST SP 800-63B for passwords chosen
// by or for a user; the maximum only bounds work.
const (
	MinPasswordLength = 8    // characters
	MaxPasswordLength = 1024 // bytes
)

// ValidatePassword checks a new password against the limits.
func ValidatePassword(pw icrec.Secret) error {
	switch n := utf8.RuneCountInString(string(pw)); {
	case !utf8.ValidString(string(pw)):
		return icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "password is not valid UTF-8")
	case n < MinPasswordLength:
		return icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "password has %d characters; at least %d are required", n, MinPasswordLength)
	case len(pw) > MaxPasswordLength:
		return icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "password is %d bytes long; the limit is %d", len(pw), MaxPasswordLength)
	}
	return nil
}

// NewUser describes a user to create.
type NewUser struct {
	ID         string
	Name       string
	Roles      []string
	Workgroups []string
	Password   icrec.Secret
}

// AddUser validates and creates a user. Returns Conflict if the id is taken.
func (s *Service) AddUser(ctx context.Context, in NewUser) (*icrec.User, error) {
	if err := icrec.ValidateID("user id", in.ID); err != nil {
		return nil, err
	}
	if err := icrec.ValidateName(in.Name); err != nil {
		return nil, err
	}
	roles, err := icrec.NormalizeNames("role", in.Roles)
	if err != nil {
		return nil, err
	}
	wgs, err := icrec.NormalizeNames("workgroup", in.Workgroups)
	if err != nil {
		return nil, err
	}
	if err := ValidatePassword(in.Password); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	u := &icrec.User{ID: in.ID, Name: in.Name, Roles: roles, Workgroups: wgs, PasswordHash: hash}
	if err := s.users.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, s.adminEvent(ctx, u.ID, "add", "roles", strings.Join(roles, ","), "workgroups", strings.Join(wgs, ","))
}

// adminEvent audits a change to a user.
func (s *Service) adminEvent(ctx context.Context, userID, action string, kv ...string) error {
	return s.record(ctx, &icrec.AuditEvent{Kind: icrec.AuditUserChange, UserID: userID, Outcome: "ok",
		Detail: auditDetail(append([]string{"action", action}, kv...)...)})
}

// SetPassword gives a user a new password and ends the user's sessions in
// the same step: whoever knew the old password is out at once.
func (s *Service) SetPassword(ctx context.Context, id string, pw icrec.Secret) error {
	if err := ValidatePassword(pw); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return err
	}
	u, err := s.users.UpdateUser(ctx, id, icrec.UserUpdate{PasswordHash: &hash, EndSessions: true})
	if err != nil {
		return err
	}
	return s.adminEvent(ctx, u.ID, "passwd")
}

// SetDisabled disables or enables a user. Disabling ends the user's
// sessions in the same step.
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) (*icrec.User, error) {
	u, err := s.users.UpdateUser(ctx, id, icrec.UserUpdate{Disabled: &disabled, EndSessions: disabled})
	if err != nil {
		return nil, err
	}
	action := "enable"
	if disabled {
		action = "disable"
	}
	return u, s.adminEvent(ctx, u.ID, action)
}

// DeleteUser deletes a user together with the user's sessions.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	if err := s.users.DeleteUser(ctx, id); err != nil {
		return err
	}
	return s.adminEvent(ctx, id, "delete")
}

// Users lists every user.
func (s *Service) Users(ctx context.Context) ([]*icrec.User, error) {
	return s.users.ListUsers(ctx)
}

// CountUsers returns the number of users.
func (s *Service) CountUsers(ctx context.Context) (int, error) {
	return s.users.CountUsers(ctx)
}

// User returns the user with the given id, ignoring case.
func (s *Service) User(ctx context.Context, id string) (*icrec.User, error) {
	return s.users.FindUserByID(ctx, id)
}
