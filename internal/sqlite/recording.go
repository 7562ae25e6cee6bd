package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"example.com/icrec"
)

// recordingColumns are the columns scanRecording reads, in its order.
const recordingColumns = `id, interaction_id, media_type, recording_type, call_type, direction,
	recording_date, duration, expiration_date, initiation_policy_name, line_name,
	snippet_initiator, related_recording_id, is_encrypted, is_archived,
	media_key, media_content_type, media_size, media_sha256, media_file_name, created`

const findRecordingSQL = "SELECT " + recordingColumns + " FROM recordings WHERE id = ?"

const recordingByMediaKeySQL = "SELECT " + recordingColumns + ` FROM recordings
	WHERE media_key = ? ORDER BY recording_date, id LIMIT 1`

// The kinds of child row that childrenSQL returns.
const (
	childParticipant = iota + 1
	childWorkgroup
	childAttribute
	childTag
	childAttachment
)

// childrenSQL returns a query for the children of the recordings whose id
// matches match (an SQL fragment with the parameter ?1): every child table
// in one statement, so that a recording's children cost one query, not
// five. Each row is (recording_id, kind, num, s1, s2, s3, s4, size); what
// the columns hold depends on the kind (see scanChildren), and columns a
// kind does not use hold an empty string or 0, never NULL, so that they
// scan into plain strings and integers. Rows come ordered by recording, then kind, then in each kind's
// order (k): participants as given, names by folded form, attachments by
// index.
func childrenSQL(match string) string {
	return fmt.Sprintf(`
		SELECT recording_id, kind, num, s1, s2, s3, s4, size FROM (
			SELECT recording_id, %[2]d AS kind, position AS k, position AS num,
				user_id AS s1, name AS s2, address AS s3, '' AS s4, 0 AS size
			FROM recording_participants WHERE recording_id %[1]s
			UNION ALL
			SELECT recording_id, %[3]d, name_fold, 0, name, '', '', '', 0
			FROM recording_workgroups WHERE recording_id %[1]s
			UNION ALL
			SELECT recording_id, %[4]d, name_fold, 0, name, value, '', '', 0
			FROM recording_attributes WHERE recording_id %[1]s
			UNION ALL
			SELECT recording_id, %[5]d, name_fold, 0, name, '', '', '', 0
			FROM recording_tags WHERE recording_id %[1]s
			UNION ALL
			SELECT recording_id, %[6]d, idx, idx, part, file_name, content_type, sha256, size
			FROM recording_attachments WHERE recording_id %[1]s
		) ORDER BY recording_id, kind, k`,
		match, childParticipant, childWorkgroup, childAttribute, childTag, childAttachment)
}

var (
	// findChildrenSQL reads the children of one recording.
	findChildrenSQL = childrenSQL("= ?1")
	// listChildrenSQL reads the children of the recordings whose ids are in
	// the JSON array ?1: one parameter however many recordings a page
	// holds, where a list of parameters would meet SQLite's limit on them.
	listChildrenSQL = childrenSQL("IN (SELECT value FROM json_each(?1))")
)

// recordingWhat names a recording in error messages as the caller spelled
// its id.
func recordingWhat(id string) string { return fmt.Sprintf("recording %q", id) }

// recordingKey is the form of a recording id the database keys and compares:
// canonical GUIDs are upper-case, so upper-casing makes lookups ignore case.
func recordingKey(id string) string { return strings.ToUpper(id) }

// CreateRecordings implements icrec.RecordingStore. Ids are stored
// upper-case, the canonical form, whatever case they are given in.
func (d *DB) CreateRecordings(ctx context.Context, recs []*icrec.Recording) error {
	if len(recs) == 0 {
		return nil
	}
	now := fromMillis(millis(d.now()))
	err := d.write(ctx, func(tx *sql.Tx) error {
		ins, err := prepareInserts(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		for _, r := range recs {
			if err := ins.insert(ctx, r, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return translate(err, "create recordings", "recordings", "")
	}
	// Only now: a failed create leaves the caller's recordings as they were.
	for _, r := range recs {
		r.Created = now
	}
	return nil
}

// recordingInserts are the statements that store a batch of recordings,
// prepared once per batch: an import stores thousands of rows at a time.
type recordingInserts struct {
	recording, participant, workgroup, attribute, tag, attachment, unpend *sql.Stmt
}

func prepareInserts(ctx context.Context, tx *sql.Tx) (_ *recordingInserts, err error) {
	ins := new(recordingInserts)
	defer func() {
		if err != nil {
			ins.close()
		}
	}()
	for _, s := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&ins.recording, `INSERT INTO recordings (` + recordingColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&ins.participant, `INSERT INTO recording_participants
			(recording_id, position, user_id, user_fold, name, address) VALUES (?, ?, ?, ?, ?, ?)`},
		{&ins.workgroup, "INSERT INTO recording_workgroups (recording_id, name_fold, name) VALUES (?, ?, ?)"},
		{&ins.attribute, "INSERT INTO recording_attributes (recording_id, name_fold, name, value) VALUES (?, ?, ?, ?)"},
		{&ins.tag, "INSERT INTO recording_tags (recording_id, name_fold, name) VALUES (?, ?, ?)"},
		{&ins.attachment, `INSERT INTO recording_attachments
			(recording_id, idx, part, file_name, content_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&ins.unpend, "DELETE FROM pending_blobs WHERE key = ?"},
	} {
		if *s.stmt, err = tx.PrepareContext(ctx, s.sql); err != nil {
			return nil, err
		}
	}
	return ins, nil
}

func (ins *recordingInserts) close() {
	for _, s := range []*sql.Stmt{ins.recording, ins.participant, ins.workgroup, ins.attribute, ins.tag, ins.attachment, ins.unpend} {
		if s != nil {
			s.Close()
		}
	}
}

// insert stores r, created at created, with all its children, and forgets
// its media key as a pending blob.
func (ins *recordingInserts) insert(ctx context.Context, r *icrec.Recording, created time.Time) error {
	id := recordingKey(r.ID)
	what := recordingWhat(r.ID)
	var expiration sql.NullInt64
	if !r.ExpirationDate.IsZero() {
		expiration = sql.NullInt64{Int64: millis(r.ExpirationDate), Valid: true}
	}
	if _, err := ins.recording.ExecContext(ctx,
		id, r.InteractionID, int64(r.MediaType), int64(r.RecordingType), int64(r.CallType), int64(r.Direction),
		millis(r.RecordingDate), int64(r.Duration), expiration, r.InitiationPolicyName, r.LineName,
		r.SnippetInitiator, r.RelatedRecordingID, r.IsEncrypted, r.IsArchived,
		r.Media.Key, r.Media.ContentType, r.Media.Size, r.Media.SHA256, r.Media.FileName, millis(created),
	); err != nil {
		return translate(err, "create recording", what, "")
	}
	for i, p := range r.Participants {
		if _, err := ins.participant.ExecContext(ctx, id, i, p.UserID, icrec.FoldID(p.UserID), p.Name, p.Address); err != nil {
			return translate(err, "store participant", fmt.Sprintf("participant %d of %s", i+1, what), "")
		}
	}
	// A conflict on a name means the list was not normalised.
	for _, w := range r.Workgroups {
		if _, err := ins.workgroup.ExecContext(ctx, id, icrec.FoldID(w), w); err != nil {
			return translate(err, "store workgroup", fmt.Sprintf("workgroup %q of %s", w, what), "")
		}
	}
	for _, a := range r.Attributes {
		if _, err := ins.attribute.ExecContext(ctx, id, icrec.FoldID(a.Name), a.Name, a.Value); err != nil {
			return translate(err, "store attribute", fmt.Sprintf("attribute %q of %s", a.Name, what), "")
		}
	}
	for _, t := range r.Tags {
		if _, err := ins.tag.ExecContext(ctx, id, icrec.FoldID(t), t); err != nil {
			return translate(err, "store tag", fmt.Sprintf("tag %q of %s", t, what), "")
		}
	}
	for _, a := range r.Attachments {
		if _, err := ins.attachment.ExecContext(ctx, id, a.Index, a.Part, a.FileName, a.ContentType, a.Size, a.SHA256); err != nil {
			return translate(err, "store attachment", fmt.Sprintf("attachment %d of %s", a.Index, what), "")
		}
	}
	if _, err := ins.unpend.ExecContext(ctx, r.Media.Key); err != nil {
		return translate(err, "forget pending blob", what, "")
	}
	return nil
}

// FindRecordingByID implements icrec.RecordingStore. It runs on every
// export request, so its two queries are prepared once, at Open.
func (d *DB) FindRecordingByID(ctx context.Context, id string) (*icrec.Recording, error) {
	var r *icrec.Recording
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		row := tx.StmtContext(ctx, d.findRecording).QueryRowContext(ctx, recordingKey(id))
		r, err = d.findRecordingRow(ctx, tx, row)
		return err
	})
	if err != nil {
		return nil, translate(err, "find recording", recordingWhat(id), "")
	}
	return r, nil
}

// ExistingRecordings implements icrec.RecordingStore. The ids go in as one
// JSON array, so that a batch of any size is one prepared statement.
func (d *DB) ExistingRecordings(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = recordingKey(id)
	}
	arg, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	var found []string
	err = d.read(ctx, func(tx *sql.Tx) error {
		s, err := d.readStmt(ctx, existingRecordingsSQL)
		if err != nil {
			return err
		}
		found, err = scanStrings(tx.StmtContext(ctx, s).QueryContext(ctx, string(arg)))
		return err
	})
	if err != nil {
		return nil, translate(err, "find existing recordings", "recordings", "")
	}
	return found, nil
}

const existingRecordingsSQL = "SELECT id FROM recordings WHERE id IN (SELECT value FROM json_each(?))"

// RecordingByMediaKey implements icrec.RecordingStore. Should two
// recordings share a blob, which the contract neither allows nor forbids,
// the first in listing order is returned.
func (d *DB) RecordingByMediaKey(ctx context.Context, key string) (*icrec.Recording, error) {
	var r *icrec.Recording
	err := d.read(ctx, func(tx *sql.Tx) (err error) {
		s, err := d.readStmt(ctx, recordingByMediaKeySQL)
		if err != nil {
			return err
		}
		r, err = d.findRecordingRow(ctx, tx, tx.StmtContext(ctx, s).QueryRowContext(ctx, key))
		return err
	})
	if err != nil {
		return nil, translate(err, "find recording by media key", fmt.Sprintf("recording with media key %q", key), "")
	}
	return r, nil
}

// findRecordingRow scans the recording row selects, or returns
// sql.ErrNoRows, and reads its children.
func (d *DB) findRecordingRow(ctx context.Context, tx *sql.Tx, row *sql.Row) (*icrec.Recording, error) {
	r, err := scanRecording(row)
	if err != nil {
		return nil, err
	}
	rows, err := tx.StmtContext(ctx, d.findChildren).QueryContext(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return r, scanChildren(rows, func([]byte) *icrec.Recording { return r })
}

// FindRecordings implements icrec.RecordingStore. It takes two queries
// whatever the page holds, one for the recordings and one for all their
// children, each prepared once for each combination of filter fields.
func (d *DB) FindRecordings(ctx context.Context, f icrec.RecordingFilter) ([]*icrec.Recording, error) {
	query, args := recordingQuery(f)
	var recs []*icrec.Recording
	err := d.read(ctx, func(tx *sql.Tx) error {
		var err error
		if recs, err = d.findRecordings(ctx, tx, query, args); err != nil || len(recs) == 0 {
			return err
		}
		return d.listChildren(ctx, tx, recs)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: find recordings: %w", err)
	}
	return recs, nil
}

// recordingQuery returns the query for the recordings that f selects, in
// listing order, and its arguments.
func recordingQuery(f icrec.RecordingFilter) (string, []any) {
	var where []string
	var args []any
	if f.InteractionID != nil {
		where = append(where, "interaction_id = ?")
		args = append(args, *f.InteractionID)
	}
	if f.ParticipantUserID != nil {
		// user_fold <> '' lets SQLite use the partial index, and never
		// matches an external party, as Recording.HasParticipant never
		// does.
		where = append(where, "id IN (SELECT recording_id FROM recording_participants WHERE user_fold = ? AND user_fold <> '')")
		args = append(args, icrec.FoldID(*f.ParticipantUserID))
	}
	if f.Workgroup != nil {
		where = append(where, "id IN (SELECT recording_id FROM recording_workgroups WHERE name_fold = ?)")
		args = append(args, icrec.FoldID(*f.Workgroup))
	}
	if f.MediaType != nil {
		where = append(where, "media_type = ?")
		args = append(args, int64(*f.MediaType))
	}
	if f.Since != nil {
		where = append(where, "recording_date >= ?")
		args = append(args, millis(*f.Since))
	}
	if f.Until != nil {
		where = append(where, "recording_date < ?")
		args = append(args, millis(*f.Until))
	}
	if f.After != nil {
		// A row value: SQLite walks recordings_date from the cursor on.
		where = append(where, "(recording_date, id) > (?, ?)")
		args = append(args, millis(f.After.RecordingDate), recordingKey(f.After.ID))
	}
	q := "SELECT " + recordingColumns + " FROM recordings"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY recording_date, id"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return q, args
}

// findRecordings returns the recordings that query selects, without their
// children.
func (d *DB) findRecordings(ctx context.Context, tx *sql.Tx, query string, args []any) ([]*icrec.Recording, error) {
	rows, err := d.query(ctx, tx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var recs []*icrec.Recording
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return recs, rows.Err()
}

// listChildren reads the children of recs in one query.
func (d *DB) listChildren(ctx context.Context, tx *sql.Tx, recs []*icrec.Recording) error {
	byID := make(map[string]*icrec.Recording, len(recs))
	ids := make([]string, len(recs))
	for i, r := range recs {
		byID[r.ID] = r
		ids[i] = r.ID
	}
	idList, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	rows, err := d.query(ctx, tx, listChildrenSQL, string(idList))
	if err != nil {
		return err
	}
	defer rows.Close()
	return scanChildren(rows, func(id []byte) *icrec.Recording { return byID[string(id)] })
}

// CountRecordings implements icrec.RecordingStore.
func (d *DB) CountRecordings(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, "SELECT count(*) FROM recordings").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count recordings: %w", err)
	}
	return n, nil
}

// DeleteRecordings implements icrec.RecordingStore: one transaction, one
// sync, however many recordings.
func (d *DB) DeleteRecordings(ctx context.Context, ids ...string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := d.write(ctx, func(tx *sql.Tx) error {
		// Each recording's children go with it by ON DELETE CASCADE.
		st, err := tx.PrepareContext(ctx, "DELETE FROM recordings WHERE id = ?")
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range ids {
			res, err := st.ExecContext(ctx, recordingKey(id))
			if err != nil {
				return err
			}
			k, err := res.RowsAffected()
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete %d recordings: %w", len(ids), err)
	}
	return int(n), nil
}

// AddPendingBlobs implements icrec.RecordingStore. A key added twice keeps
// the time it was first added.
func (d *DB) AddPendingBlobs(ctx context.Context, keys ...string) error {
	return d.pendingBlobs(ctx, "add pending blobs",
		"INSERT INTO pending_blobs (key, created) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", keys, true)
}

// pendingBlobs runs one statement per key in a single transaction: one
// sync for a whole batch of an import.
func (d *DB) pendingBlobs(ctx context.Context, op, stmt string, keys []string, stamp bool) error {
	if len(keys) == 0 {
		return nil
	}
	now := millis(d.now())
	err := d.write(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, stmt)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, k := range keys {
			args := []any{k}
			if stamp {
				args = append(args, now)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return nil
}

// PendingBlobs implements icrec.RecordingStore. The keys come back sorted.
func (d *DB) PendingBlobs(ctx context.Context) ([]string, error) {
	keys, err := scanStrings(d.r.QueryContext(ctx, "SELECT key FROM pending_blobs ORDER BY key"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending blobs: %w", err)
	}
	return keys, nil
}

// DeletePendingBlobs implements icrec.RecordingStore.
func (d *DB) DeletePendingBlobs(ctx context.Context, keys ...string) error {
	return d.pendingBlobs(ctx, "delete pending blobs", "DELETE FROM pending_blobs WHERE key = ?", keys, false)
}

// scanRecording scans a row of recordingColumns into a recording without
// its children. Enumerations and durations go through int64, which
// database/sql converts without the reflection and allocations a named
// integer type costs.
func scanRecording(row interface{ Scan(...any) error }) (*icrec.Recording, error) {
	var (
		r                                 icrec.Recording
		mediaType, recType, callType, dir int64
		date, duration, created           int64
		expiration                        sql.NullInt64
	)
	if err := row.Scan(&r.ID, &r.InteractionID, &mediaType, &recType, &callType, &dir,
		&date, &duration, &expiration, &r.InitiationPolicyName, &r.LineName,
		&r.SnippetInitiator, &r.RelatedRecordingID, &r.IsEncrypted, &r.IsArchived,
		&r.Media.Key, &r.Media.ContentType, &r.Media.Size, &r.Media.SHA256, &r.Media.FileName, &created,
	); err != nil {
		return nil, err
	}
	r.MediaType = icrec.MediaType(mediaType)
	r.RecordingType = icrec.RecordingType(recType)
	r.CallType = icrec.CallType(callType)
	r.Direction = icrec.Direction(dir)
	r.RecordingDate = fromMillis(date)
	r.Duration = time.Duration(duration)
	if expiration.Valid {
		r.ExpirationDate = fromMillis(expiration.Int64)
	}
	r.Created = fromMillis(created)
	return &r, nil
}

// scanChildren adds the rows of a childrenSQL query to the recordings that
// find returns for their ids. The id is scanned into a reused buffer, and a
// map lookup by string(id) does not copy it, so that an id costs no
// allocation per row.
func scanChildren(rows *sql.Rows, find func(id []byte) *icrec.Recording) error {
	var (
		id             sql.RawBytes
		kind           int
		num, size      int64
		s1, s2, s3, s4 string
	)
	for rows.Next() {
		if err := rows.Scan(&id, &kind, &num, &s1, &s2, &s3, &s4, &size); err != nil {
			return err
		}
		r := find(id)
		if r == nil {
			// The foreign keys make this impossible; say so if it happens.
			return fmt.Errorf("a child row of kind %d belongs to unknown recording %q", kind, id)
		}
		switch kind {
		case childParticipant:
			r.Participants = append(r.Participants, icrec.Participant{UserID: s1, Name: s2, Address: s3})
		case childWorkgroup:
			r.Workgroups = append(r.Workgroups, s1)
		case childAttribute:
			r.Attributes = append(r.Attributes, icrec.Attribute{Name: s1, Value: s2})
		case childTag:
			r.Tags = append(r.Tags, s1)
		case childAttachment:
			r.Attachments = append(r.Attachments, icrec.Attachment{
				Index: int(num), Part: s1, FileName: s2, ContentType: s3, SHA256: s4, Size: size,
			})
		default:
			return fmt.Errorf("child row of unknown kind %d", kind)
		}
	}
	return rows.Err()
}
