package blobtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"

	"example.com/icrec"
	"example.com/icrec/internal/testutil"
)

func sumOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func mustPut(t *testing.T, s icrec.BlobStore, key string, content []byte) icrec.BlobInfo {
	t.Helper()
	info, err := s.Put(t.Context(), key, bytes.NewReader(content), "")
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

func mustStat(t *testing.T, s icrec.BlobStore, key string) icrec.BlobInfo {
	t.Helper()
	info, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	return info
}

// checkInfo fails the test unless info describes content stored at key.
func checkInfo(t *testing.T, what string, info icrec.BlobInfo, key string, content []byte) {
	t.Helper()
	if got, want := info.Key, key; got != want {
		t.Errorf("%s: Key = %q, want %q", what, got, want)
	}
	if got, want := info.Size, int64(len(content)); got != want {
		t.Errorf("%s(%q): Size = %d, want %d", what, key, got, want)
	}
	if got, want := info.SHA256, sumOf(content); got != want {
		t.Errorf("%s(%q): SHA256 = %q, want %q", what, key, got, want)
	}
	if info.ModTime.IsZero() {
		t.Errorf("%s(%q): ModTime is zero", what, key)
	}
}

// checkSame fails the test unless got and want describe a blob the same
// way.
func checkSame(t *testing.T, what string, got, want icrec.BlobInfo) {
	t.Helper()
	if got.Key != want.Key || got.Size != want.Size || got.SHA256 != want.SHA256 || !got.ModTime.Equal(want.ModTime) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// wantContent fails the test unless the blob at key has content, and
// Open, Stat and List describe it as info.
func wantContent(t *testing.T, s icrec.BlobStore, key string, content []byte, info icrec.BlobInfo) {
	t.Helper()
	b, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer b.Close()
	checkSame(t, "Open("+key+").Info()", b.Info(), info)
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("reading %q: %v", key, err)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("content of %q: %d bytes with SHA-256 %s, want %d bytes with SHA-256 %s", key, len(got), sumOf(got), len(content), sumOf(content))
	}
	checkSame(t, "Stat("+key+")", mustStat(t, s, key), info)
	listed := false
	for li, err := range s.List(t.Context(), key) {
		if err != nil {
			t.Fatalf("List(%q): %v", key, err)
		}
		if li.Key == key {
			listed = true
			checkSame(t, "List("+key+")", li, info)
		}
	}
	if !listed {
		t.Errorf("List(%q) does not yield %q", key, key)
	}
}

// wantAbsent fails the test unless there is no blob at key.
func wantAbsent(t *testing.T, s icrec.BlobStore, key string) {
	t.Helper()
	_, err := s.Stat(t.Context(), key)
	wantKind(t, err, icrec.NotFound)
	b, err := s.Open(t.Context(), key)
	if err == nil {
		b.Close()
	}
	wantKind(t, err, icrec.NotFound)
	for info, err := range s.List(t.Context(), key) {
		if err != nil {
			t.Fatalf("List(%q): %v", key, err)
		}
		if info.Key == key {
			t.Errorf("List(%q) yields %q, which should not exist", key, key)
		}
	}
}

func listKeys(t *testing.T, s icrec.BlobStore, prefix string) []string {
	t.Helper()
	var keys []string
	for info, err := range s.List(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

var wantKind = testutil.WantKind
