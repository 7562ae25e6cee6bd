package httpapi_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/datadir"
)

// fullID is a recording with every media-details field set, so that the
// golden files pin each field's name, type and format, not just nulls.
const fullID = "0DE0C017-CD4F-D013-8E31-18D8B74700F1"

func (e *env) seedFullRecording() {
	e.t.Helper()
	dir := e.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "full.wav"), testWAV(800), 0o600); err != nil {
		e.t.Fatal(err)
	}
	line := `{"recordingId":"` + fullID + `","interactionId":"100200300","mediaType":"Call","recordingType":"SnippetRecording",` +
		`"callType":"External","direction":"Outbound","recordingDate":"2024-01-31T10:15:00.5Z","duration":125.5,` +
		`"expirationDate":"20310131T101500Z","initiationPolicyName":"QA 10%","lineName":"SIP Line 1","snippetInitiator":"supervisor",` +
		`"relatedRecordingId":"` + callID + `","isEncrypted":true,"isArchived":true,"file":"full.wav","fileName":"Outbound call.wav",` +
		`"participants":["agent1",{"name":"Jane Caller","address":"+15550100"}],"workgroups":["Support"],` +
		`"attributes":{"Case":"42","Outcome":"refund"},"tags":["VIP","escalated"]}` + "\n"
	lock, err := datadir.TryLock(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	defer lock.Release()
	if sum, err := e.archive.Import(e.t.Context(), strings.NewReader(line), archive.ImportOptions{Dir: dir}, nil); err != nil || sum.Imported != 1 {
		e.t.Fatalf("import: %+v %v", sum, err)
	}
}

// TestGoldenRecordings pins every representation of the recordings calls:
// their answers, and their errors, status and headers included.
func TestGoldenRecordings(t *testing.T) {
	e := newEnv(t)
	e.seedRecordings()
	e.seedFullRecording()
	admin, agent2 := e.login("admin"), e.login("agent2")
	const absent = "0DE0C017-CD4F-D013-8E31-18D8B7479999"
	scrub := map[string]string{admin.id: "SESSIONID", agent2.id: "SESSIONID2"}
	c := e.client(false)
	for _, tc := range []struct {
		name, method, path, body string
		s                        session
	}{
		{"media_details_full", "GET", recPath(admin, fullID, "media-details"), "", admin},
		{"media_details_404", "GET", recPath(admin, absent, "media-details"), "", admin},
		{"media_details_403", "GET", recPath(agent2, fullID, "media-details"), "", agent2},
		{"attributes_200", "GET", recPath(admin, fullID, "attributes"), "", admin},
		{"attributes_put_204", "PUT", recPath(admin, fullID, "attributes"), `{"attributesValues":[{"attributeName":"case","attributeValue":"43"}]}`, admin},
		{"attributes_put_400", "PUT", recPath(admin, fullID, "attributes"), `{"attributesValues":[{"attributeName":"Case"}]}`, admin},
		{"attributes_delete_204", "DELETE", recPath(admin, fullID, "attributes?attributeName=Outcome"), "", admin},
		{"attributes_delete_400", "DELETE", recPath(admin, fullID, "attributes"), "", admin},
		{"tags_200", "GET", recPath(admin, fullID, "tags"), "", admin},
		{"tags_empty_200", "GET", recPath(admin, chatID, "tags"), "", admin},
		{"tags_put_204", "PUT", recPath(admin, fullID, "tags"), `{"tags":["vip","Legal"]}`, admin},
		{"tags_put_400", "PUT", recPath(admin, fullID, "tags"), `{"tags":"vip"}`, admin},
		{"tags_delete_204", "DELETE", recPath(admin, fullID, "tags?tag=ESCALATED"), "", admin},
		{"retention_expiration_204", "POST", recPath(admin, fullID, "retention-expiration"), `{"expirationDate":"20320101T000000Z"}`, admin},
		{"retention_expiration_400_past", "POST", recPath(admin, fullID, "retention-expiration"), `{"expirationDate":"20000101T000000Z"}`, admin},
		{"retention_expiration_404", "POST", recPath(admin, absent, "retention-expiration"), ``, admin},
		{"send_as_email_410", "PUT", recPath(admin, fullID, "send-as-email"), emailBody, admin},
		{"station_audio_400", "POST", "/icws/" + admin.id + "/recordings/play/station-audio/start/" + fullID, "", admin},
		// After the edits above: the attribute replaced and one deleted,
		// the tags added ignoring case and one deleted, the new date.
		{"media_details_after_edits", "GET", recPath(admin, fullID, "media-details"), "", admin},
		{"attributes_after_edits_200", "GET", recPath(admin, fullID, "attributes"), "", admin},
		{"tags_after_edits_200", "GET", recPath(admin, fullID, "tags"), "", admin},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(c, tc.method, tc.path, tc.body, tc.s.headers())
			goldenResponse(t, tc.name, resp, body, scrub)
		})
	}
	// The body of a 204 is empty whatever the call.
	resp, body := e.do(c, "PUT", recPath(admin, fullID, "tags"), `{"tags":["x"]}`, admin.headers())
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 || resp.Header.Get("Content-Type") != "" {
		t.Errorf("204: %s, Content-Type %q, %d body bytes", resp.Status, resp.Header.Get("Content-Type"), len(body))
	}
}
