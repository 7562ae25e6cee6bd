package sqlite_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/sqlite"
)

const (
	rec1 = "0DE0C017-CD4F-D013-8E31-18D8B7470001"
	rec2 = "0DE0C017-CD4F-D013-8E31-18D8B7470002"
	rec3 = "0DE0C017-CD4F-D013-8E31-18D8B7470003"
)

func newRecording(id string) *icrec.Recording {
	return &icrec.Recording{
		ID:            id,
		InteractionID: "1001",
		MediaType:     icrec.MediaCall,
		RecordingDate: t1,
		Duration:      time.Minute,
		Participants:  []icrec.Participant{{UserID: "agent1", Name: "Agent One"}},
		Workgroups:    []string{"Sales"},
		Media:         icrec.Media{Key: icrec.MediaKey(id), ContentType: "audio/wav", Size: 1024},
	}
}

// The contract's error messages reach the client; check their wording.
func TestRecordingErrorMessages(t *testing.T) {
	ctx := t.Context()
	d := mustOpen(t, newPath(t), time.Now)
	if err := d.CreateRecordings(ctx, []*icrec.Recording{newRecording(rec1)}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Support", "Sales"} {
		if err := d.CreatePolicy(ctx, &icrec.Policy{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	lower := strings.ToLower(rec2)
	_, findErr := d.FindRecordingByID(ctx, lower)
	_, byKeyErr := d.RecordingByMediaKey(ctx, "recordings/none")
	dupWorkgroup := newRecording(rec3)
	dupWorkgroup.Workgroups = []string{"Sales", "SALES"}
	dupAttachment := newRecording(rec3)
	dupAttachment.Attachments = []icrec.Attachment{{Index: 1}, {Index: 1}}
	for _, tc := range []struct {
		name    string
		err     error
		kind    icrec.Kind
		message string
	}{
		// Ids as the caller spelled them.
		{"FindRecordingByID", findErr, icrec.NotFound, `recording "` + lower + `" not found`},
		{"RecordingByMediaKey", byKeyErr, icrec.NotFound, `recording with media key "recordings/none" not found`},
		{"CreateRecordingsExisting", d.CreateRecordings(ctx, []*icrec.Recording{newRecording(rec2), newRecording(rec1)}),
			icrec.Conflict, `recording "` + rec1 + `" already exists`},
		{"CreateRecordingsInBatch", d.CreateRecordings(ctx, []*icrec.Recording{newRecording(rec2), newRecording(rec3), newRecording(rec2)}),
			icrec.Conflict, `recording "` + rec2 + `" already exists`},
		{"CreateRecordingsDuplicateWorkgroup", d.CreateRecordings(ctx, []*icrec.Recording{dupWorkgroup}),
			icrec.Conflict, `workgroup "SALES" of recording "` + rec3 + `" already exists`},
		{"CreateRecordingsDuplicateAttachment", d.CreateRecordings(ctx, []*icrec.Recording{dupAttachment}),
			icrec.Conflict, `attachment 1 of recording "` + rec3 + `" already exists`},
		{"CreatePolicy", d.CreatePolicy(ctx, &icrec.Policy{Name: "SUPPORT"}), icrec.Conflict, `policy "SUPPORT" already exists`},
		{"CreatePolicyDuplicateRole", d.CreatePolicy(ctx, &icrec.Policy{Name: "x", Roles: []string{"a", "A"}}), icrec.Conflict, `role "A" of policy "x" already exists`},
		{"DeletePolicy", d.DeletePolicy(ctx, "Billing"), icrec.NotFound, `policy "Billing" not found`},
		// MovePolicy names the policy that is missing.
		{"MovePolicyName", d.MovePolicy(ctx, "Billing", "Sales"), icrec.NotFound, `policy "Billing" not found`},
		{"MovePolicyBefore", d.MovePolicy(ctx, "sales", "Billing"), icrec.NotFound, `policy "Billing" not found`},
		{"MovePolicyBoth", d.MovePolicy(ctx, "Billing", "Legal"), icrec.NotFound, `policy "Billing" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := errors.AsType[*icrec.Error](tc.err)
			if !ok {
				t.Fatalf("err = %v (%T), want *icrec.Error", tc.err, tc.err)
			}
			if e.Kind != tc.kind || e.Message != tc.message {
				t.Errorf("err = %v %q, want %v %q", e.Kind, e.Message, tc.kind, tc.message)
			}
			if e.Kind == icrec.NotFound && e.ID != icrec.IDNotFound {
				t.Errorf("ID = %q, want %q", e.ID, icrec.IDNotFound)
			}
		})
	}
	// None of the failed creates left anything behind.
	if n, err := d.CountRecordings(ctx); err != nil || n != 1 {
		t.Errorf("CountRecordings = %d, %v; want 1, nil", n, err)
	}
}

// The catalogue, the pending blobs and the order of the policies survive
// a restart, and stored times come back in UTC.
func TestReopenRecordingsAndPolicies(t *testing.T) {
	path := newPath(t)
	ctx := t.Context()
	now, _ := clock(t1.In(time.FixedZone("CET", 3600)))
	d := mustOpen(t, path, now)
	r := newRecording(rec1)
	r.RecordingDate = r.RecordingDate.In(time.FixedZone("EST", -5*3600))
	r.ExpirationDate = t1.AddDate(7, 0, 0)
	if err := d.CreateRecordings(ctx, []*icrec.Recording{r}); err != nil {
		t.Fatal(err)
	}
	if err := d.AddPendingBlobs(ctx, "recordings/pending"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b", "c"} {
		if err := d.CreatePolicy(ctx, &icrec.Policy{Name: name, Users: []string{"*"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.MovePolicy(ctx, "c", "a"); err != nil {
		t.Fatal(err)
	}
	mustClose(t, d)

	d = mustOpen(t, path, now)
	got, err := d.FindRecordingByID(ctx, rec1)
	if err != nil {
		t.Fatalf("FindRecordingByID after reopening: %v", err)
	}
	if !got.RecordingDate.Equal(r.RecordingDate.Truncate(time.Millisecond)) || got.InteractionID != r.InteractionID ||
		!slices.Equal(got.Participants, r.Participants) || !slices.Equal(got.Workgroups, r.Workgroups) {
		t.Errorf("recording after reopening = %+v, want %+v", got, r)
	}
	for name, tm := range map[string]time.Time{"RecordingDate": got.RecordingDate, "ExpirationDate": got.ExpirationDate, "Created": got.Created} {
		if tm.Location() != time.UTC {
			t.Errorf("%s = %v, want UTC", name, tm)
		}
	}
	keys, err := d.PendingBlobs(ctx)
	if err != nil || !slices.Equal(keys, []string{"recordings/pending"}) {
		t.Errorf("PendingBlobs after reopening = %q, %v; want [recordings/pending]", keys, err)
	}
	policies, err := d.ListPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range policies {
		names = append(names, p.Name)
		if p.Created.Location() != time.UTC {
			t.Errorf("Created of policy %q = %v, want UTC", p.Name, p.Created)
		}
	}
	if got, want := strings.Join(names, ","), "c,a,b"; got != want {
		t.Errorf("policies after reopening = %s, want %s", got, want)
	}
}

// The queries that every request or listing runs find their rows through
// an index, never by scanning a table, and the children of a recording by
// their tables' keys.
func TestQueryPlans(t *testing.T) {
	ctx := t.Context()
	d := mustOpen(t, newPath(t), time.Now)
	at := time.Now()
	cursor := &icrec.RecordingCursor{RecordingDate: at, ID: rec1}
	plan := func(query string, args ...any) string {
		t.Helper()
		p, err := sqlite.QueryPlan(ctx, d, query, args...)
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN %s: %v", query, err)
		}
		return p
	}
	list := func(f icrec.RecordingFilter) string {
		q, args := sqlite.RecordingQuery(f)
		return plan(q, args...)
	}
	children := "SEARCH recording_participants USING PRIMARY KEY (recording_id=?)|" +
		"SEARCH recording_workgroups USING PRIMARY KEY (recording_id=?)|" +
		"SEARCH recording_attributes USING PRIMARY KEY (recording_id=?)|" +
		"SEARCH recording_tags USING PRIMARY KEY (recording_id=?)|" +
		"SEARCH recording_attachments USING PRIMARY KEY (recording_id=?)"
	for _, tc := range []struct {
		name string
		plan string
		want string // |-separated steps the plan must have
		// unordered allows a sort: the filter's own index yields its rows
		// in another order.
		unordered bool
	}{
		{"FindRecordingByID", plan(sqlite.FindRecordingSQL, rec1), "SEARCH recordings USING INDEX sqlite_autoindex_recordings_1 (id=?)", false},
		{"FindChildren", plan(sqlite.FindChildrenSQL, rec1), children, true},
		{"ListChildren", plan(sqlite.ListChildrenSQL, `["`+rec1+`"]`), children, true},
		{"ListAll", list(icrec.RecordingFilter{Limit: 100}), "SCAN recordings USING INDEX recordings_date", false},
		{"ListAfter", list(icrec.RecordingFilter{After: cursor, Limit: 100}), "SEARCH recordings USING INDEX recordings_date ((recording_date,id)>(?,?))", false},
		{"ListSince", list(icrec.RecordingFilter{Since: &at, Limit: 100}), "SEARCH recordings USING INDEX recordings_date (recording_date>?)", false},
		{"ListInteraction", list(icrec.RecordingFilter{InteractionID: ptr("1001")}), "SEARCH recordings USING INDEX recordings_interaction (interaction_id=?)", false},
		{"ListParticipant", list(icrec.RecordingFilter{ParticipantUserID: ptr("agent1"), After: cursor, Limit: 100}),
			"SEARCH recording_participants USING COVERING INDEX recording_participants_user (user_fold=?)", true},
		{"ListWorkgroup", list(icrec.RecordingFilter{Workgroup: ptr("Sales"), After: cursor, Limit: 100}),
			"SEARCH recording_workgroups USING COVERING INDEX recording_workgroups_name (name_fold=?)", true},
		{"RecordingByMediaKey", plan(sqlite.RecordingByMediaKeySQL, "recordings/x"), "SEARCH recordings USING INDEX recordings_media_key (media_key=?)", true},
		{"ListPolicies", plan(sqlite.ListPoliciesSQL), "SCAN policies USING INDEX sqlite_autoindex_policies_2", false},
		{"ListPolicyChildren", plan(sqlite.ListPolicyChildrenSQL), "SCAN policy_users|SCAN policy_roles|SCAN policy_workgroups|SCAN policy_scopes", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, step := range strings.Split(tc.want, "|") {
				if !strings.Contains(tc.plan, step) {
					t.Errorf("plan has no step %q:\n%s", step, tc.plan)
				}
			}
			for line := range strings.Lines(tc.plan) {
				if strings.HasPrefix(line, "SCAN recordings") && !strings.Contains(line, "USING INDEX recordings_date") {
					t.Errorf("plan scans recordings:\n%s", tc.plan)
				}
			}
			if !tc.unordered && strings.Contains(tc.plan, "TEMP B-TREE") {
				t.Errorf("plan sorts:\n%s", tc.plan)
			}
		})
	}
}

// A recording kept until a retention policy says otherwise has no
// expiration date in the database, not the zero time's: a retention sweep
// (expiration_date < now) must never find it.
func TestNoExpirationIsNull(t *testing.T) {
	path := newPath(t)
	d := mustOpen(t, path, time.Now)
	kept, expiring := newRecording(rec1), newRecording(rec2)
	expiring.ExpirationDate = t1
	if err := d.CreateRecordings(t.Context(), []*icrec.Recording{kept, expiring}); err != nil {
		t.Fatal(err)
	}
	var nulls, expired int
	if err := openRaw(t, path).QueryRowContext(t.Context(), `
		SELECT count(*) FILTER (WHERE expiration_date IS NULL), count(*) FILTER (WHERE expiration_date < ?)
		FROM recordings`, t1.Add(time.Hour).UnixMilli(),
	).Scan(&nulls, &expired); err != nil {
		t.Fatal(err)
	}
	if nulls != 1 || expired != 1 {
		t.Errorf("recordings without expiration date, expired: %d, %d; want 1, 1", nulls, expired)
	}
}
