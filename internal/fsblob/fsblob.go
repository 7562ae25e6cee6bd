// Package fsblob is the icrec.BlobStore that keeps media in a local
// directory. The blob for key a/b/c is the plain file a/b/c under the
// store's root, so that the HTTP layer can send it with sendfile and an
// operator can see, back up and check it with ordinary tools.
//
// # Containment
//
// Every path is resolved through an os.Root, so that no key, symlink planted
// inside the root, or rename racing with icrec can make it read or write
// outside the root. Keys are checked with icrec.ValidateBlobKey first. The
// system calls that os.Root does not offer act only on what os.Root opened:
// renameat2 and linkat on descriptors of its directories and single names
// that cannot contain '/', the extended-attribute calls on descriptors of
// its files. A symlink at a key, even one that stays inside the root, is
// not a blob: Open, Stat and Delete refuse it, and List reports it.
//
// # Crash safety
//
// Put makes a blob visible whole or not at all, and durable before it
// returns, whenever the machine loses power:
//
//  1. Missing directories on the key's path are created, and the parent of
//     each is fsynced, because the blob's own directory being durable is of
//     no use if the entry that leads to it is lost. Directories that
//     already existed get the same fsync once per process: another Put or
//     a process that crashed may have created them without syncing yet. A
//     Put that fails later leaves these directories, empty.
//  2. The content is streamed into an unnamed file (O_TMPFILE) in the key's
//     directory and hashed on the way. Nothing under the key's name exists
//     yet, and a crash frees the file. Where the file system has no
//     O_TMPFILE, or /proc is not mounted to link one, the file is a named
//     one in root/.tmp instead, and a crash leaves it for CleanTemp.
//  3. The SHA-256 is set on that file as the extended attribute
//     user.icrec.sha256, and the file is fsynced. This fsync makes content,
//     size and checksum durable together, before the file gets its name: a
//     file system may commit a link or rename before the data it names, and
//     without it a crash could leave the key naming an empty or zero-filled
//     file.
//  4. The unnamed file is linked at its key with linkat(2), which fails if
//     the key exists, so that of two Puts of one key exactly one wins and a
//     blob is never replaced. A file in .tmp is renamed with
//     RENAME_NOREPLACE for the same guarantee; where the file system
//     refuses the flag, link(2) gives it and the temp name is then removed.
//  5. The key's directory is fsynced: until then the link itself may be
//     lost, and Put must not report as stored a blob that a crash can take
//     back.
//
// .tmp is never fsynced: an entry that a crash brings back there is debris
// for CleanTemp, never a blob.
//
// PutUnsynced (icrec.BatchSyncer) takes the same steps without their
// fsyncs, and Sync makes a whole batch durable with one syncfs(2); a crash
// before it can leave the key naming partial content, which its caller
// must be able to find (the importer marks such keys pending first).
//
// Delete unlinks the blob and fsyncs its directory, so that a deleted blob
// does not come back.
//
// # Sidecar mode
//
// Where the file system has no user extended attributes (older tmpfs, some
// NFS), New falls back to keeping each checksum in a sidecar file
// .<name>.sha256 next to the blob, in the format of sha256sum(1). The sidecar
// is written in .tmp, fsynced, renamed into place and its directory fsynced
// before step 4 (the blob too is then staged in .tmp), so that a blob that
// exists always has its checksum; Delete removes the sidecar only after the
// blob's removal is durable, for the same reason. A crash can leave a sidecar without its blob, which CleanTemp
// removes. Key segments never start with '.', so sidecars never collide
// with keys. Open and Stat look for the attribute first and then for a
// sidecar, whatever the mode, so that a root keeps its checksums if it
// changes modes.
//
// A sidecar, unlike an attribute, lives apart from the file, so a Put that
// loses the race for a key could overwrite the winner's sidecar. In sidecar
// mode the steps from placing the sidecar to the blob's rename therefore
// run under a lock on the key, held in this process and, through an
// open-file-description lock on root/.lock, against other processes using
// the same root.
//
// # Limits of a file system
//
// A key cannot be both a blob and a directory: if a/b is stored, Put of
// a/b/c returns Conflict, and so does Put of a/b while a/b/c exists.
package fsblob

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"example.com/icrec"
)

var (
	_ icrec.BlobStore   = (*Store)(nil)
	_ icrec.BatchSyncer = (*Store)(nil)
	_ icrec.TempCleaner = (*Store)(nil)
)

const (
	// xattrName holds a blob's SHA-256 as 64 lower-case hex digits.
	xattrName = "user.icrec.sha256"
	tmpDir    = ".tmp"
	lockFile  = ".lock"
	dirPerm   = 0o700
	filePerm  = 0o600
)

// Store is a BlobStore in a local directory. Its methods are safe for
// concurrent use, also by several processes sharing one root.
type Store struct {
	root    *os.Root
	tmp     *os.Root // root/.tmp
	tmpDir  *os.File // the same directory, for renameat2 and linkat
	sidecar bool
	locks   *keyLocks // nil unless sidecar
	durable dirSet
	// tmpfile: Puts stage their content in an unnamed file (O_TMPFILE)
	// in the key's directory rather than in .tmp.
	tmpfile bool
	// batch: Sync can vouch for PutUnsynced, by a syncfs of dev.
	batch bool
	dev   uint64

	// noRenameat2 is set once renameat2 with RENAME_NOREPLACE has been
	// refused, so that later Puts go straight to link(2).
	noRenameat2 atomic.Bool
}

// Option configures New.
type Option func(*options)

type options struct {
	sidecar     bool
	noRenameat2 bool
	noTmpfile   bool
}

// ForceSidecar keeps checksums in sidecar files even where the file system
// has extended attributes; tests use it to run both modes on one machine.
func ForceSidecar() Option { return func(o *options) { o.sidecar = true } }

// New opens the store in the directory root, creating it (mode 0700) if
// needed. It probes whether the file system takes user extended attributes
// and falls back to sidecar files if it does not.
func New(root string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := mkdirSynced(root); err != nil {
		return nil, fmt.Errorf("fsblob: create %s: %w", root, err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("fsblob: %w", err)
	}
	s := &Store{root: r, sidecar: o.sidecar}
	s.noRenameat2.Store(o.noRenameat2)
	if err := s.init(o.noTmpfile); err != nil {
		s.Close()
		return nil, fmt.Errorf("fsblob: open %s: %w", root, err)
	}
	return s, nil
}

func (s *Store) init(noTmpfile bool) error {
	switch err := s.root.Mkdir(tmpDir, dirPerm); {
	case err == nil:
		if err := s.syncDir(""); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrExist):
		return err
	}
	// A .tmp that is a symlink could send temp files, and with them the
	// renames, to another directory of the root.
	if fi, err := s.root.Lstat(tmpDir); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", tmpDir)
	}
	var err error
	if s.tmp, err = s.root.OpenRoot(tmpDir); err != nil {
		return err
	}
	if s.tmpDir, err = s.tmp.Open("."); err != nil {
		return err
	}
	if !s.sidecar {
		ok, err := s.probeXattr()
		if err != nil {
			return err
		}
		s.sidecar = !ok
	}
	if s.sidecar {
		if s.locks, err = openKeyLocks(s.root); err != nil {
			return err
		}
		// The sidecar's own steps (its rename and fsyncs before the
		// blob's) keep the .tmp path and a sync per Put.
		return nil
	}
	var st unix.Stat_t
	if err := withFd(s.tmpDir, func(fd int) error { return unix.Fstat(fd, &st) }); err != nil {
		return err
	}
	s.dev = st.Dev
	s.batch = syncfsReportsErrors()
	s.tmpfile = !noTmpfile && s.probeTmpfile()
	return nil
}

// probeTmpfile reports whether the file system makes unnamed files and
// lets them be linked through /proc (which a container may not mount).
func (s *Store) probeTmpfile() bool {
	t, err := newUnnamed(s.tmpDir)
	if err != nil {
		return false
	}
	defer t.discard(s)
	name := "probe-" + rand.Text()
	if err := linkUnnamed(t, s.tmpDir, name); err != nil {
		return false
	}
	s.tmp.Remove(name)
	return true
}

// syncfsReportsErrors reports whether the kernel's syncfs(2) returns the
// write errors of the file system, which it does since Linux 5.8; before,
// it could succeed over data that never reached the disk.
func syncfsReportsErrors() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 5 || major == 5 && minor >= 8
}

// probeXattr reports whether the file system takes user extended
// attributes, by setting one on a temp file.
func (s *Store) probeXattr() (bool, error) {
	t, err := s.newTemp("probe-")
	if err != nil {
		return false, err
	}
	defer t.discard(s)
	err = withFd(t.f, func(fd int) error {
		return unix.Fsetxattr(fd, xattrName, []byte(strings.Repeat("0", 64)), 0)
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.ENOTSUP):
		return false, nil
	}
	return false, fmt.Errorf("probe extended attributes: %w", err)
}

// Sidecar reports whether checksums are kept in sidecar files rather than
// in extended attributes.
func (s *Store) Sidecar() bool { return s.sidecar }

// Close releases the store's descriptors. Blobs opened from it stay
// readable.
func (s *Store) Close() error {
	var errs []error
	if s.locks != nil {
		errs = append(errs, s.locks.close())
	}
	if s.tmpDir != nil {
		errs = append(errs, s.tmpDir.Close())
	}
	if s.tmp != nil {
		errs = append(errs, s.tmp.Close())
	}
	errs = append(errs, s.root.Close())
	return errors.Join(errs...)
}

// splitKey returns the directory of key ("" for the root) and its last
// segment.
func splitKey(key string) (dir, name string) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", key
	}
	return key[:i], key[i+1:]
}

// dirName turns "" into ".", the name os.Root gives its own directory.
func dirName(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// syncDir fsyncs a directory of the root, making its entries durable.
func (s *Store) syncDir(dir string) error {
	d, err := s.root.OpenFile(dirName(dir), os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// openDir opens a directory of the root that will hold a new entry,
// creating it and its parents if needed and, if durable, making sure that
// the path to it is durable (step 3 of the package comment).
func (s *Store) openDir(dir string, durable bool) (*os.File, error) {
	d, err := s.root.OpenFile(dirName(dir), os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.mkdirs(dir, durable); err != nil {
			return nil, err
		}
		d, err = s.root.OpenFile(dirName(dir), os.O_RDONLY|syscall.O_DIRECTORY, 0)
	}
	if err != nil {
		return nil, err
	}
	if !durable {
		return d, nil
	}
	if err := s.syncPath(dir); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// sameFS reports whether dir is on the file system of the store's root,
// the one that Sync flushes.
func (s *Store) sameFS(dir *os.File) bool {
	var st unix.Stat_t
	err := withFd(dir, func(fd int) error { return unix.Fstat(fd, &st) })
	return err == nil && st.Dev == s.dev
}

// mkdirs creates each missing directory of dir, fsyncing the parent of
// each one it creates if durable. A segment that exists but is a file is
// left for the caller's open to report.
func (s *Store) mkdirs(dir string, durable bool) error {
	for i := 0; i <= len(dir); i++ {
		if i < len(dir) && dir[i] != '/' {
			continue
		}
		p := dir[:i]
		switch err := s.root.Mkdir(p, dirPerm); {
		case err == nil && !durable:
			// Sync makes it durable; until then syncPath must not skip it.
		case err == nil:
			parent, _ := splitKey(p)
			if err := s.syncDir(parent); err != nil {
				return err
			}
			s.durable.add(p)
		case !errors.Is(err, fs.ErrExist):
			return err
		}
	}
	return nil
}

// syncPath makes the entry of each directory of dir durable in its parent,
// unless this process already did so. Directories found existing may have
// just been made by another Put that has not reached its fsync yet, or by a
// process that crashed before it.
func (s *Store) syncPath(dir string) error {
	if dir == "" || s.durable.has(dir) {
		return nil
	}
	for i := 0; i <= len(dir); i++ {
		if i < len(dir) && dir[i] != '/' {
			continue
		}
		p := dir[:i]
		if s.durable.has(p) {
			continue
		}
		parent, _ := splitKey(p)
		if err := s.syncDir(parent); err != nil {
			return err
		}
		s.durable.add(p)
	}
	return nil
}

// dirSet is the set of directories whose entries this process has made
// durable. Its size is capped, so that a long-running server that touches
// every directory of a large archive does not grow without bound; when
// full it starts over, which costs only repeated fsyncs.
type dirSet struct {
	mu sync.Mutex
	m  map[string]struct{}
}

const maxDirSet = 1 << 16

func (d *dirSet) has(dir string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.m[dir]
	return ok
}

func (d *dirSet) add(dir string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= maxDirSet {
		d.m = make(map[string]struct{})
	}
	d.m[dir] = struct{}{}
}

// mkdirSynced creates dir and any missing parent (mode 0700), fsyncing the
// parent of each directory it creates. It runs before the store has a
// root, so it uses plain paths; they are the operator's, not a caller's.
func mkdirSynced(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && fi.IsDir():
		return nil
	case err == nil:
		return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirSynced(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	d, err := os.Open(parent)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// withFd calls fn with f's descriptor, keeping f open meanwhile.
func withFd(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// notExist reports whether err says that a path does not exist, including
// the case where one of its directories is a file.
func notExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

func notFound(key string) error {
	return icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "blob %q does not exist", key)
}
