package fsblob_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"example.com/icrec"
	"example.com/icrec/internal/blobtest"
	"example.com/icrec/internal/fsblob"
)

func mustNew(t testing.TB, root string, opts ...fsblob.Option) *fsblob.Store {
	t.Helper()
	s, err := fsblob.New(root, opts...)
	if err != nil {
		t.Fatalf("New(%q): %v", root, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mustNewXattr returns a store in attribute mode, or skips the test where
// the temp dir's file system has no user extended attributes.
func mustNewXattr(t *testing.T) (*fsblob.Store, string) {
	t.Helper()
	root := t.TempDir()
	s := mustNew(t, root)
	if s.Sidecar() {
		t.Skip("the file system of the test's temp dir has no user extended attributes")
	}
	return s, root
}

// modes runs f for a store in each checksum mode, and in attribute mode
// with Puts staged both ways.
func modes(t *testing.T, f func(t *testing.T, s *fsblob.Store, root string)) {
	t.Run("Xattr", func(t *testing.T) {
		s, root := mustNewXattr(t)
		f(t, s, root)
	})
	t.Run("XattrTmpdir", func(t *testing.T) {
		mustNewXattr(t)
		root := t.TempDir()
		f(t, mustNew(t, root, fsblob.WithoutTmpfile()), root)
	})
	t.Run("Sidecar", func(t *testing.T) {
		root := t.TempDir()
		f(t, mustNew(t, root, fsblob.ForceSidecar()), root)
	})
}

func TestConformance(t *testing.T) {
	t.Run("Xattr", func(t *testing.T) {
		mustNewXattr(t)
		blobtest.Run(t, func(t *testing.T) icrec.BlobStore { return mustNew(t, t.TempDir()) })
	})
	t.Run("Sidecar", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) icrec.BlobStore { return mustNew(t, t.TempDir(), fsblob.ForceSidecar()) })
	})
	// The paths taken where the file system has no O_TMPFILE, and where
	// it also refuses RENAME_NOREPLACE.
	t.Run("Tmpdir", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) icrec.BlobStore { return mustNew(t, t.TempDir(), fsblob.WithoutTmpfile()) })
	})
	t.Run("Link", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) icrec.BlobStore {
			return mustNew(t, t.TempDir(), fsblob.WithoutTmpfile(), fsblob.WithoutRenameat2())
		})
	})
	// What a PutUnsynced makes visible must be what a Put does.
	t.Run("Unsynced", func(t *testing.T) {
		blobtest.Run(t, func(t *testing.T) icrec.BlobStore { return unsynced{mustNew(t, t.TempDir())} })
	})
}

// unsynced is a store whose Put is PutUnsynced.
type unsynced struct{ *fsblob.Store }

func (u unsynced) Put(ctx context.Context, key string, r io.Reader, sha256 string) (icrec.BlobInfo, error) {
	return u.PutUnsynced(ctx, key, r, sha256)
}

// TestStaging checks that this machine takes the fast paths, so that the
// suite above covers them, and that a batch written without fsyncs reads
// back whole after Sync.
func TestStaging(t *testing.T) {
	s, root := mustNewXattr(t)
	if !s.Tmpfile() {
		t.Skip("the file system of the test's temp dir makes no O_TMPFILE files, or /proc is not mounted")
	}
	if !s.Batch() {
		t.Skip("this kernel's syncfs does not report write errors (Linux < 5.8)")
	}
	var infos []icrec.BlobInfo
	for i := range 20 {
		info, err := s.PutUnsynced(t.Context(), fmt.Sprintf("b/%02d/k", i), blobtest.Content(uint64(i), 70<<10), "")
		if err != nil {
			t.Fatalf("PutUnsynced: %v", err)
		}
		infos = append(infos, info)
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	for i, info := range infos {
		want, _ := blobtest.Sum(blobtest.Content(uint64(i), 70<<10))
		if got, err := s.Stat(t.Context(), info.Key); err != nil || got.SHA256 != want || got.Size != 70<<10 {
			t.Errorf("Stat(%s) = %+v, %v; want %d bytes with SHA-256 %s", info.Key, got, err, 70<<10, want)
		}
	}
	if names := dirNames(t, filepath.Join(root, ".tmp")); len(names) != 0 {
		t.Errorf("Puts staged in unnamed files left %q in .tmp", names)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Sync(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Sync with a canceled context = %v, want it to wrap %v", err, context.Canceled)
	}
}

func mustPut(t testing.TB, s icrec.BlobStore, key string, content []byte) icrec.BlobInfo {
	t.Helper()
	info, err := s.Put(context.Background(), key, bytes.NewReader(content), "")
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func wantKind(t *testing.T, err error, k icrec.Kind) {
	t.Helper()
	if got := icrec.ErrorKind(err); err == nil || got != k {
		t.Fatalf("err = %v (kind %v), want kind %v", err, got, k)
	}
}

func wantMode(t *testing.T, path string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode(); got != want {
		t.Errorf("mode of %s = %v, want %v", path, got, want)
	}
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestNew(t *testing.T) {
	t.Run("OKCreatesRoot", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "data", "blobs")
		mustNew(t, root)
		wantMode(t, filepath.Dir(root), fs.ModeDir|0o700)
		wantMode(t, root, fs.ModeDir|0o700)
		wantMode(t, filepath.Join(root, ".tmp"), fs.ModeDir|0o700)
	})
	t.Run("OKReopen", func(t *testing.T) {
		root := t.TempDir()
		info := mustPut(t, mustNew(t, root), "a/k", []byte("kept"))
		got, err := mustNew(t, root).Stat(t.Context(), "a/k")
		if err != nil || got.SHA256 != info.SHA256 {
			t.Errorf("Stat after reopening = %+v, %v; want %+v", got, err, info)
		}
	})
	t.Run("ErrRootIsFile", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(root, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := fsblob.New(root); err == nil {
			t.Error("New on a file: err = nil, want an error")
		}
	})
	t.Run("ErrTmpIsSymlink", func(t *testing.T) {
		root, outside := t.TempDir(), t.TempDir()
		if err := os.Symlink(outside, filepath.Join(root, ".tmp")); err != nil {
			t.Fatal(err)
		}
		if s, err := fsblob.New(root); err == nil {
			s.Close()
			t.Error("New with .tmp a symlink: err = nil, want an error")
		}
		if names := dirNames(t, outside); len(names) != 0 {
			t.Errorf("New wrote %q outside the root", names)
		}
	})
}

func TestLayout(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		modes(t, func(t *testing.T, s *fsblob.Store, root string) {
			info := mustPut(t, s, "a/b/c", []byte("content"))
			wantMode(t, filepath.Join(root, "a"), fs.ModeDir|0o700)
			wantMode(t, filepath.Join(root, "a", "b"), fs.ModeDir|0o700)
			file := filepath.Join(root, "a", "b", "c")
			wantMode(t, file, 0o600)
			if got, err := os.ReadFile(file); err != nil || string(got) != "content" {
				t.Errorf("file of a/b/c holds %q, %v; want %q", got, err, "content")
			}
			sidecar := filepath.Join(root, "a", "b", ".c.sha256")
			if s.Sidecar() {
				wantMode(t, sidecar, 0o600)
				got, err := os.ReadFile(sidecar)
				if want := info.SHA256 + "  c\n"; err != nil || string(got) != want {
					t.Errorf("sidecar holds %q, %v; want %q", got, err, want)
				}
				return
			}
			if _, err := os.Lstat(sidecar); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Lstat of the sidecar in attribute mode: %v, want not-exist", err)
			}
			buf := make([]byte, 100)
			n, err := unix.Getxattr(file, "user.icrec.sha256", buf)
			if err != nil || string(buf[:n]) != info.SHA256 {
				t.Errorf("user.icrec.sha256 = %q, %v; want %q", buf[:n], err, info.SHA256)
			}
		})
	})
}

// TestKeyCollisions covers what a file system cannot do that an object
// store can: hold a and a/b side by side.
func TestKeyCollisions(t *testing.T) {
	t.Run("ErrConflict", func(t *testing.T) {
		modes(t, func(t *testing.T, s *fsblob.Store, root string) {
			mustPut(t, s, "file", []byte("1"))
			_, err := s.Put(t.Context(), "file/below", bytes.NewReader([]byte("2")), "")
			wantKind(t, err, icrec.Conflict)
			mustPut(t, s, "dir/below", []byte("3"))
			_, err = s.Put(t.Context(), "dir", bytes.NewReader([]byte("4")), "")
			wantKind(t, err, icrec.Conflict)
			_, err = s.Stat(t.Context(), "dir")
			wantKind(t, err, icrec.NotFound)
			wantKind(t, s.Delete(t.Context(), "dir"), icrec.NotFound)
			if names := dirNames(t, filepath.Join(root, ".tmp")); len(names) != 0 {
				t.Errorf("failed Puts left %q in .tmp", names)
			}
		})
	})
}

var errBoom = errors.New("boom")

// TestPutFailure checks what the suite cannot see: that a
// failed Put removes its temp file and sidecar, and passes on the cause.
func TestPutFailure(t *testing.T) {
	t.Run("ErrLeavesNothing", func(t *testing.T) {
		modes(t, func(t *testing.T, s *fsblob.Store, root string) {
			content := blobtest.Bytes(1, 3<<20)
			wrongSum, _ := blobtest.Sum(bytes.NewReader([]byte("other")))
			rightSum, _ := blobtest.Sum(bytes.NewReader(content))
			_, err := s.Put(t.Context(), "a/k", bytes.NewReader(content), wrongSum)
			wantKind(t, err, icrec.Invalid)
			if msg := icrec.ErrorMessage(err); !strings.Contains(msg, wrongSum) || !strings.Contains(msg, rightSum) {
				t.Errorf("checksum mismatch message %q does not name both hashes", msg)
			}

			_, err = s.Put(t.Context(), "a/k", io.MultiReader(bytes.NewReader(content), errReader{errBoom}), "")
			if !errors.Is(err, errBoom) {
				t.Errorf("Put from a failing reader: err = %v, want it to wrap %v", err, errBoom)
			}

			ctx, cancel := context.WithCancel(t.Context())
			r := &cancelAfter{r: bytes.NewReader(content), n: 1 << 20, cancel: cancel}
			if _, err = s.Put(ctx, "a/k", r, ""); !errors.Is(err, context.Canceled) {
				t.Errorf("Put canceled half-way: err = %v, want it to wrap %v", err, context.Canceled)
			}
			cancel()

			if s.Tmpfile() {
				// A key taken while the content streams fails the Put at
				// its link, the last step: the winner is kept whole.
				other := filepath.Join(root, "a", "k")
				taken := &atEOF{r: bytes.NewReader(content), f: func() {
					if err := os.WriteFile(other, []byte("winner"), 0o600); err != nil {
						t.Fatal(err)
					}
				}}
				_, err := s.Put(t.Context(), "a/k", taken, "")
				wantKind(t, err, icrec.Conflict)
				if b, err := os.ReadFile(other); err != nil || string(b) != "winner" {
					t.Errorf("the key taken during a Put holds %q, %v; want the winner's content", b, err)
				}
				os.Remove(other)
			} else {
				// The staged file vanishing just before its rename (as if
				// CleanTemp ran when it must not) fails the Put late, after
				// the directory exists and, in sidecar mode, the sidecar is
				// in place.
				vanish := &atEOF{r: bytes.NewReader(content), f: func() {
					for _, name := range dirNames(t, filepath.Join(root, ".tmp")) {
						os.Remove(filepath.Join(root, ".tmp", name))
					}
				}}
				if _, err := s.Put(t.Context(), "a/k", vanish, ""); err == nil {
					t.Error("Put whose staged file vanished: err = nil, want an error")
				}
			}

			if names := dirNames(t, filepath.Join(root, ".tmp")); len(names) != 0 {
				t.Errorf("failed Puts left %q in .tmp", names)
			}
			if _, err := os.Lstat(filepath.Join(root, "a")); err == nil {
				if names := dirNames(t, filepath.Join(root, "a")); len(names) != 0 {
					t.Errorf("failed Puts left %q in a/", names)
				}
			}
		})
	})
}

// TestPutCancel checks that Put notices a canceled context while
// it streams, not only at the end: a canceled upload of a gigabyte must
// not go on reading it.
func TestPutCancel(t *testing.T) {
	t.Run("ErrStopsReading", func(t *testing.T) {
		s := mustNew(t, t.TempDir())
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		const size = 64 << 20
		counted := &countingReader{r: blobtest.Content(1, size)}
		r := &cancelAfter{r: counted, n: 1 << 20, cancel: cancel}
		if _, err := s.Put(ctx, "k", r, ""); !errors.Is(err, context.Canceled) {
			t.Fatalf("Put canceled half-way: err = %v, want it to wrap %v", err, context.Canceled)
		}
		if limit := int64(4 << 20); counted.n > limit {
			t.Errorf("Put read %d bytes, %d after it was canceled at 1 MiB; want at most %d in all", counted.n, counted.n-1<<20, limit)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// atEOF calls f when r reaches its end.
type atEOF struct {
	r    io.Reader
	f    func()
	done bool
}

func (a *atEOF) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if err == io.EOF && !a.done {
		a.done = true
		a.f()
	}
	return n, err
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestCleanTemp(t *testing.T) {
	t.Run("OKTempFiles", func(t *testing.T) {
		modes(t, func(t *testing.T, s *fsblob.Store, root string) {
			info := mustPut(t, s, "a/k", []byte("kept"))
			// What a Put killed mid-write leaves behind.
			tmp := filepath.Join(root, ".tmp")
			if err := os.WriteFile(filepath.Join(tmp, "put-LEFTOVER"), []byte("half a blob"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(tmp, "odd", "dir"), 0o700); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for info, err := range s.List(t.Context(), "") {
				if err != nil {
					t.Fatalf("List: %v", err)
				}
				keys = append(keys, info.Key)
			}
			if want := []string{"a/k"}; !slices.Equal(keys, want) {
				t.Errorf("List with leftovers in .tmp = %q, want %q", keys, want)
			}
			_, err := s.Open(t.Context(), ".tmp/put-LEFTOVER")
			wantKind(t, err, icrec.Invalid)

			n, err := s.CleanTemp(t.Context())
			if err != nil || n != 2 {
				t.Errorf("CleanTemp = %d, %v; want 2, nil", n, err)
			}
			if names := dirNames(t, tmp); len(names) != 0 {
				t.Errorf("after CleanTemp, .tmp holds %q", names)
			}
			if got, err := s.Stat(t.Context(), "a/k"); err != nil || got.SHA256 != info.SHA256 {
				t.Errorf("Stat after CleanTemp = %+v, %v; want %+v", got, err, info)
			}
			if n, err := s.CleanTemp(t.Context()); err != nil || n != 0 {
				t.Errorf("second CleanTemp = %d, %v; want 0, nil", n, err)
			}
			// The store still works: .tmp is still there.
			mustPut(t, s, "a/k2", []byte("new"))
		})
	})
	t.Run("OKOrphanSidecars", func(t *testing.T) {
		root := t.TempDir()
		s := mustNew(t, root, fsblob.ForceSidecar())
		long := strings.Repeat("s", icrec.MaxBlobSegmentLength)
		for _, key := range []string{"a/kept", "a/lost", "l/" + long} {
			mustPut(t, s, key, []byte(key))
		}
		// Blobs gone without their sidecars, as after a crash in Delete,
		// and a sidecar made by hand for a blob that never was.
		for _, p := range []string{"a/lost", "l/" + long} {
			if err := os.Remove(filepath.Join(root, p)); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.MkdirAll(filepath.Join(root, "x"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "x", ".y.sha256"), []byte("whatever"), 0o600); err != nil {
			t.Fatal(err)
		}
		// Dot-files that are not sidecars are none of CleanTemp's business.
		if err := os.WriteFile(filepath.Join(root, "x", ".keep"), nil, 0o600); err != nil {
			t.Fatal(err)
		}

		n, err := s.CleanTemp(t.Context())
		if err != nil || n != 3 {
			t.Errorf("CleanTemp = %d, %v; want 3, nil", n, err)
		}
		if got, want := dirNames(t, filepath.Join(root, "a")), []string{".kept.sha256", "kept"}; !slices.Equal(got, want) {
			t.Errorf("a/ holds %q, want %q", got, want)
		}
		if got := dirNames(t, filepath.Join(root, "l")); len(got) != 0 {
			t.Errorf("l/ holds %q, want nothing", got)
		}
		if got, want := dirNames(t, filepath.Join(root, "x")), []string{".keep"}; !slices.Equal(got, want) {
			t.Errorf("x/ holds %q, want %q", got, want)
		}
		if _, err := s.Stat(t.Context(), "a/kept"); err != nil {
			t.Errorf("Stat(a/kept) after CleanTemp: %v", err)
		}
	})
}

func TestSymlinks(t *testing.T) {
	t.Run("ErrOutsideRoot", func(t *testing.T) {
		modes(t, func(t *testing.T, s *fsblob.Store, root string) {
			outside := t.TempDir()
			secret := filepath.Join(outside, "secret")
			if err := os.WriteFile(secret, []byte("not for icrec"), 0o600); err != nil {
				t.Fatal(err)
			}
			// The checksum too, so that only containment stops a read.
			sum, _ := blobtest.Sum(strings.NewReader("not for icrec"))
			unix.Setxattr(secret, "user.icrec.sha256", []byte(sum), 0)
			os.WriteFile(filepath.Join(outside, ".secret.sha256"), []byte(sum+"  secret\n"), 0o600)
			rel, err := filepath.Rel(root, outside)
			if err != nil {
				t.Fatal(err)
			}
			for _, link := range []struct{ name, target string }{
				{"recordings", outside},
				{"relative", rel},
				{"leak", secret},
			} {
				if err := os.Symlink(link.target, filepath.Join(root, link.name)); err != nil {
					t.Fatal(err)
				}
			}
			before := dirNames(t, outside)

			for _, key := range []string{"recordings/new", "relative/new", "recordings/sub/new", "leak"} {
				if _, err := s.Put(t.Context(), key, strings.NewReader("escaped"), ""); err == nil {
					t.Errorf("Put(%q) through a symlink out of the root: err = nil, want an error", key)
				}
			}
			for _, key := range []string{"recordings/secret", "relative/secret", "leak"} {
				if b, err := s.Open(t.Context(), key); err == nil {
					got, _ := io.ReadAll(b)
					b.Close()
					t.Errorf("Open(%q) read %q from outside the root", key, got)
				}
				if info, err := s.Stat(t.Context(), key); err == nil {
					t.Errorf("Stat(%q) = %+v from outside the root, want an error", key, info)
				}
				if err := s.Delete(t.Context(), key); err == nil {
					t.Errorf("Delete(%q) of a symlink out of the root: err = nil, want an error", key)
				}
			}
			for info, err := range s.List(t.Context(), "") {
				if err == nil {
					t.Errorf("List yields %+v from outside the root", info)
				}
			}
			if got, err := os.ReadFile(secret); err != nil || string(got) != "not for icrec" {
				t.Errorf("the file outside the root holds %q, %v; want it unchanged", got, err)
			}
			if after := dirNames(t, outside); !slices.Equal(after, before) {
				t.Errorf("outside the root: %q, want %q", after, before)
			}
			if names := dirNames(t, filepath.Join(root, ".tmp")); len(names) != 0 {
				t.Errorf("failed Puts left %q in .tmp", names)
			}
		})
	})
	// A symlink that stays inside the root is not served either: the
	// store never makes one, and a sidecar goes with a name, not with
	// what it points to.
	t.Run("ErrInsideRoot", func(t *testing.T) {
		modes(t, func(t *testing.T, s *fsblob.Store, root string) {
			mustPut(t, s, "a/real", []byte("content"))
			if err := os.Symlink("real", filepath.Join(root, "a", "alias")); err != nil {
				t.Fatal(err)
			}
			_, err := s.Stat(t.Context(), "a/alias")
			wantKind(t, err, icrec.Internal)
			if !strings.Contains(err.Error(), "a/alias") || !strings.Contains(err.Error(), "symbolic link") {
				t.Errorf("Stat of a symlink: %q, want it to name the key and say what is wrong", err)
			}
			_, err = s.Open(t.Context(), "a/alias")
			wantKind(t, err, icrec.Internal)
		})
	})
}

// TestDamaged covers blobs whose checksum is missing or malformed, as
// when someone copies files into the root by hand.
func TestDamaged(t *testing.T) {
	damage := []struct {
		name    string
		sidecar bool
		// harm damages the blob in file, whose sidecar is sidecar.
		harm func(file, sidecar string) error
		want string // in the error
	}{
		{"ErrXattrRemoved", false, func(file, _ string) error { return unix.Removexattr(file, "user.icrec.sha256") }, "no checksum"},
		{"ErrXattrMalformed", false, func(file, _ string) error {
			return unix.Setxattr(file, "user.icrec.sha256", []byte("ABCDEF"), 0)
		}, "malformed"},
		{"ErrSidecarRemoved", true, func(_, sidecar string) error { return os.Remove(sidecar) }, "no checksum"},
		{"ErrSidecarMalformed", true, func(_, sidecar string) error {
			return os.WriteFile(sidecar, []byte("not a checksum\n"), 0o600)
		}, "malformed"},
		{"ErrSidecarOfAnother", true, func(_, sidecar string) error {
			return os.WriteFile(sidecar, []byte(strings.Repeat("0", 64)+"  other\n"), 0o600)
		}, "malformed"},
	}
	for _, d := range damage {
		t.Run(d.name, func(t *testing.T) {
			var (
				s    *fsblob.Store
				root string
			)
			if d.sidecar {
				root = t.TempDir()
				s = mustNew(t, root, fsblob.ForceSidecar())
			} else {
				s, root = mustNewXattr(t)
			}
			mustPut(t, s, "a/k", []byte("content"))
			if err := d.harm(filepath.Join(root, "a", "k"), filepath.Join(root, "a", ".k.sha256")); err != nil {
				t.Fatal(err)
			}
			wantDamaged(t, s, "a/k", d.want)
		})
	}
	t.Run("ErrCopiedIn", func(t *testing.T) {
		modes(t, func(t *testing.T, s *fsblob.Store, root string) {
			if err := os.MkdirAll(filepath.Join(root, "hand"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "hand", "made"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			wantDamaged(t, s, "hand/made", "no checksum")
		})
	})
	t.Run("ErrFIFO", func(t *testing.T) {
		modes(t, func(t *testing.T, s *fsblob.Store, root string) {
			// Opening a FIFO for reading would block until a writer came.
			if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o600); err != nil {
				t.Fatal(err)
			}
			wantDamaged(t, s, "fifo", "not a plain file")
		})
	})
}

// wantDamaged fails the test unless Stat, Open and List report key as an
// Internal error that names it and contains want.
func wantDamaged(t *testing.T, s *fsblob.Store, key, want string) {
	t.Helper()
	check := func(what string, err error) {
		t.Helper()
		wantKind(t, err, icrec.Internal)
		if msg := err.Error(); !strings.Contains(msg, key) || !strings.Contains(msg, want) {
			t.Errorf("%s: %q, want it to name %q and say %q", what, msg, key, want)
		}
	}
	_, err := s.Stat(t.Context(), key)
	check("Stat", err)
	b, err := s.Open(t.Context(), key)
	if err == nil {
		b.Close()
	}
	check("Open", err)
	seen := false
	for info, err := range s.List(t.Context(), "") {
		if info.Key == key {
			seen = true
			check("List", err)
		}
	}
	if !seen {
		t.Errorf("List does not report %q", key)
	}
}

// TestConcurrentStores has two stores on one root, as the server and an
// import process would: in sidecar mode they must exclude each other
// through the lock file, not only through in-process locks.
func TestConcurrentStores(t *testing.T) {
	t.Run("OKOneWins", func(t *testing.T) {
		root := t.TempDir()
		stores := []*fsblob.Store{mustNew(t, root, fsblob.ForceSidecar()), mustNew(t, root, fsblob.ForceSidecar())}
		for round := range 20 {
			key := "race/" + string(rune('a'+round))
			const writers = 8
			errs := make([]error, writers)
			var wg sync.WaitGroup
			for i := range writers {
				wg.Go(func() {
					_, errs[i] = stores[i%2].Put(t.Context(), key, blobtest.Content(uint64(i+1), 64<<10), "")
				})
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("%s: writers %d and %d both won", key, winner, i)
					}
					winner = i
				} else if !icrec.IsKind(err, icrec.Conflict) {
					t.Fatalf("%s: writer %d: %v, want Conflict", key, i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("%s: no writer won: %v", key, errs)
			}
			want, _ := blobtest.Sum(blobtest.Content(uint64(winner+1), 64<<10))
			for _, s := range stores {
				info, err := s.Stat(t.Context(), key)
				if err != nil || info.SHA256 != want {
					t.Fatalf("%s: Stat = %+v, %v; want SHA-256 %s of writer %d", key, info, err, want, winner)
				}
			}
		}
	})
}

// TestBlobFile checks that the HTTP layer can serve a blob's file with
// http.ServeContent, which sends an *os.File without copying it, Range
// requests included.
func TestBlobFile(t *testing.T) {
	t.Run("OKServeContentRange", func(t *testing.T) {
		s := mustNew(t, t.TempDir())
		content := blobtest.Bytes(1, 100_000)
		info := mustPut(t, s, "a/k", content)
		b, err := s.Open(t.Context(), "a/k")
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		fb, ok := b.(*fsblob.Blob)
		if !ok {
			t.Fatalf("Open returned a %T, want a *fsblob.Blob", b)
		}
		req := httptest.NewRequest(http.MethodGet, "/media", nil)
		req.Header.Set("Range", "bytes=1000-1999")
		w := httptest.NewRecorder()
		http.ServeContent(w, req, "k", info.ModTime, fb.File())
		if got, want := w.Code, http.StatusPartialContent; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got := w.Body.Bytes(); !bytes.Equal(got, content[1000:2000]) {
			t.Errorf("range 1000-1999: got %d bytes that differ from the content", len(got))
		}
	})
}

// TestPutMemory checks that Put streams: storing 256 MiB may allocate
// only a few MiB in all, whatever the size.
func TestPutMemory(t *testing.T) {
	t.Run("OKBounded", func(t *testing.T) {
		if testing.Short() {
			t.Skip("writes 256 MiB")
		}
		s := mustNew(t, t.TempDir())
		const size = 256 << 20
		mustPut(t, s, "warm-up", []byte("x")) // pools and lazily made state
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		info, err := s.Put(t.Context(), "big", blobtest.Content(1, size), "")
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("Put of 256 MiB: %v", err)
		}
		if info.Size != size {
			t.Fatalf("Put of 256 MiB stored %d bytes", info.Size)
		}
		const limit = 4 << 20
		if got := after.TotalAlloc - before.TotalAlloc; got > limit {
			t.Errorf("Put of 256 MiB allocated %d bytes, want at most %d", got, limit)
		}
		t.Logf("Put of 256 MiB allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
	})
}
