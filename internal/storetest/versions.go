package storetest

import (
	"context"
	"testing"
	"time"

	"example.com/icrec"
)

// testVersions checks, for a store that keeps icrec.Versions, that every
// method that changes what a counter covers moves it, and that the writes
// of every request or sign-in (sessions, a password's rehash, the audit
// trail) move neither: a server caches under the counters, so a missed
// move would serve stale rights, and a needless one would empty the cache.
func testVersions(t *testing.T, open func(t *testing.T) Store) {
	s := open(t)
	vs, ok := s.(icrec.VersionStore)
	if !ok {
		t.Skip("the store keeps no change counters (icrec.VersionStore)")
	}
	ctx := t.Context()
	mustCreateUser(t, s, newUser("Agent1"))
	mustCreatePolicy(t, s, newPolicy("P"))
	rec := newRecording(1)
	mustCreateRecordings(t, s, rec)

	type moves struct{ rights, recordings bool }
	rights, recordings, neither := moves{rights: true}, moves{recordings: true}, moves{}
	for _, tc := range []struct {
		what   string
		want   moves
		change func(ctx context.Context) error
	}{
		{"CreateUser", rights, func(ctx context.Context) error { return s.CreateUser(ctx, newUser("agent2")) }},
		{"UpdateUser disabled", rights, func(ctx context.Context) error {
			return updateUser(ctx, s, "agent1", icrec.UserUpdate{Disabled: ptr(true)})
		}},
		{"UpdateUser enabled", rights, func(ctx context.Context) error {
			return updateUser(ctx, s, "agent1", icrec.UserUpdate{Disabled: ptr(false)})
		}},
		{"UpdateUser roles", rights, func(ctx context.Context) error {
			return updateUser(ctx, s, "agent1", icrec.UserUpdate{Roles: &[]string{"Supervisor"}})
		}},
		{"UpdateUser workgroups", rights, func(ctx context.Context) error {
			return updateUser(ctx, s, "agent1", icrec.UserUpdate{Workgroups: &[]string{"Support"}})
		}},
		{"UpdateUser password hash (a sign-in's rehash)", neither, func(ctx context.Context) error {
			return updateUser(ctx, s, "agent1", icrec.UserUpdate{PasswordHash: ptr("$argon2id$rehashed")})
		}},
		{"CreateSession, TouchSession, DeleteSession", neither, func(ctx context.Context) error {
			if err := s.CreateSession(ctx, newSession("2001", "agent1")); err != nil {
				return err
			}
			if err := s.TouchSession(ctx, "2001", t0.Add(time.Hour)); err != nil {
				return err
			}
			return s.DeleteSession(ctx, "2001")
		}},
		{"AppendAudit", neither, func(ctx context.Context) error {
			return s.AppendAudit(ctx, []*icrec.AuditEvent{newAuditEvent(1)})
		}},
		{"CreatePolicy", rights, func(ctx context.Context) error { return s.CreatePolicy(ctx, newPolicy("Q")) }},
		{"MovePolicy", rights, func(ctx context.Context) error { return s.MovePolicy(ctx, "Q", "P") }},
		{"DeletePolicy", rights, func(ctx context.Context) error { return s.DeletePolicy(ctx, "Q") }},
		{"DeleteUser", rights, func(ctx context.Context) error { return s.DeleteUser(ctx, "agent2") }},
		{"AddPendingBlobs", neither, func(ctx context.Context) error { return s.AddPendingBlobs(ctx, icrec.MediaKey(guid(2))) }},
		{"CreateRecordings", recordings, func(ctx context.Context) error {
			return s.CreateRecordings(ctx, []*icrec.Recording{newRecording(2)})
		}},
		{"SetAttributes", recordings, func(ctx context.Context) error {
			return s.SetAttributes(ctx, rec.ID, []icrec.Attribute{{Name: "campaign", Value: "autumn"}})
		}},
		{"DeleteAttribute", recordings, func(ctx context.Context) error { return s.DeleteAttribute(ctx, rec.ID, "CAMPAIGN") }},
		{"AddTags", recordings, func(ctx context.Context) error { return s.AddTags(ctx, rec.ID, []string{"reviewed"}) }},
		{"DeleteTag", recordings, func(ctx context.Context) error { return s.DeleteTag(ctx, rec.ID, "Reviewed") }},
		{"SetExpiration", recordings, func(ctx context.Context) error { return s.SetExpiration(ctx, rec.ID, t0.AddDate(1, 0, 0)) }},
		{"DeleteRecordings", recordings, func(ctx context.Context) error {
			_, err := s.DeleteRecordings(ctx, guid(2))
			return err
		}},
		{"CreateHold", neither, func(ctx context.Context) error { return s.CreateHold(ctx, newHold("H")) }},
	} {
		before, err := vs.Versions(ctx)
		if err != nil {
			t.Fatalf("Versions: %v", err)
		}
		if err := tc.change(ctx); err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		after, err := vs.Versions(ctx)
		if err != nil {
			t.Fatalf("Versions: %v", err)
		}
		if got := (moves{rights: after.Rights != before.Rights, recordings: after.Recordings != before.Recordings}); got != tc.want {
			t.Errorf("%s: moved %+v (from %+v to %+v), want %+v", tc.what, got, before, after, tc.want)
		}
	}
}

func updateUser(ctx context.Context, s Store, id string, upd icrec.UserUpdate) error {
	_, err := s.UpdateUser(ctx, id, upd)
	return err
}
