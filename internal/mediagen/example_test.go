package mediagen_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"

	"example.com/icrec/internal/mediagen"
)

// A demo call recording: thirty seconds of a telephone call as 8 kHz
// µ-law, the format most call recorders store.
func ExampleCallAudio() {
	rng := rand.New(rand.NewPCG(1, 2))
	call := mediagen.CallAudio(rng, 30*time.Second)

	var b bytes.Buffer
	if err := mediagen.WriteWAV(&b, mediagen.FormatMuLaw8k, call); err != nil {
		panic(err)
	}
	info, err := mediagen.ParseWAV(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Len(), "bytes")
	fmt.Println(info.SampleRate, "Hz,", info.BitsPerSample, "bits, format tag", info.FormatTag)
	fmt.Println(info.Frames, "frames,", info.Duration)
	// Output:
	// 240058 bytes
	// 8000 Hz, 8 bits, format tag 7
	// 240000 frames, 30s
}

// A screen recording for an interaction: one second of an agent's
// desktop as Motion-JPEG AVI.
func ExampleWriteAVI() {
	desktop, err := mediagen.NewDesktop(rand.New(rand.NewPCG(1, 2)), mediagen.DesktopOptions{Duration: time.Second})
	if err != nil {
		panic(err)
	}
	var b bytes.Buffer
	if err := mediagen.WriteAVI(&b, desktop, 0); err != nil {
		panic(err)
	}
	info, err := mediagen.ParseAVI(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%dx%d %s, %d frames at %v fps, %v\n", info.Width, info.Height, info.Codec, info.Frames, info.FPS, info.Duration)
	// Output:
	// 640x360 MJPG, 5 frames at 5 fps, 1s
}
