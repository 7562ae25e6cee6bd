package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/messaging"
)

// streamWriteTimeout drops an event-stream client that stops reading.
const streamWriteTimeout = 30 * time.Second

// handleMessages serves a session's message queue: as a JSON array that
// drains the queue (short polling), or, when the client accepts
// text/event-stream, as server-sent events for as long as the session lives.
func handleMessages(log *slog.Logger, hub *messaging.Hub, ping time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := icrec.SessionFromContext(r.Context())
		switch {
		case r.Method == http.MethodHead:
			// HEAD must not drain the queue, nor hang as a stream would.
			encode(w, r, log, http.StatusOK, []json.RawMessage{})
		case wantsEventStream(r):
			serveEventStream(w, r, log, hub.Subscribe(sess.ID), ping)
		default:
			msgs := hub.Drain(sess.ID)
			if msgs == nil {
				msgs = []json.RawMessage{}
			}
			encode(w, r, log, http.StatusOK, msgs)
		}
	})
}

// serveEventStream writes one JSON message per data: event. The headers go
// out at once, because go-icws waits for them before Connect returns, and a
// :ping comment every ping interval keeps proxies from closing an idle
// stream. When the session ends, the stream's last event says why.
func serveEventStream(w http.ResponseWriter, r *http.Request, log *slog.Logger, s *messaging.Stream, ping time.Duration) {
	defer s.Close()
	rc := http.NewResponseController(w)
	// The server's read and write timeouts are for ordinary requests; a
	// stream lives as long as its session, bounded per write instead.
	_ = rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("X-Accel-Buffering", "no") // keep nginx from buffering the stream
	w.WriteHeader(http.StatusOK)

	send := func(chunks ...[]byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		for _, c := range chunks {
			if _, err := w.Write(c); err != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	if !send([]byte("retry: 5000\n\n")) {
		return
	}
	t := time.NewTicker(ping)
	defer t.Stop()
	for {
		msgs, final, wake := s.Next()
		for _, m := range msgs {
			if !send([]byte("data: "), m, []byte("\n\n")) {
				return
			}
		}
		if final != nil {
			send([]byte("data: "), final, []byte("\n\n"))
			return
		}
		select {
		case <-wake:
		case <-t.C:
			if !send([]byte(":ping\n\n")) {
				return
			}
		case <-r.Context().Done():
			log.DebugContext(r.Context(), "event stream closed by client", "request_id", requestID(r))
			return
		}
	}
}
