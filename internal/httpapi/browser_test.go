package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"example.com/icrec/internal/httpapi"
)

// chromium returns the browser the browser tests drive, or skips them.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ICREC_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ICREC_TEST_REQUIRE_BROWSER") != "" {
		t.Fatal("ICREC_TEST_REQUIRE_BROWSER is set but no Chromium was found")
	}
	t.Skip("browser tests need Chromium: apt-get install chromium, or set ICREC_TEST_CHROMIUM to a Chrome binary (.ci/run installs it)")
	return ""
}

// browserClient is what a browser ICWS client does from a page on another
// origin: log in with fetch, read the exposed session headers, call the
// session with the cookie and CSRF token, open an EventSource with
// credentials, log out, and see the stream's last message.
const browserClient = `
(async () => {
  const out = {};
  try {
  const api = window.API;
  let r = await fetch(api + "/icws/connection?include=features", {
    method: "POST", credentials: "include",
    headers: {"Content-Type": "application/vnd.inin.icws+JSON;charset=UTF-8", "Accept-Language": "en-us"},
    body: JSON.stringify({applicationName: "browser test", userID: "agent1", password: window.PASSWORD,
                          __type: "urn:inin.com:connection:icAuthConnectionRequestSettings"}),
  });
  out.loginStatus = r.status;
  out.sessionHeader = r.headers.get("ININ-ICWS-Session-ID");
  out.csrfHeader = r.headers.get("ININ-ICWS-CSRF-Token");
  out.location = r.headers.get("Location");
  out.contentType = r.headers.get("Content-Type");
  const login = await r.json();
  out.sessionId = login.sessionId;
  const csrf = {"ININ-ICWS-CSRF-Token": out.csrfHeader};
  const base = api + "/icws/" + login.sessionId;

  r = await fetch(base + "/connection", {credentials: "include", headers: csrf});
  out.stateStatus = r.status;
  out.state = await r.json();

  // The stream's goodbye can arrive before the logout's own answer.
  let logout = null;
  out.message = await new Promise((resolve, reject) => {
    const es = new EventSource(base + "/messaging/messages", {withCredentials: true});
    const timer = setTimeout(() => reject("no message on the event stream"), 10000);
    es.onopen = () => {
      logout = fetch(base + "/connection", {method: "DELETE", credentials: "include", headers: csrf})
        .then((d) => { out.logoutStatus = d.status; });
    };
    es.onmessage = (e) => { clearTimeout(timer); es.close(); resolve(JSON.parse(e.data)); };
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) { clearTimeout(timer); reject("the event stream failed"); } };
  });

  await logout;
  r = await fetch(base + "/connection", {credentials: "include", headers: csrf});
  out.afterStatus = r.status;
  out.afterError = (await r.json()).errorId;
  } catch (e) { out.error = String(e); }
  return JSON.stringify(out);
})()
`

func TestBrowserClient(t *testing.T) {
	browser := chromium(t)
	for _, tc := range []struct {
		name     string
		tls      bool
		pageHost string // the page's host: same site as the API or not
	}{
		// A page on another port of the same host: cross-origin, same
		// site, so the plain-HTTP cookie (SameSite unset) is sent.
		{"HTTPSameSite", false, "127.0.0.1"},
		// A page on another site calling the API over HTTPS, where the
		// cookie is Secure and SameSite=None.
		{"HTTPSCrossSite", true, "localhost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<!doctype html><title>icrec browser test</title>"))
			}))
			defer page.Close()
			pageURL := strings.Replace(page.URL, "127.0.0.1", tc.pageHost, 1)

			opts := []option{withConfig(func(c *httpapi.Config) { c.CORSOrigins = []string{pageURL} })}
			if tc.tls {
				opts = append(opts, withTLS())
			}
			e := newEnv(t, opts...)

			allocCtx, cancel := chromedp.NewExecAllocator(t.Context(),
				chromedp.ExecPath(browser),
				chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
				chromedp.UserDataDir(t.TempDir()),
				chromedp.Flag("disable-background-networking", true),
				chromedp.Flag("disable-component-update", true),
				chromedp.Flag("disable-sync", true),
				chromedp.Flag("disable-quic", true),
				chromedp.Flag("ignore-certificate-errors", true), // the test server's certificate
			)
			defer cancel()
			ctx, cancel := chromedp.NewContext(allocCtx)
			defer cancel()
			ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
			defer cancel()

			err := chromedp.Do(ctx,
				chromedp.Navigate(pageURL),
				chromedp.Evaluate[chromedp.Void](`window.API = `+jsString(e.srv.URL)+`; window.PASSWORD = `+jsString(testPassword)),
			)
			if err != nil {
				t.Fatalf("browser: %v", err)
			}
			raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](browserClient, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatalf("browser: %v", err)
			}
			var out struct {
				LoginStatus, StateStatus, LogoutStatus, AfterStatus int
				SessionHeader, CSRFHeader, Location, ContentType    string
				SessionID, AfterError, Error                        string
				State                                               map[string]any
				Message                                             map[string]any
			}
			if err := json.Unmarshal([]byte(raw), &out); err != nil {
				t.Fatalf("result %q: %v", raw, err)
			}
			if out.Error != "" {
				t.Errorf("the page's client failed: %s", raw)
			}
			if out.LoginStatus != 201 || out.SessionHeader != out.SessionID || out.CSRFHeader == "" || out.Location != "/icws/"+out.SessionID+"/connection" {
				t.Errorf("login as the page saw it: %s", raw)
			}
			if !strings.HasPrefix(out.ContentType, "application/vnd.inin.icws+json") {
				t.Errorf("Content-Type %q", out.ContentType)
			}
			if out.StateStatus != 200 || out.State["connectionState"] != 1.0 {
				t.Errorf("session call with the browser's cookie: %s", raw)
			}
			if out.LogoutStatus != 204 || out.Message["__type"] != "urn:inin.com:connection:connectionStateChangeMessage" || out.Message["newConnectionState"] != 2.0 {
				t.Errorf("event stream: %s", raw)
			}
			if out.AfterStatus != 401 || out.AfterError != "error.request.connection.authenticationFailure" {
				t.Errorf("after logout: %s", raw)
			}
		})
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
