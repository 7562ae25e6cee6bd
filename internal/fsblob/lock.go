package fsblob

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// lockStripes is how many locks the keys share. Two keys on one stripe
// only wait for each other's renames and fsyncs, never for a whole upload.
const lockStripes = 256

// keyLocks are the per-key locks of sidecar mode (see the package
// comment). Each stripe is a mutex for the goroutines of this process and
// a one-byte open-file-description lock on root/.lock for other processes.
// An OFD lock belongs to the open file, not to the thread or process, so
// one descriptor serves every goroutine, which the mutex keeps from holding
// the same byte twice.
type keyLocks struct {
	mu [lockStripes]sync.Mutex
	f  *os.File // nil where the file system cannot lock
}

func openKeyLocks(root *os.Root) (*keyLocks, error) {
	f, err := root.OpenFile(lockFile, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, err
	}
	l := &keyLocks{f: f}
	switch err := l.fcntl(0, unix.F_WRLCK, unix.F_OFD_SETLK); {
	case err == nil:
		if err := l.fcntl(0, unix.F_UNLCK, unix.F_OFD_SETLK); err != nil {
			f.Close()
			return nil, err
		}
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
		// Another process holds the byte: locking works.
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOLCK), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.ENOSYS):
		// No locks here (an NFS mount without a lock manager, say): keys
		// are still locked within this process, which is all a single
		// icrec needs.
		f.Close()
		l.f = nil
	default:
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", lockFile, err)
	}
	return l, nil
}

// lock takes the lock of key's stripe and returns the function that
// releases it.
func (l *keyLocks) lock(key string) (unlock func(), err error) {
	h := fnv.New32a()
	io.WriteString(h, key)
	i := int(h.Sum32() % lockStripes)
	l.mu[i].Lock()
	if l.f != nil {
		if err := l.fcntl(i, unix.F_WRLCK, unix.F_OFD_SETLKW); err != nil {
			l.mu[i].Unlock()
			return nil, fmt.Errorf("lock %s: %w", lockFile, err)
		}
	}
	return func() {
		if l.f != nil {
			// Closing the descriptor would release it too; failing to
			// unlock an open one is not something a caller can act on.
			l.fcntl(i, unix.F_UNLCK, unix.F_OFD_SETLK)
		}
		l.mu[i].Unlock()
	}, nil
}

func (l *keyLocks) fcntl(stripe int, typ int16, cmd int) error {
	lk := unix.Flock_t{Type: typ, Whence: io.SeekStart, Start: int64(stripe), Len: 1}
	return withFd(l.f, func(fd int) error {
		return retryEINTR(func() error { return unix.FcntlFlock(uintptr(fd), cmd, &lk) })
	})
}

func (l *keyLocks) close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}
