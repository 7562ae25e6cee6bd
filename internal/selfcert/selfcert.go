// Package selfcert provides the TLS certificate of icrec serve: either one the
// operator supplies (Load), or a self-signed one that icrec creates on first
// start and keeps in its state directory (LoadOrCreate), so that a fresh
// install speaks HTTPS with no setup. Clients then trust the self-signed
// certificate by its fingerprint, so LoadOrCreate keeps the same certificate
// across restarts and replaces it only when it is about to expire.
package selfcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Names of the files LoadOrCreate keeps in its directory.
const (
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
)

const (
	// validity is the longest lifetime Apple platforms accept for a TLS
	// server certificate; longer ones are rejected even when trusted.
	validity = 825 * 24 * time.Hour
	// skew backdates NotBefore so that a client whose clock is slightly
	// behind the server's still accepts a certificate made seconds ago.
	skew = 5 * time.Minute
	// renewBefore leaves operators a month to re-trust a renewed
	// certificate before the old one stops working.
	renewBefore = 30 * 24 * time.Hour
)

// Info describes a loaded certificate, for the server to log at start.
type Info struct {
	// Fingerprint is the SHA-256 fingerprint of the leaf certificate, as
	// Fingerprint formats it; users compare it with what the browser shows.
	Fingerprint string
	NotAfter    time.Time
	// Created is true when LoadOrCreate made a new certificate, on first
	// start or because the old one was about to expire.
	Created bool
	// MissingHosts lists the hosts passed to LoadOrCreate that the
	// certificate does not cover, for example after the machine was
	// renamed. LoadOrCreate does not replace a certificate for this, since
	// clients may have pinned it; the caller should warn.
	MissingHosts []string
}

// LoadOrCreate returns the self-signed certificate kept in dir (as CertFile
// and KeyFile), creating dir (mode 0700) and the certificate if there is none.
// A new certificate covers hosts: IP addresses become IP SANs, anything else
// a DNS SAN. If the certificate expires within 30 days of now, it is replaced
// by a new one; that is the only case in which LoadOrCreate replaces a file.
// If only one of the files exists, or either cannot be read or parsed, or the
// key does not belong to the certificate, LoadOrCreate returns an error that
// names the file and leaves both files alone.
func LoadOrCreate(dir string, hosts []string, now time.Time) (tls.Certificate, Info, error) {
	dnsNames, ips, err := splitHosts(hosts)
	if err != nil {
		return tls.Certificate{}, Info{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: %w", err)
	}
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	haveCert, err := exists(certPath)
	if err != nil {
		return tls.Certificate{}, Info{}, err
	}
	haveKey, err := exists(keyPath)
	if err != nil {
		return tls.Certificate{}, Info{}, err
	}
	deleteBoth := fmt.Sprintf("delete both %s and %s to have a new self-signed certificate created", certPath, keyPath)
	switch {
	case haveCert && haveKey:
		cert, info, err := Load(certPath, keyPath)
		if err != nil {
			return tls.Certificate{}, Info{}, fmt.Errorf("%w; %s", err, deleteBoth)
		}
		if now.Before(info.NotAfter.Add(-renewBefore)) {
			for _, h := range hosts {
				if cert.Leaf.VerifyHostname(h) != nil {
					info.MissingHosts = append(info.MissingHosts, h)
				}
			}
			return cert, info, nil
		}
	case haveCert != haveKey:
		// A crash between the two renames of the first creation leaves
		// only the key; otherwise a file was removed by hand. Either way
		// the pair is gone, and guessing which half to trust is not ours.
		present, absent := certPath, keyPath
		if haveKey {
			present, absent = keyPath, certPath
		}
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: %s exists but %s does not; delete %s to have a new self-signed certificate created", present, absent, present)
	}
	return create(dir, certPath, keyPath, dnsNames, ips, now)
}

// splitHosts sorts hosts into DNS names and IP addresses, dropping
// duplicates. It rejects what cannot be a SAN, such as "host:8443", so that
// a configuration mistake shows at start rather than as a TLS error.
func splitHosts(hosts []string) (dnsNames []string, ips []net.IP, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("selfcert: no host names or addresses for the certificate")
	}
	var addrs []netip.Addr
	for _, h := range hosts {
		if a, err := netip.ParseAddr(h); err == nil {
			if a.Zone() != "" {
				return nil, nil, fmt.Errorf("selfcert: host %q: an address with a zone cannot be in a certificate", h)
			}
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
				ips = append(ips, net.IP(a.AsSlice()))
			}
			continue
		}
		if !validDNSName(h) {
			return nil, nil, fmt.Errorf("selfcert: host %q is neither an IP address nor a DNS name", h)
		}
		if !slices.ContainsFunc(dnsNames, func(n string) bool { return strings.EqualFold(n, h) }) {
			dnsNames = append(dnsNames, h)
		}
	}
	return dnsNames, ips, nil
}

// validDNSName accepts host names as machines are actually named, which
// includes underscores, and a leading "*." wildcard.
func validDNSName(name string) bool {
	name = strings.TrimPrefix(name, "*.")
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			switch {
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			default:
				return false
			}
		}
	}
	return true
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("selfcert: %w", err)
	}
}

func create(dir, certPath, keyPath string, dnsNames []string, ips []net.IP, now time.Time) (tls.Certificate, Info, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: generate key: %w", err)
	}
	// Browsers refuse a certificate whose issuer and serial repeat one they
	// have seen with another key, which a counter would do after a
	// reinstall; 128 random bits never repeat. RFC 5280 wants it positive,
	// hence a draw from [0, 2^128-1) plus one.
	limit := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	serial, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: generate serial: %w", err)
	}
	serial.Add(serial, big.NewInt(1))
	// Certificates store whole seconds; truncating keeps Info.NotAfter
	// equal to what Load later reads back.
	notBefore := now.Add(-skew).Truncate(time.Second).UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "icrec self-signed certificate"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: encode key: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: parse new certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := writePair(dir, certPath, certPEM, keyPath, keyPEM); err != nil {
		return tls.Certificate{}, Info{}, err
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return cert, Info{Fingerprint: Fingerprint(der), NotAfter: leaf.NotAfter, Created: true}, nil
}

// writePair replaces both files atomically. Both temporary files are written
// and synced before either is renamed, so that a crash can leave a mismatched
// pair only in the instant between the two renames.
func writePair(dir, certPath string, certPEM []byte, keyPath string, keyPEM []byte) error {
	keyTmp, err := writeTemp(dir, KeyFile, keyPEM, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(keyTmp) // fails harmlessly once renamed
	certTmp, err := writeTemp(dir, CertFile, certPEM, 0o644)
	if err != nil {
		return err
	}
	defer os.Remove(certTmp)
	if err := os.Rename(keyTmp, keyPath); err != nil {
		return fmt.Errorf("selfcert: %w", err)
	}
	if err := os.Rename(certTmp, certPath); err != nil {
		return fmt.Errorf("selfcert: %w", err)
	}
	return syncDir(dir)
}

func writeTemp(dir, name string, data []byte, mode os.FileMode) (path string, err error) {
	// CreateTemp makes the file 0600, so the key is never readable by
	// others, not even before the Chmod.
	f, err := os.CreateTemp(dir, "."+name+".tmp*")
	if err != nil {
		return "", fmt.Errorf("selfcert: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(mode); err != nil {
		return "", fmt.Errorf("selfcert: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return "", fmt.Errorf("selfcert: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("selfcert: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("selfcert: %w", err)
	}
	return f.Name(), nil
}

// syncDir makes the renames durable, so that after a power loss the files
// are either the old or the new ones, not missing.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("selfcert: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("selfcert: sync %s: %w", dir, err)
	}
	return nil
}

// Load reads a PEM certificate (optionally followed by its chain) and its PEM
// private key, as an operator supplies them. Errors name the file and what is
// wrong with it. Load does not check expiry; compare Info.NotAfter with the
// time to warn.
func Load(certFile, keyFile string) (tls.Certificate, Info, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: read certificate: %w", err)
	}
	chain, err := parseCerts(certPEM)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: %s: %w", certFile, err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: read private key: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: %s: %w", keyFile, err)
	}
	leaf := chain[0]
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return tls.Certificate{}, Info{}, fmt.Errorf("selfcert: the private key in %s does not belong to the certificate in %s", keyFile, certFile)
	}
	cert := tls.Certificate{PrivateKey: key, Leaf: leaf}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, Info{Fingerprint: Fingerprint(leaf.Raw), NotAfter: leaf.NotAfter}, nil
}

// parseCerts returns the certificates in data, leaf first.
func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate %d: %w", len(certs)+1, err)
			}
			certs = append(certs, c)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			// Say so plainly: swapped file names are a common mistake,
			// and the key must not be served from a certificate path.
			return nil, errors.New("contains a private key, not a certificate (are the certificate and key files swapped?)")
		}
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block found")
	}
	return certs, nil
}

// parseKey returns the first private key in data. TLS needs a crypto.Signer
// of a kind it can use, so anything else is rejected here by name rather
// than in the middle of a handshake.
func parseKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM private key block found")
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED" {
			return nil, errors.New("private key is encrypted; supply it decrypted, readable only by the server's user")
		}
		var (
			k   any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		default:
			continue // a combined file may hold the certificate too
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Type, err)
		}
		switch k := k.(type) {
		case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
			return k.(crypto.Signer), nil
		default:
			return nil, fmt.Errorf("unsupported private key type %T", k)
		}
	}
}

// Fingerprint returns the SHA-256 of der as upper-case hex bytes separated
// by colons, the form browsers and openssl x509 -fingerprint show, so users
// can compare it by eye.
func Fingerprint(der []byte) string {
	const digits = "0123456789ABCDEF"
	sum := sha256.Sum256(der)
	b := make([]byte, 0, 3*len(sum)-1)
	for i, c := range sum {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return string(b)
}
