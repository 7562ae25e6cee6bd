package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"example.com/icrec/internal/transfer"
)

// listJSON returns the catalogue of a data directory as icrec recordings
// list --json prints it: one manifest-format line per recording.
func listJSON(t *testing.T, data string) []string {
	t.Helper()
	out, errOut, code := runCLI(t, map[string]string{"ICREC_DATA": data}, "", "recordings", "list", "--json")
	if code != exitOK {
		t.Fatalf("recordings list: exit %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	slices.Sort(lines)
	return lines
}

// writeIDs writes the recordingId of each line (or the whole line, when
// whole) to a file.
func writeIDs(t *testing.T, lines []string, whole bool) string {
	t.Helper()
	var b strings.Builder
	for _, l := range lines {
		if whole {
			b.WriteString(l + "\n")
			continue
		}
		var m struct{ RecordingID string }
		json.Unmarshal([]byte(l), &m)
		b.WriteString(m.RecordingID + "\n")
	}
	path := filepath.Join(t.TempDir(), "ids")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func passwordFile(t *testing.T, pw string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(path, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readReport reads a --report file.
func readReport(t *testing.T, path string) map[string]reportLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]reportLine{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l reportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("report line %q: %v", sc.Text(), err)
		}
		out[l.RecordingID] = l
	}
	return out
}

// checkExported checks every recording of the catalogue lines against an
// export directory: metadata.json present, primary media with the
// catalogue's checksum, every file with the checksum metadata.json gives.
func checkExported(t *testing.T, dir string, lines []string) {
	t.Helper()
	for _, l := range lines {
		var want struct {
			RecordingID, SHA256, MediaType string
		}
		json.Unmarshal([]byte(l), &want)
		var md transfer.Metadata
		data, err := os.ReadFile(filepath.Join(dir, want.RecordingID, transfer.MetadataFile))
		if err != nil {
			t.Errorf("%s: %v", want.RecordingID, err)
			continue
		}
		if err := json.Unmarshal(data, &md); err != nil {
			t.Fatalf("%s: metadata.json: %v", want.RecordingID, err)
		}
		if md.Files[0].SHA256 != want.SHA256 || !md.Files[0].Verified {
			t.Errorf("%s: primary media %s verified=%v, the archive has %s", want.RecordingID, md.Files[0].SHA256, md.Files[0].Verified, want.SHA256)
		}
		if md.MediaDetails == nil {
			t.Errorf("%s: no media-details in metadata.json", want.RecordingID)
		} else if n := md.MediaDetails.NumAttachments; n != nil && *n != len(md.Files)-1 {
			t.Errorf("%s: %d attachments announced, %d files exported", want.RecordingID, *n, len(md.Files)-1)
		}
		for _, f := range md.Files {
			b, err := os.ReadFile(filepath.Join(dir, want.RecordingID, filepath.FromSlash(f.Path)))
			if err != nil {
				t.Errorf("%s: %v", want.RecordingID, err)
				continue
			}
			sum := sha256.Sum256(b)
			if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.Size {
				t.Errorf("%s: %s does not match metadata.json", want.RecordingID, f.Path)
			}
		}
		parts, _ := filepath.Glob(filepath.Join(dir, want.RecordingID, ".part-*"))
		if len(parts) > 0 {
			t.Errorf("%s: partial files left: %v", want.RecordingID, parts)
		}
	}
}

// sameCatalogue fails unless two catalogues list the same recordings with
// the same metadata and media checksums.
func sameCatalogue(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d recordings, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("recording differs:\n got %s\nwant %s", got[i], want[i])
		}
	}
}

func TestExportDemoArchive(t *testing.T) {
	src := startServe(t, t.TempDir())
	lines := listJSON(t, src.data)
	if len(lines) < 30 {
		t.Fatalf("the demo archive lists %d recordings", len(lines))
	}
	out := filepath.Join(t.TempDir(), "export")
	report := filepath.Join(t.TempDir(), "report.jsonl")
	args := []string{"export", "--server", src.http, "--user", "admin", "--password-file", passwordFile(t, demoPassword),
		"--ca-file", filepath.Join(src.data, "tls", "cert.pem"), "--ids", writeIDs(t, lines, true), "--out", out, "--report", report}
	stdout, errOut, code := runCLI(t, nil, "", args...)
	if code != exitOK {
		t.Fatalf("export: exit %d\n%s%s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, fmt.Sprintf("exported %d, skipped 0, forbidden 0, missing 0, failed 0 of %d", len(lines), len(lines))) {
		t.Errorf("summary: %s", stdout)
	}
	checkExported(t, out, lines)
	rep := readReport(t, report)
	if len(rep) != len(lines) {
		t.Errorf("report has %d recordings, want %d", len(rep), len(lines))
	}
	for id, l := range rep {
		if l.Outcome != "exported" || l.Bytes == 0 || l.Files == 0 {
			t.Errorf("report %s: %+v", id, l)
		}
	}

	// The directory imports as it is, into an archive identical to the
	// source: the ids file's JSON lines carried participants and
	// workgroups, which ICWS does not expose.
	dst := t.TempDir()
	if o, e, code := runCLI(t, map[string]string{"ICREC_DATA": dst}, "", "import", filepath.Join(out, transfer.ManifestFile)); code != exitOK {
		t.Fatalf("import of the export: exit %d\n%s%s", code, o, e)
	}
	sameCatalogue(t, listJSON(t, dst), lines)

	// A rerun finds everything complete.
	stdout, errOut, code = runCLI(t, nil, "", args...)
	if code != exitOK || !strings.Contains(stdout, fmt.Sprintf("exported 0, skipped %d,", len(lines))) {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, errOut)
	}
	// A damaged file is found by --verify and fetched again.
	var md transfer.Metadata
	id := jsonField(lines[0], "recordingId")
	b, _ := os.ReadFile(filepath.Join(out, id, transfer.MetadataFile))
	json.Unmarshal(b, &md)
	victim := filepath.Join(out, id, filepath.FromSlash(md.Files[0].Path))
	orig, _ := os.ReadFile(victim)
	damaged := slices.Clone(orig)
	damaged[len(damaged)/2] ^= 0xff
	os.WriteFile(victim, damaged, 0o644)
	stdout, errOut, code = runCLI(t, nil, "", append(args, "--verify")...)
	if code != exitOK || !strings.Contains(stdout, fmt.Sprintf("exported 1, skipped %d,", len(lines)-1)) {
		t.Fatalf("rerun with --verify: exit %d\n%s%s", code, stdout, errOut)
	}
	if now, _ := os.ReadFile(victim); string(now) != string(orig) {
		t.Error("--verify did not repair the damaged file")
	}
}

func jsonField(line, key string) string {
	var m map[string]any
	json.Unmarshal([]byte(line), &m)
	s, _ := m[key].(string)
	return s
}

func TestExportForbiddenAndMissing(t *testing.T) {
	src := startServe(t, t.TempDir())
	lines := listJSON(t, src.data)
	var support, sales []string
	for _, l := range lines {
		if strings.Contains(l, `"workgroups":["Support"]`) {
			support = append(support, l)
		} else if strings.Contains(l, `"workgroups":["Sales"]`) {
			sales = append(sales, l)
		}
	}
	if len(support) == 0 || len(sales) == 0 {
		t.Fatalf("demo archive: %d Support and %d Sales recordings", len(support), len(sales))
	}
	const unknown = "DEADBEEF-0000-0000-0000-000000000001"
	ids := writeIDs(t, append([]string{support[0], sales[0], `{"recordingId":"` + unknown + `"}`}, support[1:2]...), false)
	out := filepath.Join(t.TempDir(), "export")
	report := filepath.Join(t.TempDir(), "report.jsonl")
	stdout, errOut, code := runCLI(t, nil, "", "export", "--server", src.http, "--user", "supervisor", "--password-file", passwordFile(t, demoPassword),
		"--ca-file", filepath.Join(src.data, "tls", "cert.pem"), "--ids", ids, "--out", out, "--report", report, "--concurrency", "1")
	if code != exitFailure {
		t.Fatalf("export: exit %d, want 1\n%s%s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, "exported 2, skipped 0, forbidden 1, missing 1, failed 0 of 4") {
		t.Errorf("summary: %s", stdout)
	}
	salesID := jsonField(sales[0], "recordingId")
	for _, want := range []string{salesID + " (ids line 2): forbidden", unknown + " (ids line 3): missing", "2 of 4 recordings were not exported"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	rep := readReport(t, report)
	if rep[salesID].Outcome != "forbidden" || !strings.Contains(rep[salesID].Error, "error.request.accessDenied") {
		t.Errorf("report for the Sales recording: %+v", rep[salesID])
	}
	if rep[unknown].Outcome != "missing" {
		t.Errorf("report for the unknown recording: %+v", rep[unknown])
	}
	if _, err := os.Stat(filepath.Join(out, salesID, transfer.MetadataFile)); err == nil {
		t.Error("a forbidden recording has metadata.json")
	}
	checkExported(t, out, support[:2])
	m, _ := os.ReadFile(filepath.Join(out, transfer.ManifestFile))
	if n := strings.Count(string(m), "\n"); n != 2 {
		t.Errorf("manifest.jsonl has %d lines, want 2:\n%s", n, m)
	}
}

func TestMigrateIdentical(t *testing.T) {
	src := startServe(t, t.TempDir())
	lines := listJSON(t, src.data)
	ids := writeIDs(t, lines, true)
	dst := t.TempDir()
	report := filepath.Join(t.TempDir(), "report.jsonl")
	args := []string{"migrate", "--data", dst, "--server", src.https, "--user", "admin", "--password-file", passwordFile(t, demoPassword),
		"--ca-file", filepath.Join(src.data, "tls", "cert.pem"), "--ids", ids, "--report", report, "--concurrency", "4"}
	stdout, errOut, code := runCLI(t, nil, "", args...)
	if code != exitOK {
		t.Fatalf("migrate: exit %d\n%s%s", code, stdout, errOut)
	}
	if !strings.Contains(stdout, fmt.Sprintf("migrated %d, skipped 0,", len(lines))) {
		t.Errorf("summary: %s", stdout)
	}
	sameCatalogue(t, listJSON(t, dst), lines)
	for id, l := range readReport(t, report) {
		if l.Outcome != "migrated" || len(l.Warnings) > 0 {
			t.Errorf("report %s: %+v", id, l)
		}
	}
	// Nothing is left in staging, and the target's blobs check out.
	if left, _ := filepath.Glob(filepath.Join(dst, "migrate-staging", "[0-9A-F]*")); len(left) > 0 {
		t.Errorf("staging keeps %v", left)
	}
	if o, e, code := runCLI(t, nil, "", "fsck", "--data", dst); code != exitOK {
		t.Fatalf("fsck of the target: exit %d\n%s%s", code, o, e)
	}
	// A rerun fetches nothing.
	stdout, errOut, code = runCLI(t, nil, "", args...)
	if code != exitOK || !strings.Contains(stdout, fmt.Sprintf("migrated 0, skipped %d,", len(lines))) || !strings.Contains(stdout, "0 B fetched") {
		t.Fatalf("rerun: exit %d\n%s%s", code, stdout, errOut)
	}
}

func TestExportBadInput(t *testing.T) {
	src := startServe(t, t.TempDir())
	good := writeIDs(t, listJSON(t, src.data)[:1], false)
	pw := passwordFile(t, demoPassword)
	out := filepath.Join(t.TempDir(), "x")
	junk := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(junk, []byte("# a comment\n\n0DE0C017-CD4F-D013-8E31-18D8B7470001\nnot-an-id\n{\"recordingId\":\"x\"}\n{\"recordingId\":\"0DE0C017-CD4F-D013-8E31-18D8B7470002\",\"colour\":\"red\"}\n{broken\n"), 0o600)

	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"junk ids", []string{"--server", src.http, "--user", "admin", "--password-file", pw, "--ids", junk, "--out", out},
			exitUsage, []string{"4 bad line(s); nothing was done", `line 4: "not-an-id" is not a recording id`, `line 5: recordingId: "x" is not a GUID`, `line 6: "colour" is not a manifest field`, `line 7: "{broken" is not a recording id`}},
		{"no server", []string{"--user", "admin", "--ids", good, "--out", out}, exitUsage, []string{"--server is required"}},
		{"bad server", []string{"--server", "ftp://x", "--user", "admin", "--ids", good, "--out", out}, exitUsage, []string{"--server: ", "http or https"}},
		{"no out", []string{"--server", src.http, "--user", "admin", "--ids", good}, exitUsage, []string{"--out is required"}},
		{"concurrency", []string{"--server", src.http, "--user", "admin", "--ids", good, "--out", out, "--concurrency", "0"}, exitUsage, []string{"--concurrency must be between 1 and 64"}},
		{"stdin twice", []string{"--server", src.http, "--user", "admin", "--ids", "-", "--out", out}, exitUsage, []string{"give the password with --password-file"}},
		{"wrong password", []string{"--server", src.http, "--user", "admin", "--password-file", passwordFile(t, "wrong-password-1"), "--ids", good, "--out", out},
			exitFailure, []string{"cannot log in to " + src.http + " as admin", "400 error.request.connection.authenticationFailure"}},
		{"unreachable", []string{"--server", "http://127.0.0.1:1", "--user", "admin", "--password-file", pw, "--ids", good, "--out", out, "--retries", "1"},
			exitFailure, []string{"cannot log in to http://127.0.0.1:1", "connection refused"}},
		{"untrusted TLS", []string{"--server", src.https, "--user", "admin", "--password-file", pw, "--ids", good, "--out", out},
			exitFailure, []string{"TLS certificate is not trusted", "--ca-file"}},
		{"HTTPS links without the CA", []string{"--server", src.http, "--user", "admin", "--password-file", pw, "--ids", good, "--out", out, "--retries", "1"},
			exitFailure, []string{"failed", "TLS certificate is not trusted"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, errOut, code := runCLI(t, nil, "", append([]string{"export"}, c.args...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, stdout, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(stdout+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, stdout, errOut)
				}
			}
			if strings.Contains(errOut, demoPassword) || strings.Contains(errOut, "wrong-password-1") {
				t.Error("a password reached the output")
			}
		})
	}
}
