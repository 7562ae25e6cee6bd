package suite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// nginxPath finds nginx, which Debian installs outside a user's PATH.
func nginxPath() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}

// MissingTools names what the suite needs and does not find.
func MissingTools() []string {
	var missing []string
	if _, err := exec.LookPath("wrk"); err != nil {
		missing = append(missing, "wrk (Debian package wrk)")
	}
	if nginxPath() == "" {
		missing = append(missing, "nginx (Debian package nginx-light)")
	}
	if _, err := exec.LookPath("go"); err != nil {
		missing = append(missing, "go (to build icrec)")
	}
	return missing
}

// wrkResult is what one wrk run measured.
type wrkResult struct {
	rps           float64
	p50, p99      time.Duration
	requests, bad int64
}

var (
	reRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	reReqs    = regexp.MustCompile(`(\d+) requests in`)
	reNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reSockErr = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	rePct     = regexp.MustCompile(`^\s+(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s)\s*$`)
)

// runWrk runs wrk for d with c connections on 2 threads, with an optional
// Lua script and environment, and reads its figures. Any non-2xx answer or
// socket error fails the run: a benchmark of errors measures nothing.
func runWrk(ctx context.Context, url string, c int, d time.Duration, script string, env []string) (wrkResult, error) {
	args := []string{"-t", "2", "-c", strconv.Itoa(c), "-d", fmt.Sprintf("%.0fs", d.Seconds()), "--latency", "--timeout", "10s"}
	if script != "" {
		args = append(args, "-s", script)
	}
	args = append(args, url)
	cmd := exec.CommandContext(ctx, "wrk", args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v\n%s%s", err, out.String(), errb.String())
	}
	r, err := parseWrk(out.String())
	if err != nil {
		return r, fmt.Errorf("%v\n%s", err, errb.String())
	}
	if r.bad > 0 {
		return r, fmt.Errorf("wrk against %s: %d of %d requests failed (non-2xx answers or socket errors):\n%s", url, r.bad, r.requests, out.String())
	}
	return r, nil
}

// parseWrk reads the figures of wrk --latency's report.
func parseWrk(s string) (wrkResult, error) {
	var r wrkResult
	m := reRPS.FindStringSubmatch(s)
	if m == nil {
		return r, fmt.Errorf("wrk printed no Requests/sec:\n%s", s)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	if m := reReqs.FindStringSubmatch(s); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reNon2xx.FindStringSubmatch(s); m != nil {
		r.bad, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := reSockErr.FindStringSubmatch(s); m != nil {
		for _, v := range m[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			r.bad += n
		}
	}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		m := rePct.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if r.p50 == 0 || r.p99 == 0 {
		return r, fmt.Errorf("wrk printed no latency distribution (is --latency given?):\n%s", s)
	}
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
