package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/testutil/faultproxy"
)

// addLargeRecordings imports n recordings of size bytes into a running
// server's archive, so that kills land in the middle of downloads.
func addLargeRecordings(t *testing.T, data string, n, size int) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	var m strings.Builder
	for i := range n {
		name := fmt.Sprintf("big-%d.wav", i)
		writeWAVLike(t, filepath.Join(dir, name), size, rng)
		b, _ := json.Marshal(map[string]any{
			"recordingId": fmt.Sprintf("B16B16B1-0000-0000-0000-%012d", i), "interactionId": fmt.Sprint(9000 + i),
			"mediaType": "Call", "recordingDate": "20240301T120000Z", "file": name, "workgroups": []string{"Support"},
		})
		m.Write(append(b, '\n'))
	}
	manifest := filepath.Join(dir, "big.jsonl")
	os.WriteFile(manifest, []byte(m.String()), 0o600)
	if o, e, code := runCLI(t, nil, "", "import", "--data", data, manifest); code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", code, o, e)
	}
}

// TestExportResumesAfterKill kills a real icrec export (SIGKILL) at a
// random moment, and checks that a rerun finishes it from what the killed
// one left: partial files resumed, nothing partial taken for complete.
func TestExportResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real export; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "icrec")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src := startServe(t, t.TempDir(), "--recorder-https=false")
	addLargeRecordings(t, src.data, 3, 96<<20)
	lines := listJSON(t, src.data)
	ids := writeIDs(t, lines, true)
	pw := passwordFile(t, demoPassword)
	exportCmd := func(out, report string) *exec.Cmd {
		return exec.Command(bin, "export", "--server", src.http, "--user", "admin", "--password-file", pw,
			"--ids", ids, "--out", out, "--concurrency", "2", "--report", report)
	}

	start := time.Now()
	if o, err := exportCmd(filepath.Join(t.TempDir(), "whole"), filepath.Join(t.TempDir(), "r")).CombinedOutput(); err != nil {
		t.Fatalf("a whole export failed: %v\n%s", err, o)
	}
	whole := time.Since(start)
	t.Logf("a whole export takes %v", whole.Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(5, 6))
	const rounds = 6
	midFile, resumed := 0, 0
	for round := range rounds {
		out := filepath.Join(t.TempDir(), "export")
		cmd := exportCmd(out, filepath.Join(t.TempDir(), "r"))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(float64(whole) * (0.2 + 0.7*rng.Float64())))
		cmd.Process.Kill()
		cmd.Wait()
		if !diedOfKill(cmd) {
			t.Logf("round %d: the export finished before the kill", round)
			continue
		}
		if parts, _ := filepath.Glob(filepath.Join(out, "*", ".part-*")); len(parts) > 0 {
			midFile++
		}
		// Whatever the kill left that claims to be complete is.
		var done []string
		for _, l := range lines {
			if _, err := os.Stat(filepath.Join(out, jsonField(l, "recordingId"), "metadata.json")); err == nil {
				done = append(done, l)
			}
		}
		checkExported(t, out, done)

		report := filepath.Join(t.TempDir(), "report.jsonl")
		if o, err := exportCmd(out, report).CombinedOutput(); err != nil {
			t.Fatalf("round %d: the rerun failed: %v\n%s", round, err, o)
		}
		checkExported(t, out, lines)
		for _, l := range readReport(t, report) {
			if l.Outcome == "exported" && l.Fetched < l.Bytes {
				resumed++
			}
		}
	}
	t.Logf("%d of %d kills landed mid-file; %d recordings resumed a partial download", midFile, rounds, resumed)
	if midFile == 0 || resumed == 0 {
		t.Fatalf("no kill interrupted a download (%d mid-file, %d resumed): the test tested nothing", midFile, resumed)
	}
}

// TestExportThroughFaults exports through a proxy that answers 500 to a
// fifth of the requests and cuts a third of the downloads short.
func TestExportThroughFaults(t *testing.T) {
	proxy := faultproxy.New(faultproxy.Config{Seed: 7, ErrorRate: 0.2, DropRate: 0.3, MaxFaultsPerKey: 2})
	front := httptest.NewServer(proxy)
	defer front.Close()
	src := startServe(t, t.TempDir(), "--recorder-https=false", "--public-http-url", front.URL)
	target, _ := url.Parse(src.http)
	proxy.SetTarget(target)
	addLargeRecordings(t, src.data, 2, 8<<20)
	lines := listJSON(t, src.data)

	out := filepath.Join(t.TempDir(), "export")
	stdout, errOut, code := runCLI(t, nil, "", "export", "--server", front.URL, "--user", "admin", "--password-file", passwordFile(t, demoPassword),
		"--ids", writeIDs(t, lines, true), "--out", out, "--concurrency", "4", "--retries", "6")
	if code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", code, stdout, errOut)
	}
	checkExported(t, out, lines)
	st := proxy.Stats()
	t.Logf("proxy: %+v", st)
	if st.Errors == 0 || st.Drops == 0 {
		t.Fatalf("the proxy injected no faults (%+v): the test tested nothing", st)
	}
}

// TestExportBadAnswers exports through a proxy that damages every answer
// of one kind: downloads with a byte inverted (the server's SHA-256 ETag
// no longer matches) or media-details cut to malformed JSON. Each
// recording must fail with its cause named, and nothing partial may be
// taken for complete.
func TestExportBadAnswers(t *testing.T) {
	for _, c := range []struct {
		name  string
		match func(*http.Request) bool
		want  string
	}{
		{"checksum", func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/export/") }, "checksum mismatch"},
		{"malformed JSON", func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/media-details") }, "the server's answer is not the JSON expected"},
	} {
		t.Run(c.name, func(t *testing.T) {
			proxy := faultproxy.New(faultproxy.Config{Seed: 9, CorruptRate: 1, MaxFaultsPerKey: 1 << 20, Match: c.match})
			front := httptest.NewServer(proxy)
			defer front.Close()
			src := startServe(t, t.TempDir(), "--recorder-https=false", "--public-http-url", front.URL)
			target, _ := url.Parse(src.http)
			proxy.SetTarget(target)
			lines := listJSON(t, src.data)[:3]
			out := filepath.Join(t.TempDir(), "export")
			stdout, errOut, code := runCLI(t, nil, "", "export", "--server", front.URL, "--user", "admin", "--password-file", passwordFile(t, demoPassword),
				"--ids", writeIDs(t, lines, false), "--out", out, "--retries", "2")
			if code != exitFailure || !strings.Contains(stdout, "exported 0, skipped 0, forbidden 0, missing 0, failed 3 of 3") {
				t.Fatalf("exit %d\n%s%s", code, stdout, errOut)
			}
			for _, l := range lines {
				id := jsonField(l, "recordingId")
				if !strings.Contains(errOut, id+" (ids line") || !strings.Contains(errOut, c.want) {
					t.Errorf("stderr does not name %s and %q:\n%s", id, c.want, errOut)
				}
				if _, err := os.Stat(filepath.Join(out, id, "metadata.json")); err == nil {
					t.Errorf("%s has metadata.json", id)
				}
				files, _ := filepath.Glob(filepath.Join(out, id, "*"))
				for _, f := range files {
					if st, err := os.Stat(f); err == nil && st.Size() > 0 && !st.IsDir() {
						t.Errorf("%s: %s kept %d bytes of a bad download", id, filepath.Base(f), st.Size())
					}
				}
			}
			if st := proxy.Stats(); st.Corrupts == 0 {
				t.Fatalf("no answer was damaged (%+v)", st)
			}
		})
	}
}

// TestMigrateResumesAfterKill kills a real icrec migrate (SIGKILL) at
// random moments; after each kill the target archive must hold only whole
// recordings identical to the source's, and a final run must finish the
// migration into an archive identical to the source.
func TestMigrateResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real migration; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "icrec")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src := startServe(t, t.TempDir(), "--recorder-https=false")
	addLargeRecordings(t, src.data, 3, 48<<20)
	lines := listJSON(t, src.data)
	ids := writeIDs(t, lines, true)
	pw := passwordFile(t, demoPassword)
	migrate := func(dst string) *exec.Cmd {
		return exec.Command(bin, "migrate", "--data", dst, "--server", src.http, "--user", "admin", "--password-file", pw,
			"--ids", ids, "--concurrency", "2")
	}

	start := time.Now()
	if o, err := migrate(t.TempDir()).CombinedOutput(); err != nil {
		t.Fatalf("a whole migration failed: %v\n%s", err, o)
	}
	whole := time.Since(start)
	t.Logf("a whole migration takes %v", whole.Round(time.Millisecond))

	dst := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	killed := 0
	for round := range 4 {
		cmd := migrate(dst)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(float64(whole) * (0.1 + 0.5*rng.Float64())))
		cmd.Process.Kill()
		cmd.Wait()
		if !diedOfKill(cmd) {
			t.Logf("round %d: the migration finished before the kill", round)
			continue
		}
		killed++
		// Every recording in the target is one of the source's, whole.
		have := listJSON(t, dst)
		for _, l := range have {
			if l != "" && !slices.Contains(lines, l) {
				t.Errorf("round %d: the target holds a recording the source does not have as it is:\n%s", round, l)
			}
		}
		if o, e, code := runCLI(t, nil, "", "fsck", "--data", dst); code != exitOK {
			t.Fatalf("round %d: fsck of the target: exit %d\n%s%s", round, code, o, e)
		}
	}
	if killed == 0 {
		t.Fatal("no migration was killed: the test tested nothing")
	}
	if o, err := migrate(dst).CombinedOutput(); err != nil {
		t.Fatalf("the final run failed: %v\n%s", err, o)
	}
	sameCatalogue(t, listJSON(t, dst), lines)
}
