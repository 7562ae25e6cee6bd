package datadir_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"example.com/icrec/internal/datadir"
)

func TestLock(t *testing.T) {
	dir := t.TempDir()
	l, err := datadir.TryLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to open files, so a second open in this process
	// contends like another process would.
	if _, err := datadir.TryLock(dir); !errors.Is(err, datadir.ErrLocked) {
		t.Fatalf("second TryLock: %v, want ErrLocked", err)
	} else if !strings.Contains(err.Error(), "process") {
		t.Errorf("error %q does not name the holder", err)
	}
	l.Release()
	l.Release()
	l2, err := datadir.TryLock(dir)
	if err != nil {
		t.Fatalf("TryLock after Release: %v", err)
	}
	l2.Release()
}

func TestLockReleasedWhenProcessDies(t *testing.T) {
	if os.Getenv("ICREC_LOCK_CHILD") != "" {
		if _, err := datadir.TryLock(os.Getenv("ICREC_LOCK_CHILD")); err != nil {
			os.Exit(3)
		}
		os.Stdout.Write([]byte("locked\n"))
		select {} // hold it until killed
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockReleasedWhenProcessDies$")
	cmd.Env = append(os.Environ(), "ICREC_LOCK_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("child: %q %v", buf, err)
	}
	if _, err := datadir.TryLock(dir); !errors.Is(err, datadir.ErrLocked) {
		t.Fatalf("while the child holds it: %v", err)
	}
	cmd.Process.Kill() // kill -9
	cmd.Wait()
	l, err := datadir.TryLock(dir)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Release()
}
