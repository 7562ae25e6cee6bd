package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/icrec/internal/datadir"
)

func TestImportCommand(t *testing.T) {
	data, dir := t.TempDir(), t.TempDir()
	env := map[string]string{"ICREC_DATA": data}
	wav := "RIFF\x24\x00\x00\x00WAVEfmt " + strings.Repeat("\x00", 200)
	os.WriteFile(filepath.Join(dir, "a.wav"), []byte(wav), 0o600)
	lines := []string{
		`{"recordingId":"AAAAAAAA-0000-0000-0000-000000000001","interactionId":"1","mediaType":"Call","recordingDate":"20240101T000000Z","file":"a.wav","participants":["agent1"],"workgroups":["Support"]}`,
		`{"recordingId":"AAAAAAAA-0000-0000-0000-000000000002","interactionId":"2","mediaType":"Call","recordingDate":"20240101T000000Z","file":"missing.wav"}`,
	}
	manifest := filepath.Join(dir, "m.jsonl")
	os.WriteFile(manifest, []byte(strings.Join(lines, "\n")+"\n"), 0o600)

	out, errOut, code := runCLI(t, env, "", "import", manifest)
	if code != exitFailure || !strings.Contains(errOut, "line 2: file: missing.wav does not exist") || !strings.Contains(out, "imported 1, skipped 0, failed 1") {
		t.Errorf("import with a bad line: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	// From standard input, paths relative to the working directory.
	wd, _ := os.Getwd()
	os.Chdir(dir)
	out, errOut, code = runCLI(t, env, lines[0]+"\n", "import", "-")
	os.Chdir(wd)
	if code != exitOK || !strings.Contains(out, "imported 0, skipped 1, failed 0") {
		t.Errorf("import from stdin: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, env, "", "import", "--dry-run", manifest)
	if code != exitFailure || !strings.Contains(out, "checked 0, would skip 1, failed 1") {
		t.Errorf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import"}, exitUsage, "give exactly one MANIFEST"},
		{[]string{"import", "--workers", "0", manifest}, exitUsage, "--workers must be between 1 and 256"},
		{[]string{"import", filepath.Join(dir, "nope.jsonl")}, exitFailure, "open the manifest"},
	} {
		if _, errOut, code := runCLI(t, env, "", tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	// One import at a time.
	lock, err := datadir.TryLock(data)
	if err != nil {
		t.Fatal(err)
	}
	_, errOut, code = runCLI(t, env, "", "import", manifest)
	lock.Release()
	if code != exitFailure || !strings.Contains(errOut, "another icrec import, fsck or retention sweep is working on") {
		t.Errorf("import while locked: exit %d, %s", code, errOut)
	}

	// rights and policies over the imported recording.
	if _, errOut, code := runCLI(t, env, "pass-word-1\n", "user", "add", "agent1"); code != 0 {
		t.Fatal(errOut)
	}
	runCLI(t, env, "pass-word-1\n", "user", "add", "boss", "--role", "supervisor")
	out, _, _ = runCLI(t, env, "", "rights", "agent1", "aaaaaaaa-0000-0000-0000-000000000001")
	if !strings.Contains(out, "rights: read,play (5)") || !strings.Contains(out, "built-in: participants") {
		t.Errorf("rights of a participant:\n%s", out)
	}
	if _, errOut, code := runCLI(t, env, "", "policy", "add", "--name", "QA", "--role", "supervisor", "--scope", "workgroup:support", "--scope", "media:call", "--rights", "read,export"); code != 0 {
		t.Fatal(errOut)
	}
	runCLI(t, env, "", "policy", "add", "--name", "Tags", "--user", "*", "--rights", "view-tags")
	out, _, _ = runCLI(t, env, "", "rights", "boss", "AAAAAAAA-0000-0000-0000-000000000001")
	if !strings.Contains(out, "rights: read,export,view-tags") || !strings.Contains(out, "export     QA") {
		t.Errorf("rights from policies:\n%s", out)
	}
	runCLI(t, env, "", "policy", "move", "tags", "--before", "qa")
	out, _, _ = runCLI(t, env, "", "policy", "list", "--json")
	var first map[string]any
	json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &first)
	if first["name"] != "Tags" || first["position"] != 1.0 {
		t.Errorf("after move, first policy %v", first)
	}
	if out, _, _ := runCLI(t, env, "", "policy", "list"); !strings.Contains(out, "workgroup:support,media:Call") || !strings.Contains(out, "everyone") {
		t.Errorf("policy list:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"policy", "add", "--role", "x", "--rights", "read"}, exitUsage, "--name is required"},
		{[]string{"policy", "add", "--name", "x", "--role", "x"}, exitUsage, "--rights is required"},
		{[]string{"policy", "add", "--name", "x", "--role", "x", "--rights", "read,fly"}, exitUsage, `"fly" is not a right`},
		{[]string{"policy", "add", "--name", "x", "--role", "x", "--rights", "read", "--scope", "team:a"}, exitUsage, "--scope"},
		{[]string{"policy", "add", "--name", "x", "--rights", "read"}, exitFailure, "names nobody"},
		{[]string{"policy", "add", "--name", "x", "--role", "r", "--rights", "read", "--scope", "all", "--scope", "own"}, exitFailure, "cannot be combined"},
		{[]string{"policy", "add", "--name", "qa", "--role", "r", "--rights", "read"}, exitFailure, "already exists"},
		{[]string{"policy", "delete", "nope"}, exitFailure, `"nope" not found`},
		{[]string{"policy", "move", "QA", "--before", "nope"}, exitFailure, "not found"},
		{[]string{"policy", "move", "QA"}, exitUsage, "--before is required"},
		{[]string{"rights", "nobody", "AAAAAAAA-0000-0000-0000-000000000001"}, exitFailure, `"nobody" not found`},
		{[]string{"rights", "agent1", "not-a-guid"}, exitFailure, "no recording"},
		{[]string{"rights", "agent1"}, exitUsage, "give USERID and RECORDINGID"},
	} {
		if _, errOut, code := runCLI(t, env, "", tc.args...); code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
	if _, errOut, code := runCLI(t, env, "", "policy", "delete", "QA"); code != 0 {
		t.Error(errOut)
	}

	// fsck: clean, then with the media gone.
	if out, errOut, code := runCLI(t, env, "", "fsck"); code != 0 || !strings.Contains(out, "checked 1 recordings and 1 media files") {
		t.Errorf("fsck: exit %d\n%s%s", code, out, errOut)
	}
	os.RemoveAll(filepath.Join(data, "blobs", "recordings"))
	out, errOut, code = runCLI(t, env, "", "fsck", "--quick")
	if code != exitFailure || !strings.Contains(out, "is missing") || !strings.Contains(errOut, "1 problems") {
		t.Errorf("fsck of a damaged archive: exit %d\n%s%s", code, out, errOut)
	}
}

func TestArchiveHelp(t *testing.T) {
	for _, args := range [][]string{
		{"import", "--help"}, {"fsck", "--help"}, {"demo", "--help"}, {"rights", "--help"}, {"policy", "--help"},
		{"policy", "add", "--help"}, {"policy", "list", "--help"}, {"policy", "delete", "--help"}, {"policy", "move", "--help"},
	} {
		out, errOut, code := runCLI(t, nil, "", args...)
		if code != exitOK || !strings.Contains(out, "Example") || !strings.Contains(out, "Usage") {
			t.Errorf("icrec %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
	}
}
