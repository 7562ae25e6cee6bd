package httpapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/datadir"
)

// The recordings that seedRecordings imports.
const (
	callID  = "0DE0C017-CD4F-D013-8E31-18D8B7470001"
	emailID = "0DE0C017-CD4F-D013-8E31-18D8B7470002"
	chatID  = "0DE0C017-CD4F-D013-8E31-18D8B7470003"
)

// fixtures holds the bytes of the seeded recordings, to compare downloads
// with.
type fixtures struct {
	call        []byte // the WAV file
	email       []byte // the whole message
	attachments [][]byte
	attNames    []string
	attTypes    []string
}

// testWAV returns a valid 8 kHz 16-bit mono PCM WAV file of n samples of
// noise: enough bytes for ranges to mean something.
func testWAV(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 2*n)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

// testEmail returns a message with two attachments, the second with a
// non-ASCII RFC 2231 file name and binary content.
func testEmail() (msg []byte, atts [][]byte, names, types []string) {
	text := []byte("Call notes: the customer asked for a refund.\r\n")
	bin := make([]byte, 5000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	b64 := func(p []byte) string {
		s := base64.StdEncoding.EncodeToString(p)
		var out strings.Builder
		for len(s) > 76 {
			out.WriteString(s[:76] + "\r\n")
			s = s[76:]
		}
		out.WriteString(s + "\r\n")
		return out.String()
	}
	m := "From: Jane Caller <jane@example.com>\r\n" +
		"To: support@example.com\r\n" +
		"Subject: Refund\r\n" +
		"Date: Wed, 31 Jan 2024 11:02:00 +0000\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
		"\r\n" +
		"--b1\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" +
		"Please see the attached.\r\n" +
		"--b1\r\n" +
		"Content-Type: text/plain; name=\"notes.txt\"\r\n" +
		"Content-Disposition: attachment; filename=\"notes.txt\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" + b64(text) +
		"--b1\r\n" +
		"Content-Type: application/pdf\r\n" +
		"Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" + b64(bin) +
		"--b1--\r\n"
	return []byte(m), [][]byte{text, bin}, []string{"notes.txt", `résumé "final".pdf`}, []string{"text/plain", "application/pdf"}
}

// seedRecordings imports a call and a chat that agent1 took part in, and an
// email that agent2 took part in, in workgroup Support.
func (e *env) seedRecordings() fixtures {
	e.t.Helper()
	var f fixtures
	f.call = testWAV(50_000)
	f.email, f.attachments, f.attNames, f.attTypes = testEmail()
	dir := e.t.TempDir()
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			e.t.Fatal(err)
		}
	}
	write("call.wav", f.call)
	write("refund.eml", f.email)
	write("chat.json", []byte(`{"messages":[{"from":"agent1","text":"hello"}]}`))
	lines := []map[string]any{
		{"recordingId": callID, "interactionId": "1001", "mediaType": "Call", "recordingDate": "20240131T101500Z", "duration": 6.25,
			"file": "call.wav", "contentType": "audio/wav", "participants": []string{"agent1"}, "workgroups": []string{"Support"},
			"attributes": map[string]string{"Case": "42", "Outcome": "refund"}},
		{"recordingId": emailID, "interactionId": "1002", "mediaType": "Email", "recordingDate": "20240131T110200Z",
			"file": "refund.eml", "participants": []string{"agent2"}, "workgroups": []string{"Support"}},
		{"recordingId": chatID, "interactionId": "1003", "mediaType": "Chat", "recordingDate": "20240131T120000Z",
			"file": "chat.json", "contentType": "application/json", "participants": []string{"agent1"}},
	}
	var manifest bytes.Buffer
	for _, l := range lines {
		b, _ := json.Marshal(l)
		manifest.Write(b)
		manifest.WriteByte('\n')
	}
	lock, err := datadir.TryLock(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	defer lock.Release()
	sum, err := e.archive.Import(e.t.Context(), &manifest, archive.ImportOptions{Dir: dir}, func(ev archive.ImportEvent) {
		if ev.Err != nil {
			e.t.Errorf("import line %d: %v", ev.Line, ev.Err)
		}
	})
	if err != nil || sum.Imported != len(lines) {
		e.t.Fatalf("import: %+v, %v", sum, err)
	}
	return f
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// grant adds a policy that lets user export every recording.
func (e *env) grant(t *testing.T, name, user string) {
	t.Helper()
	if _, err := e.archive.AddPolicy(t.Context(), archive.NewPolicy{Name: name, Users: []string{user}, Rights: exportRights}); err != nil {
		t.Fatal(err)
	}
}
