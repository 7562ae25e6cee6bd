package suite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/datadir"
	"example.com/icrec/internal/sqlite"
)

// scenarioImport times icrec import of many small recordings and of the
// large one against cp of the same files followed by sync.
func scenarioImport(ctx context.Context, e *Env) ([]Row, error) {
	gen := filepath.Join(e.Work, "gen5")
	var lines []string
	for i := range e.Size.smallCount {
		name := fmt.Sprintf("m/%06d.wav", i)
		if err := writeWAV(filepath.Join(gen, "small", name), e.Size.smallKB<<10, uint64(1000+i)); err != nil {
			return nil, err
		}
		lines = append(lines, manifestLine(fmt.Sprintf("C0000000-0000-0000-0000-%012d", i), i, name))
	}
	if err := os.WriteFile(filepath.Join(gen, "small", "manifest.jsonl"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(gen, "large", "m"), 0o755); err != nil {
		return nil, err
	}
	if err := os.Link(e.bigFile, filepath.Join(gen, "large", "m", "big.wav")); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(gen, "large", "manifest.jsonl"), []byte(manifestLine("C16C16C1-0000-0000-0000-000000000001", 1, "m/big.wav")+"\n"), 0o644); err != nil {
		return nil, err
	}
	var rows []Row
	for _, set := range []struct {
		name, dir string
		count     int
		bytes     int64
		goal      float64
	}{
		{fmt.Sprintf("import of %d recordings of %d KB", e.Size.smallCount, e.Size.smallKB), "small", e.Size.smallCount, int64(e.Size.smallCount) * int64(e.Size.smallKB) << 10, 0.5},
		{fmt.Sprintf("import of one recording of %d MiB", e.Size.bigMB), "large", 1, int64(e.Size.bigMB) << 20, 0.8},
	} {
		src := filepath.Join(gen, set.dir)
		// Every round writes to new directories, and all are removed only
		// after the last round: on ext4 without a journal, creating files
		// within minutes of deleting thousands makes the inode allocator
		// scan the deleted ones (recently_deleted), which cost cp or icrec,
		// whichever it hit, up to 3 times its time.
		out := filepath.Join(e.Work, "import-out")
		var ti, tc []float64
		err := alternate(ctx, e.Size.rounds, func() error {
			exec.Command("sync").Run()
			d, err := timedCmd(ctx, e.icrec, "import", "--data", filepath.Join(out, fmt.Sprintf("data-%d", len(ti))), filepath.Join(src, "manifest.jsonl"))
			ti = append(ti, d.Seconds())
			return err
		}, func() error {
			exec.Command("sync").Run()
			d, err := timedCmd(ctx, "sh", "-c", `cp -r "$0" "$1" && sync`, filepath.Join(src, "m"), filepath.Join(out, fmt.Sprintf("copy-%d", len(tc))))
			tc = append(tc, d.Seconds())
			return err
		})
		os.RemoveAll(out)
		if err != nil {
			return nil, err
		}
		i, c := median(ti), median(tc)
		unit, iv, cv := "MB/s", float64(set.bytes)/i/1e6, float64(set.bytes)/c/1e6
		if set.count > 1 {
			unit, iv, cv = "recordings/s", float64(set.count)/i, float64(set.count)/c
		}
		rows = append(rows, Row{Name: set.name + " (reference: cp -r and sync)", Unit: unit, Icrec: iv, Ref: cv, Ratio: c / i,
			Goal: fmt.Sprintf("≥ %.1f", set.goal), Met: c/i >= set.goal,
			Extra: fmt.Sprintf("%.2f s vs %.2f s", i, c)})
	}
	return rows, nil
}

// timedCmd runs a command and returns how long it took. The caller
// prepares (removes the last round's copy, syncs what is pending) before.
func timedCmd(ctx context.Context, name string, args ...string) (time.Duration, error) {
	start := time.Now()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("%s: %v\n%s", name, err, out)
	}
	return d, nil
}

// scenarioCatalogue compares export-uri latency on a catalogue of
// catalogueBig recordings with one of catalogueRef, each on a server of
// its own over a data directory generated for it.
func scenarioCatalogue(ctx context.Context, e *Env) ([]Row, error) {
	big, err := e.catalogue(ctx, "catalogue-big", e.Size.catalogueBig)
	if err != nil {
		return nil, err
	}
	ref, err := e.catalogue(ctx, "catalogue-ref", e.Size.catalogueRef)
	if err != nil {
		return nil, err
	}
	script, err := e.script("exporturi.lua", luaExportURI)
	if err != nil {
		return nil, err
	}
	measure := func(name string, n int) ([]wrkResult, error) {
		s, err := e.startServe(ctx, filepath.Join(e.Work, name), name)
		if err != nil {
			return nil, err
		}
		defer s.stop()
		sess, err := e.login(ctx, s.http)
		if err != nil {
			return nil, err
		}
		var out []wrkResult
		env := e.exportURIEnv(sess, filepath.Join(e.Work, name+".ids"))
		r, err := runWrk(ctx, s.http, 4, e.Size.duration, script, env)
		return append(out, r), err
	}
	var bb, rr []wrkResult
	err = alternate(ctx, e.Size.rounds, func() error {
		r, err := measure("catalogue-big", big)
		bb = append(bb, r...)
		return err
	}, func() error {
		r, err := measure("catalogue-ref", ref)
		rr = append(rr, r...)
		return err
	})
	if err != nil {
		return nil, err
	}
	b, r := median(p50s(bb)), median(p50s(rr))
	return []Row{{Name: fmt.Sprintf("export-uri p50 latency, %d recordings in the catalogue (reference: %d), 4 connections", e.Size.catalogueBig, e.Size.catalogueRef),
		Unit: "ms", Icrec: b, Ref: r, Ratio: b / r, Goal: "≤ 1.3", Met: b/r <= 1.3, LowerBetter: true,
		Extra: fmt.Sprintf("p99 %.2f ms vs %.2f ms", median(p99s(bb)), median(p99s(rr)))}}, nil
}

// catalogue makes a data directory with n recordings: one imported, the
// others catalogue rows that share its media (export-uri does not read
// media), written straight into the store in large transactions, which is
// quicker than importing n files. It writes a sample of 10,000 of their
// ids, spread over the catalogue, for the load generator.
func (e *Env) catalogue(ctx context.Context, name string, n int) (int, error) {
	data := filepath.Join(e.Work, name)
	if err := e.addUser(ctx, data); err != nil {
		return 0, err
	}
	seed := filepath.Join(e.Work, "gen-"+name)
	if err := writeWAV(filepath.Join(seed, "seed.wav"), 4<<10, 5); err != nil {
		return 0, err
	}
	const first = "D0000000-0000-0000-0000-000000000000"
	if err := os.WriteFile(filepath.Join(seed, "m.jsonl"), []byte(manifestLine(first, 0, "seed.wav")+"\n"), 0o644); err != nil {
		return 0, err
	}
	if out, err := exec.CommandContext(ctx, e.icrec, "import", "--data", data, filepath.Join(seed, "m.jsonl")).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("import: %v\n%s", err, out)
	}
	e.logf("writing %d catalogue rows into %s", n, name)
	db, err := sqlite.Open(ctx, filepath.Join(data, datadir.DBFile), time.Now)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	proto, err := db.FindRecordingByID(ctx, first)
	if err != nil {
		return 0, err
	}
	var sample []string
	step := max(n/10_000, 1)
	const batch = 10_000
	recs := make([]*icrec.Recording, 0, batch)
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i < n; i++ {
		r := *proto
		r.ID = fmt.Sprintf("D%07d-0000-0000-0000-%012d", i/1_000_000, i)
		r.InteractionID = fmt.Sprint(2_000_000 + i)
		r.RecordingDate = day.Add(time.Duration(i) * time.Minute)
		recs = append(recs, &r)
		if i%step == 0 {
			sample = append(sample, r.ID)
		}
		if len(recs) == batch || i == n-1 {
			if err := db.CreateRecordings(ctx, recs); err != nil {
				return 0, err
			}
			recs = recs[:0]
		}
	}
	if len(sample) == 0 {
		sample = []string{first}
	}
	return n, os.WriteFile(filepath.Join(e.Work, name+".ids"), []byte(strings.Join(sample, "\n")+"\n"), 0o644)
}
