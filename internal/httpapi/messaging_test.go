package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/httpapi"
)

func TestMessagesPoll(t *testing.T) {
	e := newEnv(t)
	s := e.login("agent1")
	path := "/icws/" + s.id + "/messaging/messages"
	resp, body := e.do(e.client(false), "GET", path, "", s.headers())
	if resp.StatusCode != http.StatusOK || string(body) != "[]" || resp.Header.Get("Content-Type") != icws.ContentType {
		t.Fatalf("empty poll: %s %q %q", resp.Status, body, resp.Header.Get("Content-Type"))
	}
	for i := range 3 {
		if err := e.hub.Publish(s.id, map[string]any{"__type": "urn:test:message", "n": i}); err != nil {
			t.Fatal(err)
		}
	}
	// HEAD neither drains nor streams.
	if resp, _ := e.do(e.client(false), "HEAD", path, "", s.headers()); resp.StatusCode != http.StatusOK {
		t.Errorf("HEAD: %s", resp.Status)
	}
	_, body = e.do(e.client(false), "GET", path, "", s.headers())
	var msgs []map[string]any
	if err := json.Unmarshal(body, &msgs); err != nil || len(msgs) != 3 || msgs[2]["n"] != 2.0 {
		t.Fatalf("poll=%s (%v), want the three messages in order", body, err)
	}
	// The queue is drained.
	if _, body = e.do(e.client(false), "GET", path, "", s.headers()); string(body) != "[]" {
		t.Errorf("second poll=%s, want []", body)
	}
}

// eventStream opens an SSE request and returns a reader of its events.
type eventStream struct {
	resp   *http.Response
	lines  *bufio.Scanner
	cancel context.CancelFunc
}

func (e *env) openStream(t *testing.T, s session, header http.Header) *eventStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/icws/"+s.id+"/messaging/messages", nil)
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cookie", s.cookie)
	// Headers must arrive before any event: go-icws blocks on them.
	resp, err := e.client(false).Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	es := &eventStream{resp: resp, lines: bufio.NewScanner(resp.Body), cancel: cancel}
	t.Cleanup(es.close)
	return es
}

func (es *eventStream) close() {
	es.cancel()
	es.resp.Body.Close()
}

// next returns the next event's data, skipping comments and retry lines;
// ok is false when the stream ends.
func (es *eventStream) next(t *testing.T) (data string, comments []string, ok bool) {
	t.Helper()
	for es.lines.Scan() {
		line := es.lines.Text()
		switch {
		case strings.HasPrefix(line, ":"):
			comments = append(comments, line)
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		case line == "" && data != "":
			return data, comments, true
		}
	}
	return "", comments, false
}

func TestMessagesStream(t *testing.T) {
	t.Run("OKCookieOnly", func(t *testing.T) {
		e := newEnv(t, withConfig(func(c *httpapi.Config) { c.PingInterval = 20 * time.Millisecond }))
		s := e.login("agent1")
		es := e.openStream(t, s, nil)
		if es.resp.StatusCode != http.StatusOK || !strings.HasPrefix(es.resp.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("stream: %s %q", es.resp.Status, es.resp.Header.Get("Content-Type"))
		}
		if err := e.hub.Publish(s.id, map[string]string{"__type": "urn:test:one"}); err != nil {
			t.Fatal(err)
		}
		data, _, ok := es.next(t)
		if !ok || data != `{"__type":"urn:test:one"}` {
			t.Fatalf("first event %q (%v)", data, ok)
		}
		// Pings arrive while nothing happens.
		time.Sleep(80 * time.Millisecond)
		e.hub.Publish(s.id, map[string]string{"__type": "urn:test:two"})
		data, comments, _ := es.next(t)
		if data != `{"__type":"urn:test:two"}` || len(comments) == 0 || comments[0] != ":ping" {
			t.Errorf("second event %q after comments %q, want pings first", data, comments)
		}
		// Logging out ends the stream with a connectionStateChangeMessage.
		if resp, _ := e.do(e.client(false), "DELETE", "/icws/"+s.id+"/connection", "", s.headers()); resp.StatusCode != http.StatusNoContent {
			t.Fatal(resp.Status)
		}
		data, _, ok = es.next(t)
		var m icws.ConnectionStateChangeMessage
		if err := json.Unmarshal([]byte(data), &m); !ok || err != nil || m.Type != icws.TypeConnectionStateChangeMessage || m.NewConnectionState != icws.ConnectionStateDown {
			t.Fatalf("last event %q (%v)", data, err)
		}
		if m.Reason != icrec.SessionLoggedOut.Reason() || m.ShouldReconnect {
			t.Errorf("reason %q shouldReconnect %v", m.Reason, m.ShouldReconnect)
		}
		if _, _, ok := es.next(t); ok {
			t.Error("the stream went on after the session ended")
		}
	})
	t.Run("OKWithCSRF", func(t *testing.T) {
		e := newEnv(t)
		s := e.login("agent1")
		es := e.openStream(t, s, http.Header{"Inin-Icws-Csrf-Token": {s.csrf}})
		if es.resp.StatusCode != http.StatusOK {
			t.Fatal(es.resp.Status)
		}
	})
	t.Run("EndsOnExpiry", func(t *testing.T) {
		e := newEnv(t)
		s := e.login("agent1")
		es := e.openStream(t, s, nil)
		e.clock.Advance(13 * time.Hour)
		if n, err := e.sessions.Sweep(t.Context()); err != nil || n != 1 {
			t.Fatalf("sweep: %d, %v", n, err)
		}
		data, _, _ := es.next(t)
		if !strings.Contains(data, icrec.SessionExpired.Reason()) {
			t.Errorf("last event %q, want the expiry reason", data)
		}
	})
	t.Run("EndsWhenEndedElsewhere", func(t *testing.T) {
		// Another process (icrec user disable) ends the session in the
		// store; the watcher notices and says goodbye.
		e := newEnv(t)
		s := e.login("agent1")
		es := e.openStream(t, s, nil)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go e.hub.Watch(ctx, 10*time.Millisecond, e.sessions.KeepAlive, e.sessions.Alive)
		if _, err := e.db.UpdateUser(ctx, "agent1", icrec.UserUpdate{Disabled: ptr(true), EndSessions: true}); err != nil {
			t.Fatal(err)
		}
		data, _, _ := es.next(t)
		if !strings.Contains(data, icrec.SessionRevoked.Reason()) {
			t.Errorf("last event %q, want the revoked reason", data)
		}
	})
	t.Run("EndsOnShutdown", func(t *testing.T) {
		e := newEnv(t)
		s := e.login("agent1")
		es := e.openStream(t, s, nil)
		e.hub.Shutdown()
		data, _, _ := es.next(t)
		var m icws.ConnectionStateChangeMessage
		json.Unmarshal([]byte(data), &m)
		if !m.ShouldReconnect || m.Reason != icrec.SessionServerShutdown.Reason() {
			t.Errorf("shutdown event %q", data)
		}
	})
}

func ptr[T any](v T) *T { return &v }
