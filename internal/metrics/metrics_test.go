package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(w.Result().Body)
	return string(b)
}

func TestMetrics(t *testing.T) {
	sessions := 3
	var countErr error
	m := metrics.New(slog.New(slog.DiscardHandler), func(context.Context) (int, error) { return sessions, countErr })
	m.ObserveRequest("GET", "GET /icws/{sessionId}/connection", 200, 2*time.Millisecond)
	m.ObserveRequest("GET", "GET /icws/{sessionId}/connection", 200, 2*time.Millisecond)
	m.ObserveRequest("BREW", "unmatched", 405, time.Millisecond) // an odd method is "other"
	m.LoginFailed("throttled")
	if out := scrape(t, m); !strings.Contains(out, "icrec_retention_last_sweep_timestamp_seconds 0") {
		t.Error("before any sweep, the last sweep's time is not 0")
	}
	m.SweepDone(2, 1, 0, 5000, time.Unix(1700000000, 0))
	m.SweepDone(1, 1, 1, 10, time.Unix(1700003600, 0))
	out := scrape(t, m)
	for _, want := range []string{
		`icrec_http_requests_total{method="GET",route="GET /icws/{sessionId}/connection",status="200"} 2`,
		`icrec_http_requests_total{method="other",route="unmatched",status="405"} 1`,
		`icrec_http_request_duration_seconds_bucket{route="GET /icws/{sessionId}/connection",le="0.0025"} 2`,
		`icrec_login_failures_total{reason="throttled"} 1`,
		`icrec_sessions_active 3`,
		`icrec_retention_recordings_total{outcome="deleted"} 3`,
		`icrec_retention_recordings_total{outcome="held"} 2`,
		`icrec_retention_recordings_total{outcome="failed"} 1`,
		`icrec_retention_freed_bytes_total 5010`,
		`icrec_retention_last_sweep_timestamp_seconds 1.7000036e+09`,
		`process_`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(out, "BREW") {
		t.Error("a client's method name became a label value")
	}
	// A store that cannot count makes the gauge fail, not the scrape.
	countErr = errors.New("store down")
	out = scrape(t, m)
	if strings.Contains(out, "icrec_sessions_active 3") || !strings.Contains(out, `icrec_login_failures_total{reason="throttled"} 1`) {
		t.Errorf("scrape with a failing count:\n%s", out)
	}
}
