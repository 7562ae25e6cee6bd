package mediagen_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/mediagen"
)

func writeAVI(t *testing.T, v mediagen.Video) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := mediagen.WriteAVI(&b, v, 0); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newDesktop(t *testing.T, seed uint64, opt mediagen.DesktopOptions) *mediagen.Desktop {
	t.Helper()
	d, err := mediagen.NewDesktop(newRand(seed), opt)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWriteAVI(t *testing.T) {
	// Default size and rate, but short: the race detector makes JPEG
	// encoding slow.
	b := writeAVI(t, newDesktop(t, 1, mediagen.DesktopOptions{Duration: 2 * time.Second}))

	t.Run("OK", func(t *testing.T) {
		info, err := mediagen.ParseAVI(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		want := mediagen.AVIInfo{Width: 640, Height: 360, FPS: 5, Frames: 10, Duration: 2 * time.Second, Codec: "MJPG"}
		if info != want {
			t.Fatalf("info=%+v, want %+v", info, want)
		}
	})
	t.Run("OKOtherSize", func(t *testing.T) {
		b := writeAVI(t, newDesktop(t, 2, mediagen.DesktopOptions{Width: 1280, Height: 720, FPS: 2, Duration: 1500 * time.Millisecond}))
		info, err := mediagen.ParseAVI(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if info.Width != 1280 || info.Height != 720 || info.FPS != 2 || info.Frames != 3 {
			t.Fatalf("info=%+v, want 1280x720, 2 fps, 3 frames", info)
		}
	})
	t.Run("OKDeterministic", func(t *testing.T) {
		short := mediagen.DesktopOptions{Duration: time.Second}
		a := writeAVI(t, newDesktop(t, 1, short))
		if !bytes.Equal(a, writeAVI(t, newDesktop(t, 1, short))) {
			t.Error("the same seed gave different files")
		}
		if bytes.Equal(a, writeAVI(t, newDesktop(t, 3, short))) {
			t.Error("different seeds gave the same file")
		}
	})
	t.Run("OKEveryFrameChanges", func(t *testing.T) {
		// Something moves in every frame (text being typed, the progress
		// bar), so the recording does not look frozen.
		d := newDesktop(t, 4, mediagen.DesktopOptions{})
		img := image.NewRGBA(d.Bounds())
		var prev uint64
		for i := range d.Len() {
			d.Draw(img, i)
			h := fnv.New64a()
			h.Write(img.Pix)
			if sum := h.Sum64(); i > 0 && sum == prev {
				t.Errorf("frame %d is the same as frame %d", i, i-1)
			} else {
				prev = sum
			}
		}
	})
	t.Run("OKFFprobe", func(t *testing.T) {
		ffprobe, err := exec.LookPath("ffprobe")
		if err != nil {
			t.Skip("ffprobe is not on PATH; install ffmpeg to check the file with a real demuxer")
		}
		path := filepath.Join(t.TempDir(), "screen.avi")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
			"-show_entries", "stream=codec_name,width,height,nb_read_frames", "-of", "default=noprint_wrappers=1", path).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe: %v\n%s", err, out)
		}
		for _, want := range []string{"codec_name=mjpeg", "width=640", "height=360", "nb_read_frames=10"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("ffprobe output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("ErrNondeterministicVideo", func(t *testing.T) {
		err := mediagen.WriteAVI(&bytes.Buffer{}, &flicker{}, 0)
		if err == nil || !strings.Contains(err.Error(), "deterministically") {
			t.Fatalf("err=%v, want a determinism error", err)
		}
	})
	t.Run("ErrBadQuality", func(t *testing.T) {
		if err := mediagen.WriteAVI(&bytes.Buffer{}, &flicker{}, 101); err == nil {
			t.Fatal("quality 101 accepted")
		}
	})
}

// flicker is a Video that breaks the contract by drawing a different
// picture each time it is asked for the same frame.
type flicker struct{ calls int }

func (f *flicker) Bounds() image.Rectangle { return image.Rect(0, 0, 64, 48) }
func (f *flicker) FPS() int                { return 5 }
func (f *flicker) Len() int                { return 2 }
func (f *flicker) Draw(dst *image.RGBA, i int) {
	f.calls++
	for k := range dst.Pix {
		dst.Pix[k] = byte(k * f.calls * 7919 >> 3)
	}
}

func TestParseAVI(t *testing.T) {
	good := writeAVI(t, newDesktop(t, 5, mediagen.DesktopOptions{Width: 320, Height: 180, Duration: 2 * time.Second}))
	le := binary.LittleEndian
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	at := func(b []byte, s string) int { return bytes.Index(b, []byte(s)) }

	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"ErrEmpty", nil, "too short"},
		{"ErrTruncated", good[:len(good)-100], "RIFF size"},
		{"ErrNotAVI", edit(func(b []byte) []byte { copy(b[8:], "WAVE"); return b }), "not a RIFF AVI"},
		{"ErrRIFFSize", edit(func(b []byte) []byte { le.PutUint32(b[4:], le.Uint32(b[4:])+2); return b }), "RIFF size"},
		{"ErrMoviSize", edit(func(b []byte) []byte {
			i := at(b, "movi") - 4
			le.PutUint32(b[i:], le.Uint32(b[i:])+16)
			return b
		}), "needs"},
		{"ErrFrameCountInAvih", edit(func(b []byte) []byte {
			i := at(b, "avih") + 8 + 16
			le.PutUint32(b[i:], le.Uint32(b[i:])+1)
			return b
		}), "frame counts disagree"},
		{"ErrFrameCountInStrh", edit(func(b []byte) []byte {
			i := at(b, "strh") + 8 + 32
			le.PutUint32(b[i:], le.Uint32(b[i:])-1)
			return b
		}), "frame counts disagree"},
		{"ErrIndexEntryMissing", edit(func(b []byte) []byte {
			// Drop the last index entry and fix the sizes, so that only
			// the counts disagree.
			b = b[:len(b)-16]
			i := at(b, "idx1") + 4
			le.PutUint32(b[i:], le.Uint32(b[i:])-16)
			le.PutUint32(b[4:], uint32(len(b)-8))
			return b
		}), "frame counts disagree"},
		{"ErrIndexOffset", edit(func(b []byte) []byte {
			i := at(b, "idx1") + 8 + 16 + 8 // the second entry's offset
			le.PutUint32(b[i:], le.Uint32(b[i:])+2)
			return b
		}), "idx1 entry 1"},
		{"ErrNoIndex", edit(func(b []byte) []byte {
			b = b[:at(b, "idx1")]
			le.PutUint32(b[4:], uint32(len(b)-8))
			return b
		}), "no idx1"},
		{"ErrNotMJPEG", edit(func(b []byte) []byte { copy(b[at(b, "strf")+8+16:], "H264"); return b }), "want MJPG"},
		{"ErrCorruptFrame", edit(func(b []byte) []byte {
			i := at(b, "00dc") + 8
			copy(b[i:], "\x00\x00") // the JPEG start-of-image marker
			return b
		}), "frame 0"},
		{"ErrFrameSize", edit(func(b []byte) []byte {
			i := at(b, "avih") + 8 + 32
			le.PutUint32(b[i:], 321)
			return b
		}), "header says 321x180"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := mediagen.ParseAVI(bytes.NewReader(c.file), int64(len(c.file)))
			if err == nil {
				t.Fatal("ParseAVI succeeded, want error")
			}
			if !errors.Is(err, mediagen.ErrInvalidAVI) {
				t.Errorf("error %q does not wrap ErrInvalidAVI", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to mention %q", err, c.want)
			}
		})
	}
}
