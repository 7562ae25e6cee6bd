package mediagen_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/mediagen"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x5eed)) }

// writeWAV renders s and checks that the file has the size WAVSize
// promised.
func writeWAV(t *testing.T, f mediagen.WAVFormat, s mediagen.Signal) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := mediagen.WriteWAV(&b, f, s); err != nil {
		t.Fatal(err)
	}
	size, err := mediagen.WAVSize(f, s)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := int64(b.Len()), size; got != want {
		t.Fatalf("wrote %d bytes, WAVSize said %d", got, want)
	}
	return b.Bytes()
}

func mustDTMF(t *testing.T, digits string, on, off time.Duration) mediagen.Segment {
	t.Helper()
	s, err := mediagen.DTMF(digits, on, off)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMuLaw(t *testing.T) {
	t.Run("KnownValues", func(t *testing.T) {
		// Fixed points of G.711: zero is all ones on the line, and the
		// largest codes decode to ±32124.
		for _, c := range []struct {
			in   int16
			want byte
		}{{0, 0xFF}, {32767, 0x80}, {-32768, 0x00}, {-1, 0x7F}} {
			if got := mediagen.MuLawEncode(c.in); got != c.want {
				t.Errorf("MuLawEncode(%d)=%#02x, want %#02x", c.in, got, c.want)
			}
		}
		for _, c := range []struct {
			in   byte
			want int16
		}{{0xFF, 0}, {0x7F, 0}, {0x80, 32124}, {0x00, -32124}, {0xFE, 8}, {0x7E, -8}} {
			if got := mediagen.MuLawDecode(c.in); got != c.want {
				t.Errorf("MuLawDecode(%#02x)=%d, want %d", c.in, got, c.want)
			}
		}
	})
	t.Run("CodesAreStable", func(t *testing.T) {
		// Every code decodes to a value that encodes back to it, except
		// 0x7F ("negative zero"), which decodes to 0 = 0xFF.
		for u := range 256 {
			if u == 0x7F {
				continue
			}
			if got := mediagen.MuLawEncode(mediagen.MuLawDecode(byte(u))); got != byte(u) {
				t.Errorf("MuLawEncode(MuLawDecode(%#02x))=%#02x", u, got)
			}
		}
	})
	t.Run("ErrorWithinHalfAStep", func(t *testing.T) {
		// A segment's step is 1/16 of its range, and decoding returns the
		// middle of the step, so the error is at most (|x|+132)/32.
		for x := -32635; x <= 32635; x++ {
			got := int(mediagen.MuLawDecode(mediagen.MuLawEncode(int16(x))))
			if d, bound := math.Abs(float64(got-x)), (math.Abs(float64(x))+132)/32; d > bound {
				t.Fatalf("x=%d decodes to %d, error %v > %v", x, got, d, bound)
			}
		}
	})
}

func TestWriteWAV(t *testing.T) {
	signal := mediagen.Signal{
		mediagen.DialTone(500 * time.Millisecond),
		mustDTMF(t, "0123456789*#", 80*time.Millisecond, 70*time.Millisecond),
		mediagen.Silence(200 * time.Millisecond),
		mediagen.Ringback(2500 * time.Millisecond),
		mediagen.Speech(newRand(1), 2*time.Second, mediagen.PitchLow),
	}
	const wantDuration = 500*time.Millisecond + 12*150*time.Millisecond + 200*time.Millisecond + 2500*time.Millisecond + 2*time.Second
	if got := signal.Duration(); got != wantDuration {
		t.Fatalf("Duration()=%v, want %v", got, wantDuration)
	}
	for _, c := range []struct {
		name   string
		format mediagen.WAVFormat
		tag    int
		bits   int
	}{
		{"OKMuLaw8k", mediagen.FormatMuLaw8k, mediagen.WAVEFormatMuLaw, 8},
		{"OKPCM8k", mediagen.FormatPCM8k, mediagen.WAVEFormatPCM, 16},
		{"OKPCM16k", mediagen.FormatPCM16k, mediagen.WAVEFormatPCM, 16},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := writeWAV(t, c.format, signal)
			info, samples, err := mediagen.ReadWAVSamples(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			want := mediagen.WAVInfo{
				FormatTag: c.tag, Channels: 1, SampleRate: c.format.SampleRate, BitsPerSample: c.bits,
				Frames:   int64(wantDuration.Seconds() * float64(c.format.SampleRate)),
				Duration: wantDuration,
			}
			info.DataOffset, info.DataSize = 0, 0
			if info != want {
				t.Fatalf("info=%+v, want %+v", info, want)
			}
			if got, want := int64(len(samples)), want.Frames; got != want {
				t.Fatalf("decoded %d samples, want %d", got, want)
			}
			// The dial tone at the start is audible: its RMS level is about
			// that of two -13 dBFS sines.
			if got := rms(samples[:c.format.SampleRate/4]); got < 5000 || got > 9000 {
				t.Errorf("dial tone RMS %v, want about 7000", got)
			}
			// The silence between the digits and the ring-back is silent.
			silenceStart := int((500*time.Millisecond + 12*150*time.Millisecond).Seconds() * float64(c.format.SampleRate))
			if got := rms(samples[silenceStart+10 : silenceStart+c.format.SampleRate/10]); got > 10 {
				t.Errorf("silence RMS %v, want about 0", got)
			}
		})
	}
	t.Run("OKOddLengthIsPadded", func(t *testing.T) {
		// 1001 µ-law samples are an odd number of bytes; the RIFF chunk
		// must be padded to an even size.
		s := mediagen.Signal{mediagen.Silence(1001 * time.Second / 8000)}
		b := writeWAV(t, mediagen.FormatMuLaw8k, s)
		if len(b)%2 != 0 {
			t.Fatalf("file is %d bytes, want even", len(b))
		}
		info, err := mediagen.ParseWAV(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := info.DataSize, int64(1001); got != want {
			t.Fatalf("DataSize=%d, want %d", got, want)
		}
	})
	t.Run("ErrUnsupportedFormat", func(t *testing.T) {
		for _, f := range []mediagen.WAVFormat{{Encoding: mediagen.MuLaw, SampleRate: 16000}, {Encoding: mediagen.PCM16, SampleRate: 44100}, {}} {
			if err := mediagen.WriteWAV(&bytes.Buffer{}, f, signal); err == nil {
				t.Errorf("WriteWAV(%v) succeeded, want error", f)
			}
		}
	})
}

// goertzel returns the power of the frequency f in x sampled at rate.
func goertzel(x []int16, f float64, rate int) float64 {
	c := 2 * math.Cos(2*math.Pi*f/float64(rate))
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = float64(v)+c*s1-s2, s1
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

func rms(x []int16) float64 {
	var sum float64
	for _, v := range x {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum / float64(len(x)))
}

func TestDTMFSpectrum(t *testing.T) {
	freqs := []float64{697, 770, 852, 941, 1209, 1336, 1477, 1633}
	const keys = "0123456789*#ABCD"
	for _, f := range []mediagen.WAVFormat{mediagen.FormatMuLaw8k, mediagen.FormatPCM16k} {
		t.Run("OK"+strings.ReplaceAll(f.String(), " ", ""), func(t *testing.T) {
			on, off := 100*time.Millisecond, 50*time.Millisecond
			b := writeWAV(t, f, mediagen.Signal{mustDTMF(t, keys, on, off)})
			_, samples, err := mediagen.ReadWAVSamples(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			per := int((on + off).Seconds() * float64(f.SampleRate))
			for k, key := range keys {
				low, high, ok := mediagen.DTMFFrequencies(key)
				if !ok {
					t.Fatalf("DTMFFrequencies(%q) not ok", key)
				}
				// Analyse the steady middle of the tone, clear of the ramps.
				n := int(on.Seconds() * float64(f.SampleRate))
				x := samples[k*per+n/10 : k*per+n*9/10]
				var others float64
				for _, fr := range freqs {
					if fr != low && fr != high {
						others = max(others, goertzel(x, fr, f.SampleRate))
					}
				}
				pl, ph := goertzel(x, low, f.SampleRate), goertzel(x, high, f.SampleRate)
				// 20 dB above any other DTMF frequency, for both tones: a
				// real decoder needs far less.
				if pl < 100*others || ph < 100*others {
					t.Errorf("key %q: power at %v Hz %.3g, at %v Hz %.3g, strongest other %.3g", key, low, pl, high, ph, others)
				}
			}
		})
	}
	t.Run("ErrBadKey", func(t *testing.T) {
		if _, err := mediagen.DTMF("12x", 80*time.Millisecond, 70*time.Millisecond); err == nil {
			t.Fatal("DTMF accepted 'x'")
		}
	})
}

func TestRingbackCadence(t *testing.T) {
	b := writeWAV(t, mediagen.FormatPCM8k, mediagen.Signal{mediagen.Ringback(8 * time.Second)})
	_, x, err := mediagen.ReadWAVSamples(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	sec := func(a, b float64) []int16 { return x[int(a*8000):int(b*8000)] }
	// On for 2 s, off for 4 s, on again at 6 s.
	for _, c := range []struct {
		from, to float64
		on       bool
	}{{0.1, 1.9, true}, {2.1, 5.9, false}, {6.1, 7.9, true}} {
		level := rms(sec(c.from, c.to))
		if c.on != (level > 3000) {
			t.Errorf("RMS from %vs to %vs is %v, want on=%v", c.from, c.to, level, c.on)
		}
	}
	on := sec(0.5, 1.5)
	if p440, p480, p350 := goertzel(on, 440, 8000), goertzel(on, 480, 8000), goertzel(on, 350, 8000); p440 < 100*p350 || p480 < 100*p350 {
		t.Errorf("ring-back power at 440 Hz %.3g, 480 Hz %.3g, 350 Hz %.3g", p440, p480, p350)
	}
}

func TestCallAudio(t *testing.T) {
	t.Run("OKExactDuration", func(t *testing.T) {
		for seed := range uint64(6) {
			d := time.Duration(5+seed*7) * time.Second
			s := mediagen.CallAudio(newRand(seed), d)
			if got := s.Duration(); got != d {
				t.Fatalf("seed %d: Duration()=%v, want %v", seed, got, d)
			}
			b := writeWAV(t, mediagen.FormatMuLaw8k, s)
			_, x, err := mediagen.ReadWAVSamples(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(x), int(d.Seconds()*8000); got != want {
				t.Fatalf("seed %d: %d samples, want %d", seed, got, want)
			}
			// A call has both sound and pauses: count 100 ms windows.
			var loud, quiet int
			for w := 0; w+800 <= len(x); w += 800 {
				switch r := rms(x[w : w+800]); {
				case r > 1000:
					loud++
				case r < 50:
					quiet++
				}
			}
			if loud == 0 || quiet == 0 {
				t.Errorf("seed %d: %d loud and %d quiet windows, want some of each", seed, loud, quiet)
			}
		}
	})
	t.Run("OKDeterministic", func(t *testing.T) {
		a := writeWAV(t, mediagen.FormatPCM16k, mediagen.CallAudio(newRand(42), 20*time.Second))
		b := writeWAV(t, mediagen.FormatPCM16k, mediagen.CallAudio(newRand(42), 20*time.Second))
		c := writeWAV(t, mediagen.FormatPCM16k, mediagen.CallAudio(newRand(43), 20*time.Second))
		if !bytes.Equal(a, b) {
			t.Error("the same seed gave different files")
		}
		if bytes.Equal(a, c) {
			t.Error("different seeds gave the same file")
		}
	})
}

// chunk is a RIFF chunk for hand-made test files.
type chunk struct {
	id   string
	body []byte
}

// riff assembles a RIFF WAVE file from chunks, padding odd ones.
func riff(chunks ...chunk) []byte {
	var b []byte
	b = append(b, "RIFF\x00\x00\x00\x00WAVE"...)
	for _, c := range chunks {
		b = append(b, c.id...)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c.body)))
		b = append(b, c.body...)
		if len(c.body)%2 == 1 {
			b = append(b, 0)
		}
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// fmtBody is a fmt chunk; cb adds the cbSize field.
func fmtBody(tag, channels, rate, byteRate, align, bits int, cb bool) []byte {
	le := binary.LittleEndian
	b := le.AppendUint16(nil, uint16(tag))
	b = le.AppendUint16(b, uint16(channels))
	b = le.AppendUint32(b, uint32(rate))
	b = le.AppendUint32(b, uint32(byteRate))
	b = le.AppendUint16(b, uint16(align))
	b = le.AppendUint16(b, uint16(bits))
	if cb {
		b = le.AppendUint16(b, 0)
	}
	return b
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func TestParseWAV(t *testing.T) {
	good := writeWAV(t, mediagen.FormatMuLaw8k, mediagen.Signal{mustDTMF(t, "159", 80*time.Millisecond, 70*time.Millisecond)})
	pcmFmt := fmtBody(1, 1, 8000, 16000, 2, 16, false)
	mulawFmt := fmtBody(7, 1, 8000, 8000, 1, 8, true)
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }

	t.Run("OKExtraChunks", func(t *testing.T) {
		// A LIST chunk of metadata, as many editors add, is allowed.
		b := riff(chunk{"fmt ", pcmFmt}, chunk{"LIST", []byte("INFOISFT\x05\x00\x00\x00sox!\x00\x00")}, chunk{"data", make([]byte, 16)})
		info, err := mediagen.ParseWAV(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := info.Frames, int64(8); got != want {
			t.Fatalf("Frames=%d, want %d", got, want)
		}
	})
	t.Run("OKALaw", func(t *testing.T) {
		b := riff(chunk{"fmt ", fmtBody(6, 1, 8000, 8000, 1, 8, true)}, chunk{"fact", u32(4)}, chunk{"data", []byte{0xD5, 0x55, 0xAA, 0x2A}})
		_, x, err := mediagen.ReadWAVSamples(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := x, []int16{8, -8, 32256, -32256}; !slices.Equal(got, want) {
			t.Fatalf("A-law samples %v, want %v", got, want)
		}
	})

	for _, c := range []struct {
		name string
		file []byte
		want string // part of the error message
	}{
		{"ErrEmpty", nil, "too short"},
		{"ErrTruncatedHeader", good[:30], "RIFF size"},
		{"ErrTruncatedData", good[:len(good)-10], "RIFF size"},
		{"ErrNotWAVE", edit(func(b []byte) []byte { copy(b[8:], "AVI "); return b }), "not a RIFF WAVE"},
		{"ErrRIFFSizeTooBig", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-6))
			return b
		}), "RIFF size"},
		{"ErrRIFFSizeTooSmall", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-10))
			return b
		}), "RIFF size"},
		{"ErrDataLongerThanFile", edit(func(b []byte) []byte {
			i := bytes.Index(b, []byte("data"))
			binary.LittleEndian.PutUint32(b[i+4:], binary.LittleEndian.Uint32(b[i+4:])+2)
			return b
		}), "needs"},
		{"ErrDataShorterThanFile", edit(func(b []byte) []byte {
			i := bytes.Index(b, []byte("data"))
			binary.LittleEndian.PutUint32(b[i+4:], binary.LittleEndian.Uint32(b[i+4:])-4)
			return b
		}), "stray"},
		{"ErrPartialFrame", riff(chunk{"fmt ", pcmFmt}, chunk{"data", make([]byte, 7)}), "whole number"},
		{"ErrNoFmt", riff(chunk{"data", make([]byte, 8)}), "before fmt"},
		{"ErrNoData", riff(chunk{"fmt ", pcmFmt}), "no data"},
		{"ErrShortFmt", riff(chunk{"fmt ", pcmFmt[:14]}, chunk{"data", make([]byte, 8)}), "fmt chunk of 14"},
		{"ErrBlockAlign", riff(chunk{"fmt ", fmtBody(1, 1, 8000, 16000, 4, 16, false)}, chunk{"data", make([]byte, 8)}), "block align"},
		{"ErrByteRate", riff(chunk{"fmt ", fmtBody(1, 1, 8000, 8000, 2, 16, false)}, chunk{"data", make([]byte, 8)}), "byte rate"},
		{"ErrBits", riff(chunk{"fmt ", fmtBody(7, 1, 8000, 16000, 2, 16, true)}, chunk{"fact", u32(4)}, chunk{"data", make([]byte, 8)}), "bits"},
		{"ErrExtensible", riff(chunk{"fmt ", fmtBody(0xFFFE, 1, 8000, 16000, 2, 16, true)}, chunk{"data", make([]byte, 8)}), "unsupported format"},
		{"ErrMuLawWithoutFact", riff(chunk{"fmt ", mulawFmt}, chunk{"data", make([]byte, 8)}), "fact"},
		{"ErrMuLawWithoutCbSize", riff(chunk{"fmt ", mulawFmt[:16]}, chunk{"fact", u32(8)}, chunk{"data", make([]byte, 8)}), "at least 18"},
		{"ErrFactMismatch", riff(chunk{"fmt ", mulawFmt}, chunk{"fact", u32(9)}, chunk{"data", make([]byte, 8)}), "fact chunk counts 9"},
		{"ErrTwoDataChunks", riff(chunk{"fmt ", pcmFmt}, chunk{"data", make([]byte, 8)}, chunk{"data", make([]byte, 8)}), "second data"},
		{"ErrStrayBytes", append(riff(chunk{"fmt ", pcmFmt}, chunk{"data", make([]byte, 8)}), 0, 0, 0, 0), "RIFF size"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := mediagen.ParseWAV(bytes.NewReader(c.file), int64(len(c.file)))
			if err == nil {
				t.Fatal("ParseWAV succeeded, want error")
			}
			if !errors.Is(err, mediagen.ErrInvalidWAV) {
				t.Errorf("error %q does not wrap ErrInvalidWAV", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q, want it to mention %q", err, c.want)
			}
		})
	}
}
