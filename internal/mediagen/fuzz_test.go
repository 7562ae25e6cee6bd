package mediagen_test

import (
	"bytes"
	"testing"
	"time"

	"example.com/icrec/internal/mediagen"
)

// The parsers may be given uploaded files, so they must reject garbage
// with an error rather than panic or trust a size field.

func FuzzParseWAV(f *testing.F) {
	for _, format := range []mediagen.WAVFormat{mediagen.FormatMuLaw8k, mediagen.FormatPCM8k} {
		var b bytes.Buffer
		if err := mediagen.WriteWAV(&b, format, mediagen.Signal{mediagen.DialTone(3 * time.Millisecond)}); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add(riff(chunk{"fmt ", fmtBody(6, 2, 8000, 16000, 2, 8, true)}, chunk{"fact", u32(2)}, chunk{"data", make([]byte, 4)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, samples, err := mediagen.ReadWAVSamples(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if info.DataOffset+info.DataSize > int64(len(b)) {
			t.Fatalf("data at %d+%d runs past a %d-byte file", info.DataOffset, info.DataSize, len(b))
		}
		if got, want := int64(len(samples)), info.Frames*int64(info.Channels); got != want {
			t.Fatalf("%d samples for %d frames of %d channels", got, info.Frames, info.Channels)
		}
	})
}

func FuzzParseAVI(f *testing.F) {
	d, err := mediagen.NewDesktop(newRand(1), mediagen.DesktopOptions{Width: 160, Height: 90, FPS: 2, Duration: time.Second})
	if err != nil {
		f.Fatal(err)
	}
	var b bytes.Buffer
	if err := mediagen.WriteAVI(&b, d, 10); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := mediagen.ParseAVI(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if info.Frames < 0 || info.Width <= 0 || info.Height <= 0 || info.FPS <= 0 {
			t.Fatalf("accepted %+v", info)
		}
	})
}
