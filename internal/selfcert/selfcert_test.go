package selfcert_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/selfcert"
)

var (
	hosts = []string{"localhost", "127.0.0.1", "::1", "recorder.example.com"}
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func mustCreate(t *testing.T, dir string, now time.Time) (tls.Certificate, selfcert.Info) {
	t.Helper()
	cert, info, err := selfcert.LoadOrCreate(dir, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	return cert, info
}

func readFiles(t *testing.T, dir string) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, err := os.ReadFile(filepath.Join(dir, selfcert.CertFile))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = os.ReadFile(filepath.Join(dir, selfcert.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "tls")
	cert, info := mustCreate(t, dir, t0)
	if !info.Created {
		t.Error("first call: Created = false")
	}
	if len(info.MissingHosts) != 0 {
		t.Errorf("MissingHosts = %q, want none", info.MissingHosts)
	}

	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o700 {
		t.Errorf("dir mode = %v, want 0700", got)
	}
	fi, err = os.Stat(filepath.Join(dir, selfcert.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("key mode = %v, want 0600", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("dir holds %d entries, want 2 (temporary files left behind?)", len(entries))
	}

	leaf := cert.Leaf
	if leaf == nil {
		t.Fatal("Leaf is nil")
	}
	if got, want := info.Fingerprint, selfcert.Fingerprint(leaf.Raw); got != want {
		t.Errorf("Fingerprint = %s, want %s", got, want)
	}
	if got, want := info.NotAfter, leaf.NotAfter; !got.Equal(want) {
		t.Errorf("NotAfter = %v, want %v", got, want)
	}
	if got, want := leaf.NotAfter.Sub(leaf.NotBefore), 825*24*time.Hour; got != want {
		t.Errorf("validity = %v, want %v", got, want)
	}
	if !leaf.NotBefore.Before(t0) || t0.Sub(leaf.NotBefore) > 10*time.Minute {
		t.Errorf("NotBefore = %v, want a few minutes before %v", leaf.NotBefore, t0)
	}
	if leaf.IsCA || !leaf.BasicConstraintsValid {
		t.Errorf("IsCA = %v, BasicConstraintsValid = %v; want false, true", leaf.IsCA, leaf.BasicConstraintsValid)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("KeyUsage = %v, want DigitalSignature only", leaf.KeyUsage)
	}
	if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("ExtKeyUsage = %v, want ServerAuth", leaf.ExtKeyUsage)
	}
	if leaf.PublicKeyAlgorithm != x509.ECDSA || leaf.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("key %v, signature %v; want ECDSA P-256 with SHA-256", leaf.PublicKeyAlgorithm, leaf.SignatureAlgorithm)
	}
	if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() > 128 {
		t.Errorf("serial %v is not a positive 128-bit number", leaf.SerialNumber)
	}

	// SANs: names as DNS, addresses as IP.
	if want := []string{"localhost", "recorder.example.com"}; !slices.Equal(leaf.DNSNames, want) {
		t.Errorf("DNSNames = %q, want %q", leaf.DNSNames, want)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"127.0.0.1", "::1"}; !slices.Equal(ips, want) {
		t.Errorf("IPAddresses = %q, want %q", ips, want)
	}
	for _, h := range hosts {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("VerifyHostname(%q): %v", h, err)
		}
	}

	t.Run("Reuse", func(t *testing.T) {
		certPEM, keyPEM := readFiles(t, dir)
		cert2, info2 := mustCreate(t, dir, t0.Add(400*24*time.Hour))
		if info2.Created {
			t.Error("Created = true, want false")
		}
		if info2.Fingerprint != info.Fingerprint {
			t.Errorf("Fingerprint = %s, want %s", info2.Fingerprint, info.Fingerprint)
		}
		if !bytes.Equal(cert2.Certificate[0], cert.Certificate[0]) {
			t.Error("certificate changed")
		}
		c, k := readFiles(t, dir)
		if !bytes.Equal(c, certPEM) || !bytes.Equal(k, keyPEM) {
			t.Error("files were rewritten")
		}
	})

	t.Run("MissingHosts", func(t *testing.T) {
		_, info2, err := selfcert.LoadOrCreate(dir, []string{"localhost", "renamed-host", "10.0.0.7"}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if info2.Created || info2.Fingerprint != info.Fingerprint {
			t.Error("certificate replaced for a new host name; want it kept")
		}
		if want := []string{"renamed-host", "10.0.0.7"}; !slices.Equal(info2.MissingHosts, want) {
			t.Errorf("MissingHosts = %q, want %q", info2.MissingHosts, want)
		}
	})
}

func TestRenewal(t *testing.T) {
	// NotAfter is t0 - 5m + 825d, so it is renewed from about 30 days before.
	notAfter := t0.Add(825*24*time.Hour - 5*time.Minute)
	tests := []struct {
		name  string
		now   time.Time
		renew bool
	}{
		{"31DaysLeft", notAfter.Add(-31 * 24 * time.Hour), false},
		{"29DaysLeft", notAfter.Add(-29 * 24 * time.Hour), true},
		{"Expired", notAfter.Add(time.Second), true},
		{"LongExpired", t0.AddDate(10, 0, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, old := mustCreate(t, dir, t0)
			cert, info := mustCreate(t, dir, tt.now)
			if info.Created != tt.renew {
				t.Fatalf("Created = %v, want %v", info.Created, tt.renew)
			}
			if !tt.renew {
				if info.Fingerprint != old.Fingerprint {
					t.Fatal("certificate replaced")
				}
				return
			}
			if info.Fingerprint == old.Fingerprint {
				t.Fatal("renewed certificate has the old fingerprint")
			}
			if !info.NotAfter.After(tt.now.Add(800 * 24 * time.Hour)) {
				t.Errorf("renewed NotAfter = %v, want about 825 days after %v", info.NotAfter, tt.now)
			}
			// The files hold the new pair, and the next start keeps it.
			_, again := mustCreate(t, dir, tt.now)
			if again.Created || again.Fingerprint != info.Fingerprint {
				t.Errorf("after renewal: Created = %v, Fingerprint %s; want false, %s", again.Created, again.Fingerprint, info.Fingerprint)
			}
			if selfcert.Fingerprint(cert.Certificate[0]) != info.Fingerprint {
				t.Error("returned certificate does not match Info")
			}
		})
	}
}

// Broken state must never be "repaired" by overwriting: the operator may
// have put files there, and clients may have pinned the certificate.
func TestLoadOrCreateBroken(t *testing.T) {
	garbage := []byte("this is not PEM\n")
	tests := []struct {
		name   string
		damage func(t *testing.T, dir string)
		file   string // the file the error must name
		want   string // and a phrase it must contain
	}{
		{"CorruptCert", func(t *testing.T, dir string) { write(t, dir, selfcert.CertFile, garbage) }, selfcert.CertFile, "no PEM CERTIFICATE block"},
		{"TruncatedCert", func(t *testing.T, dir string) {
			c, _ := readFiles(t, dir)
			write(t, dir, selfcert.CertFile, c[:len(c)/2])
		}, selfcert.CertFile, "no PEM CERTIFICATE block"},
		{"BadDER", func(t *testing.T, dir string) {
			write(t, dir, selfcert.CertFile, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
		}, selfcert.CertFile, "certificate 1"},
		{"CorruptKey", func(t *testing.T, dir string) { write(t, dir, selfcert.KeyFile, garbage) }, selfcert.KeyFile, "no PEM private key"},
		{"MismatchedKey", func(t *testing.T, dir string) {
			other := t.TempDir()
			mustCreate(t, other, t0)
			_, k := readFiles(t, other)
			write(t, dir, selfcert.KeyFile, k)
		}, selfcert.KeyFile, "does not belong"},
		{"Swapped", func(t *testing.T, dir string) {
			c, k := readFiles(t, dir)
			write(t, dir, selfcert.CertFile, k)
			write(t, dir, selfcert.KeyFile, c)
		}, selfcert.CertFile, "swapped"},
		{"KeyMissing", func(t *testing.T, dir string) { remove(t, dir, selfcert.KeyFile) }, selfcert.KeyFile, "does not;"},
		{"CertMissing", func(t *testing.T, dir string) { remove(t, dir, selfcert.CertFile) }, selfcert.CertFile, "does not;"},
		{"CertIsDir", func(t *testing.T, dir string) {
			remove(t, dir, selfcert.CertFile)
			if err := os.Mkdir(filepath.Join(dir, selfcert.CertFile), 0o700); err != nil {
				t.Fatal(err)
			}
		}, selfcert.CertFile, "directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustCreate(t, dir, t0)
			tt.damage(t, dir)
			before := snapshot(t, dir)

			// Far in the future too: an expiring certificate is renewed
			// only if the pair on disk is sound.
			for _, now := range []time.Time{t0, t0.AddDate(5, 0, 0)} {
				_, _, err := selfcert.LoadOrCreate(dir, hosts, now)
				if err == nil {
					t.Fatal("LoadOrCreate succeeded, want an error")
				}
				msg := err.Error()
				if !strings.Contains(msg, filepath.Join(dir, tt.file)) || !strings.Contains(msg, tt.want) {
					t.Errorf("error %q, want it to name %s and say %q", msg, tt.file, tt.want)
				}
				if !strings.Contains(msg, "; delete ") {
					t.Errorf("error %q does not tell the operator what to delete", msg)
				}
			}
			if after := snapshot(t, dir); !maps.Equal(before, after) {
				t.Errorf("files changed:\nbefore %q\nafter  %q", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
			}
		})
	}
}

func TestLoadOrCreateBadHosts(t *testing.T) {
	for _, hs := range [][]string{nil, {"localhost", ""}, {"host:8443"}, {"fe80::1%eth0"}, {"has space"}, {"-bad.example"}, {"[::1]"}} {
		dir := filepath.Join(t.TempDir(), "tls")
		if _, _, err := selfcert.LoadOrCreate(dir, hs, t0); err == nil {
			t.Errorf("hosts %q: no error", hs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("hosts %q: directory created despite the error", hs)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	_, info := mustCreate(t, dir, t0)
	certFile, keyFile := filepath.Join(dir, selfcert.CertFile), filepath.Join(dir, selfcert.KeyFile)

	cert, got, err := selfcert.Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if got.Created || got.Fingerprint != info.Fingerprint || !got.NotAfter.Equal(info.NotAfter) {
		t.Errorf("Info = %+v, want %+v without Created", got, info)
	}
	if cert.Leaf == nil || len(cert.Certificate) != 1 || cert.PrivateKey == nil {
		t.Errorf("incomplete certificate: %d DER, Leaf %v, key %T", len(cert.Certificate), cert.Leaf != nil, cert.PrivateKey)
	}

	// A combined file (key and certificate in one) works as either argument.
	c, k := readFiles(t, dir)
	combined := filepath.Join(t.TempDir(), "combined.pem")
	if err := os.WriteFile(combined, append(c, k...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := selfcert.Load(certFile, combined); err != nil {
		t.Errorf("key from combined file: %v", err)
	}

	missing := filepath.Join(dir, "nope.pem")
	for _, tt := range []struct{ cert, key, name string }{
		{missing, keyFile, missing},
		{certFile, missing, missing},
	} {
		_, _, err := selfcert.Load(tt.cert, tt.key)
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("Load(%s, %s) = %v, want an error naming %s", tt.cert, tt.key, err, tt.name)
		}
	}

	encrypted := filepath.Join(t.TempDir(), "enc.pem")
	write(t, filepath.Dir(encrypted), "enc.pem", []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	if _, _, err := selfcert.Load(certFile, encrypted); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Errorf("encrypted key: err = %v, want one saying it is encrypted", err)
	}
}

func TestFingerprint(t *testing.T) {
	// SHA-256 of the empty string.
	const want = "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"
	if got := selfcert.Fingerprint(nil); got != want {
		t.Errorf("Fingerprint(nil) = %s, want %s", got, want)
	}
	dir := t.TempDir()
	_, info := mustCreate(t, dir, t0)
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(info.Fingerprint) {
		t.Errorf("Fingerprint = %q, want 32 colon-separated upper-case hex bytes", info.Fingerprint)
	}
}

// TestHandshake serves TLS with the certificate and connects with a client
// that trusts nothing but it, by name and by address.
func TestHandshake(t *testing.T) {
	cert, _, err := selfcert.LoadOrCreate(t.TempDir(), hosts, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over TLS")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failures below are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	get := func(serverName string) error {
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: serverName}}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := c.Get("https://" + net.JoinHostPort("127.0.0.1", port) + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if string(body) != "hello over TLS" {
			t.Errorf("body = %q", body)
		}
		return nil
	}
	for _, name := range []string{"localhost", "127.0.0.1", ""} { // "" means the URL's host, 127.0.0.1
		if err := get(name); err != nil {
			t.Errorf("ServerName %q: %v", name, err)
		}
	}
	// And the client really checks: a name not in the certificate fails.
	if err := get("elsewhere.example.com"); err == nil {
		t.Error("ServerName elsewhere.example.com: handshake succeeded, want a verification error")
	}

	// A client that does not trust the certificate fails too.
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}, Timeout: 10 * time.Second}
	if resp, err := c.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Error("untrusting client connected")
	}
}

func write(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// snapshot returns the names and contents of the entries in dir.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string)
	for _, e := range entries {
		if e.IsDir() {
			m[e.Name()] = "<dir>"
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}
