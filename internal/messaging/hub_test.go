package messaging_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/messaging"
)

// timeout bounds every wait for something that should happen at once.
const timeout = 5 * time.Second

// testMessage is what the tests publish.
type testMessage struct {
	Type string `json:"__type"`
	P    int    `json:"p"` // publisher
	N    int    `json:"n"` // sequence number
}

const testType = "urn:inin.com:test:testMessage"

// stateChange is the final message, decoded independently of icws.
type stateChange struct {
	Type                    string `json:"__type"`
	IsDelta                 bool   `json:"isDelta"`
	PreviousConnectionState int    `json:"previousConnectionState"`
	NewConnectionState      int    `json:"newConnectionState"`
	Reason                  string `json:"reason"`
	ShouldReconnect         bool   `json:"shouldReconnect"`
}

// newHub returns a Hub that logs to the returned buffer.
func newHub(t *testing.T) (*messaging.Hub, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	return messaging.New(slog.New(slog.NewTextHandler(&buf, nil))), &buf
}

// publish publishes testMessages numbered ns to session id.
func publish(t *testing.T, h *messaging.Hub, id string, ns ...int) {
	t.Helper()
	for _, n := range ns {
		if err := h.Publish(id, testMessage{Type: testType, N: n}); err != nil {
			t.Fatalf("Publish(%q, %d): %v", id, n, err)
		}
	}
}

// numbers decodes testMessages and returns their numbers in order.
func numbers(t *testing.T, msgs []json.RawMessage) []int {
	t.Helper()
	ns := make([]int, 0, len(msgs))
	for _, b := range msgs {
		var m testMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if m.Type != testType {
			t.Fatalf("__type=%q, want %q", m.Type, testType)
		}
		ns = append(ns, m.N)
	}
	return ns
}

// checkNumbers fails t unless msgs are testMessages numbered want.
func checkNumbers(t *testing.T, what string, msgs []json.RawMessage, want ...int) {
	t.Helper()
	got := numbers(t, msgs)
	if !slices.Equal(got, want) {
		t.Errorf("%s=%v, want %v", what, got, want)
	}
}

// checkFinal fails t unless final is the message announcing that a session
// ended for reason why.
func checkFinal(t *testing.T, final json.RawMessage, why icrec.SessionEnd, reconnect bool) {
	t.Helper()
	if final == nil {
		t.Fatal("final=nil, want a connectionStateChangeMessage")
	}
	var m stateChange
	if err := json.Unmarshal(final, &m); err != nil {
		t.Fatalf("decode final %s: %v", final, err)
	}
	if got, want := m.Type, "urn:inin.com:connection:connectionStateChangeMessage"; got != want {
		t.Errorf("__type=%q, want %q", got, want)
	}
	if got, want := m.NewConnectionState, 2; got != want {
		t.Errorf("newConnectionState=%d, want %d (down)", got, want)
	}
	if got, want := m.PreviousConnectionState, 1; got != want {
		t.Errorf("previousConnectionState=%d, want %d (up)", got, want)
	}
	if got, want := m.Reason, why.Reason(); got != want {
		t.Errorf("reason=%q, want %q", got, want)
	}
	if got, want := m.ShouldReconnect, reconnect; got != want {
		t.Errorf("shouldReconnect=%v, want %v", got, want)
	}
}

// waitClosed fails t unless ch is closed within timeout.
func waitClosed(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(timeout):
		t.Fatalf("%s: wake channel not closed after %v", what, timeout)
	}
}

// checkOpen fails t if ch is closed.
func checkOpen(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s: wake channel closed, want it open", what)
	default:
	}
}

// subscribe opens a stream and closes it when the test ends. Tests that
// close a stream themselves call h.Subscribe instead.
func subscribe(t *testing.T, h *messaging.Hub, id string) *messaging.Stream {
	t.Helper()
	s := h.Subscribe(id)
	t.Cleanup(s.Close)
	return s
}

func TestHubPublishDrain(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h, _ := newHub(t)
		publish(t, h, "1", 10, 11, 12)
		publish(t, h, "2", 20)
		publish(t, h, "1", 13)

		checkNumbers(t, "Drain(1)", h.Drain("1"), 10, 11, 12, 13)
		if got := h.Drain("1"); len(got) != 0 {
			t.Errorf("second Drain(1)=%v, want nothing", numbers(t, got))
		}
		checkNumbers(t, "Drain(2)", h.Drain("2"), 20)
	})
	t.Run("OKRawJSON", func(t *testing.T) {
		h, _ := newHub(t)
		if err := h.Publish("1", map[string]any{"__type": "urn:x", "a": []int{1, 2}}); err != nil {
			t.Fatal(err)
		}
		msgs := h.Drain("1")
		if len(msgs) != 1 {
			t.Fatalf("Drain returned %d messages, want 1", len(msgs))
		}
		if got, want := string(msgs[0]), `{"__type":"urn:x","a":[1,2]}`; got != want {
			t.Errorf("message=%s, want %s", got, want)
		}
	})
	t.Run("NilUnknownSession", func(t *testing.T) {
		h, _ := newHub(t)
		publish(t, h, "1", 1)
		if got := h.Drain("2"); got != nil {
			t.Errorf("Drain(unknown)=%v, want nil", got)
		}
	})
	t.Run("ErrUnencodable", func(t *testing.T) {
		h, _ := newHub(t)
		for name, v := range map[string]any{
			"chan": map[string]any{"__type": "urn:x", "c": make(chan int)},
			"func": func() {},
		} {
			err := h.Publish("1", v)
			if err == nil {
				t.Fatalf("Publish(%s)=nil, want an error", name)
			}
			if _, ok := errors.AsType[*json.UnsupportedTypeError](err); !ok {
				t.Errorf("Publish(%s)=%v, want it to wrap a *json.UnsupportedTypeError", name, err)
			}
		}
		if got := h.Drain("1"); len(got) != 0 {
			t.Errorf("Drain=%s after failed publishes, want nothing", got)
		}
	})
}

func TestHubQueueBounded(t *testing.T) {
	h, logs := newHub(t)
	n := messaging.MaxQueue + 5
	for i := range n {
		publish(t, h, "1", i)
	}
	got := numbers(t, h.Drain("1"))
	if len(got) != messaging.MaxQueue {
		t.Fatalf("Drain returned %d messages, want %d", len(got), messaging.MaxQueue)
	}
	// The oldest five were dropped; the rest keep their order.
	for i, g := range got {
		if want := i + 5; g != want {
			t.Fatalf("message %d is number %d, want %d", i, g, want)
		}
	}
	// One warning, not one per dropped message.
	if got, want := strings.Count(logs.String(), "level=WARN"), 1; got != want {
		t.Errorf("logged %d warnings, want %d:\n%s", got, want, logs)
	}
	if !strings.Contains(logs.String(), "session_id=1") {
		t.Errorf("warning does not name the session:\n%s", logs)
	}
}

func TestStreamNext(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h, _ := newHub(t)
		publish(t, h, "1", 1, 2) // before the stream opens
		s := subscribe(t, h, "1")

		msgs, final, wake := s.Next()
		checkNumbers(t, "first Next", msgs, 1, 2)
		if final != nil {
			t.Errorf("final=%s, want nil", final)
		}
		checkOpen(t, "idle stream", wake)

		msgs, _, wake2 := s.Next()
		if len(msgs) != 0 {
			t.Errorf("second Next=%v, want nothing", numbers(t, msgs))
		}
		checkOpen(t, "idle stream", wake2)

		publish(t, h, "1", 3)
		waitClosed(t, "after Publish", wake)
		waitClosed(t, "after Publish", wake2)
		msgs, final, wake = s.Next()
		checkNumbers(t, "Next after Publish", msgs, 3)
		if final != nil {
			t.Errorf("final=%s, want nil", final)
		}
		checkOpen(t, "fresh wake channel", wake)

		publish(t, h, "1", 4, 5)
		waitClosed(t, "after two publishes", wake)
		msgs, _, _ = s.Next()
		checkNumbers(t, "Next", msgs, 4, 5)
	})
	t.Run("OKOtherSessionNoWake", func(t *testing.T) {
		h, _ := newHub(t)
		s := subscribe(t, h, "1")
		_, _, wake := s.Next()
		publish(t, h, "2", 1)
		checkOpen(t, "after Publish to another session", wake)
	})
	t.Run("OKDrainSharesQueue", func(t *testing.T) {
		// A poll and a stream on one session read the same queue, so a
		// message goes to one of them, never both.
		h, _ := newHub(t)
		s := subscribe(t, h, "1")
		publish(t, h, "1", 1)
		checkNumbers(t, "Drain", h.Drain("1"), 1)
		msgs, _, _ := s.Next()
		if len(msgs) != 0 {
			t.Errorf("Next=%v after Drain, want nothing", numbers(t, msgs))
		}
		publish(t, h, "1", 2)
		msgs, _, _ = s.Next()
		checkNumbers(t, "Next", msgs, 2)
	})
}

func TestHubEnd(t *testing.T) {
	for _, tc := range []struct {
		name      string
		end       icrec.SessionEnd
		reconnect bool
	}{
		{"OKLoggedOut", icrec.SessionLoggedOut, false},
		{"OKExpired", icrec.SessionExpired, false},
		{"OKRevoked", icrec.SessionRevoked, false},
		{"OKServerShutdown", icrec.SessionServerShutdown, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHub(t)
			s := subscribe(t, h, "1")
			_, _, wake := s.Next()
			publish(t, h, "1", 1)
			h.End("1", tc.end)
			waitClosed(t, "after End", wake)

			// Messages queued before End still arrive, with the final one.
			msgs, final, _ := s.Next()
			checkNumbers(t, "Next", msgs, 1)
			checkFinal(t, final, tc.end, tc.reconnect)

			// Every later Next repeats the final message.
			msgs, final, _ = s.Next()
			if len(msgs) != 0 {
				t.Errorf("Next=%v, want nothing", numbers(t, msgs))
			}
			checkFinal(t, final, tc.end, tc.reconnect)
		})
	}
	t.Run("OKFirstReasonKept", func(t *testing.T) {
		h, _ := newHub(t)
		s := subscribe(t, h, "1")
		h.End("1", icrec.SessionLoggedOut)
		_, _, wake := s.Next()
		h.End("1", icrec.SessionServerShutdown)
		checkOpen(t, "after second End", wake)
		_, final, _ := s.Next()
		checkFinal(t, final, icrec.SessionLoggedOut, false)
	})
	t.Run("OKNoStreamDropsQueue", func(t *testing.T) {
		h, _ := newHub(t)
		publish(t, h, "1", 1, 2)
		publish(t, h, "2", 3)
		h.End("1", icrec.SessionLoggedOut)
		if got := h.Drain("1"); got != nil {
			t.Errorf("Drain after End=%v, want nil", numbers(t, got))
		}
		checkNumbers(t, "Drain(other session)", h.Drain("2"), 3)
	})
	t.Run("OKUnknownSession", func(t *testing.T) {
		h, _ := newHub(t)
		h.End("nope", icrec.SessionExpired)
		if got := h.Drain("nope"); got != nil {
			t.Errorf("Drain=%v, want nil", got)
		}
	})
	t.Run("OKEveryStreamGetsFinal", func(t *testing.T) {
		h, _ := newHub(t)
		streams := []*messaging.Stream{h.Subscribe("1"), h.Subscribe("1"), h.Subscribe("1")}
		other := subscribe(t, h, "2")
		var wakes []<-chan struct{}
		for _, s := range streams {
			_, _, w := s.Next()
			wakes = append(wakes, w)
		}
		_, _, otherWake := other.Next()
		h.End("1", icrec.SessionRevoked)
		for i, s := range streams {
			waitClosed(t, fmt.Sprintf("stream %d", i), wakes[i])
			_, final, _ := s.Next()
			checkFinal(t, final, icrec.SessionRevoked, false)
		}
		checkOpen(t, "stream of another session", otherWake)
		if _, final, _ := other.Next(); final != nil {
			t.Errorf("other session's final=%s, want nil", final)
		}
		// A stream opened on the ended session, while others are still
		// open, ends at once.
		late := h.Subscribe("1")
		_, final, _ := late.Next()
		checkFinal(t, final, icrec.SessionRevoked, false)
		late.Close()
		for _, s := range streams {
			s.Close()
		}
		if got := h.Drain("1"); got != nil {
			t.Errorf("Drain after the last Close=%v, want nil", got)
		}
	})
}

func TestStreamClose(t *testing.T) {
	t.Run("OKEndedDropsQueue", func(t *testing.T) {
		h, _ := newHub(t)
		s := h.Subscribe("1")
		publish(t, h, "1", 1, 2) // never read
		h.End("1", icrec.SessionExpired)
		s.Close()
		if got := h.Drain("1"); got != nil {
			t.Errorf("Drain=%v after the last stream of an ended session closed, want nil", numbers(t, got))
		}
	})
	t.Run("OKNotLastKeepsFinal", func(t *testing.T) {
		h, _ := newHub(t)
		a, b := h.Subscribe("1"), h.Subscribe("1")
		h.End("1", icrec.SessionExpired)
		a.Close()
		_, final, _ := b.Next()
		checkFinal(t, final, icrec.SessionExpired, false)
		b.Close()
		if got := h.Drain("1"); got != nil {
			t.Errorf("Drain=%v, want nil", got)
		}
	})
	t.Run("OKPendingKeptForPoll", func(t *testing.T) {
		// A client that drops its stream and falls back to polling gets
		// what the stream did not read.
		h, _ := newHub(t)
		s := h.Subscribe("1")
		publish(t, h, "1", 1)
		s.Close()
		checkNumbers(t, "Drain after Close", h.Drain("1"), 1)
	})
}

// TestHubPublishAfterEnd checks that a session that has ended keeps no
// messages: with a stream open they are ignored at once; without one, the
// queue a late Publish creates is dropped by the next Watch tick, whose
// check reports the session dead.
func TestHubPublishAfterEnd(t *testing.T) {
	t.Run("OpenStream", func(t *testing.T) {
		h, _ := newHub(t)
		s := subscribe(t, h, "1")
		h.End("1", icrec.SessionLoggedOut)
		_, _, wake := s.Next()
		if err := h.Publish("1", testMessage{Type: testType, N: 1}); err != nil {
			t.Fatalf("Publish after End: %v, want nil", err)
		}
		checkOpen(t, "after Publish to an ended session", wake)
		msgs, final, _ := s.Next()
		if len(msgs) != 0 {
			t.Errorf("Next=%v after End, want nothing", numbers(t, msgs))
		}
		checkFinal(t, final, icrec.SessionLoggedOut, false)
		if got := h.Drain("1"); len(got) != 0 {
			t.Errorf("Drain=%v after End, want nothing", numbers(t, got))
		}
	})
	for name, end := range map[string]func(h *messaging.Hub){
		"NoStream": func(h *messaging.Hub) { h.End("1", icrec.SessionLoggedOut) },
		"LastStreamClosed": func(h *messaging.Hub) {
			s := h.Subscribe("1")
			h.End("1", icrec.SessionExpired)
			s.Close()
			s.Close() // a second Close changes nothing
		},
	} {
		t.Run(name, func(t *testing.T) {
			h, _ := newHub(t)
			publish(t, h, "1", 1)
			end(h)
			publish(t, h, "1", 2)
			publish(t, h, "2", 3) // a live session's queue stays
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			checked := make(chan string, 1000)
			check := func(_ context.Context, id string) (bool, icrec.SessionEnd) {
				select {
				case checked <- id:
				default: // the test has seen enough
				}
				return id != "1", icrec.SessionRevoked
			}
			go h.Watch(ctx, time.Millisecond, check, check)
			// Watch ends a dead session right after checking it, before
			// its next check: once another check follows the one of "1",
			// the queue of "1" is gone.
			for <-checked != "1" {
			}
			<-checked
			if got := h.Drain("1"); len(got) != 0 {
				t.Errorf("Drain=%v: the ended session's queue was not dropped", numbers(t, got))
			}
			if got := h.Drain("2"); len(got) != 1 {
				t.Errorf("live session's queue: %v, want its one message", numbers(t, got))
			}
		})
	}
}

func TestHubShutdown(t *testing.T) {
	h, _ := newHub(t)
	a, b := subscribe(t, h, "1"), subscribe(t, h, "2")
	expired := subscribe(t, h, "3")
	h.End("3", icrec.SessionExpired) // already ended: keeps its reason
	publish(t, h, "4", 1)            // polled session, no stream
	_, _, wakeA := a.Next()
	_, _, wakeB := b.Next()

	h.Shutdown()

	waitClosed(t, "stream 1", wakeA)
	waitClosed(t, "stream 2", wakeB)
	for name, s := range map[string]*messaging.Stream{"1": a, "2": b} {
		_, final, _ := s.Next()
		t.Run("OKStream"+name, func(t *testing.T) {
			checkFinal(t, final, icrec.SessionServerShutdown, true)
		})
	}
	t.Run("OKEndedKeepsReason", func(t *testing.T) {
		_, final, _ := expired.Next()
		checkFinal(t, final, icrec.SessionExpired, false)
	})
	t.Run("OKSubscribeAfterShutdown", func(t *testing.T) {
		for _, id := range []string{"1", "5"} { // known and new sessions
			s := subscribe(t, h, id)
			msgs, final, _ := s.Next()
			if len(msgs) != 0 {
				t.Errorf("session %s: Next=%v, want nothing", id, numbers(t, msgs))
			}
			checkFinal(t, final, icrec.SessionServerShutdown, true)
		}
	})
}

// watchCalls records which sessions Watch passed to which function.
type watchCalls struct {
	mu    sync.Mutex
	calls map[string]map[string]int // function → session → calls
}

// fn returns a SessionCheck named name that ends the sessions in dead.
func (w *watchCalls) fn(name string, dead ...string) messaging.SessionCheck {
	return func(_ context.Context, id string) (bool, icrec.SessionEnd) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.calls[name] == nil {
			w.calls[name] = make(map[string]int)
		}
		w.calls[name][id]++
		return !slices.Contains(dead, id), icrec.SessionRevoked
	}
}

func (w *watchCalls) count(name, id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[name][id]
}

// TestHubWatch checks that only sessions with an open stream are passed
// to keepAlive, which may count the stream as activity, so that a client
// that stops polling idles out; sessions that only have a queue are passed
// to check, and dropped when it fails.
func TestHubWatch(t *testing.T) {
	for _, withCheck := range []bool{true, false} {
		t.Run(fmt.Sprintf("Check=%v", withCheck), func(t *testing.T) {
			h, _ := newHub(t)
			alive := subscribe(t, h, "alive")
			dead := subscribe(t, h, "dead")
			subscribe(t, h, "ended")
			h.End("ended", icrec.SessionLoggedOut)
			publish(t, h, "polled", 1) // queues without a stream
			publish(t, h, "gone", 2)

			w := &watchCalls{calls: make(map[string]map[string]int)}
			var check messaging.SessionCheck
			if withCheck {
				check = w.fn("check", "gone")
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.Watch(ctx, time.Millisecond, w.fn("keepAlive", "dead"), check)
			}()
			defer func() {
				cancel()
				<-done
			}()

			_, _, wake := dead.Next()
			waitClosed(t, "dead session", wake)
			_, final, _ := dead.Next()
			checkFinal(t, final, icrec.SessionRevoked, false)

			// Let a few more rounds pass, so that a wrong call would show.
			for deadline := time.Now().Add(timeout); w.count("keepAlive", "alive") < 5; {
				if time.Now().After(deadline) {
					t.Fatalf("keepAlive called %d times for the alive session in %v, want 5", w.count("keepAlive", "alive"), timeout)
				}
				time.Sleep(time.Millisecond)
			}
			cancel()
			select {
			case <-done:
			case <-time.After(timeout):
				t.Fatalf("Watch did not return within %v of its context ending", timeout)
			}

			want := map[string]map[string]string{ // function → session → calls
				"keepAlive": {"alive": "many", "dead": "1"},
			}
			if withCheck {
				want["check"] = map[string]string{"polled": "many", "gone": "1"}
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			for _, fn := range []string{"keepAlive", "check"} {
				for _, id := range []string{"alive", "dead", "ended", "polled", "gone"} {
					got, wantN := w.calls[fn][id], want[fn][id]
					switch {
					case wantN == "many" && got < 2, wantN == "1" && got != 1, wantN == "" && got != 0:
						t.Errorf("%s(%q) called %d times, want %s", fn, id, got, cmp.Or(wantN, "0"))
					}
				}
			}
			if _, final, _ := alive.Next(); final != nil {
				t.Errorf("alive session's final=%s, want nil", final)
			}
			wantGone := 1 // without a check, nothing drops the queue
			if withCheck {
				wantGone = 0
			}
			if got := h.Drain("gone"); len(got) != wantGone {
				t.Errorf("Drain(gone)=%v, want %d messages", numbers(t, got), wantGone)
			}
			if got := h.Drain("polled"); len(got) != 1 {
				t.Errorf("Drain(polled)=%v, want its one message", numbers(t, got))
			}
		})
	}
}

// TestHubConcurrent exercises every method at once; run it with -race. It
// checks that no message is delivered twice and that each reader sees each
// publisher's messages in order, then that Shutdown ends every stream.
func TestHubConcurrent(t *testing.T) {
	const (
		sessions   = 4
		publishers = 4
		perPub     = 400
	)
	h := messaging.New(slog.New(slog.DiscardHandler))
	ids := make([]string, sessions)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}

	var (
		mu       sync.Mutex
		seen     = make(map[[2]int]int) // {publisher, n} → deliveries
		failures []string
	)
	// record notes a batch read by one reader; last holds, per publisher,
	// the last number that reader saw.
	record := func(msgs []json.RawMessage, last map[int]int) {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range msgs {
			var m testMessage
			if err := json.Unmarshal(b, &m); err != nil || m.Type != testType {
				failures = append(failures, fmt.Sprintf("bad message %s: %v", b, err))
				continue
			}
			seen[[2]int{m.P, m.N}]++
			if prev, ok := last[m.P]; ok && m.N <= prev {
				failures = append(failures, fmt.Sprintf("publisher %d: got %d after %d", m.P, m.N, prev))
			}
			last[m.P] = m.N
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var watch sync.WaitGroup
	watch.Go(func() {
		h.Watch(ctx, time.Millisecond, func(_ context.Context, id string) (bool, icrec.SessionEnd) {
			return id != "0" || rand.IntN(10) != 0, icrec.SessionRevoked
		}, nil)
	})

	var work sync.WaitGroup
	for p := range publishers {
		work.Go(func() {
			for n := range perPub {
				id := ids[rand.IntN(sessions)]
				if err := h.Publish(id, testMessage{Type: testType, P: p, N: n}); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("Publish: %v", err))
					mu.Unlock()
				}
			}
		})
	}
	for range 2 {
		work.Go(func() {
			last := make(map[string]map[int]int)
			for range 200 {
				id := ids[rand.IntN(sessions)]
				if last[id] == nil {
					last[id] = make(map[int]int)
				}
				record(h.Drain(id), last[id])
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
	work.Go(func() {
		ends := []icrec.SessionEnd{icrec.SessionLoggedOut, icrec.SessionExpired, icrec.SessionRevoked}
		for i := range 50 {
			h.End(ids[rand.IntN(sessions)], ends[i%len(ends)])
			time.Sleep(200 * time.Microsecond)
		}
	})

	// Subscribers read until their session ends; Shutdown, below, ends
	// every session, so each of them finishes.
	var subs sync.WaitGroup
	finals := make(chan json.RawMessage, 1000)
	for range 6 {
		subs.Go(func() {
			for {
				s := h.Subscribe(ids[rand.IntN(sessions)])
				last := make(map[int]int)
				for reads := rand.IntN(5); ; reads-- {
					msgs, final, wake := s.Next()
					record(msgs, last)
					if final != nil {
						finals <- final
						s.Close()
						return
					}
					if reads == 0 {
						break
					}
					<-wake
				}
				s.Close()
			}
		})
	}

	work.Wait()
	h.Shutdown()
	waited := make(chan struct{})
	go func() {
		subs.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-time.After(timeout):
		t.Fatalf("subscribers still running %v after Shutdown", timeout)
	}
	cancel()
	watch.Wait()
	close(finals)

	for f := range finals {
		var m stateChange
		if err := json.Unmarshal(f, &m); err != nil || m.Type != icws.TypeConnectionStateChangeMessage || m.NewConnectionState != 2 {
			t.Errorf("final=%s, want a connectionStateChangeMessage going down", f)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, f := range failures {
		t.Error(f)
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("publisher %d message %d delivered %d times, want once", k[0], k[1], n)
		}
	}
	if len(seen) == 0 {
		t.Error("no message was delivered at all")
	}
}
