package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/client"
	"example.com/icrec/icws"
	"example.com/icrec/internal/testutil/faultproxy"
)

// wantError returns err as a *client.Error with the given status, failing
// the test otherwise.
func wantError(t testing.TB, err error, status int) *client.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want a *client.Error with status %d", status)
	}
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *client.Error", err, err)
	}
	if e.Status != status {
		t.Fatalf("Status of %q = %d, want %d", err, e.Status, status)
	}
	return e
}

// rawCall makes a session call with the credentials the recorder saw, as
// another client holding them would, and returns the status and body.
func rawCall(t testing.TB, rec *recorder, method, sid, path string) (int, []byte) {
	t.Helper()
	cookie, csrf := rec.credentials()
	if cookie == "" {
		t.Fatal("the recorder saw no session call")
	}
	req, err := http.NewRequest(method, srv.http+"/icws/"+sid+"/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("ININ-ICWS-CSRF-Token", csrf)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// checkMedia fails unless m describes data as a verified download.
func checkMedia(t testing.TB, what string, m *client.Media, data []byte) {
	t.Helper()
	if m == nil {
		t.Fatalf("%s: Media = nil", what)
	}
	if !m.Verified {
		t.Errorf("%s: Verified = false (ETag %q)", what, m.ETag)
	}
	if m.Size != int64(len(data)) || len(data) == 0 {
		t.Errorf("%s: Size = %d, got %d bytes", what, m.Size, len(data))
	}
	if got := sha256Hex(data); m.SHA256 != got {
		t.Errorf("%s: SHA256 = %s, the bytes have %s", what, m.SHA256, got)
	}
	if want := `"` + m.SHA256 + `"`; !strings.EqualFold(m.ETag, want) {
		t.Errorf("%s: ETag = %s, want the SHA-256 %s", what, m.ETag, want)
	}
	if m.FileName == "" || m.ContentType == "" {
		t.Errorf("%s: FileName = %q, ContentType = %q; want both", what, m.FileName, m.ContentType)
	}
	if m.LastModified.IsZero() {
		t.Errorf("%s: LastModified is zero", what)
	}
}

func TestSessionCalls(t *testing.T) {
	needServer(t)
	ctx := testCtx(t)
	rec := &recorder{}
	c := connectTo(t, client.Config{Server: srv.http, UserID: "admin", Password: demoPassword, HTTPClient: rec.wrap(httpClient(t)), Retry: fastRetry})
	if c.SessionID() == "" || c.UserID() != "admin" || c.Server() != srv.http {
		t.Fatalf("SessionID %q, UserID %q, Server %q; want a session of admin on %s", c.SessionID(), c.UserID(), c.Server(), srv.http)
	}

	t.Run("Features", func(t *testing.T) {
		fs, err := c.Features(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, f := range fs {
			got[f.FeatureID] = f.Version
		}
		if got["recordings"] < 6 || got["messaging"] < 2 {
			t.Fatalf("features %v, want recordings >= 6 and messaging >= 2", fs)
		}
		for _, id := range []string{"recordings", "RECORDINGS", "Recordings"} {
			if v, err := c.FeatureVersion(ctx, id); err != nil || v != got["recordings"] {
				t.Errorf("FeatureVersion(%q) = %d, %v; want %d", id, v, err, got["recordings"])
			}
		}
		if v, err := c.FeatureVersion(ctx, "no-such-feature"); err != nil || v != 0 {
			t.Errorf("FeatureVersion(no-such-feature) = %d, %v; want 0", v, err)
		}
	})

	t.Run("Version", func(t *testing.T) {
		v, err := c.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(srv.http + "/icws/connection/version")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var want icws.VersionInfo
		if err := json.NewDecoder(resp.Body).Decode(&want); err != nil {
			t.Fatal(err)
		}
		if v != want || v.MajorVersion == "" || v.ProductID == "" {
			t.Fatalf("Version = %+v, the server says %+v", v, want)
		}
	})

	email, call := ids["Email/Support"], ids["Call/Support"]
	var numAttachments int
	t.Run("MediaDetails", func(t *testing.T) {
		md, err := c.MediaDetails(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if md.RecordingID != email || md.MediaType != icrec.MediaEmail || md.NumAttachments == nil || *md.NumAttachments < 1 {
			t.Fatalf("media-details of the email %s: %+v; want an email with attachments", email, md)
		}
		numAttachments = *md.NumAttachments
		// Recording ids are case-insensitive on input.
		md, err = c.MediaDetails(ctx, strings.ToLower(call))
		if err != nil {
			t.Fatal(err)
		}
		if md.RecordingID != call || md.MediaType != icrec.MediaCall || md.NumAttachments != nil || md.RecordingDate.IsZero() {
			t.Fatalf("media-details of the call %s: %+v", call, md)
		}
	})

	t.Run("Download", func(t *testing.T) {
		if numAttachments == 0 {
			t.Skip("MediaDetails failed")
		}
		for _, tc := range []struct {
			id         string
			attachment int
			typ        string
		}{{call, 0, "audio/"}, {email, 0, "message/rfc822"}} {
			uri, err := c.ExportURI(ctx, tc.id, tc.attachment)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(uri, srv.https+"/") {
				t.Errorf("export URI %q is not on the HTTPS listener %s", uri, srv.https)
			}
			var buf bytes.Buffer
			m, err := c.Download(ctx, uri, &buf)
			if err != nil {
				t.Fatalf("Download of %s: %v", tc.id, err)
			}
			checkMedia(t, tc.id, m, buf.Bytes())
			if !strings.HasPrefix(m.ContentType, tc.typ) {
				t.Errorf("ContentType of %s = %q, want %s…", tc.id, m.ContentType, tc.typ)
			}
			if m.Resumed != 0 {
				t.Errorf("Resumed = %d without a fault", m.Resumed)
			}
		}
		seen := map[string]bool{}
		for n := 1; n <= numAttachments; n++ {
			uri, err := c.ExportURI(ctx, email, n)
			if err != nil {
				t.Fatalf("ExportURI(attachment %d): %v", n, err)
			}
			var buf bytes.Buffer
			m, err := c.Download(ctx, uri, &buf)
			if err != nil {
				t.Fatalf("Download of attachment %d: %v", n, err)
			}
			checkMedia(t, fmt.Sprintf("attachment %d", n), m, buf.Bytes())
			if strings.HasPrefix(m.ContentType, "message/rfc822") || seen[m.SHA256] {
				t.Errorf("attachment %d (%s, %s) is the email itself or another attachment", n, m.ContentType, m.FileName)
			}
			seen[m.SHA256] = true
		}
	})

	t.Run("AttributesAndTags", func(t *testing.T) {
		attrs, err := c.Attributes(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		tags, err := c.Tags(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		// The same calls, made by hand, give the same answers.
		status, body := rawCall(t, rec, "GET", c.SessionID(), "recordings/"+email+"/attributes")
		var wantAttrs icws.AttributeMap
		if status != 200 || json.Unmarshal(body, &wantAttrs) != nil {
			t.Fatalf("GET attributes by hand: %d %s", status, body)
		}
		if len(attrs) == 0 || !reflect.DeepEqual(attrs, wantAttrs.AttributesValues) {
			t.Errorf("Attributes = %+v, the server says %s", attrs, body)
		}
		status, body = rawCall(t, rec, "GET", c.SessionID(), "recordings/"+email+"/tags")
		var wantTags icws.TagList
		if status != 200 || json.Unmarshal(body, &wantTags) != nil {
			t.Fatalf("GET tags by hand: %d %s", status, body)
		}
		if tags == nil || !reflect.DeepEqual(tags, append([]string{}, wantTags.Tags...)) {
			t.Errorf("Tags = %q, the server says %s", tags, body)
		}
	})

	t.Run("Close", func(t *testing.T) {
		if err := c.Close(ctx); err != nil {
			t.Fatal(err)
		}
		_, err := c.MediaDetails(ctx, call)
		e := wantError(t, err, http.StatusUnauthorized)
		if !icrec.IsKind(err, icrec.Unauthenticated) || e.Temporary() {
			t.Errorf("a call after Close: %v (kind %v, temporary %v)", err, e.Kind(), e.Temporary())
		}
		if err := c.Close(ctx); err != nil {
			t.Errorf("a second Close: %v", err)
		}
	})
}

// TestCloseLogsOut: Close ends the session on the server, so that its
// cookie and token are worth nothing afterwards.
func TestCloseLogsOut(t *testing.T) {
	needServer(t)
	ctx := testCtx(t)
	rec := &recorder{}
	c := connectTo(t, client.Config{Server: srv.http, UserID: "agent1", Password: demoPassword, HTTPClient: rec.wrap(httpClient(t))})
	if _, err := c.Features(ctx); err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	if _, err := c.Tags(ctx, ids["Call/Support"]); err != nil && !icrec.IsKind(err, icrec.Forbidden) {
		t.Fatal(err) // any session call, to record the credentials
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := rec.count("DELETE", "/icws/"+sid+"/connection"); n != 1 {
		t.Fatalf("Close made %d DELETE requests of the connection, want 1", n)
	}
	if status, body := rawCall(t, rec, "GET", sid, "messaging/messages"); status != http.StatusUnauthorized {
		t.Fatalf("after Close, the session's credentials still work: %d %s", status, body)
	}
}

func TestLoginErrors(t *testing.T) {
	needServer(t)
	ctx := testCtx(t)

	t.Run("WrongPassword", func(t *testing.T) {
		const password = "Wrong-Passw0rd-Sentinel"
		user := addUser(t, "right-password-1")
		rec := &recorder{}
		c, err := client.Connect(ctx, client.Config{Server: srv.http, UserID: user, Password: password, HTTPClient: rec.wrap(httpClient(t)), Retry: fastRetry})
		if c != nil {
			t.Fatal("Connect returned a client with an error")
		}
		e := wantError(t, err, http.StatusBadRequest)
		if e.ICWS.ErrorID != icrec.IDAuthenticationFailure || !icrec.IsKind(err, icrec.Invalid) || e.Temporary() {
			t.Errorf("err = %v: errorId %q, kind %v, temporary %v; want %s, invalid, not temporary", err, e.ICWS.ErrorID, e.Kind(), e.Temporary(), icrec.IDAuthenticationFailure)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("the error shows the password: %v", err)
		}
		if n := rec.count("POST", "/icws/connection"); n != 1 {
			t.Errorf("a wrong password was tried %d times, want 1", n)
		}
	})

	t.Run("NoUser", func(t *testing.T) {
		_, err := client.Connect(ctx, client.Config{Server: srv.http, Password: demoPassword})
		if err == nil {
			t.Fatal("Connect without a user id succeeded")
		}
	})
}

func TestCallErrors(t *testing.T) {
	needServer(t)
	ctx := testCtx(t)
	rec := &recorder{}
	sup := connectTo(t, client.Config{Server: srv.http, UserID: "supervisor", Password: demoPassword, HTTPClient: rec.wrap(httpClient(t)), Retry: fastRetry})

	t.Run("Forbidden", func(t *testing.T) {
		if _, err := sup.ExportURI(ctx, ids["Call/Support"], 0); err != nil {
			t.Fatalf("supervisor may export Support's recordings: %v", err)
		}
		before := rec.count("GET", "/export-uri")
		_, err := sup.ExportURI(ctx, ids["Call/Sales"], 0)
		e := wantError(t, err, http.StatusForbidden)
		if e.ICWS.ErrorID != icrec.IDAccessDenied || !icrec.IsKind(err, icrec.Forbidden) || e.Temporary() {
			t.Errorf("err = %v: errorId %q, kind %v", err, e.ICWS.ErrorID, e.Kind())
		}
		if n := rec.count("GET", "/export-uri") - before; n != 1 {
			t.Errorf("a 403 was asked %d times, want 1", n)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		const unknown = "00000000-1111-2222-3333-444444444444"
		_, err := sup.MediaDetails(ctx, unknown)
		e := wantError(t, err, http.StatusNotFound)
		if e.ICWS.ErrorID != icrec.IDNotFound || !icrec.IsKind(err, icrec.NotFound) {
			t.Errorf("err = %v: errorId %q, kind %v", err, e.ICWS.ErrorID, e.Kind())
		}
		_, err = sup.ExportURI(ctx, unknown, 0)
		wantError(t, err, http.StatusNotFound)
		// An id that is not a GUID, with characters that must be escaped,
		// stays one path segment: it names no recording.
		_, err = sup.MediaDetails(ctx, "../../connection")
		var e2 *client.Error
		if !errors.As(err, &e2) || (e2.Status != http.StatusNotFound && e2.Status != http.StatusBadRequest) {
			t.Errorf("media-details of ../../connection: %v, want 404 or 400", err)
		}
	})

	t.Run("AttachmentOutOfRange", func(t *testing.T) {
		email := ids["Email/Support"]
		md, err := sup.MediaDetails(ctx, email)
		if err != nil || md.NumAttachments == nil {
			t.Fatalf("media-details: %+v, %v", md, err)
		}
		for _, tc := range []struct {
			id string
			n  int
		}{{email, *md.NumAttachments + 1}, {ids["Call/Support"], 1}} {
			_, err := sup.ExportURI(ctx, tc.id, tc.n)
			e := wantError(t, err, http.StatusBadRequest)
			if e.ICWS.PropertyName != "attachmentId" || !icrec.IsKind(err, icrec.Invalid) {
				t.Errorf("attachment %d of %s: %v (propertyName %q, kind %v)", tc.n, tc.id, err, e.ICWS.PropertyName, e.Kind())
			}
			var ie *icrec.Error
			if !errors.As(err, &ie) || ie.Property != "attachmentId" || ie.ID != icrec.IDInvalidProperty {
				t.Errorf("the *icrec.Error of %v is %+v", err, ie)
			}
		}
	})
}

// TestReLogin ends the client's session behind its back: the next call
// logs in again, once, and goes on; when that login fails, the error says
// so.
func TestReLogin(t *testing.T) {
	needServer(t)
	ctx := testCtx(t)
	const password = "relogin-password-1"
	user := addUser(t, password)
	rec := &recorder{}
	var logs lockedBuffer
	c := connectTo(t, client.Config{Server: srv.http, UserID: user, Password: password, HTTPClient: rec.wrap(httpClient(t)), Retry: fastRetry,
		Logger: slogJSON(&logs)})
	id := ids["Email/Sales"]
	if _, err := c.MediaDetails(ctx, id); err != nil {
		t.Fatal(err)
	}
	sid := c.SessionID()
	if status, body := rawCall(t, rec, "DELETE", sid, "connection"); status != http.StatusNoContent {
		t.Fatalf("logging the session out by hand: %d %s", status, body)
	}
	if _, err := c.MediaDetails(ctx, id); err != nil {
		t.Fatalf("MediaDetails after the session ended: %v", err)
	}
	if c.SessionID() == sid || c.SessionID() == "" {
		t.Fatalf("SessionID = %q after logging in again, was %q", c.SessionID(), sid)
	}
	if n := rec.count("POST", "/icws/connection"); n != 2 {
		t.Errorf("%d logins, want 2", n)
	}
	if n := rec.count("GET", "/media-details"); n != 3 {
		t.Errorf("%d media-details requests, want 3 (one failed with 401, repeated once)", n)
	}

	// Several calls that fail with 401 together log in again once.
	sid = c.SessionID()
	if status, body := rawCall(t, rec, "DELETE", sid, "connection"); status != http.StatusNoContent {
		t.Fatalf("logging the session out by hand: %d %s", status, body)
	}
	logins := rec.count("POST", "/icws/connection")
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() {
			_, err := c.Tags(ctx, id)
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("a concurrent call after the session ended: %v", err)
		}
	}
	if n := rec.count("POST", "/icws/connection") - logins; n != 1 {
		t.Errorf("%d concurrent calls that met 401 logged in %d times, want once", cap(errs), n)
	}

	// A user disabled loses the session, and cannot log in again.
	icrecCLI(t, "", "user", "disable", user)
	logins = rec.count("POST", "/icws/connection")
	_, err := c.MediaDetails(ctx, id)
	if err == nil {
		t.Fatal("MediaDetails of a disabled user succeeded")
	}
	if !strings.Contains(err.Error(), "logging in again failed") || !strings.Contains(err.Error(), icrec.IDAuthenticationFailure) {
		t.Errorf("err = %v, want it to say that logging in again failed, and why", err)
	}
	if !icrec.IsKind(err, icrec.Unauthenticated) {
		t.Errorf("err = %v is not of kind Unauthenticated", err)
	}
	if n := rec.count("POST", "/icws/connection") - logins; n != 1 {
		t.Errorf("a refused re-login was tried %d times, want 1", n)
	}
	if strings.Contains(err.Error(), password) || strings.Contains(logs.String(), password) {
		t.Errorf("the error or the log shows the password:\n%v\n%s", err, logs.String())
	}
	cookie, csrf := rec.credentials()
	_, secret, _ := strings.Cut(cookie, "=")
	if secret == "" || strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), csrf) || strings.Contains(err.Error(), secret) {
		t.Errorf("the error or the log shows the session's secrets:\n%v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "logging in again") {
		t.Errorf("no log line says the client logged in again:\n%s", logs.String())
	}
}

// fakeICWS is a scripted ICWS server for faults a real one does not make.
// login answers a valid session of its own unless handle takes the request.
type fakeICWS struct {
	*httptest.Server
	hits atomic.Int32
}

func newFake(t testing.TB, handle func(w http.ResponseWriter, r *http.Request, n int) bool) *fakeICWS {
	f := &fakeICWS{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(f.hits.Add(1))
		if handle(w, r, n) {
			return
		}
		if r.Method == http.MethodPost && r.URL.Path == "/icws/connection" {
			writeFakeSession(w)
			return
		}
		writeJSON(w, http.StatusNotFound, icws.Error{ErrorID: icrec.IDNotFound, Message: "not here"})
	}))
	t.Cleanup(f.Close)
	return f
}

const fakeSID = "1731001"

func writeFakeSession(w http.ResponseWriter) {
	w.Header().Set("Set-Cookie", "icws_"+fakeSID+"=0b5e5d54-0000-4000-8000-000000000001|languageId=en-us; Path=/icws/"+fakeSID+"; HttpOnly")
	w.Header().Set("ININ-ICWS-Session-ID", fakeSID)
	w.Header().Set("ININ-ICWS-CSRF-Token", "fake-csrf")
	w.Header().Set("Location", "/icws/"+fakeSID+"/connection")
	writeJSON(w, http.StatusCreated, map[string]any{"sessionId": fakeSID, "csrfToken": "fake-csrf", "alternateHostList": []string{}, "userID": "agent", "userDisplayName": "agent", "icServer": "CIC-FAKE"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.inin.icws+JSON; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func TestSwitchover(t *testing.T) {
	needServer(t)
	ctx := testCtx(t)
	real, _ := url.Parse(srv.http)
	fake := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		writeJSON(w, http.StatusServiceUnavailable, icws.Error{ErrorID: icrec.IDNotAcceptingConnections, Message: "switchover in progress", AlternateHostList: []string{"", "bad/host", real.Host}})
		return true
	})
	c := connectTo(t, client.Config{Server: fake.URL, UserID: "admin", Password: demoPassword, HTTPClient: httpClient(t), Retry: fastRetry})
	if c.Server() != srv.http {
		t.Errorf("Server() = %s after the switchover, want %s", c.Server(), srv.http)
	}
	if n := fake.hits.Load(); n != 1 {
		t.Errorf("the server that is switching over was asked %d times, want 1", n)
	}
	if _, err := c.MediaDetails(ctx, ids["Call/Sales"]); err != nil {
		t.Fatalf("a call after the switchover: %v", err)
	}

	t.Run("NoAlternate", func(t *testing.T) {
		fake := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
			writeJSON(w, http.StatusServiceUnavailable, icws.Error{ErrorID: icrec.IDNotAcceptingConnections, Message: "draining", AlternateHostList: []string{}})
			return true
		})
		_, err := client.Connect(ctx, client.Config{Server: fake.URL, UserID: "admin", Password: demoPassword, Retry: client.Retry{Attempts: 3, Base: time.Millisecond}})
		e := wantError(t, err, http.StatusServiceUnavailable)
		if e.ICWS.ErrorID != icrec.IDNotAcceptingConnections || !e.Temporary() || !icrec.IsKind(err, icrec.Unavailable) {
			t.Errorf("err = %v: errorId %q, temporary %v, kind %v", err, e.ICWS.ErrorID, e.Temporary(), e.Kind())
		}
		if n := fake.hits.Load(); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
}

func TestTLS(t *testing.T) {
	needServer(t)
	ctx := testCtx(t)
	cfg := client.Config{Server: srv.https, UserID: "agent2", Password: demoPassword}

	t.Run("Untrusted", func(t *testing.T) {
		start := time.Now()
		_, err := client.Connect(ctx, cfg)
		if time.Since(start) > 5*time.Second {
			t.Errorf("an untrusted certificate took %v to report", time.Since(start))
		}
		if err == nil || !client.IsTLSVerification(err) {
			t.Fatalf("err = %v, want a TLS verification error", err)
		}
		if !strings.Contains(err.Error(), "--ca-file") {
			t.Errorf("err = %v, want it to mention --ca-file", err)
		}
		e := wantError(t, err, 0)
		if e.Temporary() {
			t.Errorf("an untrusted certificate is temporary")
		}
		hc, _ := client.NewHTTPClient(client.TLSOptions{})
		rec := &recorder{}
		cfg := cfg
		cfg.HTTPClient = rec.wrap(hc)
		if _, err := client.Connect(ctx, cfg); !client.IsTLSVerification(err) {
			t.Fatalf("err = %v, want a TLS verification error", err)
		}
		if n := rec.count("POST", "/icws/connection"); n != 1 {
			t.Errorf("an untrusted certificate was tried %d times, want 1", n)
		}
	})

	t.Run("Insecure", func(t *testing.T) {
		hc, err := client.NewHTTPClient(client.TLSOptions{Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		cfg := cfg
		cfg.HTTPClient = hc
		c := connectTo(t, cfg)
		if _, err := c.Features(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("CAFile", func(t *testing.T) {
		cfg := cfg
		cfg.UserID = "admin"
		cfg.HTTPClient = httpClient(t)
		c := connectTo(t, cfg)
		uri, err := c.ExportURI(ctx, ids["Call/Sales"], 0)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		m, err := c.Download(ctx, uri, &buf)
		if err != nil {
			t.Fatal(err)
		}
		checkMedia(t, "download over HTTPS", m, buf.Bytes())
	})

	t.Run("BadCAFile", func(t *testing.T) {
		notPEM := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(notPEM, []byte("this is not a certificate\n"), 0o600)
		for _, f := range []string{notPEM, filepath.Join(t.TempDir(), "missing.pem")} {
			if hc, err := client.NewHTTPClient(client.TLSOptions{CAFile: f}); err == nil || hc != nil {
				t.Errorf("NewHTTPClient(CAFile %s) = %v, %v; want an error", filepath.Base(f), hc, err)
			}
		}
	})

	t.Run("HTTPSToHTTPPort", func(t *testing.T) {
		u, _ := url.Parse(srv.http)
		rec := &recorder{}
		hc, _ := client.NewHTTPClient(client.TLSOptions{})
		_, err := client.Connect(ctx, client.Config{Server: "https://" + u.Host, UserID: "agent2", Password: demoPassword, HTTPClient: rec.wrap(hc), Retry: fastRetry})
		e := wantError(t, err, 0)
		if n := rec.count("POST", "/icws/connection"); e.Temporary() || n != 1 {
			t.Errorf("HTTPS to an HTTP port: %v (temporary %v, %d attempts); want a permanent error at once", err, e.Temporary(), n)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	needServer(t)
	target, _ := url.Parse(srv.http)
	rp := httputil.NewSingleHostReverseProxy(target)
	fake := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, icws.Error{ErrorID: "error.request.tooManyRequests", Message: "slow down"})
			return true
		}
		rp.ServeHTTP(w, r)
		return true
	})
	start := time.Now()
	c := connectTo(t, client.Config{Server: fake.URL, UserID: "agent2", Password: demoPassword, Retry: client.Retry{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}})
	if d := time.Since(start); d < time.Second {
		t.Errorf("Connect came back after %v, before the Retry-After of 1s", d)
	}
	if c.Server() != fake.URL {
		t.Errorf("Server() = %s", c.Server())
	}
	if n := fake.hits.Load(); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	hit := make(chan struct{}, 100)
	fake := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		hit <- struct{}{}
		writeJSON(w, http.StatusInternalServerError, icws.Error{ErrorID: icrec.IDInternal, Message: "broken"})
		return true
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-hit
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	start := time.Now()
	_, err := client.Connect(ctx, client.Config{Server: fake.URL, UserID: "agent", Password: "pw", Retry: client.Retry{Attempts: 100, Base: 30 * time.Second, Max: 30 * time.Second}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Connect took %v to notice the cancellation", d)
	}

	// A session call backing off stops the same way.
	fail := atomic.Bool{}
	fake = newFake(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if !fail.Load() {
			return false
		}
		hit <- struct{}{}
		writeJSON(w, http.StatusBadGateway, nil)
		return true
	})
	c := connectTo(t, client.Config{Server: fake.URL, UserID: "agent", Password: "pw", Retry: client.Retry{Attempts: 100, Base: 30 * time.Second, Max: 30 * time.Second}})
	fail.Store(true)
	for len(hit) > 0 {
		<-hit
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-hit
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	start = time.Now()
	_, err = c.MediaDetails(ctx, "0DE0C017-0000-0000-0000-000000000000")
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

func TestMalformedAnswers(t *testing.T) {
	fake := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
		switch {
		case strings.HasSuffix(r.URL.Path, "/media-details"):
			w.Header().Set("Content-Type", "application/vnd.inin.icws+JSON; charset=utf-8")
			io.WriteString(w, `{"recordingId": 12`)
		case strings.HasSuffix(r.URL.Path, "/tags"):
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body>Bad Gateway</body></html>")
		case strings.HasSuffix(r.URL.Path, "/export-uri"):
			writeJSON(w, http.StatusOK, map[string]string{"uri": "/relative/path"})
		default:
			return false
		}
		return true
	})
	ctx := testCtx(t)
	c := connectTo(t, client.Config{Server: fake.URL, UserID: "agent", Password: "pw", Retry: client.Retry{Attempts: 2, Base: time.Millisecond}})
	if c.SessionID() != fakeSID || c.UserID() != "agent" {
		t.Fatalf("SessionID %q, UserID %q", c.SessionID(), c.UserID())
	}

	before := fake.hits.Load()
	_, err := c.MediaDetails(ctx, "0DE0C017-0000-0000-0000-000000000000")
	e := wantError(t, err, http.StatusOK)
	if !strings.Contains(err.Error(), "not the JSON expected") || e.Temporary() {
		t.Errorf("err = %v (temporary %v), want it to say the answer is not the JSON expected", err, e.Temporary())
	}
	if n := fake.hits.Load() - before; n != 1 {
		t.Errorf("a malformed answer was asked for %d times, want 1", n)
	}

	_, err = c.Tags(ctx, "0DE0C017-0000-0000-0000-000000000000")
	e = wantError(t, err, http.StatusBadGateway)
	if !e.Temporary() || e.ICWS.ErrorID != "" || !strings.Contains(e.ICWS.Message, "not an ICWS error") || strings.Contains(err.Error(), "<html>") {
		t.Errorf("err = %v: ICWS %+v, temporary %v", err, e.ICWS, e.Temporary())
	}

	_, err = c.ExportURI(ctx, "0DE0C017-0000-0000-0000-000000000000", 0)
	wantError(t, err, http.StatusOK)
}

func TestParseServerTable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"cic.example.com", "https://cic.example.com:8019"},
		{"  cic.example.com  ", "https://cic.example.com:8019"},
		{"cic.example.com:443", "https://cic.example.com:443"},
		{"10.0.0.5", "https://10.0.0.5:8019"},
		{"::1", "https://[::1]:8019"},
		{"http://h:8018/api/cic1/", "http://h:8018/api/cic1"},
		{"https://h/api/cic1", "https://h/api/cic1"},
		{"https://h:8019/icws", "https://h:8019"},
		{"https://h:8019/api/cic1/icws/", "https://h:8019/api/cic1"},
		{"HTTP://h:8018", "http://h:8018"},
	} {
		u, err := client.ParseServer(tc.in)
		if err != nil || u.String() != tc.want {
			t.Errorf("ParseServer(%q) = %v, %v; want %s", tc.in, u, err, tc.want)
		}
	}
	for _, bad := range []string{"", "   ", "ftp://h", "https://user:secret@h:8019", "https://user@h", "https://h/?x=1", "https://h/#frag", "https://", "mailto:h"} {
		u, err := client.ParseServer(bad)
		if err == nil {
			t.Errorf("ParseServer(%q) = %v, want an error", bad, u)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseServer(%q): the error shows the password: %v", bad, err)
		}
	}
}

// TestRetriesThroughFaults puts a proxy that answers every request 500
// twice before it lets it through between the client and the server.
func TestRetriesThroughFaults(t *testing.T) {
	proxy, front := proxied(t, faultproxy.Config{Seed: 1, ErrorRate: 1, MaxFaultsPerKey: 2})
	ctx := testCtx(t)
	email := ids["Email/Support"]

	t.Run("Enough", func(t *testing.T) {
		before := proxy.Stats()
		c := connectTo(t, client.Config{Server: front, UserID: "admin", Password: demoPassword, Retry: client.Retry{Attempts: 5, Base: time.Millisecond, Max: 5 * time.Millisecond}})
		calls := 1
		if md, err := c.MediaDetails(ctx, email); err != nil || md.RecordingID != email {
			t.Fatalf("MediaDetails: %+v, %v", md, err)
		}
		if _, err := c.Attributes(ctx, email); err != nil {
			t.Fatalf("Attributes: %v", err)
		}
		if _, err := c.Tags(ctx, email); err != nil {
			t.Fatalf("Tags: %v", err)
		}
		uri, err := c.ExportURI(ctx, email, 1)
		if err != nil {
			t.Fatalf("ExportURI: %v", err)
		}
		if !strings.HasPrefix(uri, front+"/") {
			t.Fatalf("the export URI does not go through the proxy %s", front)
		}
		var buf bytes.Buffer
		m, err := c.Download(ctx, uri, &buf)
		if err != nil {
			t.Fatalf("Download: %v", err)
		}
		checkMedia(t, "attachment 1", m, buf.Bytes())
		calls += 5
		st := proxy.Stats()
		if got, want := st.Requests-before.Requests, int64(3*calls); got != want {
			t.Errorf("%d requests for %d calls, want %d (two failures and a success each)", got, calls, want)
		}
		if got, want := st.Errors-before.Errors, int64(2*calls); got != want {
			t.Errorf("%d injected errors, want %d", got, want)
		}
	})

	t.Run("TooFew", func(t *testing.T) {
		before := proxy.Stats()
		_, err := client.Connect(ctx, client.Config{Server: front, UserID: "admin", Password: demoPassword, Retry: client.Retry{Attempts: 2, Base: time.Millisecond, Max: 5 * time.Millisecond}})
		e := wantError(t, err, http.StatusInternalServerError)
		if !e.Temporary() || !icrec.IsKind(err, icrec.Internal) || e.ICWS.ErrorID != icrec.IDInternal {
			t.Errorf("err = %v: temporary %v, kind %v, errorId %q", err, e.Temporary(), e.Kind(), e.ICWS.ErrorID)
		}
		if n := proxy.Stats().Requests - before.Requests; n != 2 {
			t.Errorf("%d requests, want 2 (Retry.Attempts)", n)
		}
		if strings.Contains(err.Error(), demoPassword) {
			t.Errorf("the error shows the password: %v", err)
		}
	})
}
