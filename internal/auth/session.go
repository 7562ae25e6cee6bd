package auth

import (
	"context"
	"crypto/subtle"

	"example.com/icrec"
)

// Credentials are what a request presents to prove it belongs to a session.
type Credentials struct {
	SessionID string
	// Cookies holds the secret of every cookie named for the session: a
	// client may send a stale one beside the current one.
	Cookies []string
	// CSRFToken is the ININ-ICWS-CSRF-Token header, empty if absent.
	CSRFToken string
	// CSRFOptional lets a request without the header through: browsers'
	// EventSource cannot send it. A header that is sent must still match.
	CSRFOptional bool
}

// Authenticate checks a request's session credentials and returns the
// session. Every failure is Unauthenticated, with the ICWS errorCode that
// tells which credential failed. It writes to the store only when the
// session's LastSeen is due for an update, never on every request.
func (s *Service) Authenticate(ctx context.Context, c Credentials) (*icrec.Session, error) {
	sess, err := s.sessions.FindSessionByID(ctx, c.SessionID)
	if icrec.IsKind(err, icrec.NotFound) {
		return nil, unauthenticated(icrec.CodeUnknownSession, "Session %s does not exist or has ended.", c.SessionID)
	} else if err != nil {
		return nil, err
	}
	if !matchesAny(sess.CookieHash, c.Cookies) {
		if len(c.Cookies) == 0 {
			return nil, unauthenticated(icrec.CodeBadCookie, "The session cookie icws_%s is missing.", sess.ID)
		}
		return nil, unauthenticated(icrec.CodeBadCookie, "The session cookie icws_%s does not match the session.", sess.ID)
	}
	switch {
	case c.CSRFToken == "" && !c.CSRFOptional:
		return nil, unauthenticated(icrec.CodeBadCSRFToken, "The ININ-ICWS-CSRF-Token header is missing.")
	case c.CSRFToken != "" && !matches(sess.CSRFHash, c.CSRFToken):
		return nil, unauthenticated(icrec.CodeBadCSRFToken, "The ININ-ICWS-CSRF-Token header does not match the session.")
	}
	now := s.now()
	if s.expired(sess, now) {
		s.endExpired(ctx, sess.ID)
		return nil, unauthenticated(icrec.CodeUnknownSession, "Session %s has expired.", sess.ID)
	}
	if now.Sub(sess.LastSeen) >= s.touchEvery {
		if err := s.sessions.TouchSession(ctx, sess.ID, now); err != nil && !icrec.IsKind(err, icrec.NotFound) {
			// The request may go on: the next one retries the touch.
			s.log.Warn("touch session", "session_id", sess.ID, "err", err)
		}
		sess.LastSeen = now
	}
	return sess, nil
}

func unauthenticated(code int, format string, args ...any) *icrec.Error {
	e := icrec.Errorf(icrec.Unauthenticated, icrec.IDAuthenticationFailure, format, args...)
	e.Code = code
	return e
}

func matches(hash []byte, secret string) bool {
	return subtle.ConstantTimeCompare(hash, hashSecret(secret)) == 1
}

// matchesAny checks every candidate, so the time taken does not depend on
// which one matched.
func matchesAny(hash []byte, secrets []string) bool {
	ok := 0
	for _, c := range secrets {
		ok |= subtle.ConstantTimeCompare(hash, hashSecret(c))
	}
	return ok == 1
}

// Logout ends a session at the client's request.
func (s *Service) Logout(ctx context.Context, sess *icrec.Session, clientAddr string) error {
	if err := s.sessions.DeleteSession(ctx, sess.ID); err != nil {
		return err
	}
	s.ended(sess.ID, icrec.SessionLoggedOut)
	return s.record(ctx, &icrec.AuditEvent{Kind: icrec.AuditLogout, UserID: sess.UserID, SessionID: sess.ID, ClientAddr: clientAddr, Outcome: "ok"})
}

// KeepAlive is called for a session that has an open event stream. It
// counts the stream as activity, so a client that listens is not idled out,
// and reports whether the session still lives and, if not, why. Any other
// session must be checked with Alive, or it would never idle out.
func (s *Service) KeepAlive(ctx context.Context, id string) (alive bool, why icrec.SessionEnd) {
	return s.check(ctx, id, true)
}

// Alive reports whether a session still lives and, if not, why, without
// counting the check as activity: a session with queued messages that its
// client no longer polls must idle out. An expired session is ended.
func (s *Service) Alive(ctx context.Context, id string) (alive bool, why icrec.SessionEnd) {
	return s.check(ctx, id, false)
}

// check is KeepAlive when active, and Alive when not: an active session is
// touched, and only its lifetime can end it, not idleness.
func (s *Service) check(ctx context.Context, id string, active bool) (bool, icrec.SessionEnd) {
	sess, err := s.sessions.FindSessionByID(ctx, id)
	if icrec.IsKind(err, icrec.NotFound) {
		// Ended elsewhere: by another node, or by icrec user disable.
		return false, icrec.SessionRevoked
	} else if err != nil {
		s.log.Warn("check session", "session_id", id, "err", err)
		return true, 0
	}
	now := s.now()
	if active && !now.Before(sess.Expires) || !active && s.expired(sess, now) {
		s.endExpired(ctx, id)
		return false, icrec.SessionExpired
	}
	if active && now.Sub(sess.LastSeen) >= s.touchEvery {
		if err := s.sessions.TouchSession(ctx, id, now); err != nil && !icrec.IsKind(err, icrec.NotFound) {
			s.log.Warn("touch session", "session_id", id, "err", err)
		}
	}
	return true, 0
}

// Sweep deletes expired sessions and auth tokens, and records the refused
// logins counted in windows that have ended (see refusals). The server runs it
// periodically; requests never depend on it, since Authenticate checks
// expiry itself.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	now := s.now()
	for _, e := range s.refusals.flush(now) {
		s.emit(e)
	}
	ids, err := s.sessions.DeleteExpiredSessions(ctx, now.Add(-s.cfg.IdleTimeout), now)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		s.ended(id, icrec.SessionExpired)
	}
	return len(ids), s.sessions.DeleteExpiredAuthTokens(ctx, now)
}

// ActiveSessions counts the sessions that are neither idle nor expired.
func (s *Service) ActiveSessions(ctx context.Context) (int, error) {
	now := s.now()
	return s.sessions.CountSessions(ctx, now.Add(-s.cfg.IdleTimeout), now)
}
