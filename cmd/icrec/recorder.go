package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/datadir"
	"example.com/icrec/internal/mail"
	"example.com/icrec/internal/signedurl"
)

// exportBase is the scheme, host and port that export links start with: the
// public base URL of the scheme that --recorder-https chooses, or else that
// listener's own address, with the host name for a wildcard address so that
// other machines can reach it.
func (r recorderConfig) exportBase(listeners []*listener, serverName string) (string, error) {
	scheme, public, flagName := "https", r.publicHTTPS, "--https"
	if !r.https {
		scheme, public, flagName = "http", r.publicHTTP, "--http"
	}
	if public != "" {
		return strings.TrimRight(public, "/"), nil
	}
	for _, l := range listeners {
		if l.name != scheme {
			continue
		}
		ap, err := netip.ParseAddrPort(l.ln.Addr().String())
		if err != nil {
			return "", fmt.Errorf("the %s listener's address %s: %w", scheme, l.ln.Addr(), err)
		}
		host := ap.Addr().Unmap().String()
		if ap.Addr().IsUnspecified() {
			host = serverName
			if !validHostName(host) {
				host = "localhost"
			}
		}
		return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(int(ap.Port()))), nil
	}
	if !r.export {
		return "", nil // no links are issued
	}
	return "", usagef("serve", "--recorder-https=%v makes export links use %s, but %s is empty: give --public-%s-url, or set --recorder-https=%v",
		r.https, strings.ToUpper(scheme), flagName, scheme, !r.https)
}

// validBaseURL accepts scheme://host[:port][/path] of the given scheme.
func validBaseURL(s, scheme string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return err
	case u.Scheme != scheme:
		return fmt.Errorf("the scheme must be %s", scheme)
	case u.Host == "" || u.User != nil:
		return errors.New("give " + scheme + "://host[:port][/path]")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("a base URL has no query or fragment")
	}
	return nil
}

// openSigner returns the signer of export links: over the keys given by
// --link-keys, or else over the key file in the data directory, created
// with a first key if there is none.
func openSigner(data, spec string, log *slog.Logger) (icrec.LinkSigner, error) {
	if spec != "" {
		ring, err := signedurl.FromSpec(spec)
		if err != nil {
			return nil, usagef("serve", "--link-keys: %v", err)
		}
		return newSigner(ring, log), nil
	}
	path := filepath.Join(data, filepath.FromSlash(datadir.LinkKeysFile))
	_, statErr := os.Stat(path)
	ring, err := signedurl.LoadOrCreate(path, time.Now)
	if err != nil {
		return nil, fmt.Errorf("export link keys: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		log.Info("created an export link signing key", "file", path)
	}
	return newSigner(ring, log), nil
}

func newSigner(ring *signedurl.Keyring, log *slog.Logger) *signedurl.Signer {
	s := signedurl.New(ring, time.Now)
	s.Log = log // a key file that cannot be reread is worth a line
	return s
}

// mailer returns the mail server that send-as-email uses, or nil without
// --smtp-url.
func (r recorderConfig) mailer(log *slog.Logger) (icrec.Mailer, error) {
	if r.smtpURL == "" {
		log.Info("send-as-email is off: no --smtp-url")
		return nil, nil
	}
	cfg, err := mail.ParseURL(r.smtpURL)
	if err != nil {
		return nil, usagef("serve", "--smtp-url: %v", err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, usagef("serve", "--smtp-url: %v", err)
	}
	log.Info("send-as-email", "mail_server", cfg)
	return mail.New(cfg, log).Mailer(), nil
}
