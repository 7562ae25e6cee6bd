// Package messaging keeps each session's ICWS message queue, which clients
// read by short polling GET /icws/{sessionId}/messaging/messages or by
// holding it open as a server-sent event stream.
//
// Queues live in memory: a message is a notification about something that
// happens while the client is connected, and a client that reconnects after
// a restart gets fresh state from its new subscriptions, as with a real ICWS
// server. The one message that must never be missed, the announcement that
// a session ended, is delivered to every open stream before it closes.
package messaging

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
)

// MaxQueue bounds each session's queue; when a client stops reading, the
// oldest messages go first.
const MaxQueue = 1000

// Hub holds the queues. It is safe for concurrent use.
type Hub struct {
	log *slog.Logger

	mu       sync.Mutex
	queues   map[string]*queue
	shutdown bool
}

type queue struct {
	msgs    []json.RawMessage
	final   json.RawMessage // set when the session has ended
	wake    chan struct{}   // closed and replaced whenever msgs or final change
	streams int
	dropped int
}

// New returns an empty Hub.
func New(log *slog.Logger) *Hub {
	return &Hub{log: log, queues: make(map[string]*queue)}
}

// get returns the queue of a session, creating it. h.mu must be held.
func (h *Hub) get(sessionID string) *queue {
	q := h.queues[sessionID]
	if q == nil {
		q = &queue{wake: make(chan struct{})}
		h.queues[sessionID] = q
	}
	return q
}

func (q *queue) notify() {
	close(q.wake)
	q.wake = make(chan struct{})
}

// Publish appends a message (a JSON-encodable value with a __type) to a
// session's queue.
func (h *Hub) Publish(sessionID string, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("messaging: encode %T: %w", msg, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	q := h.get(sessionID)
	if q.final != nil {
		return nil
	}
	if len(q.msgs) >= MaxQueue {
		q.msgs = q.msgs[1:]
		if q.dropped++; q.dropped == 1 || q.dropped%MaxQueue == 0 {
			h.log.Warn("message queue full; dropping oldest messages", "session_id", sessionID, "dropped", q.dropped)
		}
	}
	q.msgs = append(q.msgs, b)
	q.notify()
	return nil
}

// Drain removes and returns a session's queued messages.
func (h *Hub) Drain(sessionID string) []json.RawMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	q := h.queues[sessionID]
	if q == nil {
		return nil
	}
	msgs := q.msgs
	q.msgs = nil
	if q.streams == 0 {
		delete(h.queues, sessionID)
	}
	return msgs
}

// End records that a session has ended. Its open streams receive a
// connectionStateChangeMessage and close; its queue is dropped once they
// have. Ending a session twice keeps the first reason.
func (h *Hub) End(sessionID string, why icrec.SessionEnd) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endLocked(sessionID, why)
}

func (h *Hub) endLocked(sessionID string, why icrec.SessionEnd) {
	q := h.queues[sessionID]
	if q == nil {
		return
	}
	if q.streams == 0 {
		delete(h.queues, sessionID)
		return
	}
	if q.final == nil {
		q.final, _ = json.Marshal(icws.SessionEndedMessage(why))
		q.notify()
	}
}

// Shutdown ends every open stream with a message telling the client to
// reconnect, and makes streams opened from now on end at once. The server
// calls it when it starts to drain, so that long-lived streams don't hold
// up the graceful shutdown.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shutdown = true
	for id := range h.queues {
		h.endLocked(id, icrec.SessionServerShutdown)
	}
}

// Subscribe opens an event stream on a session's queue. The caller must
// Close it.
func (h *Hub) Subscribe(sessionID string) *Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	q := h.get(sessionID)
	q.streams++
	if h.shutdown {
		h.endLocked(sessionID, icrec.SessionServerShutdown)
	}
	return &Stream{h: h, id: sessionID, q: q}
}

// Stream is one open event stream.
type Stream struct {
	h      *Hub
	id     string
	q      *queue
	closed bool
}

// Next returns the messages queued since the last call, the final message
// if the session has ended (after which the stream must close), and a
// channel that is closed when there is more to read.
func (s *Stream) Next() (msgs []json.RawMessage, final json.RawMessage, wake <-chan struct{}) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	msgs, s.q.msgs = s.q.msgs, nil
	return msgs, s.q.final, s.q.wake
}

// Close detaches the stream; the last stream of an ended session drops its
// queue. Closing twice does nothing.
func (s *Stream) Close() {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.q.streams--
	if s.q.streams == 0 && (s.q.final != nil || len(s.q.msgs) == 0) && s.h.queues[s.id] == s.q {
		delete(s.h.queues, s.id)
	}
}

// A SessionCheck reports whether a session still lives and, if not, why it
// ended.
type SessionCheck func(ctx context.Context, sessionID string) (alive bool, why icrec.SessionEnd)

// Watch checks, every interval until ctx ends, each session that has a
// queue, and ends those whose check fails. It catches sessions ended where
// this process cannot see it happen: by another icrec process sharing the
// store (icrec user disable), or by expiry.
//
// A session with an open event stream is passed to keepAlive, which may
// count the stream as activity: a client that listens is not idle. A
// session that only has a queue is passed to check instead, which must not
// count as activity, or a client that stopped polling would never idle
// out. With a nil check, such sessions are left to End. Ending a
// session without an open stream drops its queue, so messages published
// to a session that no longer exists (or to one whose client stopped
// polling and was idled out) cannot pile up.
func (h *Hub) Watch(ctx context.Context, interval time.Duration, keepAlive, check SessionCheck) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		streamed, queued := h.watched()
		for _, id := range streamed {
			if alive, why := keepAlive(ctx, id); !alive {
				h.End(id, why)
			}
		}
		if check == nil {
			continue
		}
		for _, id := range queued {
			if alive, why := check(ctx, id); !alive {
				h.End(id, why)
			}
		}
	}
}

// watched lists the sessions whose queue exists and has not yet ended:
// those with an open stream, and those without.
func (h *Hub) watched() (streamed, queued []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, q := range h.queues {
		switch {
		case q.final != nil:
		case q.streams > 0:
			streamed = append(streamed, id)
		default:
			queued = append(queued, id)
		}
	}
	return streamed, queued
}
