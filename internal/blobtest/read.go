package blobtest

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"example.com/icrec"
)

func testOpen(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("OKSeek", func(t *testing.T) {
		s := open(t)
		content := Bytes(5, 10000)
		mustPut(t, s, "k", content)
		b, err := s.Open(t.Context(), "k")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer b.Close()
		steps := []struct {
			offset  int64
			whence  int
			wantPos int64
		}{
			{100, io.SeekStart, 100},
			{50, io.SeekCurrent, 160}, // after reading 10 bytes at 100
			{-10, io.SeekCurrent, 160},
			{-10, io.SeekEnd, 9990},
			{0, io.SeekStart, 0},
		}
		for _, st := range steps {
			pos, err := b.Seek(st.offset, st.whence)
			if err != nil {
				t.Fatalf("Seek(%d, %d): %v", st.offset, st.whence, err)
			}
			if got, want := pos, st.wantPos; got != want {
				t.Fatalf("Seek(%d, %d) = %d, want %d", st.offset, st.whence, got, want)
			}
			got := make([]byte, 10)
			if _, err := io.ReadFull(b, got); err != nil {
				t.Fatalf("Read after Seek(%d, %d): %v", st.offset, st.whence, err)
			}
			if want := content[pos : pos+10]; !bytes.Equal(got, want) {
				t.Fatalf("Read after Seek(%d, %d) = %x, want %x", st.offset, st.whence, got, want)
			}
		}
		if _, err := b.Seek(0, io.SeekEnd); err != nil {
			t.Fatalf("Seek to the end: %v", err)
		}
		if n, err := b.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("Read at the end = %d, %v; want 0, EOF", n, err)
		}
	})
	t.Run("OKIndependentReaders", func(t *testing.T) {
		s := open(t)
		content := Bytes(6, 1000)
		mustPut(t, s, "k", content)
		b1, err := s.Open(t.Context(), "k")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer b1.Close()
		b2, err := s.Open(t.Context(), "k")
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer b2.Close()
		if _, err := b1.Seek(500, io.SeekStart); err != nil {
			t.Fatalf("Seek: %v", err)
		}
		got, err := io.ReadAll(b2)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("second reader read %d bytes, %v; want all %d bytes from the start", len(got), err, len(content))
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "dir/k", Bytes(1, 10))
		for _, key := range []string{"nothing", "dir", "dir/k/more", "dir/other"} {
			_, err := s.Open(t.Context(), key)
			wantKind(t, err, icrec.NotFound)
		}
	})
}

func testStat(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		content := Bytes(3, 777)
		info := mustPut(t, s, "a/k", content)
		got := mustStat(t, s, "a/k")
		checkInfo(t, "Stat", got, "a/k", content)
		checkSame(t, "Stat", got, info)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "dir/k", Bytes(1, 10))
		for _, key := range []string{"nothing", "dir", "dir/k/more", "dir/other"} {
			_, err := s.Stat(t.Context(), key)
			wantKind(t, err, icrec.NotFound)
		}
	})
}

func testDelete(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		other := Bytes(2, 100)
		otherInfo := mustPut(t, s, "d/other", other)
		mustPut(t, s, "d/k", Bytes(1, 100))
		if err := s.Delete(t.Context(), "d/k"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		wantAbsent(t, s, "d/k")
		wantKind(t, s.Delete(t.Context(), "d/k"), icrec.NotFound)
		wantContent(t, s, "d/other", other, otherInfo)
		// The key is free again, for new content.
		content := Bytes(3, 200)
		info := mustPut(t, s, "d/k", content)
		wantContent(t, s, "d/k", content, info)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "dir/k", Bytes(1, 10))
		for _, key := range []string{"nothing", "dir", "dir/k/more", "dir/other"} {
			wantKind(t, s.Delete(t.Context(), key), icrec.NotFound)
		}
		wantContent(t, s, "dir/k", Bytes(1, 10), mustStat(t, s, "dir/k"))
	})
}

func testList(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	t.Run("OKEmpty", func(t *testing.T) {
		s := open(t)
		if got := listKeys(t, s, ""); len(got) != 0 {
			t.Errorf("List of an empty store = %q, want nothing", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		// '-' < '.' < '/' < '0' < 'A' < 'a': a store that walks a tree
		// must still yield a/b-c and a/b.d before a/b/c, and a0 after a/z.
		keys := []string{
			"a/z", "b", "a/b/c", "ab", "a0", "A/x", "a/b-c", "a/bc/d", "a-1/x", "a/b.d",
		}
		infos := map[string]icrec.BlobInfo{}
		for i, key := range keys {
			infos[key] = mustPut(t, s, key, Bytes(uint64(i), 10*i))
		}
		for _, prefix := range []string{"", "a", "a/", "a/b", "a/b/", "a/b/c", "a/b/c/", "ab", "A", "a-", "b", "zzz"} {
			var want []string
			for _, key := range keys {
				if strings.HasPrefix(key, prefix) {
					want = append(want, key)
				}
			}
			slices.Sort(want)
			var got []string
			for info, err := range s.List(t.Context(), prefix) {
				if err != nil {
					t.Fatalf("List(%q): %v", prefix, err)
				}
				got = append(got, info.Key)
				checkSame(t, "List("+prefix+")", info, infos[info.Key])
			}
			if !slices.Equal(got, want) {
				t.Errorf("List(%q) = %q, want %q", prefix, got, want)
			}
		}
	})
	t.Run("OKStopEarly", func(t *testing.T) {
		s := open(t)
		for _, key := range []string{"x/1", "x/2", "y/3"} {
			mustPut(t, s, key, Bytes(1, 1))
		}
		n := 0
		for _, err := range s.List(t.Context(), "") {
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			n++
			break
		}
		if n != 1 {
			t.Errorf("List stopped after %d blobs, want 1", n)
		}
	})
}

func testInvalidKey(t *testing.T, open func(t *testing.T) icrec.BlobStore) {
	s := open(t)
	keys := []struct{ name, key string }{
		{"Empty", ""},
		{"Absolute", "/abs"},
		{"Parent", "../x"},
		{"ParentInside", "a/../b"},
		{"Dot", "."},
		{"DotInside", "a/./b"},
		{"EmptySegment", "a//b"},
		{"TrailingSlash", "a/"},
		{"Hidden", "a/.hidden"},
		{"Backslash", `a\b`},
		{"NUL", "a\x00b"},
		{"Space", "a b"},
		{"SegmentTooLong", strings.Repeat("s", icrec.MaxBlobSegmentLength+1)},
		{"KeyTooLong", strings.Repeat("k/", icrec.MaxBlobKeyLength/2) + "k"},
	}
	for _, k := range keys {
		t.Run("Err"+k.name, func(t *testing.T) {
			_, err := s.Put(t.Context(), k.key, bytes.NewReader(Bytes(1, 10)), "")
			wantKind(t, err, icrec.Invalid)
			_, err = s.Open(t.Context(), k.key)
			wantKind(t, err, icrec.Invalid)
			_, err = s.Stat(t.Context(), k.key)
			wantKind(t, err, icrec.Invalid)
			wantKind(t, s.Delete(t.Context(), k.key), icrec.Invalid)
		})
	}
	t.Run("OKNothingStored", func(t *testing.T) {
		if got := listKeys(t, s, ""); len(got) != 0 {
			t.Errorf("after Puts with invalid keys, List = %q, want nothing", got)
		}
	})
}
