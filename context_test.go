package icrec_test

import (
	"context"
	"testing"

	"example.com/icrec"
)

func TestSessionContext(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s := &icrec.Session{ID: "1247633034", UserID: "agent1"}
		ctx := icrec.NewContextWithSession(t.Context(), s)
		if got, want := icrec.SessionFromContext(ctx), s; got != want {
			t.Errorf("SessionFromContext=%p, want %p", got, want)
		}
		// Derived contexts carry it on.
		child, cancel := context.WithCancel(ctx)
		defer cancel()
		if got, want := icrec.SessionFromContext(child), s; got != want {
			t.Errorf("SessionFromContext(child)=%p, want %p", got, want)
		}
	})
	t.Run("OKInnermostWins", func(t *testing.T) {
		outer := &icrec.Session{ID: "1"}
		inner := &icrec.Session{ID: "2"}
		ctx := icrec.NewContextWithSession(icrec.NewContextWithSession(t.Context(), outer), inner)
		if got, want := icrec.SessionFromContext(ctx), inner; got != want {
			t.Errorf("SessionFromContext=%+v, want %+v", got, want)
		}
	})
	t.Run("NilBareContext", func(t *testing.T) {
		for _, ctx := range []context.Context{context.Background(), context.TODO(), t.Context()} {
			if got := icrec.SessionFromContext(ctx); got != nil {
				t.Errorf("SessionFromContext(%v)=%+v, want nil", ctx, got)
			}
		}
	})
	t.Run("NilOtherValue", func(t *testing.T) {
		type key struct{}
		ctx := context.WithValue(t.Context(), key{}, &icrec.Session{ID: "1"})
		if got := icrec.SessionFromContext(ctx); got != nil {
			t.Errorf("SessionFromContext=%+v for a session under another key, want nil", got)
		}
	})
}

func TestSessionEnd(t *testing.T) {
	ends := []struct {
		name      string
		end       icrec.SessionEnd
		reconnect bool
	}{
		{"LoggedOut", icrec.SessionLoggedOut, false},
		{"Expired", icrec.SessionExpired, false},
		{"Revoked", icrec.SessionRevoked, false},
		{"ServerShutdown", icrec.SessionServerShutdown, true},
	}
	t.Run("OKReasonsDistinct", func(t *testing.T) {
		seen := make(map[string]string)
		for _, e := range ends {
			r := e.end.Reason()
			if r == "" {
				t.Errorf("%s: Reason()=%q, want a non-empty reason", e.name, r)
			}
			if other, ok := seen[r]; ok {
				t.Errorf("%s: Reason()=%q, the same as for %s", e.name, r, other)
			}
			seen[r] = e.name
		}
	})
	t.Run("OKUndefinedHasReason", func(t *testing.T) {
		for _, e := range []icrec.SessionEnd{0, icrec.SessionServerShutdown + 1, 255} {
			if got := e.Reason(); got == "" {
				t.Errorf("SessionEnd(%d).Reason()=%q, want a non-empty reason", e, got)
			}
		}
	})
	t.Run("OKShouldReconnect", func(t *testing.T) {
		for _, e := range ends {
			if got, want := e.end.ShouldReconnect(), e.reconnect; got != want {
				t.Errorf("%s: ShouldReconnect()=%v, want %v", e.name, got, want)
			}
		}
		for _, e := range []icrec.SessionEnd{0, icrec.SessionServerShutdown + 1, 255} {
			if e.ShouldReconnect() {
				t.Errorf("SessionEnd(%d).ShouldReconnect()=true, want false", e)
			}
		}
	})
}
