package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// Retry bounds how a failed request is tried again. Only temporary
// failures are retried (see Error.Temporary): network errors, 5xx and
// 429. The zero value means the defaults.
type Retry struct {
	// Attempts is how many times a request is made in all; default 5.
	// 1 turns retries off.
	Attempts int
	// Base is the first backoff; each later one doubles, up to Max.
	// Defaults 250ms and 10s. The wait is drawn at random between zero and
	// that bound ("full jitter"), so that many clients failing together do
	// not come back together.
	Base, Max time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 5
	}
	if r.Base <= 0 {
		r.Base = 250 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 10 * time.Second
	}
	if r.Max < r.Base {
		r.Max = r.Base
	}
	return r
}

// maxRetryAfter caps a server's Retry-After advice, so that one odd answer
// cannot park an export for an hour.
const maxRetryAfter = 60 * time.Second

// delay is the wait before retry number attempt+1.
func (r Retry) delay(attempt int, retryAfter int) time.Duration {
	if retryAfter > 0 {
		return min(time.Duration(retryAfter)*time.Second, maxRetryAfter)
	}
	bound := r.Base
	for i := 0; i < attempt && bound < r.Max; i++ {
		bound *= 2
	}
	bound = min(bound, r.Max)
	return time.Duration(rand.Int64N(int64(bound) + 1))
}

// backoff waits before the next attempt of op, logging why.
func (c *Client) backoff(ctx context.Context, attempt int, e *Error, op string) error {
	d := c.retry.delay(attempt, e.RetryAfter)
	c.log.Warn("request failed; retrying", "op", op, "attempt", attempt+1, "of", c.retry.Attempts, "status", e.Status, "error", e.Error(), "wait", d.Round(time.Millisecond))
	return c.sleep(ctx, d)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// isCanceled reports whether err is the context's doing.
func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
