package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/mediagen"
	"example.com/icrec/internal/passwd"
)

// TestDemoArchive checks what icrec demo puts in a data directory, reading
// every file back out of the archive: the calls are valid WAV in both
// encodings, the screen recording a valid AVI, each email parses with the
// standard library and has as many attachments as the catalogue's index.
func TestDemoArchive(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	a, err := openApp(ctx, t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	sessions, err := auth.New(a.db, a.db, passwd.New(passwd.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}), auth.DefaultConfig(), log, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := seedDemo(ctx, a, sessions, "demo-password-1", "http://127.0.0.1:18018", &out, log); err != nil {
		t.Fatal(err)
	}
	recs, err := a.archive.Recordings(ctx, icrec.RecordingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	count := map[icrec.MediaType]int{}
	wavFormats := map[int]bool{}
	workgroups := map[string]bool{}
	attachmentCounts := map[int]bool{}
	var withExpiry, withTags, withAttrs int
	for _, r := range recs {
		count[r.MediaType]++
		for _, w := range r.Workgroups {
			workgroups[w] = true
		}
		if !r.ExpirationDate.IsZero() {
			withExpiry++
		}
		if len(r.Tags) > 0 {
			withTags++
		}
		if len(r.Attributes) > 0 {
			withAttrs++
		}
		data := readBlob(t, a, r.Media.Key)
		switch r.MediaType {
		case icrec.MediaCall:
			info, err := mediagen.ParseWAV(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Errorf("call %s: %v", r.ID, err)
				continue
			}
			wavFormats[info.FormatTag] = true
			if info.Duration < time.Second || r.Media.ContentType != "audio/wav" {
				t.Errorf("call %s: %v long, %s", r.ID, info.Duration, r.Media.ContentType)
			}
		case icrec.MediaScreen:
			info, err := mediagen.ParseAVI(bytes.NewReader(data), int64(len(data)))
			if err != nil || info.Frames == 0 {
				t.Errorf("screen %s: %+v %v", r.ID, info, err)
			}
		case icrec.MediaEmail:
			n := countAttachments(t, data)
			if n != len(r.Attachments) {
				t.Errorf("email %s: the standard library finds %d attachments, the index has %d", r.ID, n, len(r.Attachments))
			}
			attachmentCounts[n] = true
		}
	}
	if count[icrec.MediaCall] < 20 || count[icrec.MediaEmail] < 5 || count[icrec.MediaChat] == 0 || count[icrec.MediaChatTranscript] == 0 || count[icrec.MediaScreen] == 0 {
		t.Errorf("recordings by media type: %v", count)
	}
	if !wavFormats[mediagen.WAVEFormatMuLaw] || !wavFormats[mediagen.WAVEFormatPCM] {
		t.Errorf("WAV formats %v, want µ-law and PCM", wavFormats)
	}
	if len(workgroups) != 2 || withExpiry == 0 || withExpiry == len(recs) || withTags == 0 || withAttrs == 0 {
		t.Errorf("workgroups %v, %d with expiry, %d with tags, %d with attributes of %d", workgroups, withExpiry, withTags, withAttrs, len(recs))
	}
	if !attachmentCounts[0] || len(attachmentCounts) < 2 {
		t.Errorf("emails have %v attachments; want some with none and some with several", attachmentCounts)
	}
	if ps, _ := a.archive.Policies(ctx); len(ps) != 1 || ps[0].Name != demoPolicy.Name {
		t.Errorf("policies %v", ps)
	}
	// The demo policy's effect: supervisor exports Support's recordings,
	// not Sales'.
	supervisor, err := a.db.FindUserByID(ctx, "supervisor")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		g, err := a.archive.Rights(ctx, supervisor, r)
		if err != nil {
			t.Fatal(err)
		}
		if want := r.InWorkgroup("Support"); g.Rights.Has(icrec.CanExportOrArchive) != want {
			t.Errorf("supervisor may export %s of %v: %v, want %v", r.ID, r.Workgroups, !want, want)
		}
	}
	for _, want := range []string{"icrec demo archive:", "icrec rights supervisor", "agent1", "curl -s -c icws.cookies -X POST http://127.0.0.1:18018/icws/connection"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("walkthrough lacks %q:\n%s", want, out.String())
		}
	}
	// A second run adds nothing.
	out.Reset()
	if err := seedDemo(ctx, a, sessions, "", "http://localhost:8018", &out, log); err != nil || !strings.Contains(out.String(), "already has") {
		t.Errorf("second seed: %v %s", err, out.String())
	}
}

func readBlob(t *testing.T, a *app, key string) []byte {
	t.Helper()
	b, err := a.blobs.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// countAttachments walks a message with net/mail and mime/multipart,
// independently of internal/mimeindex, counting parts with a file name.
func countAttachments(t *testing.T, data []byte) int {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("email does not parse: %v", err)
	}
	var walk func(ct string, body io.Reader) int
	walk = func(ct string, body io.Reader) int {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || !strings.HasPrefix(mt, "multipart/") {
			return 0
		}
		n := 0
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return n
			}
			if err != nil {
				t.Fatalf("email part: %v", err)
			}
			if p.FileName() != "" {
				n++
			}
			n += walk(p.Header.Get("Content-Type"), p)
		}
	}
	return walk(m.Header.Get("Content-Type"), m.Body)
}

func TestAPIBase(t *testing.T) {
	for _, tc := range []struct{ http, https, want string }{
		{":8018", ":8019", "http://localhost:8018"},
		{"0.0.0.0:80", "", "http://localhost:80"},
		{"[::]:8018", "", "http://localhost:8018"},
		{"192.0.2.7:8018", "", "http://192.0.2.7:8018"},
		{"", "127.0.0.1:8443", "https://127.0.0.1:8443"},
		{"", "[::1]:8443", "https://[::1]:8443"},
		{"recorder:8018", "", "http://recorder:8018"},
	} {
		if got := apiBase(tc.http, tc.https); got != tc.want {
			t.Errorf("apiBase(%q, %q) = %q, want %q", tc.http, tc.https, got, tc.want)
		}
	}
}
