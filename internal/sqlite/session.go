package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"example.com/icrec"
)

// The session's user id is shown as the user's id was created, whatever
// spelling the session was created with; sessions store the folded id, which
// the foreign key needs.
const findSessionSQL = `
	SELECT s.id, u.display_id, s.cookie_hash, s.csrf_hash, s.language,
		s.application, s.client_addr, s.created, s.last_seen, s.expires
	FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.id = ?`

// max() rather than a WHERE clause, so that a touch that does not move
// last_seen still tells an existing session from a missing one.
const touchSessionSQL = "UPDATE sessions SET last_seen = max(last_seen, ?) WHERE id = ?"

func sessionWhat(id string) string { return "session " + id }

const authTokenWhat = "auth token"

// CreateSession implements icrec.SessionStore.
func (d *DB) CreateSession(ctx context.Context, s *icrec.Session) error {
	_, err := d.w.ExecContext(ctx, `
		INSERT INTO sessions (id, user_id, cookie_hash, csrf_hash, language,
			application, client_addr, created, last_seen, expires)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, icrec.FoldID(s.UserID), s.CookieHash, s.CSRFHash, s.Language,
		s.Application, s.ClientAddr, millis(s.Created), millis(s.LastSeen), millis(s.Expires))
	return translate(err, "create session", sessionWhat(s.ID), userWhat(s.UserID))
}

// FindSessionByID implements icrec.SessionStore.
func (d *DB) FindSessionByID(ctx context.Context, id string) (*icrec.Session, error) {
	var (
		s                         icrec.Session
		created, lastSeen, expiry int64
	)
	err := d.findSession.QueryRowContext(ctx, id).Scan(&s.ID, &s.UserID, &s.CookieHash, &s.CSRFHash,
		&s.Language, &s.Application, &s.ClientAddr, &created, &lastSeen, &expiry)
	if err != nil {
		return nil, translate(err, "find session", sessionWhat(id), "")
	}
	s.Created, s.LastSeen, s.Expires = fromMillis(created), fromMillis(lastSeen), fromMillis(expiry)
	return &s, nil
}

// TouchSession implements icrec.SessionStore.
func (d *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	res, err := d.touchSession.ExecContext(ctx, millis(at), id)
	return translate(mustAffect(res, err), "touch session", sessionWhat(id), "")
}

// DeleteSession implements icrec.SessionStore. The session's auth tokens go
// with it by ON DELETE CASCADE.
func (d *DB) DeleteSession(ctx context.Context, id string) error {
	res, err := d.w.ExecContext(ctx, "DELETE FROM sessions WHERE id = ?", id)
	return translate(mustAffect(res, err), "delete session", sessionWhat(id), "")
}

// DeleteExpiredSessions implements icrec.SessionStore. The ids come back
// sorted.
func (d *DB) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) ([]string, error) {
	var ids []string
	// In an explicit transaction, so that the commit, and any error it
	// meets, happens in tx.Commit rather than whenever the rows are closed.
	err := d.write(ctx, func(tx *sql.Tx) (err error) {
		ids, err = scanStrings(tx.QueryContext(ctx,
			"DELETE FROM sessions WHERE last_seen < ? OR expires <= ? RETURNING id",
			millis(idleBefore), millis(now)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// CountSessions implements icrec.SessionStore.
func (d *DB) CountSessions(ctx context.Context, idleBefore, now time.Time) (int, error) {
	var n int
	err := d.r.QueryRowContext(ctx,
		"SELECT count(*) FROM sessions WHERE last_seen >= ? AND expires > ?",
		millis(idleBefore), millis(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count sessions: %w", err)
	}
	return n, nil
}

// CreateAuthToken implements icrec.SessionStore.
func (d *DB) CreateAuthToken(ctx context.Context, t *icrec.AuthToken) error {
	_, err := d.w.ExecContext(ctx, `
		INSERT INTO auth_tokens (hash, seed, session_id, user_id, expires)
		VALUES (?, ?, ?, ?, ?)`,
		t.Hash, t.Seed, t.SessionID, t.UserID, millis(t.Expires))
	return translate(err, "create auth token", authTokenWhat, sessionWhat(t.SessionID))
}

// ConsumeAuthToken implements icrec.SessionStore. A single DELETE ...
// RETURNING on the one writer connection removes and reads the token, so
// that of two concurrent consumers exactly one gets it.
func (d *DB) ConsumeAuthToken(ctx context.Context, hash []byte) (*icrec.AuthToken, error) {
	var (
		t       icrec.AuthToken
		expires int64
	)
	// In a transaction for the same reason as DeleteExpiredSessions.
	err := d.write(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `
			DELETE FROM auth_tokens WHERE hash = ?
			RETURNING hash, seed, session_id, user_id, expires`, hash,
		).Scan(&t.Hash, &t.Seed, &t.SessionID, &t.UserID, &expires)
	})
	if err != nil {
		return nil, translate(err, "consume auth token", authTokenWhat, "")
	}
	t.Expires = fromMillis(expires)
	return &t, nil
}

// DeleteExpiredAuthTokens implements icrec.SessionStore.
func (d *DB) DeleteExpiredAuthTokens(ctx context.Context, now time.Time) error {
	if _, err := d.w.ExecContext(ctx, "DELETE FROM auth_tokens WHERE expires <= ?", millis(now)); err != nil {
		return fmt.Errorf("sqlite: delete expired auth tokens: %w", err)
	}
	return nil
}
