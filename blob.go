package icrec

import (
	"context"
	"io"
	"iter"
	"strings"
	"time"
)

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Key     string
	Size    int64
	SHA256  string // lower-case hex of the content
	ModTime time.Time
}

// Blob is an open blob. It can seek, so that HTTP range requests (an audio
// player seeking) read only what they need.
type Blob interface {
	io.ReadSeekCloser
	Info() BlobInfo
}

// BlobStore stores media bytes under keys. Blobs are immutable: once Put
// returns, a key's content never changes until the blob is deleted.
//
// Keys are one or more segments separated by '/'. A segment is made of
// letters, digits, '.', '_' and '-', does not start with '.', and is at
// most 255 bytes; a key is at most 1024 bytes. So a key can never name
// anything outside the store, whatever the backend (see ValidateBlobKey).
type BlobStore interface {
	// Put stores the content of r under key. It is atomic (the blob is
	// visible whole or not at all, even across a crash) and durable when it
	// returns. The SHA-256 is computed while writing; if sha256 is not
	// empty, the content must have that hash, or Put returns Invalid with
	// ID IDChecksumMismatch and nothing becomes visible. Returns Conflict,
	// changing nothing, if key exists. Canceling ctx abandons the write.
	Put(ctx context.Context, key string, r io.Reader, sha256 string) (BlobInfo, error)
	// Open opens a blob for reading. Returns NotFound if there is none.
	Open(ctx context.Context, key string) (Blob, error)
	// Stat describes a blob. Returns NotFound if there is none.
	Stat(ctx context.Context, key string) (BlobInfo, error)
	// Delete removes a blob. Returns NotFound if there is none.
	Delete(ctx context.Context, key string) error
	// List yields every blob whose key starts with prefix, in key order.
	// A blob that cannot be described is yielded with its Key and an
	// error, and the listing goes on; an error with an empty Key ends it.
	List(ctx context.Context, prefix string) iter.Seq2[BlobInfo, error]
}

// BatchSyncer is implemented by blob stores that can make many new blobs
// durable at once for far less than one sync each, which is what an import
// of many small recordings needs. PutUnsynced is Put without the
// durability: the blob is atomic and visible when it returns, but a crash
// before the next Sync returns may lose it or leave its key naming partial
// content, so the caller must be able to find such keys after a crash (the
// importer marks them pending before it writes). Sync makes durable every
// blob that a PutUnsynced returned before the call; after an error, any of
// them may still be lost.
type BatchSyncer interface {
	PutUnsynced(ctx context.Context, key string, r io.Reader, sha256 string) (BlobInfo, error)
	Sync(ctx context.Context) error
}

// TempCleaner is implemented by blob stores that stage writes in temporary
// files. CleanTemp removes every staged write, and must only be called when
// no Put can be running (icrec holds the data directory's import lock).
type TempCleaner interface {
	CleanTemp(ctx context.Context) (removed int, err error)
}

// IDChecksumMismatch is the errorId of content that does not have the
// SHA-256 it was declared with.
const IDChecksumMismatch = "error.request.invalidRepresentation.checksumMismatch"

// Limits on blob keys.
const (
	MaxBlobKeyLength     = 1024
	MaxBlobSegmentLength = 255
)

// Every method honours ctx. A declared checksum may be in either letter
// case. A key cannot be both a blob and a prefix of another blob's key
// followed by '/' ("a" and "a/b"): the second Put gets Conflict.

// ValidateBlobKey checks a blob key against the rules of BlobStore.
func ValidateBlobKey(key string) error {
	if key == "" || len(key) > MaxBlobKeyLength {
		return Errorf(Invalid, IDInvalidProperty, "blob key %.40q must be 1 to %d bytes long", key, MaxBlobKeyLength)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return Errorf(Invalid, IDInvalidProperty, "blob key %.80q has an empty segment", key)
		case seg[0] == '.':
			return Errorf(Invalid, IDInvalidProperty, "blob key %.80q has a segment that starts with '.'", key)
		case len(seg) > MaxBlobSegmentLength:
			return Errorf(Invalid, IDInvalidProperty, "blob key %.80q has a segment longer than %d bytes", key, MaxBlobSegmentLength)
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
				return Errorf(Invalid, IDInvalidProperty, "blob key %.80q contains %q; use letters, digits, '.', '_', '-' and '/'", key, c)
			}
		}
	}
	return nil
}

// MediaKey is the blob key of a recording's primary media. Two levels of
// directories taken from the id keep any one directory small.
func MediaKey(recordingID string) string {
	if len(recordingID) < 4 {
		return "recordings/" + recordingID
	}
	return "recordings/" + recordingID[:2] + "/" + recordingID[2:4] + "/" + recordingID
}
