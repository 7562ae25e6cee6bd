package suite

import (
	"strings"
	"testing"
	"time"
)

// A report of wrk 4.1.0 (Debian 12) with --latency, as the suite runs it.
const wrkReport = `Running 2s test @ http://127.0.0.1:41237
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    19.93ms   12.08ms 155.61ms   76.04%
    Req/Sec     1.64k   237.52     2.13k    72.50%
  Latency Distribution
     50%   17.84ms
     75%   24.56ms
     90%   33.42ms
     99%   44.15ms
  6534 requests in 2.05s, 2.11MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   3189.44
Transfer/sec:      1.03MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 3189.44 || r.requests != 6534 || r.bad != 3 || r.p50 != 17840*time.Microsecond || r.p99 != 44150*time.Microsecond {
		t.Errorf("parsed %+v", r)
	}
	sock := strings.Replace(wrkReport, "  Non-2xx or 3xx responses: 3\n", "  Socket errors: connect 0, read 2, write 0, timeout 5\n", 1)
	if r, err := parseWrk(sock); err != nil || r.bad != 7 {
		t.Errorf("socket errors: %+v, %v", r, err)
	}
	us := strings.Replace(wrkReport, "     50%   17.84ms", "     50%  870.00us", 1)
	if r, _ := parseWrk(us); r.p50 != 870*time.Microsecond {
		t.Errorf("p50 in us: %v", r.p50)
	}
	for _, bad := range []string{"", "Running 2s test\n", strings.Replace(wrkReport, "  Latency Distribution\n     50%   17.84ms\n", "", 1)} {
		if _, err := parseWrk(bad); err == nil {
			t.Errorf("%.30q: no error", bad)
		}
	}
}

func TestMedianAndAlternate(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
	var order []string
	a := func() error { order = append(order, "a"); return nil }
	b := func() error { order = append(order, "b"); return nil }
	if err := alternate(t.Context(), 3, a, b); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, ""); got != "abbaab" {
		t.Errorf("order %s, want abbaab", got)
	}
}
