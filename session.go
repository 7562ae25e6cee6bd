package icrec

import (
	"context"
	"time"
)

// Session is a signed-in ICWS session. Its secrets are stored only as
// SHA-256 hashes: a copy of the store cannot be used to take over a session.
type Session struct {
	// ID is the numeric session id that appears in the session's URLs.
	ID     string
	UserID string
	// CookieHash and CSRFHash are the SHA-256 hashes of the cookie secret
	// and of the CSRF token.
	CookieHash []byte
	CSRFHash   []byte
	// Language is the session's language tag, fixed at login.
	Language string
	// Application is the applicationName the client gave at login.
	Application string
	// ClientAddr is the address the login came from.
	ClientAddr string
	Created    time.Time
	// LastSeen is when the session was last used. Stores update it at most
	// once per touch interval, so it may lag the last request a little.
	LastSeen time.Time
	// Expires is the end of the session's absolute lifetime.
	Expires time.Time
}

// AuthToken is a single-use token created by POST
// /icws/{sessionId}/connection/unique-auth-token, with which a client opens a
// second session without sending the password again.
type AuthToken struct {
	// Hash is the SHA-256 hash of the token; the token itself is not stored.
	Hash      []byte
	Seed      string // the authTokenSeed GUID the client chose
	SessionID string // the session that created the token
	UserID    string
	Expires   time.Time
}

// SessionStore persists sessions and auth tokens. Stores keep times to at
// least the millisecond.
type SessionStore interface {
	// CreateSession stores s. Returns Conflict if a session with s.ID
	// exists, and NotFound if s.UserID names no user (ignoring case).
	CreateSession(ctx context.Context, s *Session) error
	// FindSessionByID returns the session with the given id, expired or
	// not, with UserID spelled as the user was created. Returns NotFound
	// if there is none.
	FindSessionByID(ctx context.Context, id string) (*Session, error)
	// TouchSession sets the session's LastSeen to at if that is later than
	// the stored value. Returns NotFound if there is no such session.
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession removes a session and the auth tokens it created.
	// Returns NotFound if there is none.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes every session last seen before
	// idleBefore or whose Expires is not after now, with their auth
	// tokens, and returns their ids.
	DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) ([]string, error)
	// CountSessions counts the sessions that are neither idle (last seen
	// before idleBefore) nor past their Expires at now.
	CountSessions(ctx context.Context, idleBefore, now time.Time) (int, error)
	// CreateAuthToken stores t, whose UserID must be its session's user.
	// Returns Conflict if its hash exists and NotFound if its session
	// does not.
	CreateAuthToken(ctx context.Context, t *AuthToken) error
	// ConsumeAuthToken removes and returns the token with the given hash,
	// expired or not, so that no token can be used twice. Returns NotFound
	// if there is none.
	ConsumeAuthToken(ctx context.Context, hash []byte) (*AuthToken, error)
	// DeleteExpiredAuthTokens removes tokens whose Expires is not after now.
	DeleteExpiredAuthTokens(ctx context.Context, now time.Time) error
}

// SessionEnd says why a session ended. It decides the reason that a client's
// open event stream receives in its last connectionStateChangeMessage.
type SessionEnd uint8

const (
	// SessionLoggedOut: the client deleted its own connection.
	SessionLoggedOut SessionEnd = iota + 1
	// SessionExpired: idle timeout or absolute lifetime reached.
	SessionExpired
	// SessionRevoked: the user was disabled, deleted or given a new
	// password, or the session was ended from another process.
	SessionRevoked
	// SessionServerShutdown: the server is shutting down; the client
	// should reconnect, to an alternate host if it knows one.
	SessionServerShutdown
)

// Reason returns the human-readable reason sent to the client.
func (e SessionEnd) Reason() string {
	switch e {
	case SessionLoggedOut:
		return "The session was logged out."
	case SessionExpired:
		return "The session has expired."
	case SessionServerShutdown:
		return "The server is shutting down."
	default:
		return "The session was ended by the server."
	}
}

// ShouldReconnect reports whether a client can expect a new login to work.
func (e SessionEnd) ShouldReconnect() bool { return e == SessionServerShutdown }
