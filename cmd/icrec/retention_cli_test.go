package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/datadir"
)

// importExpiring imports n call recordings into data, numbered from 1,
// whose expiration is given by exp (zero: never) and workgroup by wg.
func importExpiring(t *testing.T, env map[string]string, n int, exp func(i int) time.Time, wg func(i int) string) []string {
	t.Helper()
	dir := t.TempDir()
	var lines []string
	var ids []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("BBBBBBBB-0000-0000-0000-%012d", i)
		ids = append(ids, id)
		name := fmt.Sprintf("%d.wav", i)
		os.WriteFile(filepath.Join(dir, name), []byte("RIFF\x24\x00\x00\x00WAVEfmt "+strings.Repeat("\x00", 200+i)), 0o600)
		line := map[string]any{"recordingId": id, "interactionId": fmt.Sprint(i), "mediaType": "Call", "recordingDate": "20240101T000000Z", "file": name}
		if e := exp(i); !e.IsZero() {
			line["expirationDate"] = e.UTC().Format("20060102T150405Z")
		}
		if w := wg(i); w != "" {
			line["workgroups"] = []string{w}
		}
		b, _ := json.Marshal(line)
		lines = append(lines, string(b))
	}
	manifest := filepath.Join(dir, "m.jsonl")
	os.WriteFile(manifest, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	if out, errOut, code := runCLI(t, env, "", "import", manifest); code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	return ids
}

func TestHoldAndRetentionCommands(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"ICREC_DATA": data}
	past, future := time.Now().AddDate(-1, 0, 0), time.Now().AddDate(1, 0, 0)
	// 1, 2: expired, in Legal; 3: expired; 4: expires next year; 5: never.
	ids := importExpiring(t, env, 5, func(i int) time.Time {
		switch {
		case i <= 3:
			return past
		case i == 4:
			return future
		}
		return time.Time{}
	}, func(i int) string {
		if i <= 2 {
			return "Legal"
		}
		return ""
	})
	ok := func(stdin string, args ...string) string {
		t.Helper()
		out, errOut, code := runCLI(t, env, stdin, args...)
		if code != exitOK {
			t.Fatalf("icrec %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}

	out := ok("", "hold", "add", "Smith v. Acme", "--query", `workgroup=legal since=2023-06-01`, "--by", "counsel")
	if !strings.Contains(out, `placed legal hold "Smith v. Acme": recordings matching workgroup=legal since=2023-06-01T00:00:00Z`) {
		t.Errorf("hold add --query: %s", out)
	}
	// Ids from a flag and from standard input, with a comment and a blank
	// line; one of them names no recording yet.
	out = ok("# from discovery\n\n"+strings.ToLower(ids[1])+"\n{"+ids[4]+"}\n", "hold", "add", "Case 2", "--recording", ids[0], "--recordings-file", "-", "--by", "clerk")
	if !strings.Contains(out, "3 recordings by id") {
		t.Errorf("hold add with ids: %s", out)
	}
	out = ok("", "hold", "list")
	for _, want := range []string{"NAME", "Smith v. Acme", "counsel", "workgroup=legal", "Case 2", "clerk", "  3  "} {
		if !strings.Contains(out, want) {
			t.Errorf("hold list lacks %q:\n%s", want, out)
		}
	}
	out = ok("", "hold", "list", "--json")
	var second map[string]any
	json.Unmarshal([]byte(strings.Split(strings.TrimSpace(out), "\n")[1]), &second)
	if got := fmt.Sprint(second["recordingIds"]); got != fmt.Sprint([]string{ids[0], ids[1], ids[4]}) {
		t.Errorf("hold list --json ids %s, want %v\n%s", got, []string{ids[0], ids[1], ids[4]}, out)
	}

	// A dry run lists and deletes nothing.
	out = ok("", "retention", "run", "--dry-run", "--list")
	for _, want := range []string{
		"would delete " + ids[2],
		"held         " + ids[0], "held by Smith v. Acme, Case 2", // in the order they were placed
		"would delete 1 recordings", "kept 2 under legal hold (Case 2: 2, Smith v. Acme: 2)", "0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("retention run --dry-run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, ids[3]) || strings.Contains(out, ids[4]) {
		t.Errorf("recordings that have not expired were listed:\n%s", out)
	}
	out = ok("", "retention", "run")
	if !strings.Contains(out, "deleted 1 recordings (") || !strings.Contains(out, "kept 2 under legal hold") {
		t.Errorf("retention run: %s", out)
	}
	out = ok("", "audit", "list", "--kind", "retention.delete", "--json")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, ids[2]) {
		t.Errorf("audit of the sweep:\n%s", out)
	}
	// Holds stack: releasing one leaves the other holding both.
	ok("", "hold", "release", "case 2", "--by", "clerk")
	if out = ok("", "retention", "run"); !strings.Contains(out, "deleted 0 recordings") || !strings.Contains(out, "kept 2 under legal hold (Smith v. Acme: 2)") {
		t.Errorf("after releasing one hold: %s", out)
	}
	ok("", "hold", "release", "Smith v. Acme", "--by", "counsel")
	if out = ok("", "hold", "list"); !strings.Contains(out, "no legal holds") {
		t.Errorf("hold list with none: %s", out)
	}
	if out = ok("", "retention", "run"); !strings.Contains(out, "deleted 2 recordings") || !strings.Contains(out, "kept 0 under legal hold;") {
		t.Errorf("after releasing every hold: %s", out)
	}
	if out = ok("", "audit", "list", "--kind", "admin.hold"); strings.Count(out, "admin.hold") != 4 || !strings.Contains(out, "clerk") || !strings.Contains(out, "counsel") {
		t.Errorf("audit of the holds:\n%s", out)
	}
	ok("", "audit", "verify")
	ok("", "fsck")

	// Bad command lines and refusals.
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"", []string{"hold"}, exitUsage, "no hold command given"},
		{"", []string{"hold", "grab"}, exitUsage, `unknown hold command "grab"`},
		{"", []string{"hold", "add"}, exitUsage, "missing the hold's NAME"},
		{"", []string{"hold", "add", "x"}, exitUsage, "give recordings (--recording, --recordings-file), a --query, or both"},
		{"", []string{"hold", "add", "a", "b", "--query", "tag=x"}, exitUsage, `unexpected argument "b" after NAME`},
		{"", []string{"hold", "add", "x", "--query", "group=x"}, exitUsage, `--query: unknown field "group" at byte 1`},
		{"", []string{"hold", "add", "x", "--query", " "}, exitUsage, "has no field=value pair"},
		{"", []string{"hold", "add", "x", "--query", "since=2025-01-01 until=2024-01-01"}, exitFailure, "must be before its until"},
		{"", []string{"hold", "add", "x", "--recording", "1234"}, exitFailure, `recording id "1234" is not a GUID`},
		{ids[0] + "\nnot-an-id\n", []string{"hold", "add", "x", "--recordings-file", "-"}, exitFailure, `--recordings-file standard input, line 2: "not-an-id" is not a recording id`},
		{"", []string{"hold", "add", "x", "--recordings-file", filepath.Join(data, "nope.txt")}, exitFailure, "no such file"},
		{"", []string{"hold", "add", "a,b", "--query", "tag=x"}, exitFailure, "reserved characters"},
		{"", []string{"hold", "release"}, exitUsage, "give exactly one hold NAME"},
		{"", []string{"hold", "release", "nope"}, exitFailure, `legal hold "nope" not found`},
		{"", []string{"hold", "list", "x"}, exitUsage, `unexpected argument "x"`},
		{"", []string{"retention"}, exitUsage, "no retention command given"},
		{"", []string{"retention", "sweep"}, exitUsage, `unknown retention command "sweep"`},
		{"", []string{"retention", "run", "now"}, exitUsage, `unexpected argument "now"`},
		{"", []string{"retention", "run", "--batch", "0"}, exitUsage, "--batch must be between 1 and 10000"},
	} {
		if _, errOut, code := runCLI(t, env, tc.stdin, tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	ok("", "hold", "add", "Conflict", "--query", "tag=x")
	if _, errOut, code := runCLI(t, env, "", "hold", "add", "CONFLICT", "--query", "tag=y"); code != exitFailure || !strings.Contains(errOut, "already exists") {
		t.Errorf("a second hold of the same name: exit %d, %s", code, errOut)
	}

	// A sweep does not run beside an import or another sweep; a dry run,
	// which writes nothing, does.
	lock, err := datadir.TryLock(data)
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code := runCLI(t, env, "", "retention", "run")
	if code != exitFailure || !strings.Contains(errOut, "retention sweep is working on") {
		t.Errorf("retention run while locked: exit %d, %s", code, errOut)
	}
	ok("", "retention", "run", "--dry-run")
	lock.Release()
}

func TestHoldAndRetentionHelp(t *testing.T) {
	for _, args := range [][]string{
		{"hold", "--help"}, {"hold", "add", "--help"}, {"hold", "list", "--help"}, {"hold", "release", "--help"},
		{"retention", "--help"}, {"retention", "run", "--help"}, {"help", "hold"}, {"help", "retention"},
	} {
		out, errOut, code := runCLI(t, nil, "", args...)
		if code != exitOK || !strings.Contains(out, "Example") || !strings.Contains(out, "Usage") {
			t.Errorf("icrec %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	if out, _, _ := runCLI(t, nil, "", "help"); !strings.Contains(out, "hold ") || !strings.Contains(out, "retention ") {
		t.Errorf("icrec help does not list hold and retention:\n%s", out)
	}
}

// TestServeRetention: the server sweeps at start, never touches what a hold
// holds, and a recording set to expire now through ICWS goes at the next
// sweep, here one run by the CLI beside the running server.
func TestServeRetention(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"ICREC_DATA": data}
	past := time.Now().AddDate(0, -1, 0)
	ids := importExpiring(t, env, 3, func(i int) time.Time {
		if i < 3 {
			return past
		}
		return time.Time{}
	}, func(i int) string {
		if i == 2 {
			return "Legal"
		}
		return ""
	})
	if _, errOut, code := runCLI(t, env, "", "hold", "add", "Audit 2026", "--query", "workgroup=Legal"); code != exitOK {
		t.Fatal(errOut)
	}
	s := startServe(t, data, "--retention-interval", "1h")
	waitLog(t, s, `"msg":"retention sweep done"`)
	if !strings.Contains(s.stderr.String(), `"msg":"retention deleted a recording","recording":"`+ids[0]) {
		t.Errorf("the sweep at start did not log the deletion of %s:\n%s", ids[0], s.stderr)
	}

	c := jarClient(&http.Client{Timeout: 10 * time.Second})
	session, csrf := icwsLogin(t, c, s.http, "admin")
	details := func(id string) int {
		resp, _ := call(t, c, "GET", session+"/recordings/"+id+"/media-details", "", csrf)
		return resp.StatusCode
	}
	if got := details(ids[0]); got != http.StatusNotFound {
		t.Errorf("media-details of the swept recording: %d, want 404", got)
	}
	if got := details(ids[1]); got != http.StatusOK {
		t.Errorf("media-details of the held recording: %d, want 200", got)
	}
	// Expire the third now (no body: now), then sweep from the CLI.
	if resp, body := call(t, c, "POST", session+"/recordings/"+ids[2]+"/retention-expiration", "", csrf); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("retention-expiration: %s %s", resp.Status, body)
	}
	if out, errOut, code := runCLI(t, env, "", "retention", "run"); code != exitOK || !strings.Contains(out, "deleted 1 recordings") {
		t.Errorf("retention run beside the server: exit %d\n%s%s", code, out, errOut)
	}
	if got := details(ids[2]); got != http.StatusNotFound {
		t.Errorf("media-details after the CLI's sweep: %d, want 404", got)
	}
	resp, body := call(t, c, "GET", s.ops+"/metrics", "", nil)
	for _, want := range []string{`icrec_retention_recordings_total{outcome="deleted"} 1`, `icrec_retention_recordings_total{outcome="held"} 1`} {
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(body), "icrec_retention_last_sweep_timestamp_seconds 0\n") {
		t.Error("the last sweep's time was not set")
	}
}

func TestServeRetentionFlags(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"10s", "--retention-interval must be at least 1m"},
		{"-1h", "--retention-interval must not be negative"},
	} {
		_, errOut, code := runCLI(t, nil, "", "serve", "--data", t.TempDir(), "--retention-interval", tc.value)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("--retention-interval %s: exit %d, %q", tc.value, code, errOut)
		}
	}
	s := startServe(t, t.TempDir(), "--retention-interval", "0")
	if !strings.Contains(s.stderr.String(), "retention sweeps are off") {
		t.Errorf("with --retention-interval 0 the log does not say retention is off:\n%s", s.stderr)
	}
	if strings.Contains(s.stderr.String(), "retention sweep done") {
		t.Error("a sweep ran with --retention-interval 0")
	}
}

// waitLog waits for the server to log a line containing want.
func waitLog(t *testing.T, s *server, want string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(s.stderr.String(), want) {
			return
		}
	}
	t.Fatalf("the server never logged %s:\n%s", want, s.stderr)
}
