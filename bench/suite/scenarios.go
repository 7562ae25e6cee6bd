package suite

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// luaExportURI asks for export-uri of recordings drawn at random, with
// the session's cookie and CSRF token.
const luaExportURI = `
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local prefix = os.getenv("BENCH_PREFIX")
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.headers["ININ-ICWS-CSRF-Token"] = os.getenv("BENCH_CSRF")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", prefix .. ids[math.random(#ids)] .. "/export-uri")
end
`

// luaRanges asks for 16 KiB at random offsets, as an audio player seeks.
const luaRanges = `
local size = tonumber(os.getenv("BENCH_SIZE"))
local path = os.getenv("BENCH_PATH")
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local off = math.random(0, size - 16384)
  return wrk.format("GET", path, {["Range"] = "bytes=" .. off .. "-" .. (off + 16383)})
end
`

func (e *Env) script(name, body string) (string, error) {
	p := filepath.Join(e.Work, name)
	return p, os.WriteFile(p, []byte(body), 0o644)
}

func (e *Env) exportURIEnv(s session, idsFile string) []string {
	return []string{"BENCH_IDS=" + idsFile, "BENCH_PREFIX=/icws/" + s.sid + "/recordings/", "BENCH_COOKIE=" + s.cookie, "BENCH_CSRF=" + s.csrf}
}

func scenarioExportURI(ctx context.Context, e *Env) ([]Row, error) {
	script, err := e.script("exporturi.lua", luaExportURI)
	if err != nil {
		return nil, err
	}
	env := e.exportURIEnv(e.session, filepath.Join(e.Work, "ids.txt"))
	var ic, rf []wrkResult
	err = alternate(ctx, e.Size.rounds, func() error {
		r, err := runWrk(ctx, e.serve.http, 64, e.Size.duration, script, env)
		ic = append(ic, r)
		return err
	}, func() error {
		r, err := runWrk(ctx, e.refURL+"/", 64, e.Size.duration, "", nil)
		rf = append(rf, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	i, r := median(rps(ic)), median(rps(rf))
	return []Row{{
		Name: "export-uri, 64 keep-alive connections, random recordings", Unit: "requests/s",
		Icrec: i, Ref: r, Ratio: i / r, Goal: "≥ 0.75", Met: i/r >= 0.75,
		Extra: fmt.Sprintf("p99 %.2f ms vs %.2f ms", median(p99s(ic)), median(p99s(rf))),
	}}, nil
}

func rps(rs []wrkResult) []float64 {
	var v []float64
	for _, r := range rs {
		v = append(v, r.rps)
	}
	return v
}

func p99s(rs []wrkResult) []float64 {
	var v []float64
	for _, r := range rs {
		v = append(v, ms(r.p99))
	}
	return v
}

func p50s(rs []wrkResult) []float64 {
	var v []float64
	for _, r := range rs {
		v = append(v, ms(r.p50))
	}
	return v
}

// download fetches url whole and returns MB/s and the TLS cipher, if any.
func (e *Env) download(ctx context.Context, hc *http.Client, url string, want int64) (float64, string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return 0, "", err
	}
	if n != want {
		return 0, "", fmt.Errorf("GET %s: %d bytes, want %d", url, n, want)
	}
	cipher := ""
	if resp.TLS != nil {
		cipher = tls.VersionName(resp.TLS.Version) + " " + tls.CipherSuiteName(resp.TLS.CipherSuite)
	}
	return float64(n) / time.Since(start).Seconds() / 1e6, cipher, nil
}

func (e *Env) downloadScenario(ctx context.Context, icrecBase, nginxBase, goal string, min float64) ([]Row, error) {
	size := int64(e.Size.bigMB) << 20
	path, err := e.exportPath(ctx, e.bigID)
	if err != nil {
		return nil, err
	}
	var ic, ng []float64
	var cipher [2]string
	// One of each first, so that both read the file from the page cache.
	if _, _, err := e.download(ctx, e.hc, icrecBase+path, size); err != nil {
		return nil, err
	}
	if _, _, err := e.download(ctx, e.hc, nginxBase+"/big.wav", size); err != nil {
		return nil, err
	}
	err = alternate(ctx, max(e.Size.rounds, 3), func() error {
		v, c, err := e.download(ctx, e.hc, icrecBase+path, size)
		ic, cipher[0] = append(ic, v), c
		return err
	}, func() error {
		v, c, err := e.download(ctx, e.hc, nginxBase+"/big.wav", size)
		ng, cipher[1] = append(ng, v), c
		return err
	})
	if err != nil {
		return nil, err
	}
	i, n := median(ic), median(ng)
	extra := ""
	if cipher[0] != "" {
		extra = "icrec " + cipher[0] + ", nginx " + cipher[1]
	}
	scheme := strings.ToUpper(strings.SplitN(icrecBase, ":", 2)[0])
	return []Row{{Name: fmt.Sprintf("download of %d MiB through its export link, %s", e.Size.bigMB, scheme), Unit: "MB/s",
		Icrec: i, Ref: n, Ratio: i / n, Goal: goal, Met: i/n >= min, Extra: extra}}, nil
}

func scenarioDownloadHTTP(ctx context.Context, e *Env) ([]Row, error) {
	return e.downloadScenario(ctx, e.serve.http, e.ngHTTP, "≥ 0.9", 0.9)
}

func scenarioDownloadHTTPS(ctx context.Context, e *Env) ([]Row, error) {
	return e.downloadScenario(ctx, e.serve.https, e.ngHTTPS, "≥ 0.8", 0.8)
}

func scenarioRanges(ctx context.Context, e *Env) ([]Row, error) {
	script, err := e.script("ranges.lua", luaRanges)
	if err != nil {
		return nil, err
	}
	path, err := e.exportPath(ctx, e.bigID)
	if err != nil {
		return nil, err
	}
	size := strconv.Itoa(e.Size.bigMB << 20)
	var ic, ng []wrkResult
	err = alternate(ctx, e.Size.rounds, func() error {
		r, err := runWrk(ctx, e.serve.http, 16, e.Size.duration, script, []string{"BENCH_SIZE=" + size, "BENCH_PATH=" + path})
		ic = append(ic, r)
		return err
	}, func() error {
		r, err := runWrk(ctx, e.ngHTTP, 16, e.Size.duration, script, []string{"BENCH_SIZE=" + size, "BENCH_PATH=/big.wav"})
		ng = append(ng, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	i, n := median(rps(ic)), median(rps(ng))
	return []Row{{Name: "16 KiB Range requests at random offsets, 16 connections", Unit: "requests/s",
		Icrec: i, Ref: n, Ratio: i / n, Goal: "≥ 0.7", Met: i/n >= 0.7,
		Extra: fmt.Sprintf("p99 %.2f ms vs %.2f ms", median(p99s(ic)), median(p99s(ng)))}}, nil
}

// scenarioRSS runs concurrent downloads of the large recording from a
// server of its own, and reads that server's peak resident set.
func scenarioRSS(ctx context.Context, e *Env) ([]Row, error) {
	s, err := e.startServe(ctx, e.data, "rss")
	if err != nil {
		return nil, err
	}
	defer s.stop()
	path, err := e.exportPath(ctx, e.bigID)
	if err != nil {
		return nil, err
	}
	before, err := peakRSS(s.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	size := int64(e.Size.bigMB) << 20
	n := e.Size.downloads
	hc := &http.Client{Transport: &http.Transport{MaxConnsPerHost: n, MaxIdleConnsPerHost: n, DisableCompression: true}}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for range n {
		wg.Go(func() {
			if _, _, err := e.download(ctx, hc, s.http+path, size); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	peak, err := peakRSS(s.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	mb := float64(peak) / (1 << 20)
	return []Row{{Name: fmt.Sprintf("server peak RSS, %d concurrent downloads of %d MiB", n, e.Size.bigMB), Unit: "MiB",
		Icrec: mb, Ratio: mb / 150, Goal: "< 150 MiB", Met: mb < 150, LowerBetter: true,
		Extra: fmt.Sprintf("%.0f MiB before; %.0f MB/s in all", float64(before)/(1<<20), float64(size)*float64(n)/elapsed.Seconds()/1e6)}}, nil
}

// peakRSS reads a process's high-water resident set, in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for process %d", pid)
}

// scenarioLoginFlood measures export-uri's p99 on a server of its own,
// alone and while 8 clients post logins with wrong passwords.
func scenarioLoginFlood(ctx context.Context, e *Env) ([]Row, error) {
	s, err := e.startServe(ctx, e.data, "flood")
	if err != nil {
		return nil, err
	}
	defer s.stop()
	sess, err := e.login(ctx, s.http)
	if err != nil {
		return nil, err
	}
	script, err := e.script("exporturi.lua", luaExportURI)
	if err != nil {
		return nil, err
	}
	env := e.exportURIEnv(sess, filepath.Join(e.Work, "ids.txt"))
	var quiet, flood []wrkResult
	var attempts int64
	err = alternate(ctx, e.Size.rounds, func() error {
		r, err := runWrk(ctx, s.http, 16, e.Size.duration, script, env)
		quiet = append(quiet, r)
		return err
	}, func() error {
		fctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range 8 {
			wg.Go(func() {
				n := e.hammer(fctx, s.http, i)
				mu.Lock()
				attempts += n
				mu.Unlock()
			})
		}
		r, err := runWrk(ctx, s.http, 16, e.Size.duration, script, env)
		stop()
		wg.Wait()
		flood = append(flood, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	q, f := median(p99s(quiet)), median(p99s(flood))
	return []Row{{Name: "export-uri p99 while 8 clients post wrong passwords (16 connections)", Unit: "ms",
		Icrec: f, Ref: q, Ratio: f / q, Goal: "≤ 2.0", Met: f/q <= 2.0, LowerBetter: true,
		Extra: fmt.Sprintf("reference: the same without the flood; %d failed logins posted", attempts)}}, nil
}

// hammer posts logins with a wrong password until ctx ends, and returns
// how many it posted.
func (e *Env) hammer(ctx context.Context, base string, i int) int64 {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer hc.CloseIdleConnections()
	body := fmt.Sprintf(`{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"flood","userID":"flood%d","password":"wrong-password-%d"}`, i, i)
	var n int64
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/icws/connection", strings.NewReader(body))
		req.Header.Set("Accept-Language", "en-us")
		resp, err := hc.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		n++
	}
	return n
}
