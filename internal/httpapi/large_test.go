package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/datadir"
)

// largeSize is the size of the file TestDownloadLargeFile serves: past 2 GiB
// and 4 GiB boundaries would need more disk than CI can spare, and 2.5 GiB
// already crosses the 31-bit one.
const largeSize = 5 << 29 // 2.5 GiB

// TestDownloadLargeFile downloads a 2.5 GiB recording through an export link
// and checks that the server's memory does not grow with the file: the heap
// at its peak during the download stays within a few MiB of the peak
// during the download of a small file.
func TestDownloadLargeFile(t *testing.T) {
	if os.Getenv("ICREC_TEST_LARGE") == "" {
		t.Skip("set ICREC_TEST_LARGE=1 to download a 2.5 GiB file (needs 2.5 GiB of disk; .ci/run does)")
	}
	e := newEnv(t)
	e.seedRecordings()

	// A sparse source file: a WAV header, then holes. The import stores a
	// real copy.
	dir := t.TempDir()
	src := filepath.Join(dir, "long.wav")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(append([]byte("RIFF\xff\xff\xff\xffWAVEfmt "), make([]byte, 28)...))
	if err := f.Truncate(largeSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	const largeID = "0DE0C017-CD4F-D013-8E31-18D8B747000F"
	line, _ := json.Marshal(map[string]any{"recordingId": largeID, "interactionId": "2001", "mediaType": "Call",
		"recordingDate": "20240201T000000Z", "file": "long.wav", "contentType": "audio/wav"})
	lock, err := datadir.TryLock(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := e.archive.Import(t.Context(), bytes.NewReader(line), archive.ImportOptions{Dir: dir}, nil)
	lock.Release()
	if err != nil || sum.Imported != 1 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	os.Remove(src)

	admin := e.login("admin")
	small := peakHeapDuring(t, e, e.mustExport(admin, callID, ""), int64(len(testWAV(50_000))))
	large := peakHeapDuring(t, e, e.mustExport(admin, largeID, ""), largeSize)
	t.Logf("peak heap in use: %d KiB downloading 100 KB, %d KiB downloading 2.5 GiB", small>>10, large>>10)
	if large > small+16<<20 {
		t.Errorf("the heap grew by %d MiB more for the 2.5 GiB download than for the small one", (large-small)>>20)
	}
}

// peakHeapDuring downloads link, checks its length, and returns the largest
// heap in use seen meanwhile.
func peakHeapDuring(t *testing.T, e *env, link string, want int64) uint64 {
	t.Helper()
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
	resp, err := e.client(false).Get(e.srv.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	close(stop)
	wg.Wait()
	if err != nil || n != want || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Length") != strconv.FormatInt(want, 10) {
		t.Fatalf("download: %s, %d bytes of %d, %v", resp.Status, n, want, err)
	}
	return peak.Load()
}
