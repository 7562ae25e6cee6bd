package archive_test

import (
	"testing"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
)

// BenchmarkRightsCheck measures the calls that check rights on every
// request, with the cache of rights checks and without it (stores that
// hide icrec.VersionStore), in one run: media-details (the check alone),
// export-uri (the check, a stat of the media and signing; no audit trail)
// and a download's opening (the check and an open of the media).
func BenchmarkRightsCheck(b *testing.B) {
	e := newStateEnv(b)
	ctx := b.Context()
	db := e.store.DB
	ex, err := e.svc.IssueExport(ctx, e.sess, stateRecording, archive.Parsed[[]string]{}, "192.0.2.1")
	if err != nil {
		b.Fatal(err)
	}
	// Each call runs with and without the cache side by side, so that
	// both meet the same state of the machine.
	services := []struct {
		name string
		svc  *archive.Service
	}{
		{"Cached", archive.New(db, db, db, db, e.blobs, nil, archive.Exports{Signer: e.signer}, discard, nowFunc)},
		{"Uncached", archive.New(struct{ icrec.RecordingStore }{db}, db, db, db, e.blobs, nil, archive.Exports{Signer: e.signer}, discard, nowFunc)},
	}
	for _, op := range []struct {
		name string
		call func(svc *archive.Service) error
	}{
		{"MediaDetails", func(svc *archive.Service) error {
			_, err := svc.MediaDetails(ctx, e.sess, stateRecording, "192.0.2.1")
			return err
		}},
		{"IssueExport", func(svc *archive.Service) error {
			_, err := svc.IssueExport(ctx, e.sess, stateRecording, archive.Parsed[[]string]{}, "192.0.2.1")
			return err
		}},
		{"OpenDownload", func(svc *archive.Service) error {
			d, err := svc.OpenDownload(ctx, string(ex.Token), "192.0.2.1")
			if err == nil {
				d.Blob.Close()
			}
			return err
		}},
	} {
		for _, sc := range services {
			b.Run(op.name+"/"+sc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := op.call(sc.svc); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
