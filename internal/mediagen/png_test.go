package mediagen_test

import (
	"bytes"
	"image/png"
	"testing"

	"example.com/icrec/internal/mediagen"
)

func TestChart(t *testing.T) {
	encode := func(seed uint64) []byte {
		t.Helper()
		img, err := mediagen.Chart(newRand(seed), 320, 200)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := mediagen.WritePNG(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	t.Run("OK", func(t *testing.T) {
		b := encode(1)
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Size(); got.X != 320 || got.Y != 200 {
			t.Fatalf("size %v, want 320x200", got)
		}
		// Background, ink, grid, bars, the peak bar and the target line
		// all appear: the chart is not blank.
		colours := map[[4]uint32]bool{}
		for y := range 200 {
			for x := range 320 {
				r, g, b, a := img.At(x, y).RGBA()
				colours[[4]uint32{r, g, b, a}] = true
			}
		}
		if got, want := len(colours), 6; got != want {
			t.Errorf("%d colours, want %d", got, want)
		}
	})
	t.Run("OKDeterministic", func(t *testing.T) {
		if !bytes.Equal(encode(2), encode(2)) {
			t.Error("the same seed gave different images")
		}
		if bytes.Equal(encode(2), encode(3)) {
			t.Error("different seeds gave the same image")
		}
	})
	t.Run("ErrTooSmall", func(t *testing.T) {
		if _, err := mediagen.Chart(newRand(1), 10, 10); err == nil {
			t.Fatal("Chart(10x10) succeeded")
		}
	})
}
