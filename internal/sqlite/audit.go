package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"example.com/icrec"
)

// auditColumns are the columns scanAuditEvent reads, in its order.
const auditColumns = `seq, time, kind, user_id, session_id, client_addr,
	recording_id, attachment, outcome, detail, prev_hash, hash`

// lastAuditSQL reads the end of the chain: the rowid b-tree's last row.
const lastAuditSQL = "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1"

const insertAuditSQL = `INSERT INTO audit_events (` + auditColumns + `, user_fold)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// AppendAudit implements icrec.AuditStore. The transaction is IMMEDIATE
// (see write), so reading the last event and appending after it cannot
// interleave with another append, from this DB or from another process on
// the same file. Each call costs one commit, and so one sync, however many
// events it appends: callers that record many events batch them
// (internal/audit).
//
// Times are truncated to the millisecond before the hash is computed, so
// that an event read back hashes as it did when it was stored. On success,
// the caller's events get their Seq, PrevHash, Hash and stored Time; on
// failure they are left as they were, and nothing is stored.
func (d *DB) AppendAudit(ctx context.Context, events []*icrec.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	stored := make([]icrec.AuditEvent, len(events))
	err := d.write(ctx, func(tx *sql.Tx) error {
		var last int64
		var prev []byte
		// Statements prepared on the writer's one connection: the
		// transaction's copies reuse them.
		if err := tx.StmtContext(ctx, d.lastAudit).QueryRowContext(ctx).Scan(&last, &prev); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if prev == nil {
			prev = []byte{} // the column is NOT NULL: the first event follows nothing
		}
		ins := tx.StmtContext(ctx, d.insertAudit)
		defer ins.Close()
		for i, e := range events {
			s := &stored[i]
			*s = *e
			s.Seq = last + 1 + int64(i)
			s.Time = fromMillis(millis(e.Time))
			s.PrevHash = prev
			s.Hash = s.ChainHash(prev)
			if _, err := ins.ExecContext(ctx,
				s.Seq, millis(s.Time), string(s.Kind), s.UserID, s.SessionID, s.ClientAddr,
				s.RecordingID, s.Attachment, s.Outcome, s.Detail, s.PrevHash, s.Hash,
				icrec.FoldID(s.UserID),
			); err != nil {
				return fmt.Errorf("event %d (%s): %w", s.Seq, s.Kind, err)
			}
			prev = s.Hash
		}
		return nil
	})
	if err != nil {
		return translate(err, "append audit events", "audit event", "")
	}
	for i, e := range events {
		e.Seq, e.Time, e.PrevHash, e.Hash = stored[i].Seq, stored[i].Time, stored[i].PrevHash, stored[i].Hash
	}
	return nil
}

// FindAudit implements icrec.AuditStore. Times are compared to the
// millisecond, the filter's truncated as stored times are, so that an
// event is found from its own Time whether or not that was truncated yet.
// Each combination of filter fields is one query, prepared once.
func (d *DB) FindAudit(ctx context.Context, f icrec.AuditFilter) ([]*icrec.AuditEvent, error) {
	query, args := auditQuery(f)
	var events []*icrec.AuditEvent
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := d.query(ctx, tx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanAuditEvent(rows)
			if err != nil {
				return err
			}
			events = append(events, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: find audit events: %w", err)
	}
	return events, nil
}

// auditQuery returns the query for the events that f selects, in seq
// order, and its arguments.
func auditQuery(f icrec.AuditFilter) (string, []any) {
	var where []string
	var args []any
	if f.AfterSeq > 0 {
		where = append(where, "seq > ?")
		args = append(args, f.AfterSeq)
	}
	if f.UserID != nil {
		where = append(where, "user_fold = ?")
		args = append(args, icrec.FoldID(*f.UserID))
	}
	if f.RecordingID != nil {
		where = append(where, "recording_id = ?")
		args = append(args, *f.RecordingID)
	}
	if f.Kind != nil {
		where = append(where, "kind = ?")
		args = append(args, string(*f.Kind))
	}
	if f.Since != nil {
		where = append(where, "time >= ?")
		args = append(args, millis(*f.Since))
	}
	if f.Until != nil {
		where = append(where, "time < ?")
		args = append(args, millis(*f.Until))
	}
	q := "SELECT " + auditColumns + " FROM audit_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return q, args
}

func scanAuditEvent(rows *sql.Rows) (*icrec.AuditEvent, error) {
	var e icrec.AuditEvent
	var ms int64
	var kind string
	if err := rows.Scan(&e.Seq, &ms, &kind, &e.UserID, &e.SessionID, &e.ClientAddr,
		&e.RecordingID, &e.Attachment, &e.Outcome, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
		return nil, err
	}
	e.Time = fromMillis(ms)
	e.Kind = icrec.AuditKind(kind)
	return &e, nil
}
