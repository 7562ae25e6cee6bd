package fsblob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path"
	"slices"
	"strings"

	"example.com/icrec"
)

// List yields every blob whose key starts with prefix, in key order
// (byte-wise, as strings compare). It skips dot-entries (.tmp and sidecars)
// and names that are not valid keys, which the store cannot have made. A
// file that cannot be served as a blob (see Stat) is yielded as its error,
// with the key in the BlobInfo, and the listing goes on if the caller does;
// any other error ends the listing.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[icrec.BlobInfo, error] {
	return func(yield func(icrec.BlobInfo, error) bool) {
		s.listDir(ctx, s.root, "", prefix, yield)
	}
}

// listDir lists the directory dir, whose key prefix is dirPath, and
// reports whether the caller still wants more.
func (s *Store) listDir(ctx context.Context, dir *os.Root, dirPath, prefix string, yield func(icrec.BlobInfo, error) bool) bool {
	entries, err := readDir(dir)
	if err != nil {
		yield(icrec.BlobInfo{}, fmt.Errorf("fsblob: list %s: %w", dirName(dirPath), err))
		return false
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			yield(icrec.BlobInfo{}, fmt.Errorf("fsblob: list: %w", err))
			return false
		}
		key := path.Join(dirPath, e.name)
		if len(key) > icrec.MaxBlobKeyLength {
			continue // too deep to be a key
		}
		if !e.dir {
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			f, info, err := openIn(dir, e.name, key)
			switch {
			case icrec.IsKind(err, icrec.NotFound):
				continue // deleted since readDir, or a symlink to a directory
			case err == nil:
				f.Close()
			default:
				if _, ok := err.(*icrec.Error); !ok {
					err = fmt.Errorf("fsblob: list %s: %w", key, err)
				}
				info = icrec.BlobInfo{Key: key}
			}
			if !yield(info, err) {
				return false
			}
			continue
		}
		// Descend only where keys with the prefix can be.
		if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
			continue
		}
		sub, err := dir.OpenRoot(e.name)
		if notExist(err) {
			continue
		} else if err != nil {
			yield(icrec.BlobInfo{}, fmt.Errorf("fsblob: list %s: %w", key, err))
			return false
		}
		more := s.listDir(ctx, sub, key, prefix, yield)
		sub.Close()
		if !more {
			return false
		}
	}
	return true
}

type dirEntry struct {
	name string
	dir  bool
	// sortKey is name, with "/" appended for a directory, so that sorting
	// entries by it puts keys in order: "a/b-c" < "a/b.d" < "a/b/c" since
	// '-' < '.' < '/', though the directory b sorts before b-c by name.
	sortKey string
}

// readDir returns the entries of dir that can hold blobs, in key order:
// it leaves out dot-entries and names that are not valid key segments.
func readDir(dir *os.Root) ([]dirEntry, error) {
	d, err := dir.Open(".")
	if err != nil {
		return nil, err
	}
	des, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	entries := make([]dirEntry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		if icrec.ValidateBlobKey(name) != nil {
			continue // a dot-entry, or not something a key can name
		}
		e := dirEntry{name: name, dir: de.IsDir(), sortKey: name}
		if e.dir {
			e.sortKey += "/"
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b dirEntry) int { return cmp.Compare(a.sortKey, b.sortKey) })
	return entries, nil
}

// CleanTemp removes every staged write in root/.tmp and every sidecar
// whose blob does not exist: what a crash in Put, or in Delete, leaves
// behind. It returns how many entries it removed. It must not run while a
// Put may be running (see icrec.TempCleaner). Its removals are not
// fsynced: debris that a crash brings back is removed by the next run.
func (s *Store) CleanTemp(ctx context.Context) (int, error) {
	removed := 0
	d, err := s.tmp.Open(".")
	if err != nil {
		return 0, fmt.Errorf("fsblob: clean %s: %w", tmpDir, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return 0, fmt.Errorf("fsblob: clean %s: %w", tmpDir, err)
	}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return removed, fmt.Errorf("fsblob: clean: %w", err)
		}
		if err := s.tmp.RemoveAll(name); err != nil {
			return removed, fmt.Errorf("fsblob: clean %s: %w", tmpDir, err)
		}
		removed++
	}
	n, err := s.cleanSidecars(ctx, s.root, "")
	removed += n
	if err != nil {
		return removed, fmt.Errorf("fsblob: clean: %w", err)
	}
	return removed, nil
}

// cleanSidecars removes the sidecars without blob in dir (whose key
// prefix is dirPath) and below.
func (s *Store) cleanSidecars(ctx context.Context, dir *os.Root, dirPath string) (int, error) {
	d, err := dir.Open(".")
	if err != nil {
		return 0, err
	}
	des, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return 0, err
	}
	removed := 0
	for _, de := range des {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		name := de.Name()
		if de.IsDir() {
			if icrec.ValidateBlobKey(name) != nil {
				continue // .tmp, or not made by the store
			}
			sub, err := dir.OpenRoot(name)
			if err != nil {
				return removed, err
			}
			n, err := s.cleanSidecars(ctx, sub, path.Join(dirPath, name))
			sub.Close()
			removed += n
			if err != nil {
				return removed, err
			}
			continue
		}
		blob, ok := sidecarBlob(dir, name)
		if !ok {
			continue
		}
		n, err := s.removeOrphan(dir, name, path.Join(dirPath, blob))
		removed += n
		if err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// removeOrphan removes the sidecar name in dir if the blob key it belongs
// to does not exist, and returns how many files it removed.
func (s *Store) removeOrphan(dir *os.Root, name, key string) (int, error) {
	if s.locks != nil {
		// No Put should be running, but one that is would be between
		// placing this sidecar and its blob.
		unlock, err := s.locks.lock(key)
		if err != nil {
			return 0, err
		}
		defer unlock()
	}
	_, blob := splitKey(key)
	fi, err := dir.Lstat(blob)
	switch {
	case err == nil && !fi.IsDir():
		return 0, nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return 0, err
	}
	if err := dir.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	return 1, nil
}
