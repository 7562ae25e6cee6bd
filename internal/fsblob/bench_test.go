package fsblob_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"example.com/icrec/internal/blobtest"
	"example.com/icrec/internal/fsblob"
)

// BenchmarkPut measures Put against the least that a durable write of the
// same bytes costs: write, fsync, rename and fsync of the directory, with
// the os package alone. Each iteration does both, in turns, so that both
// meet the same disk: a disk's speed drifts far more from one second to
// the next than the two differ. ns/op is Put's; baseline-ns/op is the plain
// write's, and x-baseline the ratio of the two.
//
//	go test ./internal/fsblob -run '^$' -bench Put -count 6
func BenchmarkPut(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{
		{"50KB", 50_000},
		{"64MiB", 64 << 20},
	} {
		content := blobtest.Bytes(1, size.n)
		b.Run(size.name+"/xattr", func(b *testing.B) { benchPut(b, content) })
		b.Run(size.name+"/sidecar", func(b *testing.B) { benchPut(b, content, fsblob.ForceSidecar()) })
	}
}

func benchPut(b *testing.B, content []byte, opts ...fsblob.Option) {
	root := b.TempDir()
	storeRoot := filepath.Join(root, "store")
	s := mustNew(b, storeRoot, opts...)
	base := newBaseline(b, filepath.Join(root, "baseline"))
	b.SetBytes(int64(len(content)))
	var baseline time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		name := fmt.Sprint(n)
		// Alternate which goes first, so that neither always meets the
		// other's writeback.
		if n%2 == 1 {
			baseline += base.write(b, name, content)
		}
		b.StartTimer()
		if _, err := s.Put(b.Context(), "blobs/"+name, bytes.NewReader(content), ""); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n%2 == 0 {
			baseline += base.write(b, name, content)
		}
		// Keep the disk use flat, the same way for both.
		removeBlob(b, filepath.Join(storeRoot, "blobs"), name)
		removeBlob(b, base.dir, name)
		b.StartTimer()
		n++
	}
	b.ReportMetric(float64(baseline.Nanoseconds())/float64(n), "baseline-ns/op")
	b.ReportMetric(float64(b.Elapsed())/float64(baseline), "x-baseline")
}

type baseline struct{ tmp, dir string }

func newBaseline(b *testing.B, root string) *baseline {
	base := &baseline{tmp: filepath.Join(root, "tmp"), dir: filepath.Join(root, "blobs")}
	for _, d := range []string{root, base.tmp, base.dir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			b.Fatal(err)
		}
	}
	return base
}

// write is the least a crash-safe write can do; it returns how long it
// took.
func (base *baseline) write(b *testing.B, name string, content []byte) time.Duration {
	start := time.Now()
	tmp := filepath.Join(base.tmp, name)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.Write(content); err != nil {
		b.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(base.dir, name)); err != nil {
		b.Fatal(err)
	}
	d, err := os.Open(base.dir)
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		b.Fatal(err)
	}
	d.Close()
	return time.Since(start)
}

func removeBlob(b *testing.B, dir, name string) {
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		b.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "."+name+".sha256"))
}

// BenchmarkPutBatch measures what an import of small recordings pays for a
// batch of 64: a PutUnsynced of each and one Sync, against 64 Puts, in
// turns within each iteration (see BenchmarkPut for why). ns/op is the
// batch's, put-ns/op the 64 Puts', and speedup the second over the first.
//
//	go test ./internal/fsblob -run '^$' -bench PutBatch -count 6
func BenchmarkPutBatch(b *testing.B) {
	const batch = 64
	content := blobtest.Bytes(1, 50_000)
	root := filepath.Join(b.TempDir(), "store")
	s := mustNew(b, root)
	// Spread over directories, as recordings' media keys are.
	key := func(set, i int) string { return fmt.Sprintf("s%d/%02x/%d", set, i%256, i) }
	put := func(set int, f func(string) error) time.Duration {
		start := time.Now()
		for i := range batch {
			if err := f(key(set, i)); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	putEach := func(k string) error { _, err := s.Put(b.Context(), k, bytes.NewReader(content), ""); return err }
	putUnsynced := func(k string) error {
		_, err := s.PutUnsynced(b.Context(), k, bytes.NewReader(content), "")
		return err
	}
	var puts time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		if n%2 == 0 {
			puts += put(0, putEach)
		}
		b.StartTimer()
		put(1, putUnsynced)
		if err := s.Sync(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n%2 == 1 {
			puts += put(0, putEach)
		}
		for set := range 2 {
			for i := range batch {
				if err := s.Delete(b.Context(), key(set, i)); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StartTimer()
		n++
	}
	b.ReportMetric(float64(puts.Nanoseconds())/float64(n), "put-ns/op")
	b.ReportMetric(float64(puts)/float64(b.Elapsed()), "speedup")
}
