package archive_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/fsblob"
	"example.com/icrec/internal/manifest"
	"example.com/icrec/internal/mediagen"
	"example.com/icrec/internal/sqlite"
)

type fixture struct {
	t     *testing.T
	dir   string // manifest directory
	db    *sqlite.DB
	blobs *fsblob.Store
	svc   *archive.Service
	lines []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	data := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(data, "icrec.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	blobs, err := fsblob.New(filepath.Join(data, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: t.TempDir(), db: db, blobs: blobs, svc: archive.New(db, db, db, db, blobs, nil, archive.Exports{}, slog.New(slog.DiscardHandler), time.Now)}
}

// file writes a media file next to the manifest and returns its SHA-256.
func (f *fixture) file(name string, data []byte) string {
	f.t.Helper()
	p := filepath.Join(f.dir, filepath.FromSlash(name))
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		f.t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func (f *fixture) line(fields map[string]any) {
	b, _ := json.Marshal(fields)
	f.lines = append(f.lines, string(b))
}

func (f *fixture) run(dryRun bool) (archive.ImportSummary, map[int]archive.ImportEvent) {
	f.t.Helper()
	events := map[int]archive.ImportEvent{}
	sum, err := f.svc.Import(f.t.Context(), strings.NewReader(strings.Join(f.lines, "\n")+"\n"), archive.ImportOptions{Dir: f.dir, DryRun: dryRun, Workers: 3},
		func(ev archive.ImportEvent) { events[ev.Line] = ev })
	if err != nil {
		f.t.Fatal(err)
	}
	return sum, events
}

func wav(t *testing.T, seconds int) []byte {
	var b bytes.Buffer
	if err := mediagen.WriteWAV(&b, mediagen.FormatMuLaw8k, mediagen.Signal{mediagen.DialTone(time.Duration(seconds) * time.Second)}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const (
	idCall  = "11111111-0000-0000-0000-000000000001"
	idMail  = "11111111-0000-0000-0000-000000000002"
	idChat  = "11111111-0000-0000-0000-000000000003"
	emailID = "1@example.com"
)

func base(id, media, file string) map[string]any {
	return map[string]any{"recordingId": id, "interactionId": "100" + id[len(id)-1:], "mediaType": media, "recordingDate": "20240102T030405Z", "file": file}
}

func email(t *testing.T) ([]byte, mediagen.Email) {
	e := mediagen.Email{
		From: mailAddr("a@example.com"), To: []mailAddress{mailAddr("b@example.com")}, Date: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Subject: "Invoice", MessageID: emailID, Text: "See attached.",
		Attachments: []mediagen.Attachment{
			{Filename: "invoice.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 demo")},
			{Filename: "notes.txt", ContentType: "text/plain", Data: []byte("hello\r\n")},
		},
	}
	var b bytes.Buffer
	if err := mediagen.WriteEmail(&b, e); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), e
}

func TestImport(t *testing.T) {
	f := newFixture(t)
	callBytes := wav(t, 1)
	sum := f.file("media/call.wav", callBytes)
	mailBytes, mail := email(t)
	f.file("media/mail.eml", mailBytes)
	f.file("chat.json", []byte(`[{"time":"2024-01-02T03:04:05Z","from":"agent1","text":"hi"}]`))

	call := base(idCall, "Call", "media/call.wav")
	call["sha256"] = sum
	call["participants"] = []any{"agent1", map[string]string{"name": "Jane", "address": "+1555"}}
	call["workgroups"] = []string{"Support"}
	call["attributes"] = map[string]string{"Case": "42"}
	call["tags"] = []string{"vip"}
	f.line(call)
	f.line(base(idMail, "Email", "media/mail.eml"))
	f.line(base(idChat, "Chat", "chat.json"))

	got, events := f.run(false)
	if got.Imported != 3 || got.Failed != 0 {
		t.Fatalf("summary %+v, events %+v", got, events)
	}
	if got.Bytes != int64(len(callBytes)+len(mailBytes))+int64(len(`[{"time":"2024-01-02T03:04:05Z","from":"agent1","text":"hi"}]`)) {
		t.Errorf("bytes=%d", got.Bytes)
	}
	r, err := f.svc.Recording(t.Context(), strings.ToLower(idCall))
	if err != nil {
		t.Fatal(err)
	}
	if r.Media.SHA256 != sum || r.Media.ContentType != "audio/wav" || r.Media.Size != int64(len(callBytes)) || r.Media.FileName != "call.wav" ||
		r.Media.Key != icrec.MediaKey(idCall) || !r.HasParticipant("AGENT1") || !r.InWorkgroup("support") || len(r.Tags) != 1 {
		t.Errorf("call recording %+v", r)
	}
	blob, err := f.blobs.Open(t.Context(), r.Media.Key)
	if err != nil {
		t.Fatal(err)
	}
	var stored bytes.Buffer
	stored.ReadFrom(blob)
	blob.Close()
	if !bytes.Equal(stored.Bytes(), callBytes) {
		t.Error("stored media differs from the file")
	}
	m, _ := f.svc.Recording(t.Context(), idMail)
	if len(m.Attachments) != len(mail.Attachments) || m.Attachments[0].FileName != "invoice.pdf" || m.Attachments[1].ContentType != "text/plain" || m.Attachments[0].Index != 1 {
		t.Errorf("email attachments %+v", m.Attachments)
	}
	c, _ := f.svc.Recording(t.Context(), idChat)
	if c.Media.ContentType != "application/json" {
		t.Errorf("chat content type %q (found from the extension)", c.Media.ContentType)
	}
	if keys, _ := f.db.PendingBlobs(t.Context()); len(keys) != 0 {
		t.Errorf("pending blobs left: %q", keys)
	}

	// The same manifest again changes nothing.
	got, _ = f.run(false)
	if got.Skipped != 3 || got.Imported != 0 || got.Failed != 0 {
		t.Errorf("re-import: %+v", got)
	}
	// Different bytes for a present recording: a conflict, and nothing changes.
	f.file("media/call.wav", wav(t, 2))
	delete(call, "sha256")
	f.lines = []string{f.lines[0]}
	f.lines[0] = mustJSON(call)
	got, events = f.run(false)
	if got.Failed != 1 || !strings.Contains(events[1].Err.Error(), "different media") {
		t.Errorf("conflicting re-import: %+v %v", got, events[1].Err)
	}
	if r2, _ := f.svc.Recording(t.Context(), idCall); r2.Media.SHA256 != sum {
		t.Error("a conflicting import changed the recording")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestImportBadLines(t *testing.T) {
	f := newFixture(t)
	good := wav(t, 1)
	f.file("ok.wav", good)
	f.file("text.wav", []byte("this is not audio at all, just text"))
	f.file("bad.eml", []byte("From: a@example.com\r\nContent-Type: multipart/mixed\r\n\r\nno boundary\r\n"))
	f.file("good.eml", func() []byte { b, _ := email(t); return b }())
	os.Mkdir(filepath.Join(f.dir, "adir"), 0o700)

	cases := []struct {
		line  string
		field string
		want  string
	}{
		{`{"interactionId":`, "", "not valid JSON"},
		{mustJSON(map[string]any{"interactionId": "1", "mediaType": 1, "recordingDate": "20240101T000000Z", "file": "ok.wav", "colour": "red"}), "colour", "unknown field"},
		{mustJSON(base("22222222-0000-0000-0000-000000000001", "Call", "missing.wav")), "file", "missing.wav does not exist"},
		{mustJSON(base("22222222-0000-0000-0000-000000000002", "Call", "adir")), "file", "not a regular file"},
		{mustJSON(map[string]any{"recordingId": "22222222-0000-0000-0000-000000000003", "interactionId": "1", "mediaType": 1, "recordingDate": "20240101T000000Z", "file": "ok.wav", "sha256": strings.Repeat("0", 64)}), "sha256", "SHA-256"},
		{mustJSON(map[string]any{"recordingId": "22222222-0000-0000-0000-000000000004", "interactionId": "1", "mediaType": 1, "recordingDate": "20240101T000000Z", "file": "text.wav", "contentType": "audio/wav"}), "contentType", "does not look like audio/wav"},
		{mustJSON(base("22222222-0000-0000-0000-000000000005", "Email", "bad.eml")), "file", "without a boundary"},
		{mustJSON(base("22222222-0000-0000-0000-000000000006", "Call", "good.eml")), "contentType", "does not fit"},
		{mustJSON(base("22222222-0000-0000-0000-000000000007", "Call", "ok.wav")), "", ""}, // the one good line
		{mustJSON(base("22222222-0000-0000-0000-000000000007", "Call", "ok.wav")), "recordingId", "already on line 9"},
	}
	for _, c := range cases {
		f.lines = append(f.lines, c.line)
	}
	sum, events := f.run(false)
	if sum.Imported != 1 || sum.Failed != len(cases)-1 {
		t.Errorf("summary %+v", sum)
	}
	for i, c := range cases {
		n := i + 1
		ev := events[n]
		if c.want == "" {
			if ev.Outcome != archive.Imported {
				t.Errorf("line %d: %v %v", n, ev.Outcome, ev.Err)
			}
			continue
		}
		var me *manifest.Error
		if ev.Outcome != archive.Failed || !errors.As(ev.Err, &me) || me.Line != n || me.Field != c.field || !strings.Contains(ev.Err.Error(), c.want) {
			t.Errorf("line %d: %v %v (field %q), want field %q and %q", n, ev.Outcome, ev.Err, fieldOf(me), c.field, c.want)
		}
		if ev.ID != "" && !strings.HasSuffix(ev.ID, "7") {
			if _, err := f.blobs.Stat(t.Context(), icrec.MediaKey(ev.ID)); !icrec.IsKind(err, icrec.NotFound) {
				t.Errorf("line %d failed but left media behind: %v", n, err)
			}
		}
	}
	if keys, _ := f.db.PendingBlobs(t.Context()); len(keys) != 0 {
		t.Errorf("pending blobs left: %q", keys)
	}
	if n, _ := f.db.CountRecordings(t.Context()); n != 1 {
		t.Errorf("%d recordings, want 1", n)
	}
}

func fieldOf(me *manifest.Error) string {
	if me == nil {
		return "-"
	}
	return me.Field
}

func TestImportDryRun(t *testing.T) {
	f := newFixture(t)
	f.file("a.wav", wav(t, 1))
	f.line(base(idCall, "Call", "a.wav"))
	sum, _ := f.run(true)
	if sum.Checked != 1 || sum.Bytes == 0 {
		t.Errorf("dry run %+v", sum)
	}
	if n, _ := f.db.CountRecordings(t.Context()); n != 0 {
		t.Error("a dry run created recordings")
	}
	for _, err := range f.blobs.List(t.Context(), "") {
		t.Errorf("a dry run stored media (%v)", err)
	}
}

func TestRecoverAndFsck(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for i := range 3 {
		id := fmt.Sprintf("33333333-0000-0000-0000-00000000000%d", i)
		f.file(id+".wav", wav(t, 1))
		f.line(base(id, "Call", id+".wav"))
	}
	if sum, _ := f.run(false); sum.Imported != 3 {
		t.Fatalf("import %+v", sum)
	}
	rep, err := f.svc.Fsck(ctx, archive.FsckOptions{}, nil)
	if err != nil || len(rep.Problems) != 0 || rep.Recordings != 3 || rep.Blobs != 3 {
		t.Fatalf("clean archive: %+v %v", rep, err)
	}

	// An import killed between its blob and its row leaves a pending blob.
	key := icrec.MediaKey("44444444-0000-0000-0000-000000000000")
	if err := f.db.AddPendingBlobs(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := f.blobs.Put(ctx, key, strings.NewReader("half an import"), ""); err != nil {
		t.Fatal(err)
	}
	// Damage: a missing blob, a corrupted one, and an orphan nobody marked.
	recs, _ := f.db.FindRecordings(ctx, icrec.RecordingFilter{})
	if err := f.blobs.Delete(ctx, recs[0].Media.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := f.blobs.Put(ctx, "recordings/orphan", strings.NewReader("who owns me"), ""); err != nil {
		t.Fatal(err)
	}
	b, _ := f.blobs.Open(ctx, recs[1].Media.Key)
	path := b.(interface{ File() *os.File }).File().Name()
	b.Close()
	data, _ := os.ReadFile(path)
	data[100] ^= 0xff
	os.WriteFile(path, data, 0o600)

	rep, err = f.svc.Fsck(ctx, archive.FsckOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recovered.PendingBlobs != 1 {
		t.Errorf("recovered %+v, want the pending blob", rep.Recovered)
	}
	var what []string
	for _, p := range rep.Problems {
		what = append(what, p.String())
	}
	all := strings.Join(what, "\n")
	for _, want := range []string{recs[0].ID + ": its media " + recs[0].Media.Key + " is missing", recs[1].ID + ": its media's content has SHA-256", "blob recordings/orphan: no recording uses this blob"} {
		if !strings.Contains(all, want) {
			t.Errorf("fsck problems lack %q:\n%s", want, all)
		}
	}
	if len(rep.Problems) != 3 {
		t.Errorf("%d problems, want 3:\n%s", len(rep.Problems), all)
	}
	// fsck reports; it does not repair.
	if _, err := f.blobs.Stat(ctx, "recordings/orphan"); err != nil {
		t.Error("fsck removed an orphan it should only report")
	}
	// --quick misses the corruption but not the missing blob.
	rep, _ = f.svc.Fsck(ctx, archive.FsckOptions{Quick: true}, nil)
	if len(rep.Problems) != 2 || rep.BytesVerified != 0 {
		t.Errorf("quick fsck: %+v", rep.Problems)
	}
}

func TestImportRefusesSpecialFiles(t *testing.T) {
	f := newFixture(t)
	fifo := filepath.Join(f.dir, "pipe.wav")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	f.file("ok.wav", wav(t, 1))
	f.line(base(idCall, "Call", "pipe.wav"))
	f.line(base(idChat, "Call", "ok.wav"))

	type result struct {
		sum    archive.ImportSummary
		events map[int]archive.ImportEvent
		err    error
	}
	done := make(chan result, 1)
	go func() {
		events := map[int]archive.ImportEvent{}
		sum, err := f.svc.Import(t.Context(), strings.NewReader(strings.Join(f.lines, "\n")), archive.ImportOptions{Dir: f.dir, Workers: 2},
			func(ev archive.ImportEvent) { events[ev.Line] = ev })
		done <- result{sum, events, err}
	}()
	var got result
	select {
	case got = <-done:
	case <-time.After(10 * time.Second):
		t.Error("the import is still waiting on a FIFO after 10s")
		// A writer coming and going releases an importer blocked in open.
		if w, err := os.OpenFile(fifo, os.O_RDWR, 0); err == nil {
			w.Close()
		}
		got = <-done
	}
	if got.err != nil {
		t.Fatal(got.err)
	}
	if got.sum.Imported != 1 || got.sum.Failed != 1 {
		t.Errorf("summary %+v, want the regular file imported and the FIFO refused", got.sum)
	}
	ev := got.events[1]
	me, _ := errors.AsType[*manifest.Error](ev.Err)
	if ev.Outcome != archive.Failed || me == nil || me.Line != 1 || me.Field != "file" || !strings.Contains(ev.Err.Error(), "pipe.wav is not a regular file but a named pipe") {
		t.Errorf("line 1: %v %v (field %q), want field \"file\" and a named pipe refused", ev.Outcome, ev.Err, fieldOf(me))
	}
}

func TestImportAgainReadsTheFile(t *testing.T) {
	f := newFixture(t)
	good := wav(t, 1)
	sum := f.file("a.wav", good)
	line := base(idCall, "Call", "a.wav")
	line["sha256"] = sum
	f.line(line)
	if got, _ := f.run(false); got.Imported != 1 {
		t.Fatalf("first import %+v", got)
	}

	// A damaged copy of the same size still declares the archived checksum.
	bad := bytes.Clone(good)
	bad[len(bad)-1] ^= 0xff
	f.file("a.wav", bad)
	for _, c := range []struct {
		name, field, want string
		declared          bool
	}{
		{"Declared", "sha256", "the file's SHA-256 is", true},
		{"Undeclared", "file", "already in the archive with different media", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.declared {
				line["sha256"] = sum
			} else {
				delete(line, "sha256")
			}
			f.lines = []string{mustJSON(line)}
			got, events := f.run(false)
			ev := events[1]
			me, _ := errors.AsType[*manifest.Error](ev.Err)
			if got.Skipped != 0 || ev.Outcome != archive.Failed || me == nil || me.Field != c.field || !strings.Contains(ev.Err.Error(), c.want) {
				t.Errorf("summary %+v, line 1: %v %v (field %q); want field %q and %q", got, ev.Outcome, ev.Err, fieldOf(me), c.field, c.want)
			}
		})
	}
	if r, _ := f.svc.Recording(t.Context(), idCall); r.Media.SHA256 != sum {
		t.Error("a damaged copy changed the recording")
	}
}
