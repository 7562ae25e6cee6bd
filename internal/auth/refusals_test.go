package auth_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/audit"
	"example.com/icrec/internal/auth"
)

// TestRefusedLoginsCoalesced floods a locked-out user with logins and
// checks that the trail records the first refusal of each window at once
// and the number of the others once per window, losing none.
func TestRefusedLoginsCoalesced(t *testing.T) {
	late := &lateAuditor{}
	f := newFixture(t, func(c *auth.Config) {
		c.Throttle.UserFailures, c.Throttle.AddrFailures = 3, 0
		c.Throttle.Lockout, c.Throttle.MaxLockout = time.Hour, 2*time.Hour
		c.Audit = late
	})
	alog := audit.New(f.db, discard(), f.clock.Now)
	late.Log = alog
	login := func(addr string) error {
		_, err := f.svc.Login(t.Context(), auth.Login{UserID: "Agent1", Password: "wrong-password", ClientAddr: addr, Language: "en-us"})
		return err
	}
	for range 3 {
		login("192.0.2.1")
	}
	// Locked out: 500 refusals in the first window, from one address, and
	// 7 from another.
	for i := range 500 {
		if err := login("192.0.2.1"); !auth.IsThrottled(err) {
			t.Fatalf("attempt %d was not refused: %v", i, err)
		}
	}
	for range 7 {
		login("198.51.100.7")
	}
	// The window ends; the next sweep records the counts.
	f.clock.Advance(time.Minute)
	if _, err := f.svc.Sweep(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A refusal after the window opens a new one, then Close records what
	// the new one counted.
	login("192.0.2.1")
	login("192.0.2.1")
	f.svc.Close()
	if err := alog.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	kind := icrec.AuditLoginFailed
	events, err := f.db.FindAudit(t.Context(), icrec.AuditFilter{Kind: &kind})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]int{} // address -> refusals the trail accounts for
	throttledEvents := 0
	for _, e := range events {
		if e.Outcome != "throttled" {
			continue
		}
		throttledEvents++
		n := 1
		if e.Detail != "" {
			var d struct{ Refused, Since string }
			if err := json.Unmarshal([]byte(e.Detail), &d); err != nil || d.Since == "" {
				t.Fatalf("detail %q: %v", e.Detail, err)
			}
			if _, err := time.Parse(time.RFC3339Nano, d.Since); err != nil {
				t.Errorf("since %q: %v", d.Since, err)
			}
			json.Unmarshal([]byte(d.Refused), &n)
		}
		refused[e.ClientAddr] += n
	}
	if refused["192.0.2.1"] != 502 || refused["198.51.100.7"] != 7 {
		t.Errorf("the trail accounts for %v refusals, want 502 from 192.0.2.1 and 7 from 198.51.100.7", refused)
	}
	// 192.0.2.1: first, count; first of the second window, count. The
	// other address: first, count.
	if throttledEvents != 6 {
		t.Errorf("%d throttled events for 509 refusals, want 6", throttledEvents)
	}
}

// lateAuditor is the fixture's auditor: the real audit log, over the
// fixture's own database, which exists only once the fixture does. What
// comes before (the fixture's users being added) is not kept.
type lateAuditor struct{ Log *audit.Log }

func (a *lateAuditor) Record(ctx context.Context, e *icrec.AuditEvent) error {
	if a.Log == nil {
		return nil
	}
	return a.Log.Record(ctx, e)
}

func (a *lateAuditor) Emit(e *icrec.AuditEvent) {
	if a.Log != nil {
		a.Log.Emit(e)
	}
}
