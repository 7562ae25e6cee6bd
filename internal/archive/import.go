package archive

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
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
// at a time) before it is written, written atomically and durably, and only then is its catalogue
// row created, in the transaction that clears the pending mark. Killed at
// any instant, an import leaves each recording whole or absent, plus at
// most pending blobs that Recover removes. The caller must hold the data
// directory's archive lock.
//
// events is called from one goroutine at a time. Import returns an error
// only when it cannot go on at all: the manifest cannot be read, or ctx
// was canceled (then the recordings already stored are kept).
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions, events func(ImportEvent)) (ImportSummary, error) {
	start := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = 4
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
	stage := func(batch []*manifest.Entry) error {
		if opts.DryRun {
			return nil
		}
		keys := make([]string, len(batch))
		for i, e := range batch {
			keys[i] = icrec.MediaKey(e.Recording.ID)
		}
		return s.recordings.AddPendingBlobs(ctx, keys...)
	}

	jobs := make(chan *manifest.Entry, opts.Workers)
	stored := make(chan *storedRecording, commitBatch)
	var readErr error
	go func() {
		defer close(jobs)
		readErr = readManifest(ctx, r, jobs, stage, report)
	}()

	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Go(func() {
			for e := range jobs {
				if ctx.Err() != nil {
					continue // drain, so the reader can finish
				}
				sr, ev := s.prepare(ctx, e, opts)
				if sr == nil {
					if !opts.DryRun {
						keep(icrec.MediaKey(e.Recording.ID))
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

// storedRecording is a recording whose blob is durably stored and whose
// catalogue row is still to be created.
type storedRecording struct {
	line int
	rec  *icrec.Recording
}

// readManifest parses the manifest line by line, reporting invalid lines
// and sending valid entries to jobs in batches, each staged first (its
// blobs marked pending in one transaction). A recording id seen twice fails
// its later line: which of two differing lines wins must not depend on
// timing.
func readManifest(ctx context.Context, r io.Reader, jobs chan<- *manifest.Entry, stage func([]*manifest.Entry) error, report func(ImportEvent)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	seen := map[string]int{}
	var batch []*manifest.Entry
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
			batch = append(batch, e)
			if len(batch) == commitBatch && !flush() {
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
func (s *Service) prepare(ctx context.Context, e *manifest.Entry, opts ImportOptions) (*storedRecording, ImportEvent) {
	rec := &e.Recording
	fail := func(field string, err error) (*storedRecording, ImportEvent) {
		if _, ok := errors.AsType[*manifest.Error](err); !ok {
			err = &manifest.Error{Line: e.Line, Field: field, Err: err}
		}
		return nil, ImportEvent{Line: e.Line, ID: rec.ID, Outcome: Failed, Err: err}
	}
	path := filepath.Join(opts.Dir, filepath.FromSlash(e.File))
	f, err := os.Open(path)
	if err != nil {
		return fail("file", fileError(e.File, err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fail("file", fileError(e.File, err))
	}
	if !st.Mode().IsRegular() {
		return fail("file", fmt.Errorf("%s is not a regular file", e.File))
	}
	size := st.Size()

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
	existing, err := s.recordings.FindRecordingByID(ctx, rec.ID)
	switch {
	case err == nil:
		return s.compareExisting(e, existing, f, size)
	case !icrec.IsKind(err, icrec.NotFound):
		return fail("", err)
	}

	if rec.MediaType == icrec.MediaEmail {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fail("file", err)
		}
		atts, err := mimeindex.Scan(f, mimeindex.DefaultLimits)
		if err != nil {
			return fail("file", fmt.Errorf("%s: %w", e.File, err))
		}
		rec.Attachments = atts
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail("file", err)
	}

	if opts.DryRun {
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
	// Media without a catalogue entry and without a pending mark was not
	// left by an import; never overwrite or remove it here.
	if _, err := s.blobs.Stat(ctx, key); err == nil {
		return fail("", fmt.Errorf("the archive has media for %s but no catalogue entry; run icrec fsck", rec.ID))
	} else if !icrec.IsKind(err, icrec.NotFound) {
		return fail("", err)
	}
	info, err := s.blobs.Put(ctx, key, f, e.SHA256)
	if err != nil {
		if e, ok := errors.AsType[*icrec.Error](err); ok && e.ID == icrec.IDChecksumMismatch {
			return fail("sha256", err)
		}
		return fail("", err)
	}
	rec.Media.Key = key
	rec.Media.Size = info.Size
	rec.Media.SHA256 = info.SHA256
	return &storedRecording{line: e.Line, rec: rec}, ImportEvent{}
}

// compareExisting decides a line whose recording is already present: the
// same bytes make it a no-op, different ones a conflict that changes
// nothing. The metadata of the present recording stays as it is.
func (s *Service) compareExisting(e *manifest.Entry, existing *icrec.Recording, f *os.File, size int64) (*storedRecording, ImportEvent) {
	conflict := func(sum string) (*storedRecording, ImportEvent) {
		return nil, ImportEvent{Line: e.Line, ID: existing.ID, Outcome: Failed, Err: &manifest.Error{Line: e.Line, Field: "file",
			Err: fmt.Errorf("recording %s is already in the archive with different media (SHA-256 %s, this file %s); nothing was changed", existing.ID, existing.Media.SHA256, sum)}}
	}
	if size != existing.Media.Size {
		return conflict(fmt.Sprintf("of another size (%d bytes, not %d)", size, existing.Media.Size))
	}
	sum := e.SHA256
	if sum == "" {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, ImportEvent{Line: e.Line, ID: existing.ID, Outcome: Failed, Err: err}
		}
		var err error
		if sum, _, err = hashFile(f); err != nil {
			return nil, ImportEvent{Line: e.Line, ID: existing.ID, Outcome: Failed, Err: &manifest.Error{Line: e.Line, Field: "file", Err: fileError(e.File, err)}}
		}
	}
	if sum != existing.Media.SHA256 {
		return conflict(sum)
	}
	return nil, ImportEvent{Line: e.Line, ID: existing.ID, Outcome: Skipped}
}

// commit creates the catalogue rows of stored recordings, many per
// transaction. It keeps going after ctx is canceled: the blobs are already
// stored, and a row created now saves the next import the work.
func (s *Service) commit(stored <-chan *storedRecording, report func(ImportEvent), keep func(key string)) {
	ctx := context.Background()
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
