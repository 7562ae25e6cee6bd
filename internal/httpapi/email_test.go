package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/mail/mailtest"
)

const emailBody = `{"toParticipants":{"emailAddresses":[{"displayName":"Jane QA","address":"jane@example.com"}]},
	"ccParticipants":{"emailAddresses":[{"address":"lead@example.com"}]},
	"replyToAddress":"supervisor@example.com","emailSubject":"Call for review – ünïcode","emailBody":"Please review.","priority":4}`

// parts returns the parts of a received multipart message, decoded.
func parts(t *testing.T, m mailtest.Message) (*netmail.Message, map[string][]byte, string) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var body string
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(p)
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			raw, err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
		}
		if name := p.FileName(); name != "" {
			files[name] = raw
		} else {
			body += string(raw) // multipart decodes quoted-printable itself
		}
	}
	return msg, files, body
}

func TestSendAsEmail(t *testing.T) {
	e := newEnv(t, withMail(1<<20))
	f := e.seedRecordings()
	admin := e.login("admin")
	resp, body := e.do(e.client(false), "PUT", recPath(admin, callID, "send-as-email"), emailBody, admin.headers())
	if resp.StatusCode != 204 || len(body) != 0 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	got := e.smtp.Wait(1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("the mail server received %d messages", len(got))
	}
	m := got[0]
	if m.From != "recorder@example.com" || strings.Join(m.Rcpts, ",") != "jane@example.com,lead@example.com" {
		t.Errorf("envelope from %q to %q", m.From, m.Rcpts)
	}
	msg, files, text := parts(t, m)
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Call for review – ünïcode" || msg.Header.Get("Reply-To") != "<supervisor@example.com>" || msg.Header.Get("X-Priority") != "1" {
		t.Errorf("headers: subject %q reply-to %q priority %q", subject, msg.Header.Get("Reply-To"), msg.Header.Get("X-Priority"))
	}
	if !strings.Contains(text, "Please review.") {
		t.Errorf("body %q", text)
	}
	if !bytes.Equal(files["call.wav"], f.call) {
		t.Errorf("attachment call.wav: %d bytes, want the %d of the recording", len(files["call.wav"]), len(f.call))
	}
	kind := icrec.AuditEmail
	e.audit.Close(t.Context())
	if events, _ := e.db.FindAudit(t.Context(), icrec.AuditFilter{Kind: &kind}); len(events) != 1 || events[0].Outcome != "ok" || !strings.Contains(events[0].Detail, "jane@example.com") {
		t.Errorf("audit: %+v", events)
	}
}

func TestSendManyAsEmail(t *testing.T) {
	e := newEnv(t, withMail(1<<20))
	f := e.seedRecordings()
	admin := e.login("admin")
	batch := `{"recordings":{"recordingIds":["` + callID + `","` + strings.ToLower(emailID) + `","` + callID + `"]},"parameters":` + emailBody + `}`
	resp, body := e.do(e.client(false), "PUT", "/icws/"+admin.id+"/recordings/send-as-email", batch, admin.headers())
	if resp.StatusCode != 204 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	got := e.smtp.Wait(1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages, want one for the batch", len(got))
	}
	_, files, _ := parts(t, got[0])
	if len(files) != 2 || !bytes.Equal(files["call.wav"], f.call) || !bytes.Equal(files["refund.eml"], f.email) {
		t.Errorf("attachments %d: want call.wav and refund.eml once each", len(files))
	}
}

// TestSendAsEmailLinks: recordings over the attachment limit go as export
// links, which work.
func TestSendAsEmailLinks(t *testing.T) {
	e := newEnv(t, withMail(1000))
	f := e.seedRecordings()
	admin := e.login("admin")
	resp, body := e.do(e.client(false), "PUT", recPath(admin, callID, "send-as-email"), emailBody, admin.headers())
	if resp.StatusCode != 204 {
		t.Fatalf("%s %s", resp.Status, body)
	}
	link := emailedLink(t, e)
	resp, dl := e.do(e.client(false), "GET", link, "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(dl, f.call) {
		t.Errorf("the emailed link: %s, %d bytes", resp.Status, len(dl))
	}
}

func TestSendAsEmailErrors(t *testing.T) {
	e := newEnv(t, withMail(1<<20))
	e.seedRecordings()
	e.smtp.Reject["nobody@example.com"] = true
	admin, agent1 := e.login("admin"), e.login("agent1")
	const absent = "0DE0C017-CD4F-D013-8E31-18D8B7479999"
	for _, tc := range []struct {
		name     string
		s        session
		path     string
		body     string
		status   int
		id       string
		property string
	}{
		{"no right", agent1, recPath(agent1, callID, "send-as-email"), emailBody, 403, icrec.IDAccessDenied, ""},
		{"unknown recording", admin, recPath(admin, absent, "send-as-email"), emailBody, 404, icrec.IDNotFound, ""},
		{"batch with one unknown", admin, "/icws/" + admin.id + "/recordings/send-as-email", `{"recordings":{"recordingIds":["` + callID + `","` + absent + `"]},"parameters":` + emailBody + `}`, 404, icrec.IDNotFound, ""},
		{"no recipients", admin, recPath(admin, callID, "send-as-email"), `{"emailSubject":"x"}`, 400, icrec.IDMissingParameter, "toParticipants"},
		{"empty recipients", admin, recPath(admin, callID, "send-as-email"), `{"toParticipants":{"emailAddresses":[]}}`, 400, icrec.IDInvalidProperty, "toParticipants"},
		{"address missing", admin, recPath(admin, callID, "send-as-email"), `{"toParticipants":{"emailAddresses":[{"displayName":"x"}]}}`, 400, icrec.IDMissingParameter, "toParticipants.emailAddresses[0].address"},
		{"wrong type", admin, recPath(admin, callID, "send-as-email"), `{"toParticipants":"jane@example.com"}`, 400, icrec.IDInvalidProperty, "toParticipants"},
		{"header injection", admin, recPath(admin, callID, "send-as-email"), `{"toParticipants":{"emailAddresses":[{"address":"jane@example.com"}]},"emailSubject":"hi\r\nBcc: evil@example.com"}`, 400, icrec.IDInvalidProperty, "emailSubject"},
		{"rejected recipient", admin, recPath(admin, callID, "send-as-email"), `{"toParticipants":{"emailAddresses":[{"address":"nobody@example.com"}]}}`, 400, icrec.IDInvalidProperty, "toParticipants"},
		{"batch without ids", admin, "/icws/" + admin.id + "/recordings/send-as-email", `{"parameters":` + emailBody + `}`, 400, icrec.IDMissingParameter, "recordings.recordingIds"},
		{"batch without parameters", admin, "/icws/" + admin.id + "/recordings/send-as-email", `{"recordings":{"recordingIds":["` + callID + `"]}}`, 400, icrec.IDMissingParameter, "parameters"},
		{"batch bad parameters", admin, "/icws/" + admin.id + "/recordings/send-as-email", `{"recordings":{"recordingIds":["` + callID + `"]},"parameters":{"toParticipants":5}}`, 400, icrec.IDInvalidProperty, "parameters.toParticipants"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(e.client(false), "PUT", tc.path, tc.body, tc.s.headers())
			got := checkError(t, resp, body, tc.status, tc.id, 0)
			if got.PropertyName != tc.property {
				t.Errorf("propertyName %q, want %q (%s)", got.PropertyName, tc.property, got.Message)
			}
			if tc.name == "rejected recipient" && !strings.Contains(got.Message, "nobody@example.com") {
				t.Errorf("message %q does not name the address", got.Message)
			}
		})
	}
	if n := len(e.smtp.Messages()); n != 0 {
		t.Errorf("the mail server accepted %d messages from failed requests", n)
	}
}

func TestSendAsEmailNotConfigured(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	admin := e.login("admin")
	resp, body := e.do(e.client(false), "PUT", recPath(admin, callID, "send-as-email"), emailBody, admin.headers())
	got := checkError(t, resp, body, 410, icrec.IDGone, 0)
	if !strings.Contains(got.Message, "--smtp-url") {
		t.Errorf("message %q does not name the missing configuration", got.Message)
	}
}

func TestSendAsEmailServerDown(t *testing.T) {
	e := newEnv(t, withMail(1<<20))
	e.seedRecordings()
	admin := e.login("admin")
	e.smtp.Close()
	resp, body := e.do(e.client(false), "PUT", recPath(admin, callID, "send-as-email"), emailBody, admin.headers())
	got := checkError(t, resp, body, 500, icrec.IDInternal, 0)
	if !strings.Contains(got.Message, "mail server") || !strings.Contains(got.Message, "nothing was sent") {
		t.Errorf("message %q does not say the mail server failed", got.Message)
	}
	// The mail server's address and replies are internals (the log has
	// them); the message names neither.
	if strings.Contains(got.Message, "127.0.0.1") || strings.Contains(got.Message, "refused") {
		t.Errorf("message %q tells the mail server's internals", got.Message)
	}
	if !strings.Contains(e.logs.String(), "127.0.0.1") {
		t.Error("the log does not keep the mail server's address")
	}
	kind := icrec.AuditEmail
	e.audit.Close(t.Context())
	if events, _ := e.db.FindAudit(t.Context(), icrec.AuditFilter{Kind: &kind}); len(events) != 1 || !strings.HasPrefix(events[0].Outcome, "failed") {
		t.Errorf("the failed send was not audited: %+v", events)
	}
}

// emailedLink waits for the one message the test sent, which must carry no
// attachment and an export link, and returns the link's path.
func emailedLink(t *testing.T, e *env) string {
	t.Helper()
	got := e.smtp.Wait(1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	_, files, text := parts(t, got[0])
	i := strings.Index(text, "https://recorder.example.com:8019/export/")
	if len(files) != 0 || i < 0 {
		t.Fatalf("want no attachment and a link; files %d, body %q", len(files), text)
	}
	return strings.Fields(text[i+len("https://recorder.example.com:8019"):])[0]
}
