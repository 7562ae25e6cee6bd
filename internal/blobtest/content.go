package blobtest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
)

// Content returns a reader of size pseudo-random bytes determined by seed.
// It holds no more than a few words of state, so tests can stream blobs
// far larger than they would want in memory, and read the same bytes again
// to check them. Different seeds give different bytes; the bytes do not
// depend on how the reader is read.
func Content(seed uint64, size int64) io.Reader {
	return &content{state: seed, left: size, used: 8}
}

type content struct {
	state uint64
	word  [8]byte
	used  int // bytes of word already returned
	left  int64
}

// next is SplitMix64: fast, and every seed gives a full-period sequence.
func (c *content) next() uint64 {
	c.state += 0x9e3779b97f4a7c15
	z := c.state
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (c *content) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n := copy(p, c.word[c.used:])
	c.used += n
	for ; len(p)-n >= 8; n += 8 {
		binary.LittleEndian.PutUint64(p[n:], c.next())
	}
	if n < len(p) {
		binary.LittleEndian.PutUint64(c.word[:], c.next())
		c.used = copy(p[n:], c.word[:])
		n += c.used
	}
	c.left -= int64(n)
	return n, nil
}

// Bytes returns the content of seed and size in memory, for small blobs.
func Bytes(seed uint64, size int) []byte {
	b := make([]byte, size)
	io.ReadFull(Content(seed, int64(size)), b)
	return b
}

// Sum returns the lower-case hex SHA-256 of what r yields, as blob stores
// report it.
func Sum(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
