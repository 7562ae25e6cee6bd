package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
)

// TestImportSurvivesKill kills a real icrec import process (SIGKILL, as a
// power cut or the OOM killer would) at many random moments of a large
// import. After each kill, it opens the archive as the next start does and
// checks that every recording in the catalogue is whole: its media present
// with the recorded size and checksum. Finally a rerun must finish the
// import.
//
// Each round imports the same files under new ids, so that it does all the
// work of an import (reading, storing, committing) rather than skipping
// what an earlier round finished, and is killed at a moment drawn from
// the time a whole import takes.
func TestImportSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real import many times; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "icrec")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir, data := t.TempDir(), t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	const small, large = 150, 3
	var files []string
	for i := range small + large {
		size := 20 << 10
		if i%(small/large+1) == 0 {
			size = 12 << 20 // a few large files, so kills also land mid-write
		}
		name := fmt.Sprintf("m/%04d.wav", i)
		writeWAVLike(t, filepath.Join(dir, name), size, rng)
		files = append(files, name)
	}
	var all bytes.Buffer // every round's lines, for the final import
	manifestOf := func(round int) string {
		var m bytes.Buffer
		for i, name := range files {
			json.NewEncoder(&m).Encode(map[string]any{
				"recordingId": fmt.Sprintf("CAFE%04d-0000-0000-0000-%012d", round, i), "interactionId": fmt.Sprint(i),
				"mediaType": "Call", "recordingDate": "20240101T000000Z", "file": name,
			})
		}
		all.Write(m.Bytes())
		path := filepath.Join(dir, fmt.Sprintf("manifest-%02d.jsonl", round))
		if err := os.WriteFile(path, m.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}

	// An import left to finish gives the time to draw the kills from.
	start := time.Now()
	if out, err := exec.Command(bin, "import", "--data", data, "--workers", "4", manifestOf(0)).CombinedOutput(); err != nil {
		t.Fatalf("a whole import failed: %v\n%s", err, out)
	}
	whole := time.Since(start)
	t.Logf("a whole import takes %v", whole.Round(time.Millisecond))

	// A kill drawn after the import's end tests only that a whole import
	// stays whole; the rounds go on until enough kills landed mid-import,
	// however fast the machine imports.
	const wantKilled, maxRounds = 10, 40
	rounds, killed, dirty := 0, 0, 0
	for round := 1; killed < wantKilled && round <= maxRounds; round++ {
		rounds = round
		cmd := exec.Command(bin, "import", "--data", data, "--workers", "4", manifestOf(round))
		cmd.Env = append(os.Environ(), "ICREC_DATA=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(whole))))
		_ = cmd.Process.Signal(syscall.SIGKILL) // an error means it had exited: see below
		cmd.Wait()
		if diedOfKill(cmd) {
			killed++
		}
		pending, staged := leftovers(t, data)
		if pending+staged > 0 {
			dirty++
		}
		n := checkArchiveWhole(t, data, round)
		t.Logf("round %d: killed %v, %d pending blobs and %d staged files to recover, %d recordings whole", round, diedOfKill(cmd), pending, staged, n)
	}
	if killed < wantKilled {
		t.Errorf("only %d of %d imports were killed before they finished: make the import larger", killed, rounds)
	}
	// Each round starts a fresh import, so most kills should find its
	// work under way; if none does, the check above tests nothing.
	if dirty < killed/3 {
		t.Errorf("only %d of %d killed imports left anything for recovery: the kills land before or after the work", dirty, killed)
	}
	mpath := filepath.Join(dir, "manifest.jsonl")
	if err := os.WriteFile(mpath, all.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "import", "--data", data, mpath).CombinedOutput()
	if err != nil {
		t.Fatalf("the import after the kills failed: %v\n%s", err, out)
	}
	if n, want := checkArchiveWhole(t, data, rounds+1), (rounds+1)*len(files); n != want {
		t.Errorf("%d recordings after the final import, want %d\n%s", n, want, out)
	}
}

// diedOfKill reports whether a waited-for command was ended by SIGKILL.
// Signal succeeding says nothing: it also succeeds on a child that has
// exited but not yet been waited for.
func diedOfKill(cmd *exec.Cmd) bool {
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// leftovers counts what a killed import left for recovery: pending blob
// marks and staged files. It must run before anything opens the archive
// as a start does, which cleans them up.
func leftovers(t *testing.T, data string) (pending, staged int) {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open the archive: %v", err)
	}
	defer a.Close()
	keys, err := a.db.PendingBlobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tmp, err := os.ReadDir(filepath.Join(data, "blobs", ".tmp"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return len(keys), len(tmp)
}

// checkArchiveWhole opens the archive as a new start does (cleaning up
// after the killed import) and checks every recording; it returns how many
// there are.
func checkArchiveWhole(t *testing.T, data string, round int) int {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("round %d: open the archive: %v", round, err)
	}
	defer a.Close()
	if err := recoverLeftovers(ctx, a, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("round %d: recover: %v", round, err)
	}
	rep, err := a.archive.Fsck(ctx, archive.FsckOptions{}, nil)
	if err != nil {
		t.Fatalf("round %d: fsck: %v", round, err)
	}
	for _, p := range rep.Problems {
		t.Errorf("round %d: %s", round, p)
	}
	if keys, _ := a.db.PendingBlobs(ctx); len(keys) > 0 {
		t.Errorf("round %d: pending blobs after recovery: %q", round, keys)
	}
	tmp, _ := os.ReadDir(filepath.Join(data, "blobs", ".tmp"))
	if len(tmp) > 0 {
		t.Errorf("round %d: %d staged files after recovery", round, len(tmp))
	}
	return rep.Recordings
}

// writeWAVLike writes a file with a WAV header and random content: the
// importer checks the signature, nothing more.
func writeWAVLike(t *testing.T, path string, size int, rng *rand.Rand) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o700)
	b := make([]byte, size)
	for i := 0; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
	}
	copy(b, "RIFF\x00\x00\x00\x00WAVEfmt ")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestRetentionSurvivesKill kills a real icrec retention sweep (SIGKILL) at
// random moments. After each kill, it opens the archive as the next start
// does and checks that every recording is whole or gone, that every
// recording gone has its retention.delete event on an intact audit trail,
// and that no held or unexpired recording was touched. Finally a rerun must
// finish the sweep.
func TestRetentionSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a real retention sweep many times; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "icrec")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir, data := t.TempDir(), t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	const total = 3000
	expired := map[string]bool{} // id → expired and not held: the sweep's to delete
	var kept []string            // held or not expired: must survive every round
	var manifest bytes.Buffer
	for i := range total {
		id := fmt.Sprintf("DEAD0000-0000-0000-0000-%012d", i)
		name := fmt.Sprintf("m/%04d.wav", i)
		writeWAVLike(t, filepath.Join(dir, name), 4<<10, rng)
		line := map[string]any{"recordingId": id, "interactionId": fmt.Sprint(i), "mediaType": "Call",
			"recordingDate": "20200101T000000Z", "expirationDate": "20210101T000000Z", "file": name}
		switch {
		case i%10 == 3:
			line["workgroups"] = []string{"Legal"} // held by query
			kept = append(kept, id)
		case i%10 == 7:
			line["expirationDate"] = "20991231T000000Z"
			kept = append(kept, id)
		default:
			expired[id] = true
		}
		json.NewEncoder(&manifest).Encode(line)
	}
	mpath := filepath.Join(dir, "manifest.jsonl")
	if err := os.WriteFile(mpath, manifest.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"import", "--data", data, mpath},
		{"hold", "add", "Legal", "--query", "workgroup=legal", "--data", data, "--by", "test"},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Fatalf("icrec %s: %v\n%s", args[0], err, out)
		}
	}

	rounds, killed := 10, 0
	for round := range rounds {
		cmd := exec.Command(bin, "retention", "run", "--data", data, "--batch", "50")
		cmd.Env = append(os.Environ(), "ICREC_DATA=")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		_ = cmd.Process.Signal(syscall.SIGKILL) // an error means it had exited: see below
		cmd.Wait()
		if diedOfKill(cmd) {
			killed++
		}
		n := checkArchiveWhole(t, data, round)
		left := checkSweepRecorded(t, data, round, expired, kept)
		t.Logf("round %d: %d recordings whole, %d expired left", round, n, left)
	}
	if killed < rounds/2 {
		t.Errorf("only %d of %d sweeps were killed before they finished: make the archive larger", killed, rounds)
	}
	out, err := exec.Command(bin, "retention", "run", "--data", data).CombinedOutput()
	if err != nil {
		t.Fatalf("the sweep after the kills failed: %v\n%s", err, out)
	}
	checkArchiveWhole(t, data, rounds)
	if left := checkSweepRecorded(t, data, rounds, expired, kept); left != 0 {
		t.Errorf("%d expired recordings left after the final sweep\n%s", left, out)
	}
	if out, err := exec.Command(bin, "audit", "verify", "--data", data).CombinedOutput(); err != nil {
		t.Errorf("audit verify: %v\n%s", err, out)
	}
}

// checkSweepRecorded checks that every kept recording is still there and
// that every expired one gone has a retention.delete event; it returns how
// many expired ones are left.
func checkSweepRecorded(t *testing.T, data string, round int, expired map[string]bool, kept []string) int {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, data, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("round %d: open: %v", round, err)
	}
	defer a.Close()
	for _, id := range kept {
		if _, err := a.db.FindRecordingByID(ctx, id); err != nil {
			t.Errorf("round %d: kept recording %s: %v", round, id, err)
		}
	}
	kind := icrec.AuditRetentionDelete
	events, err := a.db.FindAudit(ctx, icrec.AuditFilter{Kind: &kind})
	if err != nil {
		t.Fatal(err)
	}
	recorded := map[string]bool{}
	for _, e := range events {
		recorded[e.RecordingID] = true
	}
	left := 0
	for id := range expired {
		_, err := a.db.FindRecordingByID(ctx, id)
		switch {
		case err == nil:
			left++
		case !icrec.IsKind(err, icrec.NotFound):
			t.Fatal(err)
		case !recorded[id]:
			t.Errorf("round %d: recording %s was deleted without a retention.delete event", round, id)
		}
	}
	return left
}
