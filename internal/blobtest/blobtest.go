// Package blobtest is the conformance suite for implementations of
// icrec.BlobStore. Every backend runs it from its own tests, so that the
// backends keep the contract in step:
//
//	func TestStore(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) icrec.BlobStore {
//			return mustOpen(t) // a new, empty store, released by t.Cleanup
//		})
//	}
//
// What the suite takes as given, beyond the interface documentation:
//
//   - Errors of kind Invalid, NotFound and Conflict are *icrec.Error values
//     with a caller-safe Message, since the HTTP layer shows it to the
//     client.
//   - Put, Open, Stat and List describe a blob the same way, ModTime
//     included (compared with time.Time.Equal): a backend that learns the
//     time from its server must return that time from Put as well.
//   - A declared sha256 that is not 64 hex digits makes Put return
//     Invalid: no content has that hash.
//
// Beyond these, the suite tests only what the interface documents. It
// never stores both a and a/b, which a file system cannot hold side by
// side, and knows nothing of files, so that an S3 store can run it as it
// is.
//
// The suite writes one blob of 64 MiB, streamed from Content and never
// held in memory, and about 10 MiB more in all.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec"
)

// Run runs the suite. open must return a new, empty store for each call,
// and release it when the test that called it ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("Put", func(t *testing.T) { testPut(t, open) })
	t.Run("PutChecksum", func(t *testing.T) { testPutChecksum(t, open) })
	t.Run("PutExisting", func(t *testing.T) { testPutExisting(t, open) })
	t.Run("PutConcurrent", func(t *testing.T) { testPutConcurrent(t, open) })
	t.Run("PutAbandoned", func(t *testing.T) { testPutAbandoned(t, open) })
	t.Run("PutLarge", func(t *testing.T) { testPutLarge(t, open) })
	t.Run("Open", func(t *testing.T) { testOpen(t, open) })
	t.Run("Stat", func(t *testing.T) { testStat(t, open) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open) })
	t.Run("List", func(t *testing.T) { testList(t, open) })
	t.Run("InvalidKey", func(t *testing.T) { testInvalidKey(t, open) })
}

func testPut(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		// Sizes around the chunk sizes that stores are likely to use.
		for i, size := range []int{1, 1000, 4096, 1<<16 + 1, 1 << 18, 1<<20 + 3} {
			key := fmt.Sprintf("put/ok/%d", size)
			want := Bytes(uint64(i+1), size)
			info := mustPut(t, s, key, want)
			checkInfo(t, "Put", info, key, want)
			wantContent(t, s, key, want, info)
		}
	})
	t.Run("OKEmpty", func(t *testing.T) {
		s := open(t)
		info := mustPut(t, s, "empty", nil)
		checkInfo(t, "Put", info, "empty", nil)
		wantContent(t, s, "empty", nil, info)
	})
	t.Run("OKKeyShapes", func(t *testing.T) {
		s := open(t)
		// One segment, deep paths, every allowed character, a dot that
		// does not start a segment, and the longest segment.
		keys := []string{
			"top",
			"a/b/c/d/e/f/g/h",
			"Az09._-/x",
			"recordings/ab/cd/abcd.wav",
			strings.Repeat("s", icrec.MaxBlobSegmentLength),
		}
		for i, key := range keys {
			want := Bytes(uint64(100+i), 100)
			info := mustPut(t, s, key, want)
			wantContent(t, s, key, want, info)
		}
	})
}

func testPutChecksum(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("OKDeclared", func(t *testing.T) {
		s := open(t)
		content := Bytes(1, 5000)
		info, err := s.Put(t.Context(), "k", bytes.NewReader(content), sumOf(content))
		if err != nil {
			t.Fatalf("Put with the right checksum: %v", err)
		}
		checkInfo(t, "Put", info, "k", content)
		wantContent(t, s, "k", content, info)
	})
	t.Run("ErrMismatch", func(t *testing.T) {
		s := open(t)
		content := Bytes(1, 5000)
		_, err := s.Put(t.Context(), "k", bytes.NewReader(content), sumOf(Bytes(2, 5000)))
		wantKind(t, err, icrec.Invalid)
		if e, _ := errors.AsType[*icrec.Error](err); e.ID != icrec.IDChecksumMismatch {
			t.Errorf("ID of %q = %q, want %q", err, e.ID, icrec.IDChecksumMismatch)
		}
		wantAbsent(t, s, "k")
		// Nothing left behind may stand in the way of the right content.
		info := mustPut(t, s, "k", content)
		wantContent(t, s, "k", content, info)
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		s := open(t)
		for _, declared := range []string{"xyz", sumOf(nil)[:63], sumOf(nil) + "0", strings.Repeat("g", 64)} {
			_, err := s.Put(t.Context(), "k", bytes.NewReader(nil), declared)
			wantKind(t, err, icrec.Invalid)
			wantAbsent(t, s, "k")
		}
	})
}

func testPutExisting(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		old := Bytes(1, 3000)
		first := mustPut(t, s, "a/k", old)
		for _, content := range [][]byte{Bytes(2, 3000), Bytes(3, 10), nil, old} {
			_, err := s.Put(t.Context(), "a/k", bytes.NewReader(content), "")
			wantKind(t, err, icrec.Conflict)
		}
		wantContent(t, s, "a/k", old, first)
	})
}

func testPutConcurrent(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("OKOneWins", func(t *testing.T) {
		s := open(t)
		const writers, size = 16, 256 << 10
		// Each writer's first Read waits (briefly, in case a store
		// serialises Puts) until every writer has started, so that all of
		// them are past any early existence check when the first finishes.
		var started atomic.Int32
		allStarted := make(chan struct{})
		gate := func() {
			if started.Add(1) == writers {
				close(allStarted)
			}
			select {
			case <-allStarted:
			case <-time.After(2 * time.Second):
			}
		}
		infos := make([]icrec.BlobInfo, writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				r := &gatedReader{r: Content(uint64(i+1), size), gate: gate}
				infos[i], errs[i] = s.Put(t.Context(), "race/k", r, "")
			})
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("writers %d and %d both stored race/k", winner, i)
			case err == nil:
				winner = i
			default:
				wantKind(t, err, icrec.Conflict)
			}
		}
		if winner < 0 {
			t.Fatalf("no writer stored race/k; errors: %v", errs)
		}
		wantContent(t, s, "race/k", Bytes(uint64(winner+1), size), infos[winner])
	})
}

type gatedReader struct {
	r    io.Reader
	gate func()
	once sync.Once
}

func (g *gatedReader) Read(p []byte) (int, error) {
	g.once.Do(g.gate)
	return g.r.Read(p)
}

var errReader = errors.New("blobtest: the reader failed")

func testPutAbandoned(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("ErrReaderFails", func(t *testing.T) {
		s := open(t)
		r := io.MultiReader(Content(1, 1<<20), iotestErrReader{errReader})
		if _, err := s.Put(t.Context(), "k", r, ""); err == nil {
			t.Fatal("Put from a reader that fails half-way: err = nil, want an error")
		}
		wantAbsent(t, s, "k")
		info := mustPut(t, s, "k", Bytes(2, 10))
		wantContent(t, s, "k", Bytes(2, 10), info)
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		// The reader cancels after 1 MiB and then goes on: a store that
		// ignored ctx would store all 8 MiB.
		r := &cancelingReader{r: Content(1, 8<<20), after: 1 << 20, cancel: cancel}
		if _, err := s.Put(ctx, "k", r, ""); err == nil {
			t.Fatal("Put whose context is canceled half-way: err = nil, want an error")
		}
		wantAbsent(t, s, "k")
	})
	t.Run("ErrCanceledBefore", func(t *testing.T) {
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Put(ctx, "k", bytes.NewReader(Bytes(1, 10)), ""); err == nil {
			t.Fatal("Put with a canceled context: err = nil, want an error")
		}
		wantAbsent(t, s, "k")
	})
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

type cancelingReader struct {
	r      io.Reader
	after  int64
	read   int64
	cancel func()
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.read += int64(n); c.read >= c.after {
		c.cancel()
	}
	return n, err
}

func testPutLarge(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("OK64MiB", func(t *testing.T) {
		s := open(t)
		const size = 64 << 20
		want, err := Sum(Content(7, size))
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Put(t.Context(), "large", Content(7, size), want)
		if err != nil {
			t.Fatalf("Put of 64 MiB: %v", err)
		}
		if info.Size != size || info.SHA256 != want {
			t.Errorf("Put of 64 MiB: size %d, SHA-256 %s; want %d, %s", info.Size, info.SHA256, size, want)
		}
		checkSame(t, "Stat", mustStat(t, s, "large"), info)
		b, err := s.Open(t.Context(), "large")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer b.Close()
		got, err := Sum(b)
		if err != nil {
			t.Fatalf("reading the blob: %v", err)
		}
		if got != want {
			t.Errorf("SHA-256 of the content read back = %s, want %s", got, want)
		}
	})
}
