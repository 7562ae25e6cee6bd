package fsblob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"example.com/icrec"
)

// Put stores the content of r under key; see icrec.BlobStore and the
// package comment for the steps that make it atomic and durable. It reads
// r in chunks of a fixed size, so that a blob of any size costs the same
// memory, and notices the cancellation of ctx between chunks (a Read that
// blocks is not interrupted). The declared sha256 may be in either case; one
// that is not 64 hex digits cannot match any content, so Put returns the
// checksum-mismatch error without reading r.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, sha256 string) (icrec.BlobInfo, error) {
	return s.putKey(ctx, key, r, sha256, true)
}

// PutUnsynced is Put without its fsyncs: the blob becomes durable at the
// next Sync (see icrec.BatchSyncer). Where Sync could not vouch for it (a
// kernel whose syncfs does not report write errors, sidecar mode, a key
// whose directory is on another file system than the store's root), it
// is Put.
func (s *Store) PutUnsynced(ctx context.Context, key string, r io.Reader, sha256 string) (icrec.BlobInfo, error) {
	return s.putKey(ctx, key, r, sha256, !s.batch)
}

// Sync makes durable every blob that PutUnsynced stored before the call,
// with one syncfs(2) of the store's file system: the data, inodes and
// directory entries of a whole batch reach the disk together, where one
// fsync each would write the same inode-table and directory blocks over
// and over. It flushes what other programs wrote to that file system too,
// which is the price of the batch. Since Linux 5.8, syncfs reports any
// write error of the file system since the store was opened; on older
// kernels PutUnsynced syncs each blob itself and Sync has nothing to do.
func (s *Store) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsblob: sync: %w", err)
	}
	if !s.batch {
		return nil
	}
	err := withFd(s.tmpDir, func(fd int) error {
		return retryEINTR(func() error { return unix.Syncfs(fd) })
	})
	if err != nil {
		return fmt.Errorf("fsblob: sync the file system of the store: %w", err)
	}
	return nil
}

func (s *Store) putKey(ctx context.Context, key string, r io.Reader, sha256 string, durable bool) (icrec.BlobInfo, error) {
	if err := icrec.ValidateBlobKey(key); err != nil {
		return icrec.BlobInfo{}, err
	}
	want, err := declaredSum(key, sha256)
	if err != nil {
		return icrec.BlobInfo{}, err
	}
	info, err := s.put(ctx, key, r, want, durable)
	if err != nil {
		if _, ok := err.(*icrec.Error); !ok {
			err = fmt.Errorf("fsblob: put %s: %w", key, err)
		}
		return icrec.BlobInfo{}, err
	}
	return info, nil
}

// put stores a blob, durably unless durable is false (PutUnsynced).
func (s *Store) put(ctx context.Context, key string, r io.Reader, want string, durable bool) (icrec.BlobInfo, error) {
	if err := ctx.Err(); err != nil {
		return icrec.BlobInfo{}, err
	}
	// Fail before reading what may be a gigabyte that could not be stored.
	if err := s.checkAbsent(key); err != nil {
		return icrec.BlobInfo{}, err
	}
	dirPath, _ := splitKey(key)
	dir, err := s.openDir(dirPath, durable)
	if errors.Is(err, syscall.ENOTDIR) {
		return icrec.BlobInfo{}, parentConflict(key)
	} else if err != nil {
		return icrec.BlobInfo{}, err
	}
	defer dir.Close()
	if !durable && !s.sameFS(dir) {
		// Sync flushes the root's file system only.
		durable = true
		if err := s.syncPath(dirPath); err != nil {
			return icrec.BlobInfo{}, err
		}
	}

	var t *tempFile
	if s.tmpfile {
		t, err = newUnnamed(dir)
	} else {
		t, err = s.newTemp("put-")
	}
	if err != nil {
		return icrec.BlobInfo{}, err
	}
	defer t.discard(s)

	size, sum, err := copyHashed(ctx, t.f, r)
	if err != nil {
		return icrec.BlobInfo{}, err
	}
	if want != "" && sum != want {
		return icrec.BlobInfo{}, &icrec.Error{
			Kind:    icrec.Invalid,
			ID:      icrec.IDChecksumMismatch,
			Message: fmt.Sprintf("the content for blob %q has SHA-256 %s, not the declared %s", key, sum, want),
		}
	}
	if !s.sidecar {
		// On the descriptor and before the fsync, so that the checksum
		// becomes durable with the content it describes.
		err := withFd(t.f, func(fd int) error {
			return retryEINTR(func() error { return unix.Fsetxattr(fd, xattrName, []byte(sum), 0) })
		})
		if err != nil {
			return icrec.BlobInfo{}, fmt.Errorf("set %s: %w", xattrName, err)
		}
	}
	if durable {
		if err := t.f.Sync(); err != nil {
			return icrec.BlobInfo{}, err
		}
	}
	// Renaming and linking keep the modification time, so this is the
	// time that Stat will report.
	fi, err := t.f.Stat()
	if err != nil {
		return icrec.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return icrec.BlobInfo{}, err
	}
	if err := s.commit(t, dir, key, sum, durable); err != nil {
		return icrec.BlobInfo{}, err
	}
	return icrec.BlobInfo{Key: key, Size: size, SHA256: sum, ModTime: fi.ModTime()}, nil
}

// declaredSum normalises a declared SHA-256 to lower case.
func declaredSum(key, declared string) (string, error) {
	if declared == "" {
		return "", nil
	}
	var b [sha256.Size]byte
	if len(declared) != hex.EncodedLen(sha256.Size) {
		return "", declaredError(key, declared)
	}
	if _, err := hex.Decode(b[:], []byte(declared)); err != nil {
		return "", declaredError(key, declared)
	}
	return hex.EncodeToString(b[:]), nil
}

func declaredError(key, declared string) error {
	return &icrec.Error{
		Kind:    icrec.Invalid,
		ID:      icrec.IDChecksumMismatch,
		Message: fmt.Sprintf("the declared SHA-256 for blob %q, %.80q, is not 64 hexadecimal digits", key, declared),
	}
}

// checkAbsent returns Conflict if something is stored at key.
func (s *Store) checkAbsent(key string) error {
	fi, err := s.root.Lstat(key)
	switch {
	case err == nil && fi.IsDir():
		return icrec.Errorf(icrec.Conflict, "", "blob key %q names a directory of other blobs", key)
	case err == nil:
		return icrec.Errorf(icrec.Conflict, "", "blob %q already exists", key)
	case errors.Is(err, syscall.ENOTDIR):
		return parentConflict(key)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	}
	return err
}

func parentConflict(key string) error {
	return icrec.Errorf(icrec.Conflict, "", "blob %q cannot be stored: a blob exists at one of its parent paths", key)
}

func moveError(key string, err error) error {
	if errors.Is(err, fs.ErrExist) {
		return icrec.Errorf(icrec.Conflict, "", "blob %q already exists", key)
	}
	return err
}

// tempFile is a staged write: a file in root/.tmp, or an unnamed one
// (O_TMPFILE) in the directory of its key.
type tempFile struct {
	name    string // in .tmp; empty if unnamed
	f       *os.File
	moved   bool // name no longer exists in .tmp
	unnamed bool
}

func (s *Store) newTemp(prefix string) (*tempFile, error) {
	name := prefix + rand.Text()
	f, err := s.tmp.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return nil, err
	}
	return &tempFile{name: name, f: f}, nil
}

// newUnnamed creates an unnamed file in dir, which linkUnnamed can give a
// name there. Unlike a file in .tmp it leaves nothing behind if the Put
// fails or the machine crashes (the file system frees it), and no two Puts
// contend for one directory: creating and renaming files in a shared .tmp
// serialises every Put on that directory's lock.
func newUnnamed(dir *os.File) (*tempFile, error) {
	fd := -1
	err := withFd(dir, func(d int) error {
		return retryEINTR(func() error {
			var err error
			fd, err = unix.Openat(d, ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, filePerm)
			return err
		})
	})
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir.Name() + " (O_TMPFILE)", Err: err}
	}
	return &tempFile{f: os.NewFile(uintptr(fd), dir.Name()+"/(unnamed)"), unnamed: true}, nil
}

// linkUnnamed gives the unnamed file t the name name in dir. link(2) never
// replaces an entry, so of two Puts of one key exactly one wins. It goes
// through /proc/self/fd, as open(2) documents: linkat with AT_EMPTY_PATH
// would need CAP_DAC_READ_SEARCH.
func linkUnnamed(t *tempFile, dir *os.File, name string) error {
	err := withFd(t.f, func(fd int) error {
		return withFd(dir, func(to int) error {
			return retryEINTR(func() error {
				return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), to, name, unix.AT_SYMLINK_FOLLOW)
			})
		})
	})
	if err != nil {
		return &os.LinkError{Op: "linkat", Old: t.f.Name(), New: name, Err: err}
	}
	t.moved = true
	return nil
}

// discard closes the file and removes what is left of it in .tmp.
func (t *tempFile) discard(s *Store) {
	t.f.Close()
	if !t.moved && !t.unnamed {
		s.tmp.Remove(t.name) // if this fails, CleanTemp removes it
	}
}

// moveIntoPlace gives t the name name in dir without replacing anything
// there (step 4 of the package comment).
func (s *Store) moveIntoPlace(t *tempFile, dir *os.File, name string) error {
	if !s.noRenameat2.Load() {
		err := withFd(s.tmpDir, func(from int) error {
			return withFd(dir, func(to int) error {
				return retryEINTR(func() error {
					return unix.Renameat2(from, t.name, to, name, unix.RENAME_NOREPLACE)
				})
			})
		})
		switch {
		case err == nil:
			t.moved = true
			return nil
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.ENOTSUP):
			// The file system (or an old kernel or a seccomp filter)
			// refuses the flag; link(2) never replaces either.
			s.noRenameat2.Store(true)
		default:
			return &os.LinkError{Op: "renameat2", Old: t.name, New: name, Err: err}
		}
	}
	err := withFd(s.tmpDir, func(from int) error {
		return withFd(dir, func(to int) error {
			return retryEINTR(func() error { return unix.Linkat(from, t.name, to, name, 0) })
		})
	})
	if err != nil {
		return &os.LinkError{Op: "linkat", Old: t.name, New: name, Err: err}
	}
	// The blob is in place; a temp name that fails to go is only debris
	// for CleanTemp, so it must not fail the Put.
	if err := s.tmp.Remove(t.name); err == nil {
		t.moved = true
	}
	return nil
}

// commit moves the staged blob t to key in dir, with its sidecar first in
// sidecar mode, and makes it durable unless durable is false (steps 4 and 5
// of the package comment).
func (s *Store) commit(t *tempFile, dir *os.File, key, sum string, durable bool) (err error) {
	dirPath, name := splitKey(key)
	if s.sidecar {
		unlock, lerr := s.locks.lock(key)
		if lerr != nil {
			return lerr
		}
		defer unlock()
		// Under the lock no other Put of this key is between here and its
		// rename, so a sidecar found without its blob is a crash's debris
		// and may be replaced; one with its blob must not be touched.
		if err := s.checkAbsent(key); err != nil {
			return err
		}
		sidecar := path.Join(dirPath, sidecarName(name))
		defer func() {
			if err != nil {
				s.root.Remove(sidecar) // else CleanTemp removes it
			}
		}()
		if err := s.placeSidecar(dir, sidecar, name, sum); err != nil {
			return err
		}
	}
	place := s.moveIntoPlace
	if t.unnamed {
		place = func(t *tempFile, dir *os.File, name string) error { return linkUnnamed(t, dir, name) }
	}
	if err := place(t, dir, name); err != nil {
		return moveError(key, err)
	}
	if !durable {
		return nil
	}
	if err := dir.Sync(); err != nil {
		// A Put that fails must leave nothing visible, and the caller will
		// not count on a blob that a crash could still take back.
		s.root.Remove(key)
		return err
	}
	return nil
}

// placeSidecar writes sum into the sidecar of name in dir, at path
// sidecar, replacing any that a crash left. The caller holds the key's
// lock.
func (s *Store) placeSidecar(dir *os.File, sidecar, name, sum string) error {
	t, err := s.newTemp("sum-")
	if err != nil {
		return err
	}
	defer t.discard(s)
	// sha256sum(1) format, so that an operator can check a blob with
	// "sha256sum -c" in its directory.
	if _, err := fmt.Fprintf(t.f, "%s  %s\n", sum, name); err != nil {
		return err
	}
	if err := t.f.Sync(); err != nil {
		return err
	}
	if err := s.root.Rename(path.Join(tmpDir, t.name), sidecar); err != nil {
		return err
	}
	t.moved = true
	// The sidecar's entry must be durable before the blob's, or a crash
	// could keep the blob and lose its checksum.
	return dir.Sync()
}

const (
	// chunkSize is how much Put reads and writes at a time: large enough
	// that system calls cost little next to copying, small enough that
	// many concurrent Puts stay cheap. A Put uses one chunk, or two for a
	// blob larger than one.
	chunkSize = 256 << 10
	// writebackEvery is how often Put asks the kernel to start writing
	// what it has so far. The disk then works while Put reads and hashes
	// the rest, so the final fsync has less left to do, and a large blob
	// does not pile up as dirty pages.
	writebackEvery = 8 << 20
)

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// copyHashed copies r to f, returning the size and the lower-case hex
// SHA-256 of what it copied.
func copyHashed(ctx context.Context, f *os.File, r io.Reader) (int64, string, error) {
	if err := ctx.Err(); err != nil {
		return 0, "", err
	}
	first := chunkPool.Get().(*[]byte)
	n, err := fill(r, *first)
	switch {
	case err == nil:
		return copyPipelined(ctx, f, r, first)
	case err != io.EOF:
		chunkPool.Put(first)
		return 0, "", fmt.Errorf("read: %w", err)
	}
	// Most blobs fit in one chunk (an e-mail, a short call); hashing
	// them here costs less than waking another goroutine for them.
	defer chunkPool.Put(first)
	if _, err := f.Write((*first)[:n]); err != nil {
		return 0, "", err
	}
	sum := sha256.Sum256((*first)[:n])
	return int64(n), hex.EncodeToString(sum[:]), nil
}

// copyPipelined is copyHashed for a blob larger than a chunk, whose first
// chunk is full. Hashing runs in its own goroutine, on one chunk while the
// next is read and written: SHA-256 takes as long as all the rest of a
// Put's work on the CPU, and this way a large Put takes little more time
// than a write without a hash, on a machine with a core to spare.
func copyPipelined(ctx context.Context, f *os.File, r io.Reader, first *[]byte) (size int64, sum string, err error) {
	chunks := [2]*[]byte{first, chunkPool.Get().(*[]byte)}
	free := make(chan []byte, len(chunks))
	free <- *chunks[1]
	hashing := make(chan []byte, 1)
	h := sha256.New()
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for chunk := range hashing {
			h.Write(chunk)
			free <- chunk
		}
	}()
	defer func() {
		// The hasher may still be reading a chunk: wait for it before
		// the chunks go back to the pool, on every path.
		close(hashing)
		<-hashed
		for _, c := range chunks {
			chunkPool.Put(c)
		}
		if err == nil {
			sum = hex.EncodeToString(h.Sum(nil))
		}
	}()

	buf, n, rerr := *first, len(*first), error(nil)
	var flushed int64
	for {
		// The hasher reads the chunk while it is written, which only
		// reads it too; the chunk is filled again only once the hasher
		// has handed it back.
		hashing <- buf[:n]
		if _, err := f.Write(buf[:n]); err != nil {
			return 0, "", err
		}
		size += int64(n)
		if rerr == io.EOF {
			return size, "", nil
		}
		if rerr != nil {
			return 0, "", fmt.Errorf("read: %w", rerr)
		}
		if size-flushed >= writebackEvery {
			// Only a hint: durability comes from the fsync, so a file
			// system that does not support it loses nothing.
			withFd(f, func(fd int) error {
				return unix.SyncFileRange(fd, flushed, size-flushed, unix.SYNC_FILE_RANGE_WRITE)
			})
			flushed = size
		}
		if err := ctx.Err(); err != nil {
			return 0, "", err
		}
		buf = (<-free)[:chunkSize]
		n, rerr = fill(r, buf)
	}
}

// fill reads from r until buf is full or r returns an error (io.EOF at
// the end). Unlike io.ReadFull it passes r's own errors through
// unchanged: a body cut short reports io.ErrUnexpectedEOF, which must fail
// the Put, not end it.
func fill(r io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty >= 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

// retryEINTR calls fn until it returns something other than EINTR, which
// a signal (Go's preemption among them) can cause in a blocking call.
func retryEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}
