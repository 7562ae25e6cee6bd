// Package datadir holds what belongs to icrec's data directory as a whole:
// its layout, and the lock that keeps two writers of the archive from
// tripping over each other's half-finished work.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Layout of a data directory.
const (
	DBFile   = "icrec.db"
	BlobsDir = "blobs"
	TLSDir   = "tls"
	// LinkKeysFile holds the keys that sign export links, relative to
	// the data directory.
	LinkKeysFile = "keys/link-keys.json"
	lockFile     = "archive.lock"
)

// ErrLocked is returned by TryLock when another process holds the lock.
var ErrLocked = errors.New("locked")

// Lock is the data directory's archive lock. Imports and retention sweeps
// hold it for their whole run, and cleanup of what a killed import or sweep
// left behind runs only under it, so that cleanup can never remove the work
// of one still running. The kernel releases it when the process dies, even
// by kill -9.
type Lock struct {
	f *os.File
}

// TryLock takes the lock without waiting. If another process holds it, it
// returns an error wrapping ErrLocked that names that process, when known.
func TryLock(dir string) (*Lock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the archive lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another icrec import, fsck or retention sweep is working on %s%s: %w", dir, holder, ErrLocked)
		}
		return nil, fmt.Errorf("take the archive lock: %w", err)
	}
	// Say who holds it, for the message above; the lock itself is the flock.
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

func readHolder(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid := strings.TrimSpace(string(b[:n]))
	if _, err := strconv.Atoi(pid); err != nil || pid == "" {
		return ""
	}
	return " (process " + pid + ")"
}

// Release gives the lock up. Releasing twice does nothing.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Truncate(0)
	l.f.Close() // closing the descriptor releases the flock
	l.f = nil
}
