package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"example.com/icrec"
)

// expiredRecordingsSQL uses recordings_expiration (see 004_legal_holds.sql):
// the IS NOT NULL term names the partial index's condition, so that the
// planner need not infer it.
const expiredRecordingsSQL = "SELECT " + recordingColumns + ` FROM recordings
	WHERE expiration_date IS NOT NULL AND expiration_date <= ? AND id > ?
	ORDER BY id LIMIT ?`

// ExpiredRecordings implements icrec.RecordingStore. A page takes two
// queries, as FindRecordings does.
func (d *DB) ExpiredRecordings(ctx context.Context, now time.Time, after string, limit int) ([]*icrec.Recording, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlite: expired recordings: limit %d is not positive", limit)
	}
	var recs []*icrec.Recording
	err := d.read(ctx, func(tx *sql.Tx) error {
		var err error
		recs, err = d.findRecordings(ctx, tx, expiredRecordingsSQL, []any{millis(now), recordingKey(after), limit})
		if err != nil || len(recs) == 0 {
			return err
		}
		return d.listChildren(ctx, tx, recs)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: expired recordings: %w", err)
	}
	return recs, nil
}
