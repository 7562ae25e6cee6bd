package mediagen

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math"
	"time"
)

// A Video is a sequence of equally sized frames shown at a fixed rate.
type Video interface {
	// Bounds is the size of every frame; its minimum point is (0, 0).
	Bounds() image.Rectangle
	// FPS is the number of frames per second.
	FPS() int
	// Len is the number of frames.
	Len() int
	// Draw paints frame i over all of dst, which has Bounds. It must paint
	// the same picture every time it is asked for the same frame,
	// because WriteAVI draws each frame twice.
	Draw(dst *image.RGBA, i int)
}

// DefaultJPEGQuality is the quality WriteAVI uses when given 0: screen
// content has sharp edges, which lower qualities smear visibly.
const DefaultJPEGQuality = 80

// Sizes of the fixed parts of the AVI files WriteAVI writes.
const (
	aviMainHeaderSize   = 56
	aviStreamHeaderSize = 56
	aviBitmapInfoSize   = 40
	// hdrl list body: "hdrl", avih chunk, strl list holding "strl", strh
	// and strf chunks.
	aviHdrlSize = 4 + (8 + aviMainHeaderSize) + 8 + 4 + (8 + aviStreamHeaderSize) + (8 + aviBitmapInfoSize)
)

// AVI header flags (avih dwFlags) and index flags (idx1 dwFlags).
const (
	avifHasIndex      = 0x10
	avifIsInterleaved = 0x100
	aviifKeyframe     = 0x10
)

// WriteAVI writes v to w as an AVI 1.0 file with one Motion-JPEG video
// stream: a RIFF 'AVI ' form holding the hdrl header list (avih, strl
// with strh and a BITMAPINFOHEADER strf), the movi list of '00dc'
// chunks, one JPEG image each, and an idx1 index with offsets from
// 'movi'. That is the layout ffmpeg's own AVI muxer gives Motion-JPEG,
// which ffmpeg, VLC and Windows players read. quality is the JPEG
// quality, 1 to 100; 0 means DefaultJPEGQuality.
//
// RIFF writes every chunk's size before its contents, and a JPEG's size
// is known only once it is encoded. Rather than hold the whole file in
// memory or require an io.Seeker to patch sizes afterwards, WriteAVI
// encodes every frame twice: once to measure it, then again to write
// it. That doubles the CPU time, which for a screen recording of a few
// seconds is a few tens of milliseconds, and keeps memory to one frame,
// so that w can be a pipe, an HTTP response or a blob store upload.
func WriteAVI(w io.Writer, v Video, quality int) error {
	if quality == 0 {
		quality = DefaultJPEGQuality
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("mediagen: JPEG quality %d out of range 1-100", quality)
	}
	b := v.Bounds()
	width, height, fps, n := b.Dx(), b.Dy(), v.FPS(), v.Len()
	if b.Min != (image.Point{}) || width < 1 || height < 1 || width > math.MaxInt16 || height > math.MaxInt16 {
		return fmt.Errorf("mediagen: cannot write a video with bounds %v", b)
	}
	if fps < 1 || n < 1 {
		return fmt.Errorf("mediagen: cannot write %d frames at %d fps", n, fps)
	}
	opts := &jpeg.Options{Quality: quality}
	img := image.NewRGBA(b)

	// Pass 1: measure.
	sizes := make([]uint32, n)
	var maxFrame uint32
	moviSize := int64(4)
	for i := range n {
		v.Draw(img, i)
		var c countingWriter
		if err := jpeg.Encode(&c, img, opts); err != nil {
			return fmt.Errorf("mediagen: encoding frame %d: %w", i, err)
		}
		sizes[i] = uint32(c)
		maxFrame = max(maxFrame, sizes[i])
		moviSize += 8 + int64(c) + int64(c)&1
	}
	idxSize := int64(16 * n)
	riffSize := 4 + (8 + int64(aviHdrlSize)) + (8 + moviSize) + (8 + idxSize)
	if riffSize > math.MaxUint32 {
		return fmt.Errorf("mediagen: %d frames of %dx%d do not fit in an AVI 1.0 file", n, width, height)
	}

	bw := bufio.NewWriterSize(w, 64<<10)
	le := binary.LittleEndian
	h := make([]byte, 0, 12+8+aviHdrlSize+12)
	h = append(h, "RIFF"...)
	h = le.AppendUint32(h, uint32(riffSize))
	h = append(h, "AVI "...)

	h = append(h, "LIST"...)
	h = le.AppendUint32(h, aviHdrlSize)
	h = append(h, "hdrl"...)
	h = append(h, "avih"...)
	h = le.AppendUint32(h, aviMainHeaderSize)
	h = le.AppendUint32(h, uint32(1_000_000/fps))          // dwMicroSecPerFrame
	h = le.AppendUint32(h, (maxFrame+8)*uint32(fps))       // dwMaxBytesPerSec
	h = le.AppendUint32(h, 0)                              // dwPaddingGranularity
	h = le.AppendUint32(h, avifHasIndex|avifIsInterleaved) // dwFlags
	h = le.AppendUint32(h, uint32(n))                      // dwTotalFrames
	h = le.AppendUint32(h, 0)                              // dwInitialFrames
	h = le.AppendUint32(h, 1)                              // dwStreams
	h = le.AppendUint32(h, maxFrame+8)                     // dwSuggestedBufferSize
	h = le.AppendUint32(h, uint32(width))                  // dwWidth
	h = le.AppendUint32(h, uint32(height))                 // dwHeight
	h = append(h, make([]byte, 16)...)                     // dwReserved[4]
	h = append(h, "LIST"...)
	h = le.AppendUint32(h, 4+(8+aviStreamHeaderSize)+(8+aviBitmapInfoSize))
	h = append(h, "strl"...)
	h = append(h, "strh"...)
	h = le.AppendUint32(h, aviStreamHeaderSize)
	h = append(h, "vidsMJPG"...)           // fccType, fccHandler
	h = le.AppendUint32(h, 0)              // dwFlags
	h = le.AppendUint32(h, 0)              // wPriority, wLanguage
	h = le.AppendUint32(h, 0)              // dwInitialFrames
	h = le.AppendUint32(h, 1)              // dwScale
	h = le.AppendUint32(h, uint32(fps))    // dwRate: frames per second is dwRate/dwScale
	h = le.AppendUint32(h, 0)              // dwStart
	h = le.AppendUint32(h, uint32(n))      // dwLength, in frames
	h = le.AppendUint32(h, maxFrame+8)     // dwSuggestedBufferSize
	h = le.AppendUint32(h, math.MaxUint32) // dwQuality: -1, the default
	h = le.AppendUint32(h, 0)              // dwSampleSize: varies per frame
	h = le.AppendUint16(h, 0)              // rcFrame left, top, right, bottom
	h = le.AppendUint16(h, 0)
	h = le.AppendUint16(h, uint16(width))
	h = le.AppendUint16(h, uint16(height))
	h = append(h, "strf"...)
	h = le.AppendUint32(h, aviBitmapInfoSize)
	h = le.AppendUint32(h, aviBitmapInfoSize)      // biSize
	h = le.AppendUint32(h, uint32(width))          // biWidth
	h = le.AppendUint32(h, uint32(height))         // biHeight
	h = le.AppendUint16(h, 1)                      // biPlanes
	h = le.AppendUint16(h, 24)                     // biBitCount
	h = append(h, "MJPG"...)                       // biCompression
	h = le.AppendUint32(h, uint32(width*height*3)) // biSizeImage
	h = append(h, make([]byte, 16)...)             // resolution, colours used, important

	h = append(h, "LIST"...)
	h = le.AppendUint32(h, uint32(moviSize))
	h = append(h, "movi"...)
	if _, err := bw.Write(h); err != nil {
		return err
	}

	// Pass 2: write.
	var buf bytes.Buffer
	buf.Grow(int(maxFrame))
	var ch [8]byte
	copy(ch[:], "00dc")
	for i := range n {
		v.Draw(img, i)
		buf.Reset()
		if err := jpeg.Encode(&buf, img, opts); err != nil {
			return fmt.Errorf("mediagen: encoding frame %d: %w", i, err)
		}
		if uint32(buf.Len()) != sizes[i] {
			return fmt.Errorf("mediagen: frame %d encoded to %d bytes, then %d: the Video does not draw deterministically", i, sizes[i], buf.Len())
		}
		le.PutUint32(ch[4:], sizes[i])
		if _, err := bw.Write(ch[:]); err != nil {
			return err
		}
		if sizes[i]&1 == 1 {
			buf.WriteByte(0)
		}
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return err
		}
	}

	// The index gives each chunk's offset from the 'movi' fourcc, which is
	// what ffmpeg and Windows write and what readers expect first.
	idx := make([]byte, 0, 8+idxSize)
	idx = append(idx, "idx1"...)
	idx = le.AppendUint32(idx, uint32(idxSize))
	off := uint32(4)
	for _, sz := range sizes {
		idx = append(idx, "00dc"...)
		idx = le.AppendUint32(idx, aviifKeyframe)
		idx = le.AppendUint32(idx, off)
		idx = le.AppendUint32(idx, sz)
		off += 8 + sz + sz&1
	}
	if _, err := bw.Write(idx); err != nil {
		return err
	}
	return bw.Flush()
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// AVIInfo describes an AVI file checked by ParseAVI.
type AVIInfo struct {
	Width, Height int
	FPS           float64
	Frames        int
	Duration      time.Duration
	Codec         string // the video stream's handler fourcc, "MJPG"
}

// ErrInvalidAVI is wrapped by every error ParseAVI returns for a file that
// is not a well-formed Motion-JPEG AVI file.
var ErrInvalidAVI = errors.New("invalid AVI file")

func aviErr(format string, args ...any) error {
	return fmt.Errorf("mediagen: %w: %s", ErrInvalidAVI, fmt.Sprintf(format, args...))
}

// maxAVIPixels bounds the frame size ParseAVI will decode, so that a
// hostile header cannot make it allocate gigabytes.
const maxAVIPixels = 4096 * 4096

// ParseAVI checks that the size bytes of r are a complete AVI 1.0 file
// whose first stream is Motion-JPEG video, as WriteAVI writes, and
// describes it. It checks that the RIFF and list sizes tile the file
// exactly; that the frame counts in avih, in strh, in the movi list and
// in idx1 are all equal; that every index entry points at its frame's
// chunk with its size (offsets from 'movi', or from the file start as
// some old writers did); and that every frame is a JPEG image of the
// declared size that image/jpeg decodes.
func ParseAVI(r io.ReaderAt, size int64) (AVIInfo, error) {
	var info AVIInfo
	p := aviParser{r: r, size: size}
	if size < 12 {
		return info, aviErr("%d bytes is too short for a RIFF header", size)
	}
	id, n, err := p.chunk(0)
	if err != nil {
		return info, err
	}
	form, err := p.fourcc(8)
	if err != nil {
		return info, err
	}
	if id != "RIFF" || form != "AVI " {
		return info, aviErr("not a RIFF AVI file")
	}
	if n != size-8 {
		return info, aviErr("RIFF size %d, want %d (file size %d less 8)", n, size-8, size)
	}

	var (
		haveHdrl, haveMovi, haveIdx bool
		totalFrames, streams        uint32
		flags                       uint32
		streamLen                   uint32
		moviStart                   int64 // offset of the 'movi' fourcc
		frames                      []aviChunk
		index                       []aviChunk
	)
	err = p.walk(12, size, func(id string, off, n int64) error {
		body := off + 8
		switch id {
		case "LIST":
			typ, err := p.fourcc(body)
			if err != nil {
				return err
			}
			switch typ {
			case "hdrl":
				if haveHdrl {
					return aviErr("second hdrl list")
				}
				haveHdrl = true
				return p.walk(body+4, body+n, func(id string, off, n int64) error {
					switch id {
					case "avih":
						if n < aviMainHeaderSize {
							return aviErr("avih chunk of %d bytes, want %d", n, aviMainHeaderSize)
						}
						b, err := p.read(off+8, aviMainHeaderSize)
						if err != nil {
							return err
						}
						le := binary.LittleEndian
						flags = le.Uint32(b[12:])
						totalFrames = le.Uint32(b[16:])
						streams = le.Uint32(b[24:])
						info.Width = int(le.Uint32(b[32:]))
						info.Height = int(le.Uint32(b[36:]))
					case "LIST":
						typ, err := p.fourcc(off + 8)
						if err != nil {
							return err
						}
						if typ != "strl" {
							return nil
						}
						if info.Codec != "" {
							// Only the first stream, the video, is checked.
							return nil
						}
						return p.walk(off+12, off+8+n, func(id string, off, n int64) error {
							switch id {
							case "strh":
								// The rcFrame rectangle at the end is optional.
								if n < 48 {
									return aviErr("strh chunk of %d bytes", n)
								}
								b, err := p.read(off+8, 36)
								if err != nil {
									return err
								}
								if string(b[0:4]) != "vids" {
									return aviErr("first stream is %q, want vids", b[0:4])
								}
								info.Codec = string(b[4:8])
								le := binary.LittleEndian
								scale, rate := le.Uint32(b[20:]), le.Uint32(b[24:])
								if scale == 0 || rate == 0 {
									return aviErr("stream rate %d/%d", rate, scale)
								}
								info.FPS = float64(rate) / float64(scale)
								streamLen = le.Uint32(b[32:])
							case "strf":
								if n < aviBitmapInfoSize {
									return aviErr("strf chunk of %d bytes, want %d", n, aviBitmapInfoSize)
								}
								b, err := p.read(off+8, aviBitmapInfoSize)
								if err != nil {
									return err
								}
								if c := string(b[16:20]); c != "MJPG" {
									return aviErr("video compression %q, want MJPG", c)
								}
							}
							return nil
						})
					}
					return nil
				})
			case "movi":
				if !haveHdrl {
					return aviErr("movi list before hdrl list")
				}
				if haveMovi {
					return aviErr("second movi list")
				}
				haveMovi = true
				moviStart = body
				return p.walk(body+4, body+n, func(id string, off, n int64) error {
					return p.moviChunk(id, off, n, &frames, false)
				})
			}
		case "idx1":
			if !haveMovi {
				return aviErr("idx1 before movi list")
			}
			if haveIdx {
				return aviErr("second idx1")
			}
			haveIdx = true
			if n%16 != 0 {
				return aviErr("idx1 of %d bytes is not a whole number of entries", n)
			}
			b, err := p.read(body, n)
			if err != nil {
				return err
			}
			for e := b; len(e) > 0; e = e[16:] {
				if isVideoChunk(string(e[0:4])) {
					index = append(index, aviChunk{
						off:  int64(binary.LittleEndian.Uint32(e[8:])),
						size: int64(binary.LittleEndian.Uint32(e[12:])),
					})
				}
			}
		}
		return nil
	})
	if err != nil {
		return info, err
	}
	switch {
	case !haveHdrl:
		return info, aviErr("no hdrl list")
	case info.Width == 0:
		return info, aviErr("no avih chunk")
	case info.Codec == "":
		return info, aviErr("no video stream header")
	case !haveMovi:
		return info, aviErr("no movi list")
	case !haveIdx:
		return info, aviErr("no idx1 index")
	case flags&avifHasIndex == 0:
		return info, aviErr("avih does not flag the index it has")
	case streams < 1:
		return info, aviErr("avih counts %d streams", streams)
	case info.Width < 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > maxAVIPixels:
		return info, aviErr("frame size %dx%d", info.Width, info.Height)
	}
	if int64(totalFrames) != int64(len(frames)) || int64(streamLen) != int64(len(frames)) || len(index) != len(frames) {
		return info, aviErr("frame counts disagree: avih %d, strh %d, movi %d, idx1 %d", totalFrames, streamLen, len(frames), len(index))
	}
	if len(frames) > 0 {
		// The first entry tells which convention the index uses.
		base := moviStart
		if index[0].off != frames[0].off-moviStart {
			base = 0
		}
		for i, e := range index {
			if base+e.off != frames[i].off || e.size != frames[i].size {
				return info, aviErr("idx1 entry %d points at offset %d size %d, frame %d is at offset %d size %d", i, base+e.off, e.size, i, frames[i].off, frames[i].size)
			}
		}
	}
	for i, f := range frames {
		sr := io.NewSectionReader(r, f.off+8, f.size)
		cfg, err := jpeg.DecodeConfig(sr)
		if err != nil {
			return info, aviErr("frame %d: %v", i, err)
		}
		if cfg.Width != info.Width || cfg.Height != info.Height {
			return info, aviErr("frame %d is %dx%d, header says %dx%d", i, cfg.Width, cfg.Height, info.Width, info.Height)
		}
		if _, err := jpeg.Decode(io.NewSectionReader(r, f.off+8, f.size)); err != nil {
			return info, aviErr("frame %d: %v", i, err)
		}
	}
	info.Frames = len(frames)
	info.Duration = time.Duration(float64(info.Frames) / info.FPS * float64(time.Second))
	return info, nil
}

// aviChunk locates a chunk: off is where its header starts, size its
// body's size.
type aviChunk struct{ off, size int64 }

// isVideoChunk reports whether id is a compressed or uncompressed frame
// of stream 0.
func isVideoChunk(id string) bool { return id == "00dc" || id == "00db" }

type aviParser struct {
	r    io.ReaderAt
	size int64
}

func (p aviParser) read(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off+n > p.size {
		return nil, aviErr("%d bytes at offset %d run past the end", n, off)
	}
	b := make([]byte, n)
	if _, err := p.r.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("mediagen: reading AVI at %d: %w", off, err)
	}
	return b, nil
}

func (p aviParser) fourcc(off int64) (string, error) {
	b, err := p.read(off, 4)
	return string(b), err
}

func (p aviParser) chunk(off int64) (string, int64, error) {
	b, err := p.read(off, 8)
	if err != nil {
		return "", 0, err
	}
	return string(b[:4]), int64(binary.LittleEndian.Uint32(b[4:])), nil
}

// walk calls fn for each chunk in [start, end), checking that the
// chunks, each padded to an even size, fill the range exactly.
func (p aviParser) walk(start, end int64, fn func(id string, off, n int64) error) error {
	for off := start; off < end; {
		if end-off < 8 {
			return aviErr("%d stray bytes at offset %d", end-off, off)
		}
		id, n, err := p.chunk(off)
		if err != nil {
			return err
		}
		next := off + 8 + n + n&1
		if next > end {
			return aviErr("chunk %q at offset %d needs %d bytes, its parent has %d left", id, off, next-off, end-off)
		}
		if id == "LIST" && n < 4 {
			return aviErr("LIST at offset %d has no type", off)
		}
		if err := fn(id, off, n); err != nil {
			return err
		}
		off = next
	}
	return nil
}

// moviChunk records the frames in the movi list, looking inside 'rec '
// lists, which interleaving writers use to group a frame with its audio.
// Those lists do not nest, and refusing nesting keeps a hostile file
// from recursing as deep as it is long.
func (p aviParser) moviChunk(id string, off, n int64, frames *[]aviChunk, inRec bool) error {
	if id == "LIST" {
		typ, err := p.fourcc(off + 8)
		if err != nil {
			return err
		}
		if typ != "rec " || inRec {
			return aviErr("unexpected %q list in movi", typ)
		}
		return p.walk(off+12, off+8+n, func(id string, off, n int64) error {
			return p.moviChunk(id, off, n, frames, true)
		})
	}
	if isVideoChunk(id) {
		*frames = append(*frames, aviChunk{off: off, size: n})
	}
	return nil
}
