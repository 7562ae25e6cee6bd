package archive

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/manifest"
	"example.com/icrec/internal/mimeindex"
)

// ImportOptions tune an import.
type ImportOptions struct {
	// Dir is the directory the manifest's file paths are relative to.
	Dir string
	// Workers is how many recordings are read and stored at once; zero
	// means 4.
	Workers int
	// DryRun checks every line, file, checksum and email as an import
	// would, and writes nothing.
	DryRun bool
	// Batch is how many lines are read before their media are marked
	// pending together; zero means 64. A caller that writes the manifest
	// while the import reads it (a migration) sets it low, so that no
	// line waits for others that are not written yet.
	Batch int
}

// Outcome is what became of one manifest line.
type Outcome uint8

const (
	Imported Outcome = iota + 1 // stored: blob and catalogue row
	Skipped                     // already in the archive with the same bytes
	Checked                     // dry run: would be imported
	Failed                      // not imported; Err says why
)

func (o Outcome) String() string {
	return [...]string{"", "imported", "skipped", "checked", "failed"}[o]
}

// ImportEvent reports one line's outcome.
type ImportEvent struct {
	Line    int
	ID      string // the recording id, when the line had one or got one
	Outcome Outcome
	Bytes   int64 // media bytes stored, or checked in a dry run
	Err     error
}

// ImportSummary totals an import.
type ImportSummary struct {
	Imported, Skipped, Checked, Failed int
	Bytes                              int64
	Elapsed                            time.Duration
}

// commitBatch caps how many recordings one catalogue transaction creates:
// enough to share one sync among many small recordings, small enough that a
// failed batch is cheap to retry one by one.
const commitBatch = 64

// Import brings the recordings of a manifest (JSON Lines, see
// internal/manifest) into the archive. Each line is validated whole, file
// and email structure included, before anything is written for it; a line
// that fails is reported through events and the import goes on. A recording
// already present with the same bytes is skipped; with different bytes it
// fails and nothing is overwritten.
//
// Crash safety: a recording's blob is recorded as pending (a batch of lines
// at a time) before it is written, written atomically, made durable (a
// batch at a time where the blob store is an icrec.BatchSyncer, else on its
// own), and only then is its catalogue row created, in the transaction that
// clears the pending mark. Killed at
// any instant, an import leaves each recording whole or absent, plus at
// most pending blobs that Recover removes. A key whose blob exists already
// is never marked, so Recover cannot take media the import did not write
// for its debris. The caller must hold the data directory's archive lock.
//
// events is called from one goroutine at a time. Import returns an error
// only when it cannot go on at all: the manifest cannot be read, or ctx
// was canceled (then the recordings already stored are kept).
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions, events func(ImportEvent)) (ImportSummary, error) {
	start := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Batch <= 0 || opts.Batch > commitBatch {
		opts.Batch = commitBatch
	}
	var (
		mu  sync.Mutex
		sum ImportSummary
	)
	report := func(ev ImportEvent) {
		mu.Lock()
		defer mu.Unlock()
		switch ev.Outcome {
		case Imported:
			sum.Imported++
		case Skipped:
			sum.Skipped++
		case Checked:
			sum.Checked++
		case Failed:
			sum.Failed++
		}
		sum.Bytes += ev.Bytes
		if events != nil {
			events(ev)
		}
	}

	// Keys marked pending whose line did not end in a created recording;
	// their marks go when the import ends.
	var unmark []string
	keep := func(key string) {
		mu.Lock()
		defer mu.Unlock()
		unmark = append(unmark, key)
	}
	stage := func(batch []*importJob) error {
		if opts.DryRun {
			return nil
		}
		return s.markPending(ctx, batch)
	}

	jobs := make(chan *importJob, opts.Workers)
	stored := make(chan *storedRecording, commitBatch)
	var readErr error
	go func() {
		defer close(jobs)
		readErr = readManifest(ctx, r, opts.Batch, jobs, stage, report)
	}()

	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Go(func() {
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain, so the reader can finish
				}
				sr, ev := s.prepare(ctx, j, opts)
				if sr == nil {
					if j.marked {
						keep(icrec.MediaKey(j.Recording.ID))
					}
					report(ev)
					continue
				}
				stored <- sr
			}
		})
	}
	go func() {
		workers.Wait()
		close(stored)
	}()
	s.commit(stored, report, keep)
	if err := s.recordings.DeletePendingBlobs(context.Background(), unmark...); err != nil {
		s.log.Warn("forget pending blobs; the next start will", "err", err)
	}

	sum.Elapsed = time.Since(start)
	if !opts.DryRun {
		s.emit(&icrec.AuditEvent{Kind: icrec.AuditImport, Outcome: "ok", Detail: fmt.Sprintf(
			`{"imported":%d,"skipped":%d,"failed":%d,"bytes":%d}`, sum.Imported, sum.Skipped, sum.Failed, sum.Bytes)})
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	return sum, readErr
}

// importJob is a valid line on its way to a worker. marked reports that
// this import marked the line's media key pending: only then may it store a
// blob under the key, and only then is the mark its own to clear. checked
// reports that its batch was looked up in the catalogue, and present that
// the recording was there then.
type importJob struct {
	*manifest.Entry
	marked, checked, present bool
}

// markPending marks, in one transaction, the media keys of a batch whose
// blob does not exist yet. A blob that exists already was not written by
// this import (an earlier recording's, or an orphan fsck is to report);
// marked and then killed, the import would have Recover delete it. The
// check cannot race with a writer: only an import stores media, and the
// archive lock admits one at a time. A key left unmarked by a failed check
// is marked alone by prepare if it turns out to need a blob.
func (s *Service) markPending(ctx context.Context, batch []*importJob) error {
	// One catalogue read for the batch, where a read per line would cost
	// an import of small recordings a tenth of its time. A recording
	// created after this read (none is: the archive lock admits one
	// import) would only fail its line at the commit, as a conflict.
	ids := make([]string, len(batch))
	for i, j := range batch {
		ids[i] = j.Recording.ID
	}
	present, err := s.recordings.ExistingRecordings(ctx, ids)
	if err != nil {
		return err
	}
	for _, j := range batch {
		j.checked, j.present = true, slices.ContainsFunc(present, func(id string) bool { return icrec.SameID(id, j.Recording.ID) })
	}
	var keys []string
	for _, j := range batch {
		key := icrec.MediaKey(j.Recording.ID)
		if _, err := s.blobs.Stat(ctx, key); icrec.IsKind(err, icrec.NotFound) {
			keys = append(keys, key)
			j.marked = true
		}
	}
	if len(keys) == 0 {
		return nil
	}
	if err := s.recordings.AddPendingBlobs(ctx, keys...); err != nil {
		for _, j := range batch {
			j.marked = false
		}
		return err
	}
	return nil
}

// storedRecording is a recording whose blob is stored, not yet durably if
// the blob store is an icrec.BatchSyncer, and whose catalogue row is still
// to be created.
type storedRecording struct {
	line int
	rec  *icrec.Recording
}

// readManifest parses the manifest line by line, reporting invalid lines
// and sending valid entries to jobs in batches, each staged first (the
// keys of the blobs it may write marked pending in one transaction). A
// recording id seen twice fails its later line: which of two differing
// lines wins must not depend on timing.
func readManifest(ctx context.Context, r io.Reader, batchSize int, jobs chan<- *importJob, stage func([]*importJob) error, report func(ImportEvent)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	seen := map[string]int{}
	var batch []*importJob
	flush := func() bool {
		defer func() { batch = batch[:0] }()
		if err := stage(batch); err != nil {
			for _, e := range batch {
				report(ImportEvent{Line: e.Line, ID: e.Recording.ID, Outcome: Failed, Err: &manifest.Error{Line: e.Line, Err: err}})
			}
			return true
		}
		for _, e := range batch {
			select {
			case jobs <- e:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	for n := 1; ; n++ {
		if ctx.Err() != nil {
			return nil
		}
		line, tooLong, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the manifest at line %d: %w", n, err)
		}
		switch {
		case tooLong:
			report(ImportEvent{Line: n, Outcome: Failed, Err: &manifest.Error{Line: n, Err: fmt.Errorf("longer than %d bytes", manifest.MaxLineBytes)}})
		case len(trimSpace(line)) == 0:
			// Blank lines, such as a final newline, are not recordings.
		default:
			e, perr := manifest.Parse(n, line)
			if perr != nil {
				report(ImportEvent{Line: n, Outcome: Failed, Err: perr})
				break
			}
			if first, dup := seen[e.Recording.ID]; dup {
				report(ImportEvent{Line: n, ID: e.Recording.ID, Outcome: Failed,
					Err: &manifest.Error{Line: n, Field: "recordingId", Err: fmt.Errorf("recording %s is already on line %d", e.Recording.ID, first)}})
				break
			}
			seen[e.Recording.ID] = n
			batch = append(batch, &importJob{Entry: e})
			if len(batch) == batchSize && !flush() {
				return nil
			}
		}
		if errors.Is(err, io.EOF) {
			flush()
			return nil
		}
	}
}

// readLine reads one line without its newline. A line over the limit is
// read to its end and reported as too long, so that the next line is still
// read correctly.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > manifest.MaxLineBytes+1 {
			tooLong = true
			line = line[:0]
		} else {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if tooLong {
			return nil, true, err
		}
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
		}
		return line, false, err
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	return b
}

// prepare checks one entry against its file and, unless it is a dry run or
// the recording is already present, stores its blob. It returns the stored
// recording, or the event that ends the line.
func (s *Service) prepare(ctx context.Context, j *importJob, opts ImportOptions) (*storedRecording, ImportEvent) {
	e := j.Entry
	rec := &e.Recording
	fail := func(field string, err error) (*storedRecording, ImportEvent) {
		if _, ok := errors.AsType[*manifest.Error](err); !ok {
			err = &manifest.Error{Line: e.Line, Field: field, Err: err}
		}
		return nil, ImportEvent{Line: e.Line, ID: rec.ID, Outcome: Failed, Err: err}
	}
	f, err := openMedia(filepath.Join(opts.Dir, filepath.FromSlash(e.File)), e.File)
	if err != nil {
		return fail("file", err)
	}
	defer f.Close()

	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fail("file", fileError(e.File, err))
	}
	head = head[:n]
	ct, err := contentType(e, head)
	if err != nil {
		return fail("contentType", err)
	}
	rec.Media.ContentType = ct

	// Present already? Then this line changes nothing, or is a conflict.
	if !j.checked || j.present {
		existing, err := s.recordings.FindRecordingByID(ctx, rec.ID)
		switch {
		case err == nil:
			return s.compareExisting(e, existing, f)
		case !icrec.IsKind(err, icrec.NotFound):
			return fail("", err)
		}
	}

	// want is the checksum the blob store is to insist on.
	want := e.SHA256
	var scanned *digest
	if rec.MediaType == icrec.MediaEmail {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fail("file", err)
		}
		// The read that indexes the attachments also hashes the message,
		// and the blob is then stored only if it has that hash: a file
		// changed between the two reads would otherwise be stored with an
		// index that describes other bytes.
		scanned = newDigest()
		atts, err := mimeindex.Scan(io.TeeReader(f, scanned), mimeindex.DefaultLimits)
		if err != nil {
			return fail("file", fmt.Errorf("%s: %w", e.File, err))
		}
		// Scan reads to the end; what it may leave is hashed all the same.
		if _, err := io.Copy(scanned, f); err != nil {
			return fail("file", fileError(e.File, err))
		}
		want = scanned.sum()
		if e.SHA256 != "" && want != e.SHA256 {
			return fail("sha256", fmt.Errorf("the file's SHA-256 is %s, not %s", want, e.SHA256))
		}
		rec.Attachments = atts
	}

	if opts.DryRun {
		if scanned != nil {
			return nil, ImportEvent{Line: e.Line, ID: rec.ID, Outcome: Checked, Bytes: scanned.n}
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fail("file", err)
		}
		sum, n, err := hashFile(f)
		if err != nil {
			return fail("file", fileError(e.File, err))
		}
		if e.SHA256 != "" && sum != e.SHA256 {
			return fail("sha256", fmt.Errorf("the file's SHA-256 is %s, not %s", sum, e.SHA256))
		}
		return nil, ImportEvent{Line: e.Line, ID: rec.ID, Outcome: Checked, Bytes: n}
	}

	key := icrec.MediaKey(rec.ID)
	if !j.marked {
		// Media without a catalogue entry and without a pending mark was
		// not left by an import; never overwrite or remove it here. (A
		// marked key had no media when its batch was marked, and only an
		// import, this one, stores media.)
		if _, err := s.blobs.Stat(ctx, key); err == nil {
			return fail("", fmt.Errorf("the archive has media for %s but no catalogue entry; run icrec fsck", rec.ID))
		} else if !icrec.IsKind(err, icrec.NotFound) {
			return fail("", err)
		}
		// The key was not marked with its batch (the blob was there then,
		// or could not be checked): it must be before anything is written.
		if err := s.recordings.AddPendingBlobs(ctx, key); err != nil {
			return fail("", err)
		}
		j.marked = true
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail("file", err)
	}
	put := s.blobs.Put
	if bs, ok := s.blobs.(icrec.BatchSyncer); ok {
		// commit syncs before it creates the rows; until then the key is
		// pending, so a crash leaves nothing Recover cannot take away.
		put = bs.PutUnsynced
	}
	info, err := put(ctx, key, f, want)
	if err != nil {
		if ie, ok := errors.AsType[*icrec.Error](err); ok && ie.ID == icrec.IDChecksumMismatch {
			if scanned != nil {
				return fail("file", fmt.Errorf("%s changed while it was imported (its attachments were indexed from other bytes); nothing was stored: %w", e.File, err))
			}
			return fail("sha256", err)
		}
		return fail("", err)
	}
	rec.Media.Key = key
	rec.Media.Size = info.Size
	rec.Media.SHA256 = info.SHA256
	return &storedRecording{line: e.Line, rec: rec}, ImportEvent{}
}

// openMedia opens a media file for reading if it is a regular file. A FIFO
// opened the ordinary way blocks until a writer comes, forever if none
// does, and opening a device can act on it (a tape rewinds, a modem line
// rises); so the type is checked before opening, and again on the open
// descriptor, which a path swapped in between cannot fool. The open does not
// block: O_NONBLOCK only matters for what is not a regular file, and that
// is refused.
func openMedia(path, name string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fileError(name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(name, st.Mode())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fileError(name, err)
	}
	if st, err = f.Stat(); err != nil {
		f.Close()
		return nil, fileError(name, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, notRegular(name, st.Mode())
	}
	return f, nil
}

func notRegular(name string, m os.FileMode) error {
	what := "a special file"
	switch {
	case m.IsDir():
		what = "a directory"
	case m&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		what = "a socket"
	case m&os.ModeDevice != 0:
		what = "a device"
	}
	return fmt.Errorf("%s is not a regular file but %s", name, what)
}

// compareExisting decides a line whose recording is already present: the
// same bytes make it a no-op, different ones a conflict that changes
// nothing. The metadata of the present recording stays as it is. The file
// is always read: a declared checksum says what the file should hold, not
// what it holds, and a damaged copy must not pass for the archived media.
func (s *Service) compareExisting(e *manifest.Entry, existing *icrec.Recording, f *os.File) (*storedRecording, ImportEvent) {
	fail := func(field string, err error) (*storedRecording, ImportEvent) {
		return nil, ImportEvent{Line: e.Line, ID: existing.ID, Outcome: Failed, Err: &manifest.Error{Line: e.Line, Field: field, Err: err}}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail("file", fileError(e.File, err))
	}
	sum, n, err := hashFile(f)
	if err != nil {
		return fail("file", fileError(e.File, err))
	}
	if e.SHA256 != "" && sum != e.SHA256 {
		return fail("sha256", fmt.Errorf("the file's SHA-256 is %s, not %s", sum, e.SHA256))
	}
	if sum != existing.Media.SHA256 || n != existing.Media.Size {
		return fail("file", fmt.Errorf("recording %s is already in the archive with different media (SHA-256 %s, %d bytes; this file %s, %d bytes); nothing was changed",
			existing.ID, existing.Media.SHA256, existing.Media.Size, sum, n))
	}
	return nil, ImportEvent{Line: e.Line, ID: existing.ID, Outcome: Skipped}
}

// commit creates the catalogue rows of stored recordings, many per
// transaction, once their blobs are durable: one Sync of a BatchSyncer
// covers every blob of the batch. It keeps going after ctx is canceled: the
// blobs are already stored, and a row created now saves the next import the
// work.
func (s *Service) commit(stored <-chan *storedRecording, report func(ImportEvent), keep func(key string)) {
	ctx := context.Background()
	syncer, _ := s.blobs.(icrec.BatchSyncer)
	for first := range stored {
		batch := []*storedRecording{first}
	fill:
		for len(batch) < commitBatch {
			select {
			case sr, ok := <-stored:
				if !ok {
					break fill
				}
				batch = append(batch, sr)
			default:
				break fill
			}
		}
		if syncer != nil {
			if err := syncer.Sync(ctx); err != nil {
				// Which blobs the error hit cannot be known: none of the
				// batch may be counted on.
				for _, sr := range batch {
					if s.discard(sr.rec.Media.Key) {
						keep(sr.rec.Media.Key)
					}
					report(ImportEvent{Line: sr.line, ID: sr.rec.ID, Outcome: Failed, Err: &manifest.Error{Line: sr.line,
						Err: fmt.Errorf("the media could not be made durable; nothing was imported for this line: %w", err)}})
				}
				continue
			}
		}
		recs := make([]*icrec.Recording, len(batch))
		for i, sr := range batch {
			recs[i] = sr.rec
		}
		if err := s.recordings.CreateRecordings(ctx, recs); err == nil {
			for _, sr := range batch {
				report(ImportEvent{Line: sr.line, ID: sr.rec.ID, Outcome: Imported, Bytes: sr.rec.Media.Size})
			}
			continue
		}
		// One bad recording must not fail its neighbours: retry alone.
		for _, sr := range batch {
			if err := s.recordings.CreateRecordings(ctx, []*icrec.Recording{sr.rec}); err != nil {
				if s.discard(sr.rec.Media.Key) {
					keep(sr.rec.Media.Key)
				}
				report(ImportEvent{Line: sr.line, ID: sr.rec.ID, Outcome: Failed, Err: &manifest.Error{Line: sr.line, Err: err}})
				continue
			}
			report(ImportEvent{Line: sr.line, ID: sr.rec.ID, Outcome: Imported, Bytes: sr.rec.Media.Size})
		}
	}
}

// discard removes a stored blob whose row could not be created, and reports
// whether its pending mark may go. If the removal fails, the mark stays for
// Recover.
func (s *Service) discard(key string) bool {
	if err := s.blobs.Delete(context.Background(), key); err != nil && !icrec.IsKind(err, icrec.NotFound) {
		s.log.Warn("remove the media of a recording that could not be stored; the next start will", "key", key, "err", err)
		return false
	}
	return true
}

// contentType is the declared type, or the one the file name or content
// suggests; it must fit the media type, and the file's first bytes must
// match it where its signature is known.
func contentType(e *manifest.Entry, head []byte) (string, error) {
	ct := e.Recording.Media.ContentType
	if !e.ContentTypeDeclared {
		var ok bool
		if ct, ok = manifest.ContentTypeByName(e.File); !ok {
			ct, _, _ = cutParams(http.DetectContentType(head))
		}
		if err := manifest.FitsMediaType(e.Recording.MediaType, ct); err != nil {
			return "", fmt.Errorf("no contentType given, and %s looks like %s, which does not fit: give contentType", e.File, ct)
		}
	}
	return ct, manifest.CheckContent(ct, head)
}

func cutParams(ct string) (string, string, bool) {
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' {
			return ct[:i], ct[i+1:], true
		}
	}
	return ct, "", false
}

func hashFile(r io.Reader) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// fileError says what is wrong with a media file without the noise of the
// absolute path the OS error carries.
func fileError(name string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s does not exist", name)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%s cannot be read: permission denied", name)
	}
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return fmt.Errorf("%s: %v", name, pe.Err)
	}
	return fmt.Errorf("%s: %v", name, err)
}

// digest hashes and counts what is written to it.
type digest struct {
	h hash.Hash
	n int64
}

func newDigest() *digest { return &digest{h: sha256.New()} }

func (d *digest) Write(b []byte) (int, error) {
	d.h.Write(b)
	d.n += int64(len(b))
	return len(b), nil
}

func (d *digest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }
