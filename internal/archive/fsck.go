package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"

	"example.com/icrec"
	"example.com/icrec/internal/mimeindex"
)

// FsckOptions tune a check.
type FsckOptions struct {
	// Quick skips reading the media: sizes and stored checksums are
	// compared, contents are not hashed.
	Quick bool
}

// Problem is something wrong in the archive.
type Problem struct {
	RecordingID string // empty for a blob no recording owns
	Key         string
	What        string
}

func (p Problem) String() string {
	if p.RecordingID == "" {
		return fmt.Sprintf("blob %s: %s", p.Key, p.What)
	}
	return fmt.Sprintf("recording %s: %s", p.RecordingID, p.What)
}

// FsckReport is the result of a check.
type FsckReport struct {
	Recovered     RecoverReport
	Recordings    int
	Blobs         int
	BytesVerified int64
	Problems      []Problem
}

// FsckProgress reports a check under way.
type FsckProgress struct {
	Recordings, Total int
	Bytes             int64
}

// Fsck checks the whole archive: every recording's media is present, of the
// recorded size and checksum (and, unless Quick, really has that content;
// an email's attachment index is rebuilt and compared), and every stored
// blob belongs to a recording. It first removes what a killed import left
// behind (see Recover), and otherwise changes nothing: what is wrong is
// reported, for an operator to decide. The caller must hold the archive
// lock.
func (s *Service) Fsck(ctx context.Context, opts FsckOptions, progress func(FsckProgress)) (FsckReport, error) {
	var rep FsckReport
	var err error
	if rep.Recovered, err = s.Recover(ctx); err != nil {
		return rep, err
	}
	total, err := s.recordings.CountRecordings(ctx)
	if err != nil {
		return rep, err
	}
	problem := func(r *icrec.Recording, key, format string, args ...any) {
		id := ""
		if r != nil {
			id = r.ID
		}
		rep.Problems = append(rep.Problems, Problem{RecordingID: id, Key: key, What: fmt.Sprintf(format, args...)})
	}
	f := icrec.RecordingFilter{Limit: 500}
	for {
		page, err := s.recordings.FindRecordings(ctx, f)
		if err != nil {
			return rep, err
		}
		for _, r := range page {
			n, err := s.checkRecording(ctx, r, opts, problem)
			if err != nil {
				return rep, err
			}
			rep.Recordings++
			rep.BytesVerified += n
			if progress != nil {
				progress(FsckProgress{Recordings: rep.Recordings, Total: total, Bytes: rep.BytesVerified})
			}
		}
		if len(page) < f.Limit {
			break
		}
		last := page[len(page)-1]
		f.After = &icrec.RecordingCursor{RecordingDate: last.RecordingDate, ID: last.ID}
	}

	for info, err := range s.blobs.List(ctx, "") {
		if err != nil && info.Key != "" {
			// One damaged file must not hide the rest.
			problem(nil, info.Key, "cannot be read: %v", err)
			continue
		}
		if err != nil {
			return rep, err
		}
		rep.Blobs++
		if _, err := s.recordings.RecordingByMediaKey(ctx, info.Key); icrec.IsKind(err, icrec.NotFound) {
			problem(nil, info.Key, "no recording uses this blob (%d bytes)", info.Size)
		} else if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// checkRecording checks one recording's media and returns how many bytes it
// read.
func (s *Service) checkRecording(ctx context.Context, r *icrec.Recording, opts FsckOptions, problem func(*icrec.Recording, string, string, ...any)) (int64, error) {
	key := r.Media.Key
	info, err := s.blobs.Stat(ctx, key)
	switch {
	case icrec.IsKind(err, icrec.NotFound):
		problem(r, key, "its media %s is missing", key)
		return 0, nil
	case err != nil:
		problem(r, key, "its media %s cannot be read: %v", key, err)
		return 0, nil
	}
	if info.Size != r.Media.Size {
		problem(r, key, "its media is %d bytes, the catalogue says %d", info.Size, r.Media.Size)
	}
	if info.SHA256 != r.Media.SHA256 {
		problem(r, key, "its media's stored checksum is %s, the catalogue says %s", info.SHA256, r.Media.SHA256)
	}
	if opts.Quick {
		return 0, nil
	}
	b, err := s.blobs.Open(ctx, key)
	if err != nil {
		problem(r, key, "its media cannot be opened: %v", err)
		return 0, nil
	}
	defer b.Close()
	h := sha256.New()
	n, err := io.Copy(h, b)
	if err != nil {
		problem(r, key, "reading its media failed after %d bytes: %v", n, err)
		return n, nil
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != r.Media.SHA256 {
		problem(r, key, "its media's content has SHA-256 %s, not %s: the file is damaged", sum, r.Media.SHA256)
		return n, nil
	}
	if r.MediaType == icrec.MediaEmail {
		if _, err := b.Seek(0, io.SeekStart); err != nil {
			return n, err
		}
		atts, err := mimeindex.Scan(b, mimeindex.DefaultLimits)
		switch {
		case err != nil:
			problem(r, key, "its message no longer parses: %v", err)
		case !slices.Equal(atts, r.Attachments):
			problem(r, key, "its attachments (%d) differ from the catalogue's index (%d)", len(atts), len(r.Attachments))
		}
	}
	return n, nil
}
