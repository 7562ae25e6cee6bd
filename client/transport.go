package client

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// userAgent names the client to servers' logs.
const userAgent = "icrec-client/1"

// TLSOptions say which servers the client trusts.
type TLSOptions struct {
	// CAFile is a PEM file of certificates to trust, in addition to the
	// system's: a self-signed server's certificate, or a private CA.
	CAFile string
	// Insecure turns certificate verification off. Anyone on the path can
	// then read the session and the recordings; use it only to reach a
	// test server.
	Insecure bool
	// MaxConnsPerHost bounds connections to one server; default 64. Idle
	// connections are kept for reuse up to the same number.
	MaxConnsPerHost int
}

// NewHTTPClient returns an HTTP client for Config.HTTPClient: TLS 1.2 or
// later with verification on (unless Insecure), keep-alive with as many
// idle connections as the caller runs requests in parallel, no transparent
// decompression (media must arrive byte for byte, with their length), no
// redirects followed, and timeouts on every stage that can hang except the
// body of a download, which may take hours and is bounded by its context.
func NewHTTPClient(o TLSOptions) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: o.Insecure}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		tc.RootCAs = pool
	}
	conns := o.MaxConnsPerHost
	if conns <= 0 {
		conns = 64
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		MaxConnsPerHost:       conns,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport: tr,
		// A 3xx comes back to the caller as an answer: ICWS servers
		// never redirect, and a proxy that does is reported, not obeyed.
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}, nil
}
