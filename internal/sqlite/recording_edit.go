package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"example.com/icrec"
)

// SetAttributes implements icrec.RecordingStore.
func (d *DB) SetAttributes(ctx context.Context, id string, attrs []icrec.Attribute) error {
	key := recordingKey(id)
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := recordingExists(ctx, tx, key); err != nil {
			return err
		}
		for _, a := range attrs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recording_attributes (recording_id, name_fold, name, value) VALUES (?, ?, ?, ?)
				ON CONFLICT (recording_id, name_fold) DO UPDATE SET value = excluded.value`,
				key, icrec.FoldID(a.Name), a.Name, a.Value); err != nil {
				return err
			}
		}
		return checkCount(ctx, tx, "recording_attributes", key, icrec.MaxAttributes, "attributes")
	})
	return translate(err, "set attributes", recordingWhat(id), "")
}

// DeleteAttribute implements icrec.RecordingStore.
func (d *DB) DeleteAttribute(ctx context.Context, id, name string) error {
	return d.deleteChild(ctx, "recording_attributes", "delete attribute", id, name)
}

// AddTags implements icrec.RecordingStore.
func (d *DB) AddTags(ctx context.Context, id string, tags []string) error {
	key := recordingKey(id)
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := recordingExists(ctx, tx, key); err != nil {
			return err
		}
		for _, t := range tags {
			if _, err := tx.ExecContext(ctx, `INSERT INTO recording_tags (recording_id, name_fold, name) VALUES (?, ?, ?)
				ON CONFLICT (recording_id, name_fold) DO NOTHING`, key, icrec.FoldID(t), t); err != nil {
				return err
			}
		}
		return checkCount(ctx, tx, "recording_tags", key, icrec.MaxTags, "tags")
	})
	return translate(err, "add tags", recordingWhat(id), "")
}

// DeleteTag implements icrec.RecordingStore.
func (d *DB) DeleteTag(ctx context.Context, id, tag string) error {
	return d.deleteChild(ctx, "recording_tags", "delete tag", id, tag)
}

// SetExpiration implements icrec.RecordingStore.
func (d *DB) SetExpiration(ctx context.Context, id string, t time.Time) error {
	var exp sql.NullInt64
	if !t.IsZero() {
		exp = sql.NullInt64{Int64: millis(t), Valid: true}
	}
	res, err := d.w.ExecContext(ctx, "UPDATE recordings SET expiration_date = ? WHERE id = ?", exp, recordingKey(id))
	return translate(mustAffect(res, err), "set expiration", recordingWhat(id), "")
}

// deleteChild removes the row named name (ignoring case) of a recording's
// child table.
func (d *DB) deleteChild(ctx context.Context, table, op, id, name string) error {
	key := recordingKey(id)
	err := d.write(ctx, func(tx *sql.Tx) error {
		if err := recordingExists(ctx, tx, key); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE recording_id = ? AND name_fold = ?", key, icrec.FoldID(name))
		return err
	})
	return translate(err, op, recordingWhat(id), "")
}

func recordingExists(ctx context.Context, tx *sql.Tx, key string) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM recordings WHERE id = ?", key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "There is no recording %s.", key)
	}
	return err
}

// checkCount fails the transaction if the recording now has more than max
// rows in table.
func checkCount(ctx context.Context, tx *sql.Tx, table, key string, max int, what string) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE recording_id = ?", key).Scan(&n); err != nil {
		return err
	}
	if n > max {
		return icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty, "The recording would have %d %s; it may have at most %d.", n, what, max)
	}
	return nil
}
