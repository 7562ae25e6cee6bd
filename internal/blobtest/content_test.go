package blobtest_test

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"example.com/icrec/internal/blobtest"
)

func TestContent(t *testing.T) {
	t.Run("OKSameBytesHoweverRead", func(t *testing.T) {
		const size = 100_003
		want, err := io.ReadAll(blobtest.Content(1, size))
		if err != nil {
			t.Fatal(err)
		}
		if len(want) != size {
			t.Fatalf("Content(1, %d) yields %d bytes", size, len(want))
		}
		// One byte at a time, and in odd-sized pieces, cross the 8-byte
		// words the generator makes at every offset.
		for _, r := range []io.Reader{
			iotest.OneByteReader(blobtest.Content(1, size)),
			io.LimitReader(blobtest.Content(1, size), size),
			&oddReads{r: blobtest.Content(1, size)},
		} {
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("reading %T: %d bytes, %v; want the same %d bytes", r, len(got), err, len(want))
			}
		}
		if err := iotest.TestReader(blobtest.Content(1, size), want); err != nil {
			t.Error(err)
		}
	})
	t.Run("OKSeedsDiffer", func(t *testing.T) {
		a, b := blobtest.Bytes(1, 64), blobtest.Bytes(2, 64)
		if bytes.Equal(a, b) {
			t.Errorf("seeds 1 and 2 give the same bytes %x", a)
		}
		if c := blobtest.Bytes(1, 64); !bytes.Equal(a, c) {
			t.Errorf("seed 1 gives %x, then %x", a, c)
		}
	})
	t.Run("OKEmpty", func(t *testing.T) {
		if n, err := blobtest.Content(1, 0).Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("Read of empty content = %d, %v; want 0, EOF", n, err)
		}
	})
	t.Run("OKSum", func(t *testing.T) {
		got, err := blobtest.Sum(bytes.NewReader([]byte("abc")))
		if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; err != nil || got != want {
			t.Errorf(`Sum("abc") = %q, %v; want %q`, got, err, want)
		}
	})
}

// oddReads reads in pieces of 1, 2, 3, ... 17 bytes, over and over.
type oddReads struct {
	r io.Reader
	n int
}

func (o *oddReads) Read(p []byte) (int, error) {
	o.n = o.n%17 + 1
	return o.r.Read(p[:min(len(p), o.n)])
}
