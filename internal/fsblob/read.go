package fsblob

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"

	"golang.org/x/sys/unix"

	"example.com/icrec"
)

// Blob is an open blob. It is read-only, and safe for use by one goroutine
// at a time, like the file it wraps.
type Blob struct {
	f    *os.File
	info icrec.BlobInfo
}

var (
	_ icrec.Blob  = (*Blob)(nil)
	_ io.ReaderAt = (*Blob)(nil)
	_ io.WriterTo = (*Blob)(nil)
)

func (b *Blob) Read(p []byte) (int, error)                   { return b.f.Read(p) }
func (b *Blob) ReadAt(p []byte, off int64) (int, error)      { return b.f.ReadAt(p, off) }
func (b *Blob) Seek(offset int64, whence int) (int64, error) { return b.f.Seek(offset, whence) }
func (b *Blob) Close() error                                 { return b.f.Close() }

// WriteTo lets io.Copy to a socket use sendfile or splice.
func (b *Blob) WriteTo(w io.Writer) (int64, error) { return b.f.WriteTo(w) }

// Info describes the blob as it was when it was opened.
func (b *Blob) Info() icrec.BlobInfo { return b.info }

// File returns the blob's file, open for reading, so that the HTTP layer
// can hand it to http.ServeContent, which sends an *os.File with sendfile
// and no copy through user space. Closing the Blob closes it.
func (b *Blob) File() *os.File { return b.f }

// Open opens the blob at key; the result is a *Blob. Returns NotFound if
// there is none, and Internal if the file has no valid checksum.
func (s *Store) Open(ctx context.Context, key string) (icrec.Blob, error) {
	f, info, err := s.openKey(ctx, "open", key)
	if err != nil {
		return nil, err
	}
	return &Blob{f: f, info: info}, nil
}

// Stat describes the blob at key. Returns NotFound if there is none, and
// Internal if the file has no valid checksum.
func (s *Store) Stat(ctx context.Context, key string) (icrec.BlobInfo, error) {
	f, info, err := s.openKey(ctx, "stat", key)
	if err != nil {
		return icrec.BlobInfo{}, err
	}
	f.Close()
	return info, nil
}

func (s *Store) openKey(ctx context.Context, op, key string) (*os.File, icrec.BlobInfo, error) {
	if err := icrec.ValidateBlobKey(key); err != nil {
		return nil, icrec.BlobInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, icrec.BlobInfo{}, fmt.Errorf("fsblob: %s %s: %w", op, key, err)
	}
	f, info, err := openIn(s.root, key, key)
	if err != nil {
		if _, ok := err.(*icrec.Error); !ok {
			err = fmt.Errorf("fsblob: %s %s: %w", op, key, err)
		}
		return nil, icrec.BlobInfo{}, err
	}
	return f, info, nil
}

// openIn opens the blob at rel in dir, whose key is key. It returns
// NotFound if there is no file there, and Internal if what is there is not
// a plain file with a valid checksum.
func openIn(dir *os.Root, rel, key string) (*os.File, icrec.BlobInfo, error) {
	// A blob deleted and put again between the steps of tryOpenIn is
	// noticed and read again; trying forever could starve on a key that is
	// rewritten nonstop.
	for range 3 {
		f, info, err := tryOpenIn(dir, rel, key)
		if !errors.Is(err, errReplaced) {
			return f, info, err
		}
	}
	return nil, icrec.BlobInfo{}, fmt.Errorf("blob %q keeps being replaced: %w", key, errReplaced)
}

var errReplaced = errors.New("replaced while it was being opened")

func tryOpenIn(dir *os.Root, rel, key string) (_ *os.File, _ icrec.BlobInfo, err error) {
	f, fi, err := openFile(dir, rel)
	if notExist(err) {
		return nil, icrec.BlobInfo{}, notFound(key)
	} else if err != nil {
		return nil, icrec.BlobInfo{}, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	switch {
	case fi.IsDir():
		return nil, icrec.BlobInfo{}, notFound(key)
	case !fi.Mode().IsRegular():
		return nil, icrec.BlobInfo{}, damaged(key, fmt.Sprintf("is not a plain file but %v", fi.Mode().Type()))
	}
	sum, sumErr := readSum(f, dir, rel, key)

	// os.Root followed a symlink at rel if it stayed inside the root;
	// but the store never makes one, and a sidecar belongs to the name,
	// not to the target. Lstat also shows whether the name still leads to
	// the file opened, so that the sidecar just read is this file's: a
	// blob keeps its name for as long as it exists, and its sidecar is in
	// place before it and removed after it.
	li, err := dir.Lstat(rel)
	switch {
	case notExist(err):
		return nil, icrec.BlobInfo{}, notFound(key) // deleted meanwhile
	case err != nil:
		return nil, icrec.BlobInfo{}, err
	case li.Mode()&fs.ModeSymlink != 0:
		return nil, icrec.BlobInfo{}, damaged(key, "is a symbolic link, not a file")
	case !os.SameFile(fi, li):
		return nil, icrec.BlobInfo{}, errReplaced
	case sumErr != nil:
		return nil, icrec.BlobInfo{}, sumErr
	}
	return f, icrec.BlobInfo{Key: key, Size: fi.Size(), SHA256: sum, ModTime: fi.ModTime()}, nil
}

// openFile opens rel in dir for reading and returns it with its fstat. A
// FIFO planted in the root would block a plain open until some writer
// came, so the file is opened non-blocking, and put back in blocking mode
// once it is known to be a regular file, which the runtime poller does
// not handle anyway.
func openFile(dir *os.Root, rel string) (*os.File, fs.FileInfo, error) {
	f, err := dir.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().IsRegular() {
		err = withFd(f, func(fd int) error { return unix.SetNonblock(fd, false) })
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// readSum returns the checksum stored for the open blob f at rel in dir:
// its attribute if it has one, else its sidecar.
func readSum(f *os.File, dir *os.Root, rel, key string) (string, error) {
	var buf [2*sha256.Size + 1]byte // one byte more, to see one too long
	var n int
	err := withFd(f, func(fd int) error {
		return retryEINTR(func() error {
			var err error
			n, err = unix.Fgetxattr(fd, xattrName, buf[:])
			return err
		})
	})
	switch {
	case err == nil:
		if !isSum(buf[:n]) {
			return "", damaged(key, fmt.Sprintf("has a malformed %s attribute %.80q", xattrName, buf[:n]))
		}
		return string(buf[:n]), nil
	case errors.Is(err, unix.ERANGE):
		return "", damaged(key, fmt.Sprintf("has a malformed %s attribute (too long)", xattrName))
	case !errors.Is(err, unix.ENODATA) && !errors.Is(err, unix.ENOTSUP):
		return "", fmt.Errorf("read %s: %w", xattrName, err)
	}

	dirPath, name := splitKey(rel)
	content, err := readSidecar(dir, path.Join(dirPath, sidecarName(name)))
	if notExist(err) {
		return "", damaged(key, fmt.Sprintf("has no checksum: neither a %s attribute nor a sidecar file %s", xattrName, sidecarName(name)))
	} else if err != nil {
		return "", err
	}
	sum, sidecarFor, ok := parseSidecar(content)
	if !ok || sidecarFor != "" && sidecarFor != name {
		return "", damaged(key, fmt.Sprintf("has a malformed sidecar file %s: %.80q", sidecarName(name), content))
	}
	return sum, nil
}

// isSum reports whether b is a SHA-256 in lower-case hex, as stored.
func isSum(b []byte) bool {
	if len(b) != 2*sha256.Size {
		return false
	}
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// damaged reports a file at key that the store cannot serve as a blob,
// typically one copied in by hand. It is an Internal error: the caller
// can do nothing about it, but the log and fsck show which key and why.
func damaged(key, what string) error {
	return &icrec.Error{Kind: icrec.Internal, Message: fmt.Sprintf("fsblob: blob %q %s", key, what)}
}

// Delete removes the blob at key, then its sidecar if it has one. Returns
// NotFound if there is none.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := icrec.ValidateBlobKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fsblob: delete %s: %w", key, err)
	}
	if err := s.delete(key); err != nil {
		if _, ok := err.(*icrec.Error); !ok {
			err = fmt.Errorf("fsblob: delete %s: %w", key, err)
		}
		return err
	}
	return nil
}

func (s *Store) delete(key string) error {
	if s.sidecar {
		// So that a Put of the same key cannot place its sidecar between
		// the removal of this blob and the removal of this sidecar.
		unlock, err := s.locks.lock(key)
		if err != nil {
			return err
		}
		defer unlock()
	}
	fi, err := s.root.Lstat(key)
	switch {
	case notExist(err):
		return notFound(key)
	case err != nil:
		return err
	case fi.IsDir():
		return notFound(key)
	case !fi.Mode().IsRegular():
		// As Stat reports it: what the store did not make, it leaves for
		// an operator to look at.
		return damaged(key, fmt.Sprintf("is not a plain file but %v", fi.Mode().Type()))
	}
	if err := s.root.Remove(key); notExist(err) {
		return notFound(key)
	} else if err != nil {
		return err
	}
	dirPath, name := splitKey(key)
	// The blob's removal must be durable before the sidecar's: a crash in
	// between then leaves a sidecar without blob (debris for CleanTemp),
	// never a blob without checksum.
	if err := s.syncDir(dirPath); err != nil {
		return err
	}
	// The blob is gone, which is what the caller asked; a sidecar that
	// stays is debris that CleanTemp removes, not a reason to fail.
	s.root.Remove(path.Join(dirPath, sidecarName(name)))
	return nil
}
