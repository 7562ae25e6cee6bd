package archive_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/fsblob"
	"example.com/icrec/internal/mediagen"
	"example.com/icrec/internal/sqlite"
)

// killedCatalogue is the catalogue of an import killed before it cleared
// its pending marks: clearing them fails, so they stay as a kill leaves
// them for Recover.
type killedCatalogue struct{ *sqlite.DB }

func (killedCatalogue) DeletePendingBlobs(context.Context, ...string) error {
	return errors.New("killed")
}

func TestImportKilledKeepsOrphanMedia(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	const (
		idOrphan = "55555555-0000-0000-0000-000000000001" // media in the archive, no recording
		idFailed = "55555555-0000-0000-0000-000000000002" // a line that fails before storing
		idGood   = "55555555-0000-0000-0000-000000000003"
	)
	orphan := icrec.MediaKey(idOrphan)
	orphanData := "media an operator has yet to account for"
	if _, err := f.blobs.Put(ctx, orphan, strings.NewReader(orphanData), ""); err != nil {
		t.Fatal(err)
	}
	f.file("a.wav", wav(t, 1))
	f.line(base(idOrphan, "Call", "a.wav"))
	bad := base(idFailed, "Call", "a.wav")
	bad["sha256"] = strings.Repeat("0", 64)
	f.line(bad)
	f.line(base(idGood, "Call", "a.wav"))

	killed := archive.New(killedCatalogue{f.db}, f.db, f.db, f.db, f.blobs, nil, archive.Exports{}, slog.New(slog.DiscardHandler), time.Now)
	events := map[int]archive.ImportEvent{}
	sum, err := killed.Import(ctx, strings.NewReader(strings.Join(f.lines, "\n")), archive.ImportOptions{Dir: f.dir},
		func(ev archive.ImportEvent) { events[ev.Line] = ev })
	if err != nil {
		t.Fatal(err)
	}
	if sum.Imported != 1 || sum.Failed != 2 || !strings.Contains(events[1].Err.Error(), "no catalogue entry") {
		t.Fatalf("summary %+v, line 1: %v", sum, events[1].Err)
	}
	pending, err := f.db.PendingBlobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(pending, orphan) {
		t.Errorf("the import marked media it did not write as pending: %q", pending)
	}
	// The marks that protect media the import might write are still made.
	if !slices.Contains(pending, icrec.MediaKey(idFailed)) {
		t.Errorf("pending %q lacks the key of line 2, marked before its media could be written", pending)
	}

	rep, err := f.svc.Fsck(ctx, archive.FsckOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.blobs.Stat(ctx, orphan); err != nil {
		t.Fatalf("recovery after the killed import removed media it did not write: %v", err)
	}
	want := fmt.Sprintf("blob %s: no recording uses this blob (%d bytes)", orphan, len(orphanData))
	if len(rep.Problems) != 1 || rep.Problems[0].String() != want {
		t.Errorf("fsck problems %q, want only %q", rep.Problems, want)
	}
	if pending, _ := f.db.PendingBlobs(ctx); len(pending) != 0 {
		t.Errorf("pending blobs after recovery: %q", pending)
	}
}

// changingSource is a blob store under which the file being imported is
// rewritten just before its bytes are stored, as another program writing
// to the import's source would.
type changingSource struct {
	*fsblob.Store
	path string
	data []byte
}

func (c changingSource) Put(ctx context.Context, key string, r io.Reader, sha256 string) (icrec.BlobInfo, error) {
	if err := os.WriteFile(c.path, c.data, 0o600); err != nil {
		return icrec.BlobInfo{}, err
	}
	return c.Store.Put(ctx, key, r, sha256)
}

func (c changingSource) PutUnsynced(ctx context.Context, key string, r io.Reader, sha256 string) (icrec.BlobInfo, error) {
	return c.Put(ctx, key, r, sha256)
}

// batchCounter is a blob store that counts how the import stores blobs,
// and fails every Sync if failSync.
type batchCounter struct {
	*fsblob.Store
	mu                    sync.Mutex
	puts, unsynced, syncs int
	failSync              bool
}

func (b *batchCounter) Put(ctx context.Context, key string, r io.Reader, sha256 string) (icrec.BlobInfo, error) {
	b.mu.Lock()
	b.puts++
	b.mu.Unlock()
	return b.Store.Put(ctx, key, r, sha256)
}

func (b *batchCounter) PutUnsynced(ctx context.Context, key string, r io.Reader, sha256 string) (icrec.BlobInfo, error) {
	b.mu.Lock()
	b.unsynced++
	b.mu.Unlock()
	return b.Store.PutUnsynced(ctx, key, r, sha256)
}

func (b *batchCounter) Sync(ctx context.Context) error {
	b.mu.Lock()
	b.syncs++
	b.mu.Unlock()
	if b.failSync {
		return errors.New("syncfs: input/output error")
	}
	return b.Store.Sync(ctx)
}

// TestImportBatchSync checks that an import stores blobs without a sync
// each and makes them durable a batch at a time, before their rows; and
// that when that sync fails, no line of the batch counts as imported and
// nothing of it stays.
func TestImportBatchSync(t *testing.T) {
	const n = 100
	setup := func(t *testing.T, failSync bool) (*fixture, *batchCounter, archive.ImportSummary, map[int]archive.ImportEvent) {
		f := newFixture(t)
		f.file("a.wav", wav(t, 1))
		for i := range n {
			f.line(base(fmt.Sprintf("66666666-0000-0000-0000-%012d", i), "Call", "a.wav"))
		}
		bc := &batchCounter{Store: f.blobs, failSync: failSync}
		svc := archive.New(f.db, f.db, f.db, f.db, bc, nil, archive.Exports{}, slog.New(slog.DiscardHandler), time.Now)
		events := map[int]archive.ImportEvent{}
		sum, err := svc.Import(t.Context(), strings.NewReader(strings.Join(f.lines, "\n")), archive.ImportOptions{Dir: f.dir},
			func(ev archive.ImportEvent) { events[ev.Line] = ev })
		if err != nil {
			t.Fatal(err)
		}
		return f, bc, sum, events
	}
	t.Run("OK", func(t *testing.T) {
		f, bc, sum, _ := setup(t, false)
		if sum.Imported != n {
			t.Fatalf("summary %+v, want %d imported", sum, n)
		}
		if bc.puts != 0 || bc.unsynced != n || bc.syncs < 1 || bc.syncs > n {
			t.Errorf("Put %d, PutUnsynced %d, Sync %d times; want 0, %d, and 1 to %d", bc.puts, bc.unsynced, bc.syncs, n, n)
		}
		if got, err := f.db.CountRecordings(t.Context()); err != nil || got != n {
			t.Errorf("CountRecordings = %d, %v; want %d", got, err, n)
		}
	})
	t.Run("ErrSync", func(t *testing.T) {
		f, bc, sum, events := setup(t, true)
		if sum.Imported != 0 || sum.Failed != n || bc.syncs < 1 {
			t.Fatalf("summary %+v after %d failed Syncs, want all %d lines failed", sum, bc.syncs, n)
		}
		if err := events[1].Err; err == nil || !strings.Contains(err.Error(), "line 1: the media could not be made durable; nothing was imported for this line: syncfs: input/output error") {
			t.Errorf("line 1: %v", err)
		}
		if got, err := f.db.CountRecordings(t.Context()); err != nil || got != 0 {
			t.Errorf("CountRecordings = %d, %v; want 0", got, err)
		}
		for info, err := range f.blobs.List(t.Context(), "") {
			t.Errorf("blob left after a failed Sync: %+v, %v", info, err)
		}
		if pending, _ := f.db.PendingBlobs(t.Context()); len(pending) != 0 {
			t.Errorf("pending blobs left: %q", pending)
		}
	})
}

func TestImportEmailChangedWhileImported(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	before, changed := email(t)
	f.file("mail.eml", before)
	changed.Attachments[0].Data = []byte("%PDF-1.4 another invoice")
	var after bytes.Buffer
	if err := mediagen.WriteEmail(&after, changed); err != nil {
		t.Fatal(err)
	}

	svc := archive.New(f.db, f.db, f.db, f.db, changingSource{f.blobs, filepath.Join(f.dir, "mail.eml"), after.Bytes()}, nil, archive.Exports{}, slog.New(slog.DiscardHandler), time.Now)
	f.line(base(idMail, "Email", "mail.eml"))
	events := map[int]archive.ImportEvent{}
	sum, err := svc.Import(ctx, strings.NewReader(f.lines[0]), archive.ImportOptions{Dir: f.dir},
		func(ev archive.ImportEvent) { events[ev.Line] = ev })
	if err != nil {
		t.Fatal(err)
	}
	ev := events[1]
	ie, _ := errors.AsType[*icrec.Error](ev.Err)
	if sum.Imported != 0 || ev.Outcome != archive.Failed || ie == nil || ie.ID != icrec.IDChecksumMismatch || !strings.Contains(ev.Err.Error(), "line 1: file: mail.eml changed while it was imported") {
		t.Fatalf("summary %+v, line 1: %v %v; want a checksum mismatch on the file", sum, ev.Outcome, ev.Err)
	}
	if _, err := f.db.FindRecordingByID(ctx, idMail); !icrec.IsKind(err, icrec.NotFound) {
		t.Errorf("recording stored with an index of other bytes: %v", err)
	}
	if _, err := f.blobs.Stat(ctx, icrec.MediaKey(idMail)); !icrec.IsKind(err, icrec.NotFound) {
		t.Errorf("media stored: %v", err)
	}
	if pending, _ := f.db.PendingBlobs(ctx); len(pending) != 0 {
		t.Errorf("pending blobs left: %q", pending)
	}
}
