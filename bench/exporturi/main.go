// Command exporturi measures GET /icws/{sid}/recordings/{rid}/export-uri
// against its baseline, a trivial Go handler answering a JSON body of the
// same length with the same content type, on the same listener in the same
// run. It builds icrec's server as `icrec serve` does (SQLite store, audit
// trail, production password hashing, link signer, metrics, access log) in
// a temporary data directory, imports one small recording, logs in once as
// an admin, and then runs C keep-alive clients against each endpoint in
// alternating phases (trivial, export-uri, trivial, export-uri) so that
// machine noise falls on both. Client and server share the machine.
//
// Usage:
//
//	go run ./bench/exporturi [-c 16] [-d 10s] [-warmup 1s] [-log json|off] [-cpuprofile FILE]
//
// -log json (the default) keeps icrec's JSON access log, formatted and
// written to io.Discard: the realistic cost of logging. -log off uses a
// discarding slog handler, so nothing is formatted. Run time is about
// 4*d + 2*warmup plus a second of set-up.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/audit"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/datadir"
	"example.com/icrec/internal/fsblob"
	"example.com/icrec/internal/httpapi"
	"example.com/icrec/internal/messaging"
	"example.com/icrec/internal/metrics"
	"example.com/icrec/internal/passwd"
	"example.com/icrec/internal/signedurl"
	"example.com/icrec/internal/sqlite"
)

const (
	recordingID = "BE000000-0000-0000-0000-000000000001"
	password    = "bench password 12345"
)

func main() {
	conc := flag.Int("c", 16, "concurrent keep-alive clients")
	dur := flag.Duration("d", 10*time.Second, "duration of each of the 4 measured phases")
	warm := flag.Duration("warmup", time.Second, "unmeasured warm-up per endpoint before the phases")
	logMode := flag.String("log", "json", "icrec's logger: json (JSON handler writing to io.Discard: realistic formatting cost) or off (discarding handler)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile (client and server) of the first export-uri phase to `file`")
	flag.Parse()
	if *conc < 1 || *dur <= 0 || *warm < 0 || (*logMode != "json" && *logMode != "off") {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*conc, *dur, *warm, *logMode, *cpuProfile); err != nil {
		fmt.Fprintln(os.Stderr, "exporturi:", err)
		os.Exit(1)
	}
}

func run(conc int, dur, warm time.Duration, logMode, cpuProfile string) error {
	ctx := context.Background()
	var log *slog.Logger
	if logMode == "json" {
		log = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	} else {
		log = slog.New(slog.DiscardHandler)
	}

	tmp, err := os.MkdirTemp(os.Getenv("TMPDIR"), "icrec-exporturi.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	data := filepath.Join(tmp, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}

	// The stores, as openApp in cmd/icrec does.
	db, err := sqlite.Open(ctx, filepath.Join(data, datadir.DBFile), time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	blobs, err := fsblob.New(filepath.Join(data, datadir.BlobsDir))
	if err != nil {
		return err
	}
	defer blobs.Close()
	trail := audit.New(db, log, time.Now)
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		trail.Close(cctx)
	}()

	// The server's services, as serve in cmd/icrec builds them.
	hub := messaging.New(log)
	defer hub.Shutdown()
	def := auth.DefaultConfig()
	acfg := auth.Config{IdleTimeout: def.IdleTimeout, Lifetime: def.Lifetime, Throttle: def.Throttle, SessionEnded: hub.End, Audit: trail}
	sessions, err := auth.New(db, db, passwd.New(passwd.DefaultParams), acfg, log, time.Now)
	if err != nil {
		return err
	}
	ring, err := signedurl.LoadOrCreate(filepath.Join(data, filepath.FromSlash(datadir.LinkKeysFile)), time.Now)
	if err != nil {
		return err
	}
	signer := signedurl.New(ring, time.Now)
	signer.Log = log
	recordings := archive.New(db, db, db, db, blobs, trail, archive.Exports{Signer: signer, TTL: archive.DefaultExportTTL}, log, time.Now)

	if err := importOne(ctx, tmp, data, recordings); err != nil {
		return err
	}
	if _, err := sessions.AddUser(ctx, auth.NewUser{ID: "admin", Roles: []string{icrec.RoleAdmin}, Password: password}); err != nil {
		return fmt.Errorf("add user: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	state := httpapi.NewState(db.Ping)
	m := metrics.New(log, sessions.ActiveSessions)
	api := httpapi.NewServer(log, httpapi.Config{
		ServerName: httpapi.DefaultServerName(),
		Version: icws.VersionInfo{MajorVersion: "0", MinorVersion: "0", SU: "0", Build: "bench",
			ProductID: "icrec", CodebaseID: "icrec", ProductReleaseDisplayString: "icrec bench"},
		ExportBase: base, // --recorder-https=false: links use the HTTP listener
	}, sessions, recordings, hub, m, state, time.Now)

	var trivialBody atomic.Pointer[[]byte]
	mux := http.NewServeMux()
	mux.HandleFunc("/trivial", func(w http.ResponseWriter, r *http.Request) {
		b := *trivialBody.Load()
		w.Header().Set("Content-Type", icws.ContentType)
		w.Write(b)
	})
	mux.Handle("/", api)
	// The limits of newHTTPServer in cmd/icrec/serve.go.
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelInfo),
	}
	go srv.Serve(ln)
	defer srv.Close()

	sid, csrf, cookie, err := login(base)
	if err != nil {
		return err
	}
	exportURL := base + "/icws/" + sid + "/recordings/" + recordingID + "/export-uri"
	header := http.Header{"Cookie": {cookie}, "Inin-Icws-Csrf-Token": {csrf}}

	// The baseline answers a body exactly as long as a real answer.
	sample, ctype, err := fetch(exportURL, header)
	if err != nil {
		return fmt.Errorf("export-uri: %w", err)
	}
	var ex icws.ExportURIResponse
	if err := json.Unmarshal(sample, &ex); err != nil || !strings.HasPrefix(ex.URI, base+"/export/") {
		return fmt.Errorf("export-uri answered %q (%v)", sample, err)
	}
	if dl, _, err := fetch(ex.URI, nil); err != nil || len(dl) != len(wavFile()) {
		return fmt.Errorf("download of %s: %d bytes, %v", ex.URI, len(dl), err)
	}
	nl := ""
	if bytes.HasSuffix(sample, []byte("\n")) {
		nl = "\n"
	}
	prefix, suffix := `{"uri":"`+base+"/trivial/", `"}`+nl
	pad := len(sample) - len(prefix) - len(suffix)
	if pad < 0 {
		return fmt.Errorf("export-uri answer %q is too short to mimic", sample)
	}
	tb := []byte(prefix + strings.Repeat("x", pad) + suffix)
	trivialBody.Store(&tb)
	if got, tct, err := fetch(base+"/trivial", nil); err != nil || len(got) != len(sample) || tct != ctype || !json.Valid(got) {
		return fmt.Errorf("trivial: %d bytes %q, want %d %q (%v)", len(got), tct, len(sample), ctype, err)
	}

	logNote := "JSON access log formatted to io.Discard (realistic formatting cost)"
	if logMode == "off" {
		logNote = "access logging OFF (discarding slog handler)"
	}
	fmt.Printf("icrec export-uri vs trivial handler, one listener %s, %d keep-alive clients, %v per phase, %d CPUs\n", ln.Addr(), conc, dur, runtime.NumCPU())
	fmt.Printf("logging: %s; the trivial handler is never logged\n", logNote)
	fmt.Printf("response body: %d bytes, Content-Type %s\n", len(sample), ctype)

	targets := map[string]target{
		"trivial":    {url: base + "/trivial", bodyLen: len(sample)},
		"export-uri": {url: exportURL, header: header, bodyLen: len(sample)},
	}
	if warm > 0 {
		load(targets["trivial"], conc, warm)
		load(targets["export-uri"], conc, warm)
	}
	total := map[string]*result{"trivial": {}, "export-uri": {}}
	for i, name := range []string{"trivial", "export-uri", "trivial", "export-uri"} {
		profiling := cpuProfile != "" && i == 1 // the first export-uri phase
		if profiling {
			f, err := os.Create(cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		r := load(targets[name], conc, dur)
		if profiling {
			pprof.StopCPUProfile()
		}
		fmt.Printf("phase %d %-10s %9.0f req/s  p50 %8s  p99 %8s  requests %d  errors %d\n",
			i+1, name, r.rps(), fmtDur(r.pct(50)), fmtDur(r.pct(99)), len(r.lat), r.errors)
		total[name].add(r)
	}
	t, e := total["trivial"], total["export-uri"]
	fmt.Println("totals over both phases of each:")
	for _, name := range []string{"trivial", "export-uri"} {
		r := total[name]
		fmt.Printf("  %-10s %9.0f req/s  p50 %8s  p99 %8s  errors %d\n", name, r.rps(), fmtDur(r.pct(50)), fmtDur(r.pct(99)), r.errors)
	}
	fmt.Printf("ratios export-uri/trivial: rps %.3f  p50 %.2f  p99 %.2f\n",
		e.rps()/t.rps(), float64(e.pct(50))/float64(t.pct(50)), float64(e.pct(99))/float64(t.pct(99)))
	if t.errors+e.errors > 0 {
		fmt.Printf("ERRORS: %d (first: %s)\n", t.errors+e.errors, firstNonEmpty(t.firstErr, e.firstErr))
		return fmt.Errorf("%d requests failed", t.errors+e.errors)
	}
	written, _, batches := trail.Stats()
	if batches > 0 {
		fmt.Printf("audit: %d events in %d commits, %.1f events per commit\n", written, batches, float64(written)/float64(batches))
	}
	fmt.Println("errors: 0")
	return nil
}

// wavFile is the one recording imported: a minimal WAV header and 4 KiB of
// silence.
func wavFile() []byte {
	b := append([]byte("RIFF\x24\x10\x00\x00WAVEfmt "), make([]byte, 4096)...)
	return b
}

// importOne imports the recording through archive.Import, holding the
// archive lock as icrec import does.
func importOne(ctx context.Context, tmp, data string, recordings *archive.Service) error {
	src := filepath.Join(tmp, "src")
	if err := os.MkdirAll(filepath.Join(src, "m"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "m", "small.wav"), wavFile(), 0o644); err != nil {
		return err
	}
	line := `{"recordingId":"` + recordingID + `","interactionId":"1","mediaType":"Call","recordingDate":"20240101T000000Z","file":"m/small.wav","contentType":"audio/wav"}` + "\n"
	lock, err := datadir.TryLock(data)
	if err != nil {
		return err
	}
	defer lock.Release()
	var evErr error
	sum, err := recordings.Import(ctx, strings.NewReader(line), archive.ImportOptions{Dir: src}, func(ev archive.ImportEvent) {
		if ev.Err != nil {
			evErr = ev.Err
		}
	})
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if sum.Imported != 1 {
		return fmt.Errorf("import: imported %d, failed %d: %v", sum.Imported, sum.Failed, evErr)
	}
	return nil
}

func login(base string) (sid, csrf, cookie string, err error) {
	body, _ := json.Marshal(map[string]string{
		"__type": icws.TypeICAuthSettings, "applicationName": "bench", "userID": "admin", "password": password,
	})
	resp, err := http.Post(base+"/icws/connection", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", "", "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return "", "", "", fmt.Errorf("login: %s %s", resp.Status, b)
	}
	var c icws.ConnectionResponse
	if err := json.Unmarshal(b, &c); err != nil {
		return "", "", "", fmt.Errorf("login body %q: %w", b, err)
	}
	for _, ck := range resp.Cookies() {
		if strings.HasPrefix(ck.Name, "icws_") {
			cookie = ck.Name + "=" + ck.Value
		}
	}
	if cookie == "" || c.SessionID == "" || c.CSRFToken == "" {
		return "", "", "", fmt.Errorf("login gave no session, token or cookie: %q", b)
	}
	return c.SessionID, c.CSRFToken, cookie, nil
}

func fetch(url string, header http.Header) ([]byte, string, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", resp.Status, b)
	}
	return b, resp.Header.Get("Content-Type"), err
}

type target struct {
	url     string
	header  http.Header
	bodyLen int
}

type result struct {
	lat      []time.Duration
	errors   int
	elapsed  time.Duration
	firstErr string
	sorted   bool
}

func (r *result) add(o *result) {
	r.lat = append(r.lat, o.lat...)
	r.errors += o.errors
	r.elapsed += o.elapsed
	r.sorted = false
	if r.firstErr == "" {
		r.firstErr = o.firstErr
	}
}

func (r *result) rps() float64 { return float64(len(r.lat)) / r.elapsed.Seconds() }

func (r *result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	if !r.sorted {
		slices.Sort(r.lat)
		r.sorted = true
	}
	i := int(p / 100 * float64(len(r.lat)))
	return r.lat[min(i, len(r.lat)-1)]
}

// load runs conc clients, each on its own keep-alive connection, for d and
// returns every successful request's latency. A non-200 status, a transport
// error or a body of the wrong length is an error.
func load(t target, conc int, d time.Duration) *result {
	var (
		mu  sync.Mutex
		all = &result{}
		wg  sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range conc {
		wg.Go(func() {
			tr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			req, _ := http.NewRequest("GET", t.url, nil)
			if t.header != nil {
				req.Header = t.header.Clone()
			}
			var (
				lat      = make([]time.Duration, 0, 1<<14)
				errs     int
				firstErr string
				buf      = make([]byte, 0, 4096)
			)
			for {
				s := time.Now()
				if !s.Before(deadline) {
					break
				}
				resp, err := client.Do(req)
				if err == nil {
					b := bytes.NewBuffer(buf[:0])
					_, err = b.ReadFrom(resp.Body)
					resp.Body.Close()
					switch {
					case err != nil:
					case resp.StatusCode != http.StatusOK:
						err = fmt.Errorf("%s: %.200s", resp.Status, b.Bytes())
					case b.Len() != t.bodyLen:
						err = fmt.Errorf("body of %d bytes, want %d", b.Len(), t.bodyLen)
					}
				}
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				lat = append(lat, time.Since(s))
			}
			mu.Lock()
			all.lat = append(all.lat, lat...)
			all.errors += errs
			if all.firstErr == "" {
				all.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return all
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1fµs", float64(d)/float64(time.Microsecond))
	default:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
