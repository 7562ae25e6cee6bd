package auth

import (
	"strconv"
	"sync"
	"time"

	"example.com/icrec"
)

// refusalWindow is how long the refused logins of one user id from one
// address are counted before their number is recorded.
const refusalWindow = time.Minute

// maxRefusalKeys bounds the memory refusals take. Past it, each refusal
// is recorded on its own again, as it was before coalescing: nothing is
// ever left out of the trail.
const maxRefusalKeys = 10_000

// refusals coalesces the audit events of logins that the throttle refuses.
// An attacker who keeps trying while locked out would otherwise write one
// event per attempt, thousands a second: the trail would grow without
// bound and the events of real requests would queue behind theirs. The
// first refusal of a user id from an address is recorded as it happens;
// the later ones within refusalWindow are counted, and their number is
// recorded in one event (detail {"refused": N, "since": first}) once the
// window has passed: at the next refusal for that key, the next Sweep, or
// Close.
type refusals struct {
	mu    sync.Mutex
	byKey map[string]*refusalEntry
}

type refusalEntry struct {
	userID, addr string
	since        time.Time // of the recorded refusal that opened the window
	count        int       // refusals since, not recorded yet
}

func newRefusals() *refusals { return &refusals{byKey: make(map[string]*refusalEntry)} }

// refuse notes one refused login and returns the events to record now.
func (r *refusals) refuse(userID, folded, addr string, now time.Time) []*icrec.AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := folded + "\x00" + addr
	e := r.byKey[key]
	if e != nil && now.Sub(e.since) < refusalWindow {
		e.count++
		return nil
	}
	var out []*icrec.AuditEvent
	if e != nil {
		out = append(out, e.summary()...)
		delete(r.byKey, key)
	}
	out = append(out, &icrec.AuditEvent{Kind: icrec.AuditLoginFailed, UserID: userID, ClientAddr: addr, Outcome: "throttled"})
	if len(r.byKey) < maxRefusalKeys {
		r.byKey[key] = &refusalEntry{userID: userID, addr: addr, since: now}
	}
	return out
}

// flush returns the counts of the windows that ended before now (all of
// them, when now is zero), forgetting those windows.
func (r *refusals) flush(now time.Time) []*icrec.AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*icrec.AuditEvent
	for key, e := range r.byKey {
		if now.IsZero() || now.Sub(e.since) >= refusalWindow {
			out = append(out, e.summary()...)
			delete(r.byKey, key)
		}
	}
	return out
}

// summary is the event that records a window's count, if it has one.
func (e *refusalEntry) summary() []*icrec.AuditEvent {
	if e.count == 0 {
		return nil
	}
	return []*icrec.AuditEvent{{Kind: icrec.AuditLoginFailed, UserID: e.userID, ClientAddr: e.addr, Outcome: "throttled",
		Detail: auditDetail("refused", strconv.Itoa(e.count), "since", e.since.UTC().Format(time.RFC3339Nano))}}
}

// Close records the refused logins counted but not recorded yet. The
// server calls it as it stops, before the audit trail closes.
func (s *Service) Close() {
	for _, e := range s.refusals.flush(time.Time{}) {
		s.emit(e)
	}
}
