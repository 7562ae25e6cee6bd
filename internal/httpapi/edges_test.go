package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/datadir"
)

// TestExportURIMangledAttachmentID: an attachmentId pair that does not
// decode is a 400 naming it, never read as no attachmentId (which would
// export the whole message).
func TestExportURIMangledAttachmentID(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	for _, q := range []string{
		"attachmentId=1;x", "attachmentId=%zz", "attachmentId=3%", "attachmentId=1&attachmentId=%zz",
		"attachment%zzId=1&attachmentId=%", "attachmentId=1%3Bx",
	} {
		resp, body, _ := e.exportURI(admin, emailID, q)
		got := checkError(t, resp, body, http.StatusBadRequest, icrec.IDInvalidProperty, 0)
		if got.PropertyName != "attachmentId" {
			t.Errorf("?%s: propertyName %q, want attachmentId (%s)", q, got.PropertyName, got.Message)
		}
	}
	// Other parameters that do not decode are none of export-uri's
	// business.
	if resp, body, _ := e.exportURI(admin, emailID, "other=%zz&attachmentId=2"); resp.StatusCode != http.StatusOK {
		t.Errorf("a mangled unrelated parameter: %s %s", resp.Status, body)
	}
}

// TestDownloadRangeSpellings: a Range unit in other letter case or with
// spaces is read as parseRange reads it, on stored media and attachments
// alike, and never answered in plain text.
func TestDownloadRangeSpellings(t *testing.T) {
	e := newEnv(t)
	f := e.seedRecordings()
	admin := e.login("admin")
	c := e.client(false)
	for _, target := range []struct {
		name string
		link string
		data []byte
	}{
		{"Primary", e.mustExport(admin, callID, ""), f.call},
		{"Attachment", e.mustExport(admin, emailID, "attachmentId=2"), f.attachments[1]},
	} {
		for _, h := range []string{"Bytes=0-9", "bytes =0-9", "BYTES= 0-9", "bytes=0-4, 5-9"} {
			resp, body := e.do(c, "GET", target.link, "", http.Header{"Range": {h}})
			if h == "bytes=0-4, 5-9" {
				if target.name == "Attachment" {
					continue // several ranges of an attachment: the whole of it, which TestDownloadRanges covers
				}
				if resp.StatusCode != http.StatusPartialContent || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") {
					t.Errorf("%s Range %q: %s %s", target.name, h, resp.Status, resp.Header.Get("Content-Type"))
				}
				continue
			}
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, target.data[:10]) {
				t.Errorf("%s Range %q: %s, %q, want 206 and the first 10 bytes", target.name, h, resp.Status, body)
			}
		}
		// Out of range in any spelling is an ICWS error, not plain text.
		resp, body := e.do(c, "GET", target.link, "", http.Header{"Range": {"Bytes=99999999-"}})
		checkError(t, resp, body, http.StatusRequestedRangeNotSatisfiable, icrec.IDInvalidProperty, 0)
	}
}

// TestDownloadStaleIfRange: a stale If-Range asks for the whole file even
// when its range lies outside it (RFC 9110, 13.1.5), on stored media and
// attachments alike.
func TestDownloadStaleIfRange(t *testing.T) {
	e := newEnv(t)
	f := e.seedRecordings()
	admin := e.login("admin")
	for _, target := range []struct {
		name string
		link string
		data []byte
	}{
		{"Primary", e.mustExport(admin, callID, ""), f.call},
		{"Attachment", e.mustExport(admin, emailID, "attachmentId=1"), f.attachments[0]},
	} {
		resp, body := e.do(e.client(false), "GET", target.link, "", http.Header{"Range": {"bytes=99999999-"}, "If-Range": {`"stale"`}})
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, target.data) {
			t.Errorf("%s: %s, %d bytes, want 200 and the whole file", target.name, resp.Status, len(body))
		}
	}
}

// TestDownloadDamagedMessage: an attachment is decoded from the stored
// message, so a message that no longer matches the catalogue is a 500 for
// its attachments too, never a cut-off or wrong attachment.
func TestDownloadDamagedMessage(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	links := []string{e.mustExport(admin, emailID, "attachmentId=2"), e.mustExport(admin, emailID, "")}
	path := filepath.Join(e.dir, datadir.BlobsDir, filepath.FromSlash(icrec.MediaKey(emailID)))
	if err := os.Truncate(path, 100); err != nil {
		t.Fatal(err)
	}
	for _, link := range links {
		resp, body := e.do(e.client(false), "GET", link, "", nil)
		got := checkError(t, resp, body, http.StatusInternalServerError, icrec.IDInternal, 0)
		if strings.Contains(got.Message, "bytes") {
			t.Errorf("the 500 tells internals: %q", got.Message)
		}
	}
}

// TestDownloadCutShortAudited: a download the client abandons half-way is
// audited as incomplete, with the bytes that went out.
func TestDownloadCutShortAudited(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	// A recording far larger than what loopback sockets buffer, so that
	// the server is still writing when the client goes.
	const big = 64 << 20
	dir := t.TempDir()
	media := make([]byte, big)
	copy(media, "RIFF\x24\x00\x00\x00WAVEfmt ")
	if err := os.WriteFile(filepath.Join(dir, "big.wav"), media, 0o600); err != nil {
		t.Fatal(err)
	}
	const bigID = "0DE0C017-CD4F-D013-8E31-18D8B74700B1"
	manifest := `{"recordingId":"` + bigID + `","interactionId":"9","mediaType":"Call","recordingDate":"20240101T000000Z","file":"big.wav"}` + "\n"
	lock, err := datadir.TryLock(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := e.archive.Import(t.Context(), strings.NewReader(manifest), archive.ImportOptions{Dir: dir}, nil); err != nil || sum.Imported != 1 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	lock.Release()
	link := e.mustExport(e.login("admin"), bigID, "")

	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", link)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download: %v %v", resp, err)
	}
	io.CopyN(io.Discard, resp.Body, 4096)
	conn.Close()

	kind := icrec.AuditDownload
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, err := e.db.FindAudit(t.Context(), icrec.AuditFilter{Kind: &kind, RecordingID: ptr(bigID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 1 {
			ev := events[0]
			if ev.Outcome != "incomplete" || strings.Contains(ev.Detail, `"bytes":`+strconv.Itoa(big)) {
				t.Errorf("an abandoned download audited as %q, %s", ev.Outcome, ev.Detail)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d download events for the abandoned download, want 1", len(events))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDownloadSandboxed: whatever a download holds, a browser showing it
// runs no script as this server's origin; a playback link shows a chat
// transcript inline, under the same policy.
func TestDownloadSandboxed(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	resp, body := e.do(e.client(false), "GET", recPath(admin, chatID, "playback-uri"), "", admin.headers())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("playback-uri: %s %s", resp.Status, body)
	}
	for _, link := range []string{playbackLink(t, body), e.mustExport(admin, chatID, ""), e.mustExport(admin, emailID, "attachmentId=1")} {
		resp, _ := e.do(e.client(false), "GET", link, "", nil)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", link, csp)
		}
	}
}

// TestBadBodyAfterChecks: a body that does not parse is reported after the
// recording and the right, in the order ICWS clients expect (404, 403,
// 400), and a refusal is audited whichever call it is.
func TestBadBodyAfterChecks(t *testing.T) {
	e := newEnv(t, withMail(1<<20))
	e.seedRecordings()
	admin, agent2 := e.login("admin"), e.login("agent2")
	const absent = "0DE0C017-CD4F-D013-8E31-18D8B7479999"
	for _, c := range []struct {
		method, rest, body string
	}{
		{"PUT", "attributes", `{"attributesValues":5}`},
		{"PUT", "attributes", `not json`},
		{"PUT", "tags", `{"tags":"x"}`},
		{"POST", "retention-expiration", `{"expirationDate":"yesterday"}`},
		{"PUT", "send-as-email", `{"toParticipants":5}`},
		{"DELETE", "attributes?attributeName=%zz", ""},
		{"DELETE", "tags", ""},
		{"GET", "export-uri?attachmentId=%zz", ""},
	} {
		name := c.method + " " + c.rest + " " + c.body
		resp, body := e.do(e.client(false), c.method, recPath(admin, absent, c.rest), c.body, admin.headers())
		checkError(t, resp, body, http.StatusNotFound, icrec.IDNotFound, 0)
		// agent2 took part in the email only: no right on the call.
		resp, body = e.do(e.client(false), c.method, recPath(agent2, callID, c.rest), c.body, agent2.headers())
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s on a recording the user may not touch: %s %s, want 403", name, resp.Status, body)
		}
		resp, body = e.do(e.client(false), c.method, recPath(admin, callID, c.rest), c.body, admin.headers())
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %s %s, want 400", name, resp.Status, body)
		}
	}
	if n := len(e.smtp.Messages()); n != 0 {
		t.Errorf("%d messages sent by failed requests", n)
	}

	// GET attributes refused is a denied event, as every refusal is.
	resp, body := e.do(e.client(false), "GET", recPath(agent2, callID, "attributes"), "", agent2.headers())
	checkError(t, resp, body, http.StatusForbidden, icrec.IDAccessDenied, 0)
	e.audit.Close(t.Context())
	kind := icrec.AuditDenied
	events, err := e.db.FindAudit(t.Context(), icrec.AuditFilter{Kind: &kind, UserID: ptr("agent2")})
	if err != nil {
		t.Fatal(err)
	}
	var sawAttributes bool
	for _, ev := range events {
		sawAttributes = sawAttributes || ev.Outcome == "attributes: not authorized"
	}
	if !sawAttributes {
		t.Errorf("GET attributes refused was not audited: %+v", events)
	}
}

// TestAttributeCapNamesProperty: going over the cap on attributes or tags
// a recording has in all is a 400 naming the property.
func TestAttributeCapNamesProperty(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	put := func(rest, prefix string, n, from int) (*http.Response, []byte) {
		var items []string
		for i := range n {
			if rest == "attributes" {
				items = append(items, fmt.Sprintf(`{"attributeName":"%s%d","attributeValue":"v"}`, prefix, from+i))
			} else {
				items = append(items, fmt.Sprintf(`"%s%d"`, prefix, from+i))
			}
		}
		body := `{"attributesValues":[` + strings.Join(items, ",") + `]}`
		if rest == "tags" {
			body = `{"tags":[` + strings.Join(items, ",") + `]}`
		}
		return e.do(e.client(false), "PUT", recPath(admin, callID, rest), body, admin.headers())
	}
	for _, c := range []struct{ rest, property string }{{"attributes", "attributesValues"}, {"tags", "tags"}} {
		if resp, body := put(c.rest, "a", icrec.MaxAttributes-10, 0); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: %s %s", c.rest, resp.Status, body)
		}
		resp, body := put(c.rest, "b", 20, 0)
		got := checkError(t, resp, body, http.StatusBadRequest, icrec.IDInvalidProperty, 0)
		if got.PropertyName != c.property {
			t.Errorf("%s over the cap: propertyName %q, want %q (%s)", c.rest, got.PropertyName, c.property, got.Message)
		}
	}
}

// TestEmailLinksNeedCanEmail: a user who may email but not export a
// recording sends it as a link when it is too large to attach, and the
// link works for as long as the user keeps CanEmail.
func TestEmailLinksNeedCanEmail(t *testing.T) {
	e := newEnv(t, withMail(1000))
	f := e.seedRecordings()
	if _, err := e.archive.AddPolicy(t.Context(), archive.NewPolicy{Name: "mailers", Users: []string{"agent2"}, Rights: icrec.ReadAccess | icrec.CanEmail}); err != nil {
		t.Fatal(err)
	}
	agent2 := e.login("agent2")
	if resp, body, _ := e.exportURI(agent2, callID, ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("agent2 may export: %s %s", resp.Status, body)
	}
	resp, body := e.do(e.client(false), "PUT", recPath(agent2, callID, "send-as-email"), emailBody, agent2.headers())
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("send-as-email: %s %s", resp.Status, body)
	}
	link := emailedLink(t, e)
	resp, dl := e.do(e.client(false), "GET", link, "", nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(dl, f.call) {
		t.Fatalf("the emailed link: %s, %d bytes", resp.Status, len(dl))
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Errorf("an emailed link served as %q", resp.Header.Get("Content-Disposition"))
	}
	if err := e.archive.DeletePolicy(t.Context(), "mailers"); err != nil {
		t.Fatal(err)
	}
	resp, body = e.do(e.client(false), "GET", link, "", nil)
	checkError(t, resp, body, http.StatusForbidden, icrec.IDAccessDenied, 0)
}

// playbackLink returns the path of the link a playback-uri answer holds.
func playbackLink(t *testing.T, body []byte) string {
	t.Helper()
	var out icws.PlaybackURIResponse
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(out.URI, "/export/")
	if i < 0 {
		t.Fatalf("uri %q", out.URI)
	}
	return out.URI[i:]
}

// TestSendAsEmailRights: CanEmail alone lets a user send a recording, and a
// batch with one recording the user may not send sends nothing at all.
func TestSendAsEmailRights(t *testing.T) {
	e := newEnv(t, withMail(1<<20))
	e.seedRecordings()
	calls, err := icrec.ParseScope("media:Call")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.archive.AddPolicy(t.Context(), archive.NewPolicy{Name: "mail calls", Users: []string{"agent2"}, Scopes: []icrec.Scope{calls}, Rights: icrec.CanEmail}); err != nil {
		t.Fatal(err)
	}
	agent2 := e.login("agent2")
	batch := "/icws/" + agent2.id + "/recordings/send-as-email"
	resp, body := e.do(e.client(false), "PUT", batch, `{"recordings":{"recordingIds":["`+callID+`","`+emailID+`"]},"parameters":`+emailBody+`}`, agent2.headers())
	checkError(t, resp, body, http.StatusForbidden, icrec.IDAccessDenied, 0)
	if n := len(e.smtp.Messages()); n != 0 {
		t.Fatalf("a refused batch sent %d messages", n)
	}
	resp, body = e.do(e.client(false), "PUT", recPath(agent2, callID, "send-as-email"), emailBody, agent2.headers())
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("CanEmail alone: %s %s", resp.Status, body)
	}
	if got := e.smtp.Wait(1, 5*time.Second); len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
}

// TestDownloadAttachmentLinkStates: an attachment's link is checked at
// download time as the media's is: tampered 403, expired 410, recording
// deleted 404, right revoked 403, stored message gone 500.
func TestDownloadAttachmentLinkStates(t *testing.T) {
	e := newEnv(t, withExports(func(x *archive.Exports) { x.TTL = 10 * time.Minute }))
	e.seedRecordings()
	e.grant(t, "agent1 exports", "agent1")
	admin, agent1 := e.login("admin"), e.login("agent1")
	get := func(link string) (*http.Response, []byte) { return e.do(e.client(false), "GET", link, "", nil) }

	link := e.mustExport(admin, emailID, "attachmentId=2")
	token := strings.Split(link, "/")[2]
	flip := byte('A')
	if token[10] == flip {
		flip = 'B'
	}
	bad := token[:10] + string(flip) + token[11:]
	resp, body := get("/export/" + bad + "/x.pdf")
	checkError(t, resp, body, http.StatusForbidden, icrec.IDAccessDenied, 0)

	revoked := e.mustExport(agent1, emailID, "attachmentId=1")
	if resp, _ := get(revoked); resp.StatusCode != http.StatusOK {
		t.Fatalf("before the revocation: %s", resp.Status)
	}
	if err := e.archive.DeletePolicy(t.Context(), "agent1 exports"); err != nil {
		t.Fatal(err)
	}
	resp, body = get(revoked)
	checkError(t, resp, body, http.StatusForbidden, icrec.IDAccessDenied, 0)

	// The stored message gone: the archive's fault, 500.
	key := filepath.Join(e.dir, datadir.BlobsDir, filepath.FromSlash(icrec.MediaKey(emailID)))
	if err := os.Rename(key, key+".away"); err != nil {
		t.Fatal(err)
	}
	resp, body = get(link)
	checkError(t, resp, body, http.StatusInternalServerError, icrec.IDInternal, 0)
	if err := os.Rename(key+".away", key); err != nil { // with its stored checksum
		t.Fatal(err)
	}

	e.clock.Advance(10 * time.Minute)
	resp, body = get(link)
	checkError(t, resp, body, http.StatusGone, icrec.IDGone, 0)

	fresh := e.mustExport(e.login("admin"), emailID, "attachmentId=2")
	if n, err := e.db.DeleteRecordings(t.Context(), emailID); err != nil || n != 1 {
		t.Fatalf("DeleteRecordings = %d, %v", n, err)
	}
	resp, body = get(fresh)
	checkError(t, resp, body, http.StatusNotFound, icrec.IDNotFound, 0)
}

// sendfileConn records what the server copies to the connection with
// ReadFrom, which net/http calls when a body is copied from a reader: a
// file there is what the kernel's sendfile takes.
type sendfileConn struct {
	*net.TCPConn
	fromFile *atomic.Int64 // bytes ReadFrom was asked to take from an *os.File
}

func (c sendfileConn) ReadFrom(r io.Reader) (int64, error) {
	// Counted before the copy: the client may have the whole body before
	// ReadFrom returns.
	if lr, ok := r.(*io.LimitedReader); ok {
		if _, ok := lr.R.(*os.File); ok {
			c.fromFile.Add(lr.N)
		}
	} else if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			off, _ := f.Seek(0, io.SeekCurrent)
			c.fromFile.Add(st.Size() - off)
		}
	}
	return c.TCPConn.ReadFrom(r)
}

type sendfileListener struct {
	net.Listener
	fromFile *atomic.Int64
}

func (l sendfileListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return sendfileConn{c.(*net.TCPConn), l.fromFile}, nil
}

// TestDownloadZeroCopy: stored media reach the socket as the file itself,
// through every wrapper of the response, so that plain HTTP uses sendfile;
// a wrapper that hid ReadFrom would copy through user space instead.
func TestDownloadZeroCopy(t *testing.T) {
	e := newEnv(t)
	f := e.seedRecordings()
	link := e.mustExport(e.login("admin"), callID, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var fromFile atomic.Int64
	srv := &http.Server{Handler: e.handler}
	go srv.Serve(sendfileListener{ln, &fromFile})
	t.Cleanup(func() { srv.Close() })
	for _, rng := range []string{"", "bytes=100-"} {
		fromFile.Store(0)
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+link, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(body) < len(f.call)-100 {
			t.Fatalf("Range %q: %s, %d bytes", rng, resp.Status, len(body))
		}
		// net/http writes up to its sniffing length (512 bytes) through
		// its buffer before it hands the rest to the connection.
		if got := fromFile.Load(); got < int64(len(body))-512 || got > int64(len(body)) {
			t.Errorf("Range %q: %d of %d bytes went to the socket straight from the file", rng, got, len(body))
		}
	}
}
