package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"example.com/icrec"
)

var _ icrec.HoldStore = (*DB)(nil)

// holdWhat names a hold in error messages as the caller spelled it.
func holdWhat(name string) string { return fmt.Sprintf("legal hold %q", name) }

const listHoldsSQL = `SELECT name_fold, name, created, created_by,
	query_interaction, query_participant, query_workgroup, query_media_type,
	query_since, query_until, query_tag, query_attr_name, query_attr_value
	FROM holds ORDER BY created, name_fold`

// listHoldRecordingsSQL reads every hold's recording ids in one query, in id
// order within each hold.
const listHoldRecordingsSQL = "SELECT hold_fold, recording_id FROM hold_recordings ORDER BY hold_fold, recording_id"

// CreateHold implements icrec.HoldStore. Recording ids are stored
// upper-case, the canonical form; an id given twice is stored once.
func (d *DB) CreateHold(ctx context.Context, h *icrec.LegalHold) error {
	now := fromMillis(millis(d.now()))
	fold := icrec.FoldID(h.Name)
	q := &h.Query
	var media, since, until sql.NullInt64
	if q.MediaType != nil {
		media = sql.NullInt64{Int64: int64(*q.MediaType), Valid: true}
	}
	if q.Since != nil {
		since = sql.NullInt64{Int64: millis(*q.Since), Valid: true}
	}
	if q.Until != nil {
		until = sql.NullInt64{Int64: millis(*q.Until), Valid: true}
	}
	var attrName, attrValue sql.NullString
	if q.Attribute != nil {
		attrName = sql.NullString{String: q.Attribute.Name, Valid: true}
		attrValue = sql.NullString{String: q.Attribute.Value, Valid: true}
	}
	err := d.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO holds (name_fold, name, created, created_by,
			query_interaction, query_participant, query_workgroup, query_media_type,
			query_since, query_until, query_tag, query_attr_name, query_attr_value)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			fold, h.Name, millis(now), h.CreatedBy,
			q.InteractionID, q.ParticipantUserID, q.Workgroup, media,
			since, until, q.Tag, attrName, attrValue,
		); err != nil {
			return translate(err, "create hold", holdWhat(h.Name), "")
		}
		if len(h.RecordingIDs) == 0 {
			return nil
		}
		// One prepared statement for however many ids: a hold has no cap.
		st, err := tx.PrepareContext(ctx, "INSERT INTO hold_recordings (hold_fold, recording_id) VALUES (?, ?) ON CONFLICT DO NOTHING")
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range h.RecordingIDs {
			if _, err := st.ExecContext(ctx, fold, recordingKey(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return translate(err, "create hold", holdWhat(h.Name), "")
	}
	h.Created = now
	return nil
}

// ListHolds implements icrec.HoldStore, in two queries however many holds
// and ids there are.
func (d *DB) ListHolds(ctx context.Context) ([]*icrec.LegalHold, error) {
	var holds []*icrec.LegalHold
	err := d.read(ctx, func(tx *sql.Tx) error {
		rows, err := d.query(ctx, tx, listHoldsSQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		byFold := make(map[string]*icrec.LegalHold)
		for rows.Next() {
			var (
				h                   icrec.LegalHold
				fold                string
				created             int64
				media, since, until sql.NullInt64
				attrName, attrValue sql.NullString
			)
			q := &h.Query
			if err := rows.Scan(&fold, &h.Name, &created, &h.CreatedBy,
				&q.InteractionID, &q.ParticipantUserID, &q.Workgroup, &media,
				&since, &until, &q.Tag, &attrName, &attrValue); err != nil {
				return err
			}
			h.Created = fromMillis(created)
			if media.Valid {
				m := icrec.MediaType(media.Int64)
				q.MediaType = &m
			}
			if since.Valid {
				t := fromMillis(since.Int64)
				q.Since = &t
			}
			if until.Valid {
				t := fromMillis(until.Int64)
				q.Until = &t
			}
			if attrName.Valid {
				q.Attribute = &icrec.Attribute{Name: attrName.String, Value: attrValue.String}
			}
			holds = append(holds, &h)
			byFold[fold] = &h
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return d.listHoldRecordings(ctx, tx, byFold)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list holds: %w", err)
	}
	return holds, nil
}

// listHoldRecordings adds their recording ids to the holds in byFold, keyed
// by folded name.
func (d *DB) listHoldRecordings(ctx context.Context, tx *sql.Tx, byFold map[string]*icrec.LegalHold) error {
	rows, err := d.query(ctx, tx, listHoldRecordingsSQL)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		fold sql.RawBytes
		id   string
	)
	for rows.Next() {
		if err := rows.Scan(&fold, &id); err != nil {
			return err
		}
		h := byFold[string(fold)]
		if h == nil {
			// The foreign key makes this impossible; say so if it happens.
			return fmt.Errorf("recording %s is held by unknown hold %q", id, fold)
		}
		h.RecordingIDs = append(h.RecordingIDs, id)
	}
	return rows.Err()
}

// DeleteHold implements icrec.HoldStore. The hold's recording ids go with
// it by ON DELETE CASCADE, within the one statement.
func (d *DB) DeleteHold(ctx context.Context, name string) error {
	res, err := d.w.ExecContext(ctx, "DELETE FROM holds WHERE name_fold = ?", icrec.FoldID(name))
	return translate(mustAffect(res, err), "delete hold", holdWhat(name), "")
}
