package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/sqlite"
)

// catalogueSize is the number of recordings in the benchmarks' catalogue:
// a busy contact centre's few months.
const catalogueSize = 100_000

// The catalogue is built once per test binary run, on first use, in a
// directory that TestMain removes: building it takes longer than any one
// benchmark, and the benchmarks only read it.
var catalogue struct {
	once sync.Once
	dir  string
	db   *sqlite.DB
	ids  []string // every id, in creation order
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if catalogue.db != nil {
		catalogue.db.Close()
	}
	if catalogue.dir != "" {
		os.RemoveAll(catalogue.dir)
	}
	os.Exit(code)
}

// catalogueRecording returns the recording numbered i of the catalogue:
// a call or, one in ten, an email with two attachments, between an agent
// (one of 500) and a customer, in one of 20 workgroups, with two attributes
// and sometimes a tag or a second agent. Ids are scattered, as GUIDs are,
// so that id order is not date order.
func catalogueRecording(i int) *icrec.Recording {
	id := fmt.Sprintf("%08X-CD4F-D013-8E31-%012X", uint32(i)*2654435761, i)
	agent := fmt.Sprint("agent", i%500)
	r := &icrec.Recording{
		ID:                   id,
		InteractionID:        fmt.Sprint(1_000_000_000 + i/2),
		MediaType:            icrec.MediaCall,
		RecordingType:        icrec.RecordingPolicyRelated,
		CallType:             icrec.CallExternal,
		Direction:            icrec.DirectionInbound,
		RecordingDate:        time.Date(2025, 1, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Second),
		Duration:             time.Duration(30+i%900) * time.Second,
		ExpirationDate:       time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC),
		InitiationPolicyName: "Record all external calls",
		LineName:             fmt.Sprint("SIP line ", i%8),
		IsEncrypted:          true,
		Participants: []icrec.Participant{
			{UserID: agent, Name: "Agent " + agent, Address: agent + "@example.com"},
			{Name: "Customer", Address: fmt.Sprintf("+1555%07d", i)},
		},
		Workgroups: []string{fmt.Sprint("Workgroup ", i%20)},
		Attributes: []icrec.Attribute{
			{Name: "Campaign", Value: fmt.Sprint("campaign-", i%50)},
			{Name: "Queue", Value: fmt.Sprint("queue-", i%7)},
		},
		Media: icrec.Media{
			Key:         icrec.MediaKey(id),
			ContentType: "audio/wav",
			Size:        int64(480_000 + i),
			SHA256:      fmt.Sprintf("%064x", i),
			FileName:    id + ".wav",
		},
	}
	if i%5 == 0 {
		r.Tags = []string{"escalated"}
	}
	if i%3 == 0 {
		other := fmt.Sprint("agent", (i+250)%500)
		r.Participants = append(r.Participants, icrec.Participant{UserID: other, Name: "Agent " + other})
	}
	if i%10 == 0 {
		r.MediaType, r.CallType = icrec.MediaEmail, icrec.CallUnknown
		r.Media.ContentType, r.Media.FileName = "message/rfc822", id+".eml"
		r.Attachments = []icrec.Attachment{
			{Index: 1, Part: "2", FileName: "invoice.pdf", ContentType: "application/pdf", Size: 81_920, SHA256: fmt.Sprintf("%064x", i+1)},
			{Index: 2, Part: "3", FileName: "photo.jpg", ContentType: "image/jpeg", Size: 204_800, SHA256: fmt.Sprintf("%064x", i+2)},
		}
	}
	return r
}

// benchCatalogue returns the catalogue, building it on first use.
func benchCatalogue(b *testing.B) (*sqlite.DB, []string) {
	b.Helper()
	catalogue.once.Do(func() {
		start := time.Now()
		ctx := context.Background()
		if catalogue.dir, catalogue.err = os.MkdirTemp("", "icrec-bench-"); catalogue.err != nil {
			return
		}
		catalogue.db, catalogue.err = sqlite.Open(ctx, filepath.Join(catalogue.dir, "icrec.db"), time.Now)
		if catalogue.err != nil {
			return
		}
		const batch = 1000
		for i := 0; i < catalogueSize; i += batch {
			recs := make([]*icrec.Recording, batch)
			for j := range recs {
				recs[j] = catalogueRecording(i + j)
				catalogue.ids = append(catalogue.ids, recs[j].ID)
			}
			if catalogue.err = catalogue.db.CreateRecordings(ctx, recs); catalogue.err != nil {
				return
			}
		}
		b.Logf("built a catalogue of %d recordings in %v", catalogueSize, time.Since(start).Round(time.Millisecond))
	})
	if catalogue.err != nil {
		b.Fatalf("building the catalogue: %v", catalogue.err)
	}
	return catalogue.db, catalogue.ids
}

// lookups returns 1024 ids of the catalogue in a fixed random order, so
// that the benchmarks read rows from all over the file rather than one row
// the page cache keeps at hand.
func lookups(ids []string) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]string, 1024)
	for i := range out {
		out[i] = ids[rng.IntN(len(ids))]
	}
	return out
}

// FindRecordingByID runs on every export request.
func BenchmarkFindRecordingByID(b *testing.B) {
	d, ids := benchCatalogue(b)
	ctx := b.Context()
	look := lookups(ids)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := d.FindRecordingByID(ctx, look[i%len(look)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// Requests arrive in parallel; the reader pool serves them side by side.
func BenchmarkFindRecordingByIDParallel(b *testing.B) {
	d, ids := benchCatalogue(b)
	ctx := b.Context()
	look := lookups(ids)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(look))
		for pb.Next() {
			if _, err := d.FindRecordingByID(ctx, look[i%len(look)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// A page of a listing, from a cursor in the middle of the catalogue: the
// whole catalogue, and the recordings of one agent (1 in 500, and 1 in
// 1500 more as second agent).
func BenchmarkFindRecordings(b *testing.B) {
	d, ids := benchCatalogue(b)
	mid := catalogueRecording(len(ids) / 2)
	after := &icrec.RecordingCursor{RecordingDate: mid.RecordingDate, ID: mid.ID}
	for _, bc := range []struct {
		name string
		f    icrec.RecordingFilter
	}{
		{"Page100", icrec.RecordingFilter{After: after, Limit: 100}},
		{"Participant", icrec.RecordingFilter{ParticipantUserID: ptr("AGENT7"), After: after, Limit: 100}},
		{"Workgroup", icrec.RecordingFilter{Workgroup: ptr("workgroup 3"), After: after, Limit: 100}},
		{"Interaction", icrec.RecordingFilter{InteractionID: ptr(mid.InteractionID)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := b.Context()
			b.ReportAllocs()
			for b.Loop() {
				recs, err := d.FindRecordings(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) == 0 {
					b.Fatal("no recordings")
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// CreateRecordings of a batch, as an import commits them, with the change
// counters' triggers (005_change_counters.sql) and, to show what they cost
// writes, on a database whose triggers were dropped.
func BenchmarkCreateRecordings(b *testing.B) {
	for _, counted := range []bool{true, false} {
		name := "Counted"
		if !counted {
			name = "Uncounted"
		}
		b.Run(name, func(b *testing.B) {
			path := newPath(b)
			d := mustOpen(b, path, time.Now)
			ctx := b.Context()
			if !counted {
				dropCounters(b, openRaw(b, path))
			}
			const batch = 100
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				recs := make([]*icrec.Recording, batch)
				for i := range recs {
					recs[i] = catalogueRecording(n)
					n++
				}
				if err := d.CreateRecordings(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/recording")
		})
	}
}

// dropCounters drops the triggers that keep the change counters.
func dropCounters(tb testing.TB, raw *sql.DB) {
	tb.Helper()
	rows, err := raw.QueryContext(tb.Context(), `SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '%\_counts' ESCAPE '\'`)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if _, err := raw.ExecContext(tb.Context(), "DROP TRIGGER "+n); err != nil {
			tb.Fatal(err)
		}
	}
}
