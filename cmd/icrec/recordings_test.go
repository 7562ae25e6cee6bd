package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/manifest"
)

// listedRecordings are the recordings of the listing tests, in listing
// order (date, then id), by the name the tests give them.
var listedRecordings = []struct {
	name, line string
}{
	{"late2023", `{"recordingId":"CCCCCCCC-0000-0000-0000-000000000006","interactionId":"99","mediaType":"Call","recordingDate":"2023-12-31T23:59:59.999Z","file":"6.wav"}`},
	{"call1", `{"recordingId":"CCCCCCCC-0000-0000-0000-000000000001","interactionId":"100","mediaType":"Call","recordingType":"PolicyRelated","callType":"External","direction":"Inbound","recordingDate":"20240101T000000Z","duration":73.5,"expirationDate":"20310101T000000Z","lineName":"SIP-1","file":"1.wav","fileName":"Anruf «1» & more.wav","participants":["agent1",{"name":"Jane Caller","address":"+15551234567"}],"workgroups":["Support","Billing"],"attributes":{"Case":"42","Zeta":"<z>"},"tags":["vip"]}`},
	{"call2", `{"recordingId":"CCCCCCCC-0000-0000-0000-000000000002","interactionId":"101","mediaType":1,"recordingDate":"2024-01-15T12:00:00.25Z","duration":3725,"file":"2.wav"}`},
	{"email", `{"recordingId":"CCCCCCCC-0000-0000-0000-000000000003","interactionId":"102","mediaType":"Email","recordingDate":"20240201T000000Z","file":"3.eml","participants":["agent2"],"workgroups":["Sales"]}`},
	{"chat", `{"recordingId":"CCCCCCCC-0000-0000-0000-000000000004","interactionId":"103","mediaType":"Chat","recordingDate":"20240201T000000Z","file":"4.html"}`},
	{"call5", `{"recordingId":"CCCCCCCC-0000-0000-0000-000000000005","interactionId":"100","mediaType":"Call","recordingDate":"20240301T000000Z","file":"5.wav"}`},
}

const listedEmail = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n" +
	"--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
	"--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" +
	"--XX--\r\n"

// importListed imports listedRecordings into a new data directory and
// returns its environment.
func importListed(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"ICREC_DATA": t.TempDir()}
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("%d.wav", i)
		os.WriteFile(filepath.Join(dir, name), []byte("RIFF\x24\x00\x00\x00WAVEfmt "+strings.Repeat("\x00", 100*i)), 0o600)
	}
	os.WriteFile(filepath.Join(dir, "3.eml"), []byte(listedEmail), 0o600)
	os.WriteFile(filepath.Join(dir, "4.html"), []byte("<html><body>hi</body></html>"), 0o600)
	var lines []string
	for _, r := range listedRecordings {
		lines = append(lines, r.line)
	}
	manifestPath := filepath.Join(dir, "m.jsonl")
	os.WriteFile(manifestPath, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	if out, errOut, code := runCLI(t, env, "", "import", manifestPath); code != exitOK {
		t.Fatalf("import: exit %d\n%s%s", code, out, errOut)
	}
	return env
}

// listedIDs are the ids of the named listedRecordings.
func listedIDs(t *testing.T, names ...string) []string {
	t.Helper()
	var ids []string
	for _, n := range names {
		found := false
		for _, r := range listedRecordings {
			if r.name == n {
				var l struct{ RecordingID string }
				json.Unmarshal([]byte(r.line), &l)
				ids = append(ids, l.RecordingID)
				found = true
			}
		}
		if !found {
			t.Fatalf("no listed recording %q", n)
		}
	}
	return ids
}

// tableIDs are the recording ids of a table's rows, in order, after
// checking its header.
func tableIDs(t *testing.T, out string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if got := strings.Fields(lines[0]); !reflect.DeepEqual(got, []string{"RECORDING", "ID", "DATE", "MEDIA", "DURATION", "SIZE", "INTERACTION", "ATTACH"}) {
		t.Fatalf("header %q", lines[0])
	}
	ids := []string{}
	for _, l := range lines[1:] {
		ids = append(ids, strings.Fields(l)[0])
	}
	return ids
}

// jsonIDs are the recordingIds of --json lines, in order.
func jsonIDs(t *testing.T, out string) []string {
	t.Helper()
	ids := []string{}
	for l := range strings.Lines(out) {
		var m struct{ RecordingID string }
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		ids = append(ids, m.RecordingID)
	}
	return ids
}

func TestRecordingsList(t *testing.T) {
	env := importListed(t)
	list := func(args ...string) (string, string) {
		t.Helper()
		out, errOut, code := runCLI(t, env, "", append([]string{"recordings", "list"}, args...)...)
		if code != exitOK {
			t.Fatalf("recordings list %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out, errOut
	}

	t.Run("Table", func(t *testing.T) {
		out, errOut := list()
		if got, want := tableIDs(t, out), listedIDs(t, "late2023", "call1", "call2", "email", "chat", "call5"); !reflect.DeepEqual(got, want) {
			t.Errorf("rows %q\nwant %q\n%s", got, want, out)
		}
		if errOut != "6 recordings\n" {
			t.Errorf("stderr %q, want the count", errOut)
		}
		for _, want := range []string{
			// Columns aligned: each row is one space-separated record.
			"CCCCCCCC-0000-0000-0000-000000000001  2024-01-01T00:00:00Z  Call   0:01:13   ",
			"CCCCCCCC-0000-0000-0000-000000000002  2024-01-15T12:00:00Z  Call   1:02:05   ",
			"CCCCCCCC-0000-0000-0000-000000000003  2024-02-01T00:00:00Z  Email  -         ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
		email := strings.Fields(strings.Split(out, "\n")[4])
		if got := email[len(email)-1]; got != "1" {
			t.Errorf("the email's ATTACH is %q, want 1: %q", got, email)
		}
		if chat := strings.Fields(strings.Split(out, "\n")[5]); chat[len(chat)-1] != "-" || chat[len(chat)-2] != "103" {
			t.Errorf("chat row %q", chat)
		}
	})

	t.Run("Filters", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want []string
		}{
			{[]string{"--media", "email"}, listedIDs(t, "email")},
			{[]string{"--media", "CALL"}, listedIDs(t, "late2023", "call1", "call2", "call5")},
			{[]string{"--media", "2"}, listedIDs(t, "chat")},
			{[]string{"--media", "Screen"}, nil},
			{[]string{"--interaction", "100"}, listedIDs(t, "call1", "call5")},
			{[]string{"--interaction", " 100 ", "--media", "Call", "--since", "2024-02-01"}, listedIDs(t, "call5")},
			// --since inclusive, --until exclusive, to the millisecond.
			{[]string{"--since", "2024-01-01"}, listedIDs(t, "call1", "call2", "email", "chat", "call5")},
			{[]string{"--until", "2024-01-01"}, listedIDs(t, "late2023")},
			{[]string{"--since", "2023-12-31T23:59:59.999Z", "--until", "20240101T000000Z"}, listedIDs(t, "late2023")},
			{[]string{"--since", "2024-01-15T12:00:00.25Z", "--until", "2024-02-01"}, listedIDs(t, "call2")},
			{[]string{"--since", "2024-01-15T13:00:00.25+01:00", "--until", "2024-01-15T12:00:00.251Z"}, listedIDs(t, "call2")},
			{[]string{"--since", "20240201T000000Z", "--until", "2024-02-01T00:00:00.001Z"}, listedIDs(t, "email", "chat")},
			{[]string{"--since", "2024-02-01", "--until", "2024-02-01"}, nil},
		} {
			out, errOut := list(tc.args...)
			if got := tableIDs(t, out); !reflect.DeepEqual(got, append([]string{}, tc.want...)) {
				t.Errorf("%q: rows %q, want %q", tc.args, got, tc.want)
			}
			if want := fmt.Sprintf("%d recording%s\n", len(tc.want), plural(len(tc.want))); errOut != want {
				t.Errorf("%q: stderr %q, want %q", tc.args, errOut, want)
			}
			// --json selects the same recordings.
			out, _ = list(append(tc.args, "--json")...)
			if got := jsonIDs(t, out); !reflect.DeepEqual(got, append([]string{}, tc.want...)) {
				t.Errorf("%q --json: ids %q, want %q", tc.args, got, tc.want)
			}
		}
	})

	t.Run("Pages", func(t *testing.T) {
		table, _ := list()
		lines, _ := list("--json")
		calls, _ := list("--json", "--media", "call")
		defer func(n int) { recordingsPage = n }(recordingsPage)
		// 4 puts a page boundary between two recordings of one date; 6
		// and 3 fill the last page exactly.
		for _, n := range []int{1, 2, 3, 4, 5, 6} {
			recordingsPage = n
			if out, errOut := list("--json"); out != lines || errOut != "6 recordings\n" {
				t.Errorf("pages of %d: --json gave\n%s%s\nwant\n%s", n, out, errOut, lines)
			}
			if out, _ := list("--json", "--media", "call"); out != calls {
				t.Errorf("pages of %d: --media call gave\n%s\nwant\n%s", n, out, calls)
			}
			if got, want := tableIDs(t, func() string { out, _ := list(); return out }()), tableIDs(t, table); !reflect.DeepEqual(got, want) {
				t.Errorf("pages of %d: table rows %q, want %q", n, got, want)
			}
		}
	})

	t.Run("JSON", func(t *testing.T) {
		out, _ := list("--json")
		var got []*manifest.Entry
		for l := range strings.Lines(out) {
			l = strings.TrimSuffix(l, "\n")
			var members map[string]json.RawMessage
			if err := json.Unmarshal([]byte(l), &members); err != nil {
				t.Fatalf("line %s: %v", l, err)
			}
			if _, ok := members["file"]; ok {
				t.Errorf("line with a file: %s", l)
			}
			for _, k := range []string{"recordingId", "sha256", "contentType", "fileName"} {
				if _, ok := members[k]; !ok {
					t.Errorf("line without %s: %s", k, l)
				}
			}
			if strings.Contains(l, `\u0026`) || strings.Contains(l, `\u003c`) {
				t.Errorf("HTML escaping: %s", l)
			}
			// With a file it is a manifest line.
			e, err := manifest.Parse(1, []byte(strings.TrimSuffix(l, "}")+`,"file":"x/y.bin"}`))
			if err != nil {
				t.Fatalf("%v\n%s", err, l)
			}
			got = append(got, e)
		}
		if len(got) != len(listedRecordings) {
			t.Fatalf("%d lines, want %d", len(got), len(listedRecordings))
		}
		// Each is the recording of the catalogue.
		err := withApp(t.Context(), env["ICREC_DATA"], discardLogger(), func(a *app) error {
			for _, e := range got {
				r, err := a.archive.Recording(context.Background(), e.Recording.ID)
				if err != nil {
					return err
				}
				if e.SHA256 != r.Media.SHA256 || e.File != "x/y.bin" || !e.ContentTypeDeclared {
					t.Errorf("%s: sha256 %q file %q declared %v, want %q", r.ID, e.SHA256, e.File, e.ContentTypeDeclared, r.Media.SHA256)
				}
				want := *r
				want.Media = icrec.Media{FileName: r.Media.FileName, ContentType: r.Media.ContentType}
				want.Attachments, want.Created = nil, time.Time{}
				if g, w := noEmpty(e.Recording), noEmpty(want); !reflect.DeepEqual(g, w) {
					t.Errorf("listed\n%#v\ncatalogue\n%#v", g, w)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// The fields ICWS cannot show are there, as imported.
		call1 := strings.Split(out, "\n")[1]
		for _, want := range []string{
			`"participants":["agent1",{"name":"Jane Caller","address":"+15551234567"}],"workgroups":["Billing","Support"],"attributes":{"Case":"42","Zeta":"<z>"},"tags":["vip"]`,
			`"fileName":"Anruf «1» & more.wav","contentType":"audio/wav"`,
			`"recordingDate":"20240101T000000Z","duration":73.5,"expirationDate":"20310101T000000Z"`,
		} {
			if !strings.Contains(call1, want) {
				t.Errorf("call1 line lacks %s:\n%s", want, call1)
			}
		}
		if call2 := strings.Split(out, "\n")[2]; !strings.Contains(call2, `"recordingDate":"2024-01-15T12:00:00.25Z","duration":3725,`) {
			t.Errorf("call2 line: %s", call2)
		}
	})
}

// noEmpty is r with its empty lists nil: the catalogue and Parse differ
// in which they give for none.
func noEmpty(r icrec.Recording) icrec.Recording {
	if len(r.Participants) == 0 {
		r.Participants = nil
	}
	if len(r.Workgroups) == 0 {
		r.Workgroups = nil
	}
	if len(r.Attributes) == 0 {
		r.Attributes = nil
	}
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	if len(r.Attachments) == 0 {
		r.Attachments = nil
	}
	return r
}

func TestRecordingsListErrors(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{"ICREC_DATA": data}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"recordings"}, exitUsage, "recordings: no recordings command given"},
		{[]string{"recordings", "show"}, exitUsage, `recordings: unknown recordings command "show"`},
		{[]string{"recordings", "list", "extra"}, exitUsage, `recordings list: unexpected argument "extra"`},
		{[]string{"recordings", "list", "--limit", "3"}, exitUsage, "recordings list: flag provided but not defined: --limit"},
		{[]string{"recordings", "list", "--since", "yesterday"}, exitUsage,
			`recordings list: --since "yesterday": give a time as 20060102T150405Z, 2006-01-02T15:04:05Z or 2006-01-02`},
		{[]string{"recordings", "list", "--until", "2024-13-01"}, exitUsage, `recordings list: --until "2024-13-01": give a time as`},
		{[]string{"recordings", "list", "--since", ""}, exitUsage, `recordings list: --since "": give a time as`},
		{[]string{"recordings", "list", "--since", "2024-02-01", "--until", "2024-01-01"}, exitUsage,
			"recordings list: --until 2024-01-01 is before --since 2024-02-01"},
		{[]string{"recordings", "list", "--media", "Vidoe"}, exitUsage,
			`recordings list: --media "Vidoe" is not a media type: give one of Unknown, Call, Chat, ChatTranscript, Email, Screen, SocialConversation, or its number`},
		{[]string{"recordings", "list", "--media", "7"}, exitUsage, `recordings list: --media "7" is not a media type`},
		{[]string{"recordings", "list", "--interaction", " "}, exitUsage, "recordings list: --interaction must not be empty"},
		{[]string{"recordings", "list", "--data", filepath.Join(data, "nope")}, exitFailure, "there is no data directory " + filepath.Join(data, "nope")},
	} {
		// The flag package shows the usage on standard output for a flag
		// it does not know, as for every command.
		out, errOut, code := runCLI(t, env, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || out != "" && !slices.Contains(tc.args, "--limit") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, out, errOut, tc.code, tc.want)
		}
		if tc.code == exitUsage && !strings.Contains(errOut, "--help' for usage") {
			t.Errorf("%q: stderr %q does not point to --help", tc.args, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "nope")); err == nil {
		t.Error("listing a data directory that does not exist created it")
	}
	// An empty archive lists nothing, with a header.
	out, errOut, code := runCLI(t, env, "", "recordings", "list")
	if code != exitOK || !strings.HasPrefix(out, "RECORDING ID") || strings.Count(out, "\n") != 1 || errOut != "0 recordings\n" {
		t.Errorf("empty archive: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestRecordingsHelp(t *testing.T) {
	for _, args := range [][]string{
		{"recordings", "--help"}, {"recordings", "help"}, {"help", "recordings"},
		{"recordings", "list", "--help"}, {"recordings", "list", "-h"},
	} {
		out, errOut, code := runCLI(t, nil, "", args...)
		if code != exitOK || !strings.Contains(out, "Example") || !strings.Contains(out, "Usage") || !strings.Contains(out, "recordings list") {
			t.Errorf("icrec %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
	out, _, _ := runCLI(t, nil, "", "recordings", "list", "--help")
	for _, want := range []string{"--since", "--until", "--media", "--interaction", "--json", "-data directory", "inclusive", "exclusive"} {
		if !strings.Contains(out, want) {
			t.Errorf("recordings list --help lacks %q", want)
		}
	}
	if out, _, _ := runCLI(t, nil, "", "help"); !strings.Contains(out, "recordings list the recordings") {
		t.Errorf("icrec help does not list recordings:\n%s", out)
	}
}
