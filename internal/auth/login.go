package auth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"example.com/icrec"
)

// Login is a password login, as POST /icws/connection with
// icAuthConnectionRequestSettings asks for.
type Login struct {
	UserID      string
	Password    icrec.Secret
	Application string
	Language    string
	ClientAddr  string
}

// TokenLogin is a login with a unique auth token, as POST /icws/connection
// with authTokenConnectionRequestSettings asks for.
type TokenLogin struct {
	Seed          string
	Token         icrec.Secret
	SourceSession string
	// DisconnectSource ends the session that created the token once the
	// new one exists.
	DisconnectSource bool
	Application      string
	Language         string
	ClientAddr       string
}

// NewSession is what a successful login returns: the stored session, its
// user, and the two secrets the client proves it with. The secrets exist
// only here and in the client; the store has their hashes.
type NewSession struct {
	Session   *icrec.Session
	User      *icrec.User
	Cookie    icrec.Secret
	CSRFToken icrec.Secret
}

// errLoginFailed is the one answer to every failed login: unknown user,
// wrong password and disabled user look the same, body and timing alike.
func errLoginFailed() *icrec.Error {
	return &icrec.Error{Kind: icrec.Invalid, ID: icrec.IDAuthenticationFailure, Message: "The authentication process failed."}
}

// IsThrottled reports whether a login error is a throttle refusal rather
// than a checked password.
func IsThrottled(err error) bool {
	e, ok := errors.AsType[*icrec.Error](err)
	return ok && e.ID == icrec.IDAuthenticationFailure && e.RetryAfter > 0
}

// Login checks a user id and password and opens a session.
func (s *Service) Login(ctx context.Context, in Login) (*NewSession, error) {
	folded := icrec.FoldID(in.UserID)
	if wait := s.throttle.begin(folded, in.ClientAddr, s.now()); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		for _, e := range s.refusals.refuse(in.UserID, folded, in.ClientAddr, s.now()) {
			s.emit(e)
		}
		return nil, &icrec.Error{
			Kind:       icrec.Invalid,
			ID:         icrec.IDAuthenticationFailure,
			Message:    fmt.Sprintf("Too many failed logins for this user or address; try again in %d seconds.", secs),
			RetryAfter: time.Duration(secs) * time.Second,
		}
	}
	u, err := s.checkPassword(ctx, in.UserID, in.Password)
	s.throttle.finish(folded, in.ClientAddr, err == nil, s.now())
	if err != nil {
		if icrec.IsKind(err, icrec.Invalid) {
			s.emit(&icrec.AuditEvent{Kind: icrec.AuditLoginFailed, UserID: in.UserID, ClientAddr: in.ClientAddr, Outcome: "bad credentials"})
		}
		return nil, err
	}
	return s.open(ctx, u, in.Application, in.Language, in.ClientAddr, "password")
}

// checkPassword returns the enabled user whose password matches, or
// errLoginFailed after the same amount of work whatever went wrong.
func (s *Service) checkPassword(ctx context.Context, id string, pw icrec.Secret) (*icrec.User, error) {
	u, err := s.users.FindUserByID(ctx, id)
	hash := s.hasher.DummyHash()
	switch {
	case err == nil:
		hash = u.PasswordHash
	case !icrec.IsKind(err, icrec.NotFound):
		return nil, err
	}
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ok, rehash, verr := s.hasher.Verify(hash, pw)
	<-s.hashSlots
	if verr != nil {
		// A stored hash that cannot be parsed locks the user out; say so
		// in the log, not to the client.
		s.log.Error("unusable password hash", "user_id", id, "err", verr)
	}
	if err != nil || !ok || verr != nil || u.Disabled {
		return nil, errLoginFailed()
	}
	if rehash {
		s.upgradeHash(ctx, u, pw)
	}
	return u, nil
}

// upgradeHash re-hashes a password whose stored hash uses weaker
// parameters than the current ones. Failure only delays the upgrade.
func (s *Service) upgradeHash(ctx context.Context, u *icrec.User, pw icrec.Secret) {
	h, err := s.hasher.Hash(pw)
	if err == nil {
		_, err = s.users.UpdateUser(ctx, u.ID, icrec.UserUpdate{PasswordHash: &h})
	}
	if err != nil {
		s.log.Warn("upgrade password hash", "user_id", u.ID, "err", err)
	}
}

// LoginWithToken opens a second session for the user of a live session,
// using a token that session created. The token is consumed whether or
// not the login succeeds.
func (s *Service) LoginWithToken(ctx context.Context, in TokenLogin) (*NewSession, error) {
	t, err := s.sessions.ConsumeAuthToken(ctx, hashSecret(string(in.Token)))
	if icrec.IsKind(err, icrec.NotFound) {
		return nil, errLoginFailed()
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	seed, _ := icrec.CanonicalGUID(in.Seed)
	tokenSeed, _ := icrec.CanonicalGUID(t.Seed)
	if !now.Before(t.Expires) || seed == "" || seed != tokenSeed || t.SessionID != strings.TrimSpace(in.SourceSession) {
		return nil, errLoginFailed()
	}
	src, err := s.sessions.FindSessionByID(ctx, t.SessionID)
	if icrec.IsKind(err, icrec.NotFound) {
		return nil, errLoginFailed()
	} else if err != nil {
		return nil, err
	}
	if s.expired(src, now) {
		return nil, errLoginFailed()
	}
	u, err := s.users.FindUserByID(ctx, t.UserID)
	if icrec.IsKind(err, icrec.NotFound) {
		return nil, errLoginFailed()
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errLoginFailed()
	}
	ns, err := s.open(ctx, u, in.Application, in.Language, in.ClientAddr, "auth token of session "+src.ID)
	if err != nil {
		return nil, err
	}
	if in.DisconnectSource {
		if err := s.Logout(ctx, src, in.ClientAddr); err != nil && !icrec.IsKind(err, icrec.NotFound) {
			s.log.Warn("disconnect source session", "session_id", src.ID, "err", err)
		}
	}
	return ns, nil
}

// open creates and stores a session for u, and audits the login.
func (s *Service) open(ctx context.Context, u *icrec.User, app, lang, addr, how string) (*NewSession, error) {
	cookie, err := randomGUIDSecret()
	if err != nil {
		return nil, err
	}
	csrf, err := randomSecret(32)
	if err != nil {
		return nil, err
	}
	now := s.now()
	sess := &icrec.Session{
		UserID:      u.ID,
		CookieHash:  hashSecret(string(cookie)),
		CSRFHash:    hashSecret(string(csrf)),
		Language:    lang,
		Application: app,
		ClientAddr:  addr,
		Created:     now,
		LastSeen:    now,
		Expires:     now.Add(s.cfg.Lifetime),
	}
	// Ten-digit ids collide rarely; try a few before giving up.
	for attempt := 0; ; attempt++ {
		if sess.ID, err = randomSessionID(); err != nil {
			return nil, err
		}
		err = s.sessions.CreateSession(ctx, sess)
		if !icrec.IsKind(err, icrec.Conflict) || attempt == 4 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, &icrec.AuditEvent{Kind: icrec.AuditLogin, UserID: u.ID, SessionID: sess.ID, ClientAddr: addr, Outcome: "ok",
		Detail: auditDetail("application", app, "method", how)}); err != nil {
		// A login the trail does not know about must not stand.
		s.sessions.DeleteSession(context.Background(), sess.ID)
		return nil, err
	}
	return &NewSession{Session: sess, User: u, Cookie: cookie, CSRFToken: csrf}, nil
}

// CreateAuthToken makes a single-use token, valid for AuthTokenTTL, with
// which a client can open another session for the user of sess.
func (s *Service) CreateAuthToken(ctx context.Context, sess *icrec.Session, seed string) (icrec.Secret, error) {
	canonical, ok := icrec.CanonicalGUID(seed)
	if !ok {
		return "", icrec.InvalidProperty("authTokenSeed", "Property authTokenSeed %q is not a GUID.", seed)
	}
	tok, err := randomSecret(32)
	if err != nil {
		return "", err
	}
	err = s.sessions.CreateAuthToken(ctx, &icrec.AuthToken{
		Hash:      hashSecret(string(tok)),
		Seed:      canonical,
		SessionID: sess.ID,
		UserID:    sess.UserID,
		Expires:   s.now().Add(AuthTokenTTL),
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// AuthTokenTTL is how long a unique auth token lives, as ICWS documents.
const AuthTokenTTL = 7 * time.Second
