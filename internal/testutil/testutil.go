// Package testutil holds the small helpers that several packages' tests
// share. Nothing outside tests imports it.
package testutil

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
)

// Clock is a settable time source for code that takes a now func.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Buffer is an io.Writer that tests can read while other goroutines write
// to it, such as a server's log.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WantKind fails the test unless err is an *icrec.Error of kind k with a
// caller-safe message: the conformance suites hold every backend to it.
func WantKind(t testing.TB, err error, k icrec.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want kind %v", k)
	}
	e, ok := errors.AsType[*icrec.Error](err)
	if !ok {
		t.Fatalf("err = %v (%T), want an *icrec.Error of kind %v", err, err, k)
	}
	if got, want := e.Kind, k; got != want {
		t.Fatalf("kind of %q = %v, want %v", err, got, want)
	}
	if e.Message == "" {
		t.Fatalf("error %q of kind %v has no caller-safe message", err, k)
	}
}
