// Package auth holds icrec's rules for users and sessions: who may log in,
// how sessions are proven and when they end, and how failed logins are
// throttled. It sits above the stores, so every backend obeys the same rules,
// and below the HTTP layer and the CLI, which both call it.
package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"example.com/icrec"
)

// Config holds the tunable rules.
type Config struct {
	// IdleTimeout ends a session that has not been used for this long.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after login, however busy.
	Lifetime time.Duration
	// Throttle limits failed logins.
	Throttle ThrottleConfig
	// HashConcurrency bounds concurrent password hashes, each of which
	// takes tens of MiB of memory and a core for tens of milliseconds;
	// zero means half the CPUs (at least one), so that a burst of logins,
	// or an attacker guessing passwords, leaves the other half to the
	// sessions already open.
	HashConcurrency int
	// SessionEnded, if set, is told about every session this process ends,
	// so that open event streams can say goodbye at once.
	SessionEnded func(sessionID string, why icrec.SessionEnd)
	// Audit, if set, receives logins, failed logins, logouts and user
	// administration.
	Audit icrec.Auditor
}

// DefaultConfig returns the defaults documented for icrec serve.
func DefaultConfig() Config {
	return Config{
		IdleTimeout: 30 * time.Minute,
		Lifetime:    12 * time.Hour,
		Throttle:    DefaultThrottleConfig(),
	}
}

// Service applies the rules. It is safe for concurrent use.
type Service struct {
	users    icrec.UserStore
	sessions icrec.SessionStore
	hasher   icrec.PasswordHasher
	cfg      Config
	log      *slog.Logger
	now      func() time.Time

	throttle  *throttle
	refusals  *refusals
	hashSlots chan struct{}
	// touchEvery bounds how often a session's LastSeen is written: never on
	// every request, often enough to keep the idle timeout accurate.
	touchEvery time.Duration
}

// New returns a Service.
func New(users icrec.UserStore, sessions icrec.SessionStore, hasher icrec.PasswordHasher, cfg Config, log *slog.Logger, now func() time.Time) (*Service, error) {
	if cfg.IdleTimeout <= 0 || cfg.Lifetime <= 0 {
		return nil, fmt.Errorf("auth: idle timeout and lifetime must be positive")
	}
	if cfg.HashConcurrency <= 0 {
		cfg.HashConcurrency = max(1, runtime.GOMAXPROCS(0)/2)
	}
	return &Service{
		users:      users,
		sessions:   sessions,
		hasher:     hasher,
		cfg:        cfg,
		log:        log,
		now:        now,
		throttle:   newThrottle(cfg.Throttle),
		refusals:   newRefusals(),
		hashSlots:  make(chan struct{}, cfg.HashConcurrency),
		touchEvery: touchInterval(cfg.IdleTimeout),
	}, nil
}

// touchInterval is a thirtieth of the idle timeout, between one second and
// one minute: with the default 30 minutes a session is written at most once
// a minute, and may idle out up to a minute early.
func touchInterval(idle time.Duration) time.Duration {
	return min(max(idle/30, time.Second), time.Minute)
}

func (s *Service) ended(id string, why icrec.SessionEnd) {
	if s.cfg.SessionEnded != nil {
		s.cfg.SessionEnded(id, why)
	}
}

// expired reports whether sess is past its idle timeout or lifetime at now.
func (s *Service) expired(sess *icrec.Session, now time.Time) bool {
	return !now.Before(sess.Expires) || now.Sub(sess.LastSeen) > s.cfg.IdleTimeout
}

// endExpired deletes an expired session found during a check. The session
// may already be gone, deleted by the sweeper or another node.
func (s *Service) endExpired(ctx context.Context, id string) {
	if err := s.sessions.DeleteSession(ctx, id); err != nil && !icrec.IsKind(err, icrec.NotFound) {
		s.log.Warn("delete expired session", "session_id", id, "err", err)
		return
	}
	s.ended(id, icrec.SessionExpired)
}

// record writes an audit event and waits until it is durable: a login is
// not granted, nor a change reported done, unless it is in the trail.
func (s *Service) record(ctx context.Context, e *icrec.AuditEvent) error {
	if s.cfg.Audit == nil {
		return nil
	}
	return s.cfg.Audit.Record(ctx, e)
}

// emit records an event without waiting where the auditor can queue it:
// a failed login must not cost the attacker's victim more time.
func (s *Service) emit(e *icrec.AuditEvent) {
	if s.cfg.Audit == nil {
		return
	}
	if em, ok := s.cfg.Audit.(interface{ Emit(*icrec.AuditEvent) }); ok {
		em.Emit(e)
		return
	}
	if err := s.cfg.Audit.Record(context.Background(), e); err != nil {
		s.log.Error("audit event lost", "kind", e.Kind, "err", err)
	}
}

// auditDetail encodes name/value pairs as the JSON object an audit event's
// Detail holds.
func auditDetail(kv ...string) string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}
