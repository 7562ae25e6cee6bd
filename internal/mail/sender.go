package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"example.com/icrec"
)

// Sender sends Messages through one mail server. It is safe for concurrent
// use: each Send has a connection of its own.
type Sender struct {
	cfg  Config
	from *netmail.Address
	helo string
	err  error // from cfg.Validate; every Send returns it
	log  *slog.Logger

	// Now is the clock for the Date header and the logged duration; tests
	// fix it. Set it, if at all, before the first Send.
	Now func() time.Time

	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// New returns a Sender for cfg. Settings that fail cfg.Validate make every
// Send fail with Internal; call Validate first to refuse them at startup.
func New(cfg Config, log *slog.Logger) *Sender {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sender{cfg: cfg, log: log, Now: time.Now, helo: cfg.HELO}
	if s.err = cfg.Validate(); s.err == nil {
		s.from, _ = parseAddress(cfg.From)
	}
	if s.helo == "" {
		s.helo = "localhost"
		if h, err := os.Hostname(); err == nil && isHostname(h) {
			s.helo = h
		}
	}
	var d net.Dialer
	s.dial = d.DialContext
	return s
}

// String keeps fmt from printing the fields, the password among them:
// fmt cannot call Secret's methods on an unexported field.
// Value receivers cover a copied Sender too.
func (s Sender) String() string { return "mail.Sender(" + s.cfg.String() + ")" }

// GoString does for %#v what String does for the other verbs.
func (s Sender) GoString() string { return s.String() }

// Send sends m in one SMTP session, within cfg.Timeout and ctx. It returns
// Invalid for a bad message (before connecting) or a recipient the server
// rejects permanently, TooLarge when the server says the message is over
// its size limit (the caller can then send an export link instead),
// Unavailable when the server cannot be reached or fails for now, and
// Internal otherwise, such as for wrong credentials. An error while reading
// an attachment aborts the session, so that no partial message is
// delivered. Once the server has accepted the message Send returns nil,
// whatever happens to the QUIT after it.
func (s *Sender) Send(ctx context.Context, m *Message) error {
	if s.err != nil {
		return &icrec.Error{Kind: icrec.Internal, Message: "mail: the mail settings are not valid", Err: s.err}
	}
	start := s.Now()
	e, err := compose(m, s.from, s.helo, start)
	if err != nil {
		return err
	}
	n, err := s.deliver(ctx, e)
	attrs := []slog.Attr{
		slog.String("server", s.cfg.addr()),
		slog.String("message_id", e.messageID),
		slog.Int("recipients", len(e.rcpts)),
		slog.Int("attachments", len(e.parts)),
		slog.Int64("bytes", n),
		slog.Duration("duration", s.Now().Sub(start)),
	}
	if err != nil {
		// Unavailable and Invalid errors are not logged by the HTTP layer,
		// yet an operator may need to see them.
		s.log.LogAttrs(ctx, slog.LevelWarn, "mail not sent", append(attrs,
			slog.String("kind", icrec.ErrorKind(err).String()),
			slog.String("error", err.Error()))...)
		return err
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "mail sent", attrs...)
	return nil
}

// SMTP steps, as error messages name them.
const (
	stepConnect  = "connect"
	stepTLS      = "TLS handshake"
	stepGreeting = "greeting"
	stepHello    = "EHLO"
	stepStartTLS = "STARTTLS"
	stepAuth     = "AUTH"
	stepMail     = "MAIL FROM"
	stepRcpt     = "RCPT TO"
	stepData     = "DATA"
	stepDataEnd  = "end of DATA"
)

// deliver runs the SMTP session and returns how many bytes of the message
// it wrote.
func (s *Sender) deliver(ctx context.Context, e *envelope) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeout())
	defer cancel()
	conn, err := s.dial(ctx, "tcp", s.cfg.addr())
	if err != nil {
		return 0, s.fail(ctx, stepConnect, err)
	}
	defer conn.Close()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	// Blocked reads and writes do not watch ctx; a past deadline wakes them
	// when the caller gives up.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsCfg := s.cfg.tlsConfig()
	if s.cfg.TLSMode == ImplicitTLS {
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return 0, s.fail(ctx, stepTLS, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return 0, s.fail(ctx, stepGreeting, err)
	}
	defer c.Close()
	if err := c.Hello(s.helo); err != nil {
		return 0, s.fail(ctx, stepHello, err)
	}
	if s.cfg.TLSMode == StartTLSRequired || s.cfg.TLSMode == StartTLSOpportunistic {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsCfg); err != nil {
				return 0, s.fail(ctx, stepStartTLS, err)
			}
		} else if s.cfg.TLSMode == StartTLSRequired {
			c.Quit()
			return 0, s.errorf(icrec.Unavailable, nil, "the mail server %s does not offer STARTTLS, which the mail settings require: use smtps:// if it speaks TLS on another port, or starttls=none for a relay on this host", s.cfg.addr())
		}
	}
	if s.cfg.Username != "" {
		if err := s.auth(ctx, c); err != nil {
			return 0, err
		}
	}
	if limit := sizeLimit(c); limit > 0 && e.size > limit {
		c.Quit()
		return 0, s.errorf(icrec.TooLarge, nil, "the message is %d bytes, over the %d-byte limit of the mail server %s", e.size, limit, s.cfg.addr())
	}
	if err := c.Mail(s.from.Address); err != nil {
		return 0, s.fail(ctx, stepMail, err)
	}
	if err := s.rcpt(ctx, c, e.rcpts); err != nil {
		c.Quit() // the session is still in step, so end it politely
		return 0, err
	}
	w, err := c.Data()
	if err != nil {
		return 0, s.fail(ctx, stepData, err)
	}
	cw := &countWriter{w: w}
	if err := e.writeTo(cw); err != nil {
		// Returning before w.Close leaves DATA unfinished, and the deferred
		// Close drops the connection, so the server discards what it got.
		if se, ok := errors.AsType[*sourceError](err); ok {
			return cw.n, attachmentError(se)
		}
		return cw.n, s.fail(ctx, stepData, err)
	}
	if err := w.Close(); err != nil {
		return cw.n, s.fail(ctx, stepDataEnd, err)
	}
	// The message is accepted: a failed QUIT must not make the caller send
	// it again.
	if err := c.Quit(); err != nil {
		s.log.LogAttrs(ctx, slog.LevelDebug, "mail: QUIT failed after the message was accepted", slog.String("server", s.cfg.addr()), slog.String("error", err.Error()))
	}
	return cw.n, nil
}

func (s *Sender) auth(ctx context.Context, c *smtp.Client) error {
	// net/smtp's PlainAuth makes the same check, but only after we would
	// have relied on it; keep the rule here where it is visible.
	if _, isTLS := c.TLSConnectionState(); !isTLS && !isLocalhost(s.cfg.Host) {
		return s.errorf(icrec.Unavailable, nil, "the connection to the mail server %s is not encrypted (it did not offer STARTTLS), so the password of %q was not sent: use starttls=required or smtps://", s.cfg.addr(), s.cfg.Username)
	}
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return s.errorf(icrec.Internal, nil, "the mail server %s does not offer AUTH, so it cannot check the user %q: remove the user from the mail settings or enable authentication on the server", s.cfg.addr(), s.cfg.Username)
	}
	if !slices.ContainsFunc(strings.Fields(mechs), func(m string) bool { return strings.EqualFold(m, "PLAIN") }) {
		return s.errorf(icrec.Internal, nil, "the mail server %s offers AUTH %s but not PLAIN, the only mechanism icrec uses", s.cfg.addr(), mechs)
	}
	if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, string(s.cfg.Password), s.cfg.Host)); err != nil {
		return s.fail(ctx, stepAuth, err)
	}
	return nil
}

// rcpt offers every recipient before failing, so that one error names all
// the addresses the server rejects.
func (s *Sender) rcpt(ctx context.Context, c *smtp.Client, rcpts []recipient) error {
	var rejected, deferred []string
	var first *recipient
	for _, r := range rcpts {
		err := c.Rcpt(r.addr)
		if err == nil {
			continue
		}
		te, ok := errors.AsType[*textproto.Error](err)
		if !ok {
			return s.fail(ctx, stepRcpt, err)
		}
		desc := r.addr + " (" + s.reply(te) + ")"
		if te.Code >= 500 {
			if first == nil {
				first = &r
			}
			rejected = append(rejected, desc)
		} else {
			deferred = append(deferred, desc)
		}
	}
	switch {
	case len(rejected) > 0:
		e := s.errorf(icrec.Invalid, nil, "the mail server %s rejected %s", s.cfg.addr(), recipients(rejected))
		e.ID, e.Property = icrec.IDInvalidProperty, first.field
		return e
	case len(deferred) > 0:
		return s.errorf(icrec.Unavailable, nil, "the mail server %s temporarily refused %s; try again later", s.cfg.addr(), recipients(deferred))
	}
	return nil
}

func recipients(descs []string) string {
	if len(descs) == 1 {
		return "the recipient " + descs[0]
	}
	return strconv.Itoa(len(descs)) + " recipients: " + strings.Join(descs, ", ")
}

// sizeLimit is the server's SIZE (RFC 1870) limit, or 0 for none.
func sizeLimit(c *smtp.Client) int64 {
	ok, v := c.Extension("SIZE")
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
