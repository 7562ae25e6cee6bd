package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"mime/multipart"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/httpapi"
	"example.com/icrec/internal/signedurl"
)

// checkDownloadHeaders checks the headers every successful download has.
func checkDownloadHeaders(t *testing.T, resp *http.Response, contentType, disposition, sum string, size int64) {
	t.Helper()
	h := resp.Header
	for k, want := range map[string]string{
		"Content-Type":            contentType,
		"Content-Disposition":     disposition,
		"ETag":                    `"` + sum + `"`,
		"Accept-Ranges":           "bytes",
		"Cache-Control":           "private, no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if resp.StatusCode == http.StatusOK {
		if got := h.Get("Content-Length"); got != strconv.FormatInt(size, 10) {
			t.Errorf("Content-Length=%q, want %d", got, size)
		}
	}
	if _, err := http.ParseTime(h.Get("Last-Modified")); err != nil {
		t.Errorf("Last-Modified=%q: %v", h.Get("Last-Modified"), err)
	}
	if len(h.Values("Set-Cookie")) > 0 {
		t.Errorf("a download set a cookie: %q", h.Values("Set-Cookie"))
	}
}

func TestDownload(t *testing.T) {
	for _, tls := range []bool{false, true} {
		name := "HTTP"
		var opts []option
		if tls {
			name, opts = "HTTPS", []option{withTLS()}
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, opts...)
			f := e.seedRecordings()
			admin := e.login("admin")
			c := e.client(false) // no cookie jar: the link alone authorises

			t.Run("Primary", func(t *testing.T) {
				link := e.mustExport(admin, callID, "")
				resp, body := e.do(c, "GET", link, "", nil)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.call) {
					t.Fatalf("%s, %d bytes, want the %d bytes of the WAV file", resp.Status, len(body), len(f.call))
				}
				checkDownloadHeaders(t, resp, "audio/wav", `attachment; filename="call.wav"; filename*=UTF-8''call.wav`, sha(f.call), int64(len(f.call)))

				resp, body = e.do(c, "HEAD", link, "", nil)
				if resp.StatusCode != http.StatusOK || len(body) != 0 {
					t.Errorf("HEAD: %s with %d body bytes", resp.Status, len(body))
				}
				checkDownloadHeaders(t, resp, "audio/wav", `attachment; filename="call.wav"; filename*=UTF-8''call.wav`, sha(f.call), int64(len(f.call)))
			})
			t.Run("WholeEmail", func(t *testing.T) {
				resp, body := e.do(c, "GET", e.mustExport(admin, emailID, ""), "", nil)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.email) {
					t.Fatalf("%s, %d bytes, want the %d bytes of the message", resp.Status, len(body), len(f.email))
				}
				checkDownloadHeaders(t, resp, "message/rfc822", `attachment; filename="refund.eml"; filename*=UTF-8''refund.eml`, sha(f.email), int64(len(f.email)))
			})
			t.Run("Attachments", func(t *testing.T) {
				wantDisposition := []string{
					`attachment; filename="notes.txt"; filename*=UTF-8''notes.txt`,
					`attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
				}
				for i, want := range f.attachments {
					link := e.mustExport(admin, emailID, "attachmentId="+strconv.Itoa(i+1))
					for _, method := range []string{"GET", "HEAD"} {
						resp, body := e.do(c, method, link, "", nil)
						if method == "GET" && !bytes.Equal(body, want) || method == "HEAD" && len(body) != 0 {
							t.Errorf("%s attachment %d: %s, %d bytes, want %d", method, i+1, resp.Status, len(body), len(want))
						}
						ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
						if ct != f.attTypes[i] {
							t.Errorf("attachment %d: Content-Type %q, want %q", i+1, resp.Header.Get("Content-Type"), f.attTypes[i])
						}
						resp.Header.Set("Content-Type", ct)
						checkDownloadHeaders(t, resp, f.attTypes[i], wantDisposition[i], sha(want), int64(len(want)))
					}
				}
			})
		})
	}
}

// TestDownloadRanges covers Range and If-Range on stored media (served by
// http.ServeContent) and on attachments (decoded as they are sent).
func TestDownloadRanges(t *testing.T) {
	e := newEnv(t)
	f := e.seedRecordings()
	admin := e.login("admin")
	c := e.client(false)
	for _, target := range []struct {
		name  string
		query string
		data  []byte
	}{
		{"Primary", "", f.call},
		{"Attachment", "attachmentId=2", f.attachments[1]},
	} {
		t.Run(target.name, func(t *testing.T) {
			link := e.mustExport(admin, map[bool]string{true: callID, false: emailID}[target.query == ""], target.query)
			data, size := target.data, int64(len(target.data))
			etag := `"` + sha(data) + `"`
			for _, tc := range []struct {
				name       string
				header     http.Header
				status     int
				start, end int64 // of the 206 body, inclusive
			}{
				{"first bytes", http.Header{"Range": {"bytes=0-99"}}, 206, 0, 99},
				{"middle", http.Header{"Range": {"bytes=1000-1999"}}, 206, 1000, 1999},
				{"resume to the end", http.Header{"Range": {"bytes=4000-"}}, 206, 4000, size - 1},
				{"suffix", http.Header{"Range": {"bytes=-10"}}, 206, size - 10, size - 1},
				{"end past the file", http.Header{"Range": {"bytes=10-99999999"}}, 206, 10, size - 1},
				{"If-Range with the ETag", http.Header{"Range": {"bytes=0-9"}, "If-Range": {etag}}, 206, 0, 9},
				{"If-Range with another ETag", http.Header{"Range": {"bytes=0-9"}, "If-Range": {`"stale"`}}, 200, 0, 0},
				{"If-Range with an old date", http.Header{"Range": {"bytes=0-9"}, "If-Range": {"Mon, 01 Jan 2001 00:00:00 GMT"}}, 200, 0, 0},
				{"malformed Range is ignored", http.Header{"Range": {"bytes=abc"}}, 200, 0, 0},
				{"other unit is ignored", http.Header{"Range": {"items=0-1"}}, 200, 0, 0},
				{"reversed range is ignored", http.Header{"Range": {"bytes=9-0"}}, 200, 0, 0},
				{"overflowing number is ignored", http.Header{"Range": {"bytes=0-99999999999999999999"}}, 200, 0, 0},
				{"start past the end", http.Header{"Range": {"bytes=" + strconv.FormatInt(size, 10) + "-"}}, 416, 0, 0},
				{"empty suffix", http.Header{"Range": {"bytes=-0"}}, 416, 0, 0},
			} {
				t.Run(tc.name, func(t *testing.T) {
					resp, body := e.do(c, "GET", link, "", tc.header)
					if resp.StatusCode != tc.status {
						t.Fatalf("status %s, want %d (body %.200q)", resp.Status, tc.status, body)
					}
					switch tc.status {
					case 200:
						if !bytes.Equal(body, data) {
							t.Errorf("got %d bytes, want the whole %d", len(body), size)
						}
					case 206:
						want := data[tc.start : tc.end+1]
						if !bytes.Equal(body, want) {
							t.Errorf("got %d bytes, want bytes %d-%d", len(body), tc.start, tc.end)
						}
						wantCR := "bytes " + strconv.FormatInt(tc.start, 10) + "-" + strconv.FormatInt(tc.end, 10) + "/" + strconv.FormatInt(size, 10)
						if got := resp.Header.Get("Content-Range"); got != wantCR {
							t.Errorf("Content-Range=%q, want %q", got, wantCR)
						}
						if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(want)) {
							t.Errorf("Content-Length=%q, want %d", got, len(want))
						}
					case 416:
						if got := resp.Header.Get("Content-Range"); got != "bytes */"+strconv.FormatInt(size, 10) {
							t.Errorf("Content-Range=%q, want bytes */%d", got, size)
						}
						checkError(t, resp, body, 416, icrec.IDInvalidProperty, 0)
					}
				})
			}
		})
	}

	t.Run("MultipleRanges", func(t *testing.T) {
		link := e.mustExport(admin, callID, "")
		resp, body := e.do(c, "GET", link, "", http.Header{"Range": {"bytes=0-9,100-109"}})
		mt, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 206 || mt != "multipart/byteranges" {
			t.Fatalf("%s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
		r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for _, want := range [][]byte{f.call[0:10], f.call[100:110]} {
			p, err := r.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			got.ReadFrom(p)
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("part %q: %x, want %x", p.Header.Get("Content-Range"), got.Bytes(), want)
			}
		}
		// An attachment answers a multi-range request whole, as RFC 9110
		// allows.
		resp, body = e.do(c, "GET", e.mustExport(admin, emailID, "attachmentId=1"), "", http.Header{"Range": {"bytes=0-1,3-4"}})
		if resp.StatusCode != 200 || !bytes.Equal(body, f.attachments[0]) {
			t.Errorf("attachment, two ranges: %s, %d bytes", resp.Status, len(body))
		}
	})
	t.Run("ResumeAfterCut", func(t *testing.T) {
		// A client that lost the connection after n bytes asks for the
		// rest with If-Range, and the pieces make the file.
		link := e.mustExport(admin, callID, "")
		resp, first := e.do(c, "GET", link, "", http.Header{"Range": {"bytes=0-32767"}})
		if resp.StatusCode != 206 {
			t.Fatal(resp.Status)
		}
		resp, rest := e.do(c, "GET", link, "", http.Header{"Range": {"bytes=32768-"}, "If-Range": {resp.Header.Get("ETag")}})
		if resp.StatusCode != 206 || !bytes.Equal(append(first, rest...), f.call) {
			t.Errorf("resumed download: %s, %d+%d bytes, want %d", resp.Status, len(first), len(rest), len(f.call))
		}
	})
	t.Run("NeverNotModified", func(t *testing.T) {
		// Never a 3xx, not even 304: a revalidation gets the content.
		for _, q := range []string{"", "attachmentId=1"} {
			id, want := callID, f.call
			if q != "" {
				id, want = emailID, f.attachments[0]
			}
			link := e.mustExport(admin, id, q)
			resp, _ := e.do(c, "GET", link, "", nil)
			resp, body := e.do(c, "GET", link, "", http.Header{
				"If-None-Match":     {resp.Header.Get("ETag")},
				"If-Modified-Since": {resp.Header.Get("Last-Modified")},
			})
			if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
				t.Errorf("%s revalidated: %s with %d bytes, want 200 with %d", id, resp.Status, len(body), len(want))
			}
		}
	})
}

// TestDownloadLinkStates: a link is re-checked at download time against
// everything it was issued on.
func TestDownloadLinkStates(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	e := newEnv(t,
		withConfig(func(c *httpapi.Config) { c.TrustedProxies = trusted }),
		withExports(func(x *archive.Exports) { x.TTL = 10 * time.Minute }))
	e.seedRecordings()
	e.grant(t, "agent1 exports", "agent1")
	admin, agent1 := e.login("admin"), e.login("agent1")
	c := e.client(false)
	get := func(link string, header http.Header) (*http.Response, []byte) {
		t.Helper()
		return e.do(c, "GET", link, "", header)
	}

	t.Run("Tampered", func(t *testing.T) {
		link := e.mustExport(admin, callID, "")
		token := strings.Split(link, "/")[2]
		for i := range token {
			for _, ch := range []byte{'A', 'z'} {
				if token[i] == ch {
					continue
				}
				bad := token[:i] + string(ch) + token[i+1:]
				resp, body := get("/export/"+bad+"/call.wav", nil)
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("token changed at %d: %s %s", i, resp.Status, body)
				}
			}
		}
		for _, bad := range []string{token[:len(token)-1], token + "A", token + "==", "A" + token, "x", strings.Repeat("A", 4000)} {
			resp, body := get("/export/"+bad, nil)
			checkError(t, resp, body, 403, icrec.IDAccessDenied, 0)
		}
	})
	t.Run("NameSegmentIsIgnored", func(t *testing.T) {
		link := e.mustExport(admin, callID, "")
		i := strings.LastIndexByte(link, '/')
		for _, p := range []string{link[:i], link[:i] + "/other-name.mp3"} {
			if resp, body := get(p, nil); resp.StatusCode != http.StatusOK {
				t.Errorf("%s: %s %.100s", p, resp.Status, body)
			}
		}
	})
	t.Run("Expired", func(t *testing.T) {
		link := e.mustExport(admin, callID, "")
		e.clock.Advance(9 * time.Minute)
		if resp, _ := get(link, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("before expiry: %s", resp.Status)
		}
		e.clock.Advance(time.Minute)
		resp, body := get(link, nil)
		checkError(t, resp, body, 410, icrec.IDGone, 0)
		admin, agent1 = e.login("admin"), e.login("agent1") // the old sessions idled out
	})
	t.Run("ClientBinding", func(t *testing.T) {
		e := newEnv(t,
			withConfig(func(c *httpapi.Config) { c.TrustedProxies = trusted }),
			withExports(func(x *archive.Exports) { x.BindClient = true }))
		e.seedRecordings()
		s := e.login("admin")
		from := http.Header{"X-Forwarded-For": {"192.0.2.10"}}
		resp, body := e.do(e.client(false), "GET", "/icws/"+s.id+"/recordings/"+callID+"/export-uri", "",
			http.Header{"Cookie": {s.cookie}, "Inin-Icws-Csrf-Token": {s.csrf}, "X-Forwarded-For": {"192.0.2.10"}})
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s", resp.Status, body)
		}
		link := pathOf(t, body)
		if resp, _ := e.do(e.client(false), "GET", link, "", from); resp.StatusCode != http.StatusOK {
			t.Errorf("from the same address: %s", resp.Status)
		}
		resp, body = e.do(e.client(false), "GET", link, "", http.Header{"X-Forwarded-For": {"192.0.2.11"}})
		checkError(t, resp, body, 403, icrec.IDAccessDenied, 0)
	})
	t.Run("RecordingDeleted", func(t *testing.T) {
		link := e.mustExport(admin, chatID, "")
		if n, err := e.db.DeleteRecordings(t.Context(), chatID); err != nil || n != 1 {
			t.Fatalf("DeleteRecordings = %d, %v", n, err)
		}
		resp, body := get(link, nil)
		checkError(t, resp, body, 404, icrec.IDNotFound, 0)
	})
	t.Run("RightRevoked", func(t *testing.T) {
		link := e.mustExport(agent1, callID, "")
		if resp, _ := get(link, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("before the revocation: %s", resp.Status)
		}
		if err := e.archive.DeletePolicy(t.Context(), "agent1 exports"); err != nil {
			t.Fatal(err)
		}
		resp, body := get(link, nil)
		checkError(t, resp, body, 403, icrec.IDAccessDenied, 0)
	})
	t.Run("UserDisabled", func(t *testing.T) {
		link := e.mustExport(admin, callID, "")
		if _, err := e.sessions.SetDisabled(t.Context(), "admin", true); err != nil {
			t.Fatal(err)
		}
		defer e.sessions.SetDisabled(context.Background(), "admin", false)
		resp, body := get(link, nil)
		checkError(t, resp, body, 403, icrec.IDAccessDenied, 0)
	})
	t.Run("ExportTurnedOff", func(t *testing.T) {
		// A link issued before export was turned off stops working.
		link := e.mustExport(e.login("admin"), callID, "")
		off := newEnvOn(t, e.db, withExports(func(x *archive.Exports) { x.Disabled = true; x.Signer = e.exports.Signer }))
		resp, body := off.do(off.client(false), "GET", link, "", nil)
		checkError(t, resp, body, 410, icrec.IDGone, 0)
	})
	t.Run("WrongMethod", func(t *testing.T) {
		resp, body := e.do(c, "POST", e.mustExport(e.login("admin"), callID, ""), "", nil)
		checkError(t, resp, body, 405, icrec.IDMethodNotAllowed, 0)
	})
}

func pathOf(t *testing.T, body []byte) string {
	t.Helper()
	var out struct{ URI string }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	i := strings.Index(out.URI, "/export/")
	if i < 0 {
		t.Fatalf("uri %q has no /export/", out.URI)
	}
	return out.URI[i:]
}

// TestDownloadKeyRotation: rotating the signing keys, as icrec keys rotate
// does from another process, breaks no live link, and new links use the
// new key.
func TestDownloadKeyRotation(t *testing.T) {
	e := newEnv(t)
	f := e.seedRecordings()
	admin := e.login("admin")
	before := e.mustExport(admin, callID, "")
	rot, err := signedurl.Rotate(e.keys.Path(), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second) // the signer looks at the file at most once a second
	after := e.mustExport(admin, callID, "")
	for name, link := range map[string]string{"before": before, "after": after} {
		resp, body := e.do(e.client(false), "GET", link, "", nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, f.call) {
			t.Errorf("link issued %s the rotation: %s", name, resp.Status)
		}
	}
	// The new link names the new key: with only the old key, it fails.
	old, err := signedurl.FromSpec(oldKeySpec(t, e, rot.New.ID))
	if err != nil {
		t.Fatal(err)
	}
	oldOnly := signedurl.New(old, e.clock.Now)
	if _, err := oldOnly.Verify(strings.Split(after, "/")[2], e.clock.Now()); !icrec.IsKind(err, icrec.Forbidden) {
		t.Errorf("a link signed after the rotation verified with the old key alone: %v", err)
	}
	if _, err := oldOnly.Verify(strings.Split(before, "/")[2], e.clock.Now()); err != nil {
		t.Errorf("a link signed before the rotation does not verify with the old key: %v", err)
	}
}

// oldKeySpec returns a --link-keys spec of every key but the one named.
func oldKeySpec(t *testing.T, e *env, except string) string {
	t.Helper()
	ring, err := signedurl.Load(e.keys.Path(), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var specs []string
	for _, k := range ring.Keys() {
		if k.ID != except {
			specs = append(specs, k.ID+":"+base64.StdEncoding.EncodeToString(k.Secret))
		}
	}
	return strings.Join(specs, ",")
}

// TestDownloadLogsNoToken: neither the access log nor any other line holds
// an export token, whatever the path looks like.
func TestDownloadLogsNoToken(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	link := e.mustExport(e.login("admin"), callID, "")
	token := strings.Split(link, "/")[2]
	for _, p := range []string{link, "/export/" + token, link + "/extra", "/export/" + token + "x/call.wav",
		"/export//" + token + "/call.wav", "/export/./" + token, "//export/" + token, "/EXPORT/" + token, "/Export/" + token[:45],
		"/icws/export/" + token, "/x/" + token[:41]} {
		e.do(e.client(false), "GET", p, "", nil)
	}
	logs := e.logs.String()
	if strings.Contains(logs, token) || strings.Contains(logs, token[:40]) {
		t.Errorf("the log holds the token:\n%s", logs)
	}
	if !strings.Contains(logs, `"path":"/export/REDACTED/call.wav"`) {
		t.Errorf("no redacted access line:\n%s", logs)
	}
}

// TestExportAudited: issuing a link, downloading it and being refused are
// audit events, each naming who, from where and what.
func TestExportAudited(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin, agent1 := e.login("admin"), e.login("agent1")
	link := e.mustExport(admin, emailID, "attachmentId=1")
	e.do(e.client(false), "GET", link, "", http.Header{"Range": {"bytes=0-4"}})
	e.exportURI(agent1, callID, "")                             // denied: no right
	e.do(e.client(false), "GET", link+"x", "", nil)             // the name segment: still fine
	e.do(e.client(false), "GET", "/export/AAAA/x.wav", "", nil) // denied: forged
	if err := e.audit.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	events, err := e.db.FindAudit(t.Context(), icrec.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	ranged := 0
	for _, ev := range events {
		switch ev.Kind {
		case icrec.AuditExportIssued, icrec.AuditDownload, icrec.AuditDenied:
			got = append(got, string(ev.Kind)+" "+ev.UserID+" "+ev.RecordingID+" "+strconv.Itoa(ev.Attachment)+" "+ev.Outcome)
			if ev.ClientAddr == "" {
				t.Errorf("%s without a client address", ev.Kind)
			}
			if strings.Contains(ev.Detail, strings.Split(link, "/")[2]) {
				t.Errorf("%s holds the token: %s", ev.Kind, ev.Detail)
			}
		}
		if ev.Kind == icrec.AuditDownload && strings.Contains(ev.Detail, `"status":206,"bytes":5,"range":"bytes=0-4"`) {
			ranged++
		}
	}
	if ranged != 1 {
		t.Errorf("%d download events record the range request, want 1", ranged)
	}
	want := []string{
		"export.issued admin " + emailID + " 1 ok",
		"export.download admin " + emailID + " 1 ok",
		"denied agent1 " + callID + " 0 export-uri: not authorized",
		"export.download admin " + emailID + " 1 ok",
		"denied   0 download: This export link is not valid: it is incomplete, altered or not an export link.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
