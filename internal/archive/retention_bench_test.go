package archive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/audit"
	"example.com/icrec/internal/fsblob"
	"example.com/icrec/internal/sqlite"
)

// BenchmarkSweep deletes b.N expired recordings in one sweep, each with a
// small blob, from a real SQLite file and real files: the cost per
// recording of working off a retention backlog (its audit event, its
// catalogue row, its media, all synced).
func BenchmarkSweep(b *testing.B) {
	ctx := b.Context()
	data := b.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(data, "icrec.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	blobs, err := fsblob.New(filepath.Join(data, "blobs"))
	if err != nil {
		b.Fatal(err)
	}
	trail := audit.New(db, nil, nil)
	defer trail.Close(context.Background())
	svc := archive.New(db, db, db, db, blobs, trail, archive.Exports{}, slog.New(slog.DiscardHandler), func() time.Time { return sweepNow })

	media := bytes.Repeat([]byte("RIFF"), 1<<10)
	sum := sha256.Sum256(media)
	recs := make([]*icrec.Recording, b.N)
	for i := range recs {
		id := fmt.Sprintf("33333333-0000-0000-0000-%012d", i)
		key := icrec.MediaKey(id)
		if _, err := blobs.Put(ctx, key, bytes.NewReader(media), ""); err != nil {
			b.Fatal(err)
		}
		recs[i] = &icrec.Recording{ID: id, InteractionID: fmt.Sprint(i), MediaType: icrec.MediaCall,
			RecordingDate: sweepNow.AddDate(-1, 0, 0), ExpirationDate: sweepNow.AddDate(0, 0, -1),
			Media: icrec.Media{Key: key, ContentType: "audio/wav", Size: int64(len(media)), SHA256: hex.EncodeToString(sum[:]), FileName: "a.wav"}}
	}
	for chunk := range slices.Chunk(recs, 500) {
		if err := db.CreateRecordings(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	s, err := svc.Sweep(ctx, archive.SweepOptions{}, nil)
	if err != nil || s.Deleted != b.N {
		b.Fatalf("Sweep: %+v, %v; want %d deleted", s, err, b.N)
	}
}
