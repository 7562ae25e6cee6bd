package mediagen

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// Encoding is how a WAV file stores its samples.
type Encoding uint8

const (
	// PCM16 is 16-bit signed little-endian linear PCM (WAVE format tag 1).
	PCM16 Encoding = iota + 1
	// MuLaw is 8-bit G.711 µ-law (WAVE format tag 7), the encoding of
	// North American and Japanese telephone networks and of most
	// call-recording systems.
	MuLaw
)

func (e Encoding) String() string {
	switch e {
	case PCM16:
		return "PCM16"
	case MuLaw:
		return "µ-law"
	}
	return fmt.Sprintf("Encoding(%d)", e)
}

// WAVFormat is the sample format of a mono WAV file written by WriteWAV.
type WAVFormat struct {
	Encoding   Encoding
	SampleRate int // samples per second
}

// The formats a call recorder produces. G.711 is only defined at 8 kHz;
// 16 kHz PCM is what wide-band (G.722) calls are usually stored as.
var (
	FormatMuLaw8k = WAVFormat{Encoding: MuLaw, SampleRate: 8000}
	FormatPCM8k   = WAVFormat{Encoding: PCM16, SampleRate: 8000}
	FormatPCM16k  = WAVFormat{Encoding: PCM16, SampleRate: 16000}
)

func (f WAVFormat) String() string {
	return fmt.Sprintf("%v %d Hz mono", f.Encoding, f.SampleRate)
}

func (f WAVFormat) check() error {
	switch {
	case f.Encoding == MuLaw && f.SampleRate == 8000:
	case f.Encoding == PCM16 && (f.SampleRate == 8000 || f.SampleRate == 16000):
	default:
		return fmt.Errorf("mediagen: unsupported WAV format %v", f)
	}
	return nil
}

// WAVE format tags (the wFormatTag field of the fmt chunk) that ParseWAV
// accepts.
const (
	WAVEFormatPCM       = 1
	WAVEFormatIEEEFloat = 3
	WAVEFormatALaw      = 6
	WAVEFormatMuLaw     = 7
)

// bytesPerSample is the size of one mono frame.
func (f WAVFormat) bytesPerSample() int {
	if f.Encoding == MuLaw {
		return 1
	}
	return 2
}

// headerSize is everything before the sample bytes.
func (f WAVFormat) headerSize() int64 {
	if f.Encoding == MuLaw {
		// RIFF header 12, fmt chunk 8+18 (non-PCM formats carry the
		// cbSize field), fact chunk 8+4, data chunk header 8.
		return 12 + 26 + 12 + 8
	}
	return 12 + 24 + 8
}

// WAVSize is the exact size in bytes of the file WriteWAV writes for s in
// format f, so that a caller can announce a Content-Length or reserve
// storage before rendering a long call.
func WAVSize(f WAVFormat, s Signal) (int64, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	data := s.frames(f.SampleRate) * int64(f.bytesPerSample())
	size := f.headerSize() + data + data&1
	if size-8 > math.MaxUint32 {
		return 0, fmt.Errorf("mediagen: %v of %v does not fit in a RIFF file", s.Duration(), f)
	}
	return size, nil
}

// WriteWAV renders s in format f and writes it to w as a RIFF WAVE file.
// It streams: memory use does not grow with the duration. A µ-law file
// has the extended fmt chunk and the fact chunk that the WAVE
// specification requires for compressed formats.
func WriteWAV(w io.Writer, f WAVFormat, s Signal) error {
	size, err := WAVSize(f, s)
	if err != nil {
		return err
	}
	frames := s.frames(f.SampleRate)
	data := frames * int64(f.bytesPerSample())

	bw := bufio.NewWriterSize(w, 32<<10)
	h := make([]byte, 0, f.headerSize())
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(size-8))
	h = append(h, "WAVE"...)
	h = append(h, "fmt "...)
	rate := uint32(f.SampleRate)
	if f.Encoding == MuLaw {
		h = binary.LittleEndian.AppendUint32(h, 18)
		h = binary.LittleEndian.AppendUint16(h, WAVEFormatMuLaw)
		h = binary.LittleEndian.AppendUint16(h, 1)    // channels
		h = binary.LittleEndian.AppendUint32(h, rate) // sample rate
		h = binary.LittleEndian.AppendUint32(h, rate) // bytes per second
		h = binary.LittleEndian.AppendUint16(h, 1)    // block align
		h = binary.LittleEndian.AppendUint16(h, 8)    // bits per sample
		h = binary.LittleEndian.AppendUint16(h, 0)    // cbSize
		h = append(h, "fact"...)
		h = binary.LittleEndian.AppendUint32(h, 4)
		h = binary.LittleEndian.AppendUint32(h, uint32(frames))
	} else {
		h = binary.LittleEndian.AppendUint32(h, 16)
		h = binary.LittleEndian.AppendUint16(h, WAVEFormatPCM)
		h = binary.LittleEndian.AppendUint16(h, 1)
		h = binary.LittleEndian.AppendUint32(h, rate)
		h = binary.LittleEndian.AppendUint32(h, rate*2)
		h = binary.LittleEndian.AppendUint16(h, 2)
		h = binary.LittleEndian.AppendUint16(h, 16)
	}
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(data))
	if _, err := bw.Write(h); err != nil {
		return err
	}

	const block = 4096
	buf := make([]float64, block)
	out := make([]byte, 0, block*2)
	for _, seg := range s {
		n := samplesIn(seg.Duration(), f.SampleRate)
		for off := int64(0); off < n; off += block {
			chunk := buf[:min(block, n-off)]
			seg.Fill(chunk, int(off), f.SampleRate)
			out = out[:0]
			for _, v := range chunk {
				x := toInt16(v)
				if f.Encoding == MuLaw {
					out = append(out, MuLawEncode(x))
				} else {
					out = binary.LittleEndian.AppendUint16(out, uint16(x))
				}
			}
			if _, err := bw.Write(out); err != nil {
				return err
			}
		}
	}
	if data&1 == 1 {
		// RIFF chunks are word aligned; the pad byte is not part of the
		// data chunk's size but is part of the RIFF size.
		if err := bw.WriteByte(0); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// toInt16 converts a sample in [-1, 1] to 16 bits, clipping rather than
// wrapping around when a generator overshoots.
func toInt16(v float64) int16 {
	x := math.Round(v * 32767)
	return int16(max(-32768, min(32767, x)))
}

// G.711 µ-law: the magnitude plus a bias of 33 (scaled to 16 bits: 132)
// is coded as a 3-bit segment number, the position of its leading one,
// and the 4 bits after it. All bits are inverted on the line, so that
// silence is not a run of zeros.
const (
	muLawBias = 0x84
	muLawClip = 32635
)

// MuLawEncode encodes a 16-bit linear sample as a G.711 µ-law byte.
func MuLawEncode(x int16) byte {
	v := int(x)
	var sign byte
	if v < 0 {
		v = -v
		sign = 0x80
	}
	v = min(v, muLawClip) + muLawBias
	// v is now in [0x84, 0x7FFF]: its leading one is bit 7 to bit 14.
	seg := byte(0)
	for t := v >> 8; t > 0; t >>= 1 {
		seg++
	}
	mant := byte(v>>(seg+3)) & 0x0F
	return ^(sign | seg<<4 | mant)
}

// MuLawDecode decodes a G.711 µ-law byte to a 16-bit linear sample.
func MuLawDecode(u byte) int16 {
	u = ^u
	seg := (u >> 4) & 0x07
	v := (int(u&0x0F)<<3 + muLawBias) << seg
	if u&0x80 != 0 {
		return int16(muLawBias - v)
	}
	return int16(v - muLawBias)
}

// aLawDecode decodes a G.711 A-law byte, so that ReadWAVSamples can read
// the European telephone encoding too.
func aLawDecode(a byte) int16 {
	a ^= 0x55
	seg := (a >> 4) & 0x07
	v := int(a&0x0F)<<4 + 8
	if seg > 0 {
		v = (v + 0x100) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(v)
	}
	return int16(-v)
}

// WAVInfo describes a WAV file checked by ParseWAV.
type WAVInfo struct {
	FormatTag     int // WAVEFormatPCM, WAVEFormatMuLaw, ...
	Channels      int
	SampleRate    int
	BitsPerSample int
	Frames        int64 // samples per channel
	Duration      time.Duration
	DataOffset    int64 // where the sample bytes start in the file
	DataSize      int64 // the data chunk's size, without any pad byte
}

// ErrInvalidWAV is wrapped by every error ParseWAV returns for a file that
// is not a well-formed WAV file.
var ErrInvalidWAV = errors.New("invalid WAV file")

func wavErr(format string, args ...any) error {
	return fmt.Errorf("mediagen: %w: %s", ErrInvalidWAV, fmt.Sprintf(format, args...))
}

// ParseWAV checks that the size bytes of r are a complete, self-consistent
// RIFF WAVE file and describes it. It is strict where lenient players
// are not, because a recording whose header disagrees with its length is
// one that some player will cut short or play as noise: the RIFF size
// must be the file size less 8; the chunks (word aligned) must tile the
// file exactly; there must be one fmt chunk, before one data chunk; the
// fmt fields must agree with each other; the data must be a whole number
// of frames; and a compressed format must have a fact chunk whose sample
// count matches. Accepted encodings are PCM (8, 16, 24 or 32 bits), IEEE
// float (32 or 64 bits), A-law and µ-law; WAVE_FORMAT_EXTENSIBLE is not.
func ParseWAV(r io.ReaderAt, size int64) (WAVInfo, error) {
	var info WAVInfo
	if size < 12 {
		return info, wavErr("%d bytes is too short for a RIFF header", size)
	}
	var hdr [12]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return info, fmt.Errorf("mediagen: reading WAV header: %w", err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return info, wavErr("not a RIFF WAVE file")
	}
	if got := int64(binary.LittleEndian.Uint32(hdr[4:8])); got != size-8 {
		return info, wavErr("RIFF size %d, want %d (file size %d less 8)", got, size-8, size)
	}

	var (
		haveFmt, haveData, haveFact bool
		blockAlign                  int
		factFrames                  int64
	)
	for off := int64(12); off < size; {
		if size-off < 8 {
			return info, wavErr("%d stray bytes at offset %d", size-off, off)
		}
		var ch [8]byte
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return info, fmt.Errorf("mediagen: reading WAV chunk at %d: %w", off, err)
		}
		id := string(ch[0:4])
		n := int64(binary.LittleEndian.Uint32(ch[4:8]))
		body := off + 8
		next := body + n + n&1
		if next > size {
			return info, wavErr("chunk %q at offset %d needs %d bytes, file has %d", id, off, next-off, size-off)
		}
		switch id {
		case "fmt ":
			if haveFmt {
				return info, wavErr("second fmt chunk at offset %d", off)
			}
			if haveData {
				return info, wavErr("fmt chunk after data chunk")
			}
			haveFmt = true
			if n < 16 {
				return info, wavErr("fmt chunk of %d bytes, want at least 16", n)
			}
			b := make([]byte, min(n, 64))
			if _, err := r.ReadAt(b, body); err != nil {
				return info, fmt.Errorf("mediagen: reading fmt chunk: %w", err)
			}
			var err error
			blockAlign, err = parseFmt(b, n, &info)
			if err != nil {
				return info, err
			}
		case "fact":
			if n < 4 {
				return info, wavErr("fact chunk of %d bytes, want at least 4", n)
			}
			var b [4]byte
			if _, err := r.ReadAt(b[:], body); err != nil {
				return info, fmt.Errorf("mediagen: reading fact chunk: %w", err)
			}
			haveFact = true
			factFrames = int64(binary.LittleEndian.Uint32(b[:]))
		case "data":
			if !haveFmt {
				return info, wavErr("data chunk before fmt chunk")
			}
			if haveData {
				return info, wavErr("second data chunk at offset %d", off)
			}
			haveData = true
			if n%int64(blockAlign) != 0 {
				return info, wavErr("data chunk of %d bytes is not a whole number of %d-byte frames", n, blockAlign)
			}
			info.DataOffset = body
			info.DataSize = n
			info.Frames = n / int64(blockAlign)
		}
		off = next
	}
	if !haveFmt {
		return info, wavErr("no fmt chunk")
	}
	if !haveData {
		return info, wavErr("no data chunk")
	}
	if info.FormatTag != WAVEFormatPCM {
		if !haveFact {
			return info, wavErr("format tag %d needs a fact chunk", info.FormatTag)
		}
		if factFrames != info.Frames {
			return info, wavErr("fact chunk counts %d frames, data chunk holds %d", factFrames, info.Frames)
		}
	}
	info.Duration = time.Duration(info.Frames * int64(time.Second) / int64(info.SampleRate))
	return info, nil
}

// parseFmt checks the fmt chunk b (its first bytes; n is its full size)
// and fills in info. It returns the block alignment.
func parseFmt(b []byte, n int64, info *WAVInfo) (int, error) {
	le := binary.LittleEndian
	tag := int(le.Uint16(b[0:2]))
	channels := int(le.Uint16(b[2:4]))
	rate := int(le.Uint32(b[4:8]))
	byteRate := int64(le.Uint32(b[8:12]))
	align := int(le.Uint16(b[12:14]))
	bits := int(le.Uint16(b[14:16]))

	switch tag {
	case WAVEFormatPCM:
		if bits != 8 && bits != 16 && bits != 24 && bits != 32 {
			return 0, wavErr("PCM with %d bits per sample", bits)
		}
	case WAVEFormatIEEEFloat:
		if bits != 32 && bits != 64 {
			return 0, wavErr("IEEE float with %d bits per sample", bits)
		}
	case WAVEFormatALaw, WAVEFormatMuLaw:
		if bits != 8 {
			return 0, wavErr("G.711 with %d bits per sample, want 8", bits)
		}
	default:
		return 0, wavErr("unsupported format tag %#x", tag)
	}
	if tag != WAVEFormatPCM {
		// Every format but PCM has the cbSize field, and the extra bytes
		// it announces must be inside the chunk.
		if n < 18 {
			return 0, wavErr("fmt chunk of %d bytes for format tag %d, want at least 18", n, tag)
		}
		if extra := int64(le.Uint16(b[16:18])); 18+extra > n {
			return 0, wavErr("fmt cbSize %d overruns a %d-byte chunk", extra, n)
		}
	}
	if channels < 1 {
		return 0, wavErr("%d channels", channels)
	}
	if rate < 1 || rate > 768000 {
		return 0, wavErr("sample rate %d", rate)
	}
	if want := channels * bits / 8; align != want {
		return 0, wavErr("block align %d, want %d for %d channels of %d bits", align, want, channels, bits)
	}
	if want := int64(rate) * int64(align); byteRate != want {
		return 0, wavErr("byte rate %d, want %d", byteRate, want)
	}
	info.FormatTag = tag
	info.Channels = channels
	info.SampleRate = rate
	info.BitsPerSample = bits
	return align, nil
}

// ReadWAVSamples checks r with ParseWAV and decodes its samples to 16-bit
// linear PCM, channels interleaved. It reads 16-bit PCM, A-law and
// µ-law, which covers telephone recordings.
func ReadWAVSamples(r io.ReaderAt, size int64) (WAVInfo, []int16, error) {
	info, err := ParseWAV(r, size)
	if err != nil {
		return info, nil, err
	}
	data := make([]byte, info.DataSize)
	if _, err := r.ReadAt(data, info.DataOffset); err != nil {
		return info, nil, fmt.Errorf("mediagen: reading WAV data: %w", err)
	}
	var out []int16
	switch {
	case info.FormatTag == WAVEFormatPCM && info.BitsPerSample == 16:
		out = make([]int16, len(data)/2)
		for i := range out {
			out[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
		}
	case info.FormatTag == WAVEFormatMuLaw:
		out = make([]int16, len(data))
		for i, b := range data {
			out[i] = MuLawDecode(b)
		}
	case info.FormatTag == WAVEFormatALaw:
		out = make([]int16, len(data))
		for i, b := range data {
			out[i] = aLawDecode(b)
		}
	default:
		return info, nil, fmt.Errorf("mediagen: decoding format tag %d with %d bits is not supported", info.FormatTag, info.BitsPerSample)
	}
	return info, out, nil
}
