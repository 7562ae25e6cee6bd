package icrec

import "context"

type sessionKey struct{}

// NewContextWithSession returns a copy of ctx that carries the authenticated
// session of the request.
func NewContextWithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFromContext returns the session stored by NewContextWithSession, or
// nil for an unauthenticated request.
func SessionFromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}
