package transfer

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestReadIDs(t *testing.T) {
	in := strings.Join([]string{
		"\ufeff# exported from the IR database",
		"",
		"0de0c017-cd4f-d013-8e31-18d8b7470001",
		"  {0DE0C017-CD4F-D013-8E31-18D8B7470002}  ",
		`{"recordingId":"0DE0C017-CD4F-D013-8E31-18D8B7470003","workgroups":["Support"],"participants":["agent1"]}`,
		"0DE0C017-CD4F-D013-8E31-18D8B7470001",
		"0DE0C017-CD4F-D013-8E31-18D8B7470004\r",
	}, "\n")
	ids, dups, err := ReadIDs(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if dups != 1 {
		t.Errorf("dups = %d, want 1", dups)
	}
	want := []struct {
		line int
		id   string
	}{{3, "0DE0C017-CD4F-D013-8E31-18D8B7470001"}, {4, "0DE0C017-CD4F-D013-8E31-18D8B7470002"}, {5, "0DE0C017-CD4F-D013-8E31-18D8B7470003"}, {7, "0DE0C017-CD4F-D013-8E31-18D8B7470004"}}
	if len(ids) != len(want) {
		t.Fatalf("got %d ids: %+v", len(ids), ids)
	}
	for i, w := range want {
		if ids[i].Line != w.line || ids[i].ID != w.id {
			t.Errorf("ids[%d] = line %d %s, want line %d %s", i, ids[i].Line, ids[i].ID, w.line, w.id)
		}
	}
	if ids[0].Extra != nil || string(ids[2].Extra["workgroups"]) != `["Support"]` || ids[2].Extra["recordingId"] != nil {
		t.Errorf("extras: %v / %v", ids[0].Extra, ids[2].Extra)
	}
}

func TestReadIDsBadLines(t *testing.T) {
	cases := map[string]string{
		"not-a-guid":            `line 1: "not-a-guid" is not a recording id`,
		`{"recordingId": 5}`:    "line 1: recordingId: not a string",
		`{"interactionId":"1"}`: `line 1: the JSON object has no "recordingId"`,
		`{"recordingId":"0DE0C017-CD4F-D013-8E31-18D8B7470001","file":"x"}`: `line 1: "file" is not a manifest field`,
		`{"recordingId":`:                "line 1: not a JSON object",
		`[1,2]`:                          "line 1: \"[1,2]\" is not a recording id",
		strings.Repeat("a", maxIDLine+1): fmt.Sprintf("line 1: longer than %d bytes", maxIDLine),
	}
	for in, want := range cases {
		_, _, err := ReadIDs(strings.NewReader(in + "\n0DE0C017-CD4F-D013-8E31-18D8B7470009\n"))
		var bad *IDsError
		if !errors.As(err, &bad) || !strings.Contains(err.Error(), want) {
			t.Errorf("%.40q: err = %v, want %q", in, err, want)
		}
	}
	// Many bad lines: the first ones are listed, the rest counted.
	_, _, err := ReadIDs(strings.NewReader(strings.Repeat("junk\n", maxBadLines+5)))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("has %d bad line(s)", maxBadLines+5)) || !strings.Contains(err.Error(), "… and 5 more") {
		t.Errorf("err = %v", err)
	}
}

func FuzzReadIDs(f *testing.F) {
	f.Add("0DE0C017-CD4F-D013-8E31-18D8B7470001\n# c\n\n{0de0c017-cd4f-d013-8e31-18d8b7470002}")
	f.Add(`{"recordingId":"0DE0C017-CD4F-D013-8E31-18D8B7470003","workgroups":["Support"]}`)
	f.Add(`{"recordingId":null}`)
	f.Fuzz(func(t *testing.T, in string) {
		ids, dups, err := ReadIDs(strings.NewReader(in))
		if err != nil {
			var bad *IDsError
			if !errors.As(err, &bad) || len(bad.Lines) == 0 {
				t.Fatalf("error of another kind: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id.ID] || len(id.ID) != 36 || id.Line < 1 {
				t.Fatalf("bad id %+v", id)
			}
			seen[id.ID] = true
		}
		if dups < 0 {
			t.Fatal("negative dups")
		}
	})
}

func TestSafeName(t *testing.T) {
	cases := map[string]string{
		"call.wav":                        "call.wav",
		"../../etc/passwd":                "passwd",
		`C:\temp\x.wav`:                   "x.wav",
		"..":                              "",
		".hidden":                         "hidden",
		"a\x00b\nc.txt":                   "a_b_c.txt",
		`what?<>"|*:.pdf`:                 "what_______.pdf",
		"  spaced name . ":                "spaced name",
		strings.Repeat("é", 300) + ".wav": strings.Repeat("é", 98) + ".wav",
	}
	for in, want := range cases {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%.30q) = %q, want %q", in, got, want)
		}
	}
	if got := fileFor(0, "metadata.json", "application/json"); got != "media-metadata.json" {
		t.Errorf("fileFor metadata.json = %q", got)
	}
	if got := fileFor(2, "", "application/pdf"); got != "attachments/2-attachment.pdf" {
		t.Errorf("fileFor unnamed attachment = %q", got)
	}
	if got := fileFor(0, "", "audio/wav"); got != "media.wav" {
		t.Errorf("fileFor unnamed media = %q", got)
	}
}
