package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"syscall"

	"example.com/icrec"
)

// errorf builds an error whose message names the server, as an operator
// needs it; cause goes in Err, for the log.
func (s *Sender) errorf(kind icrec.Kind, cause error, format string, args ...any) *icrec.Error {
	return &icrec.Error{Kind: kind, Message: "mail: " + fmt.Sprintf(format, args...), Err: cause}
}

// fail translates a failure during step of the SMTP session. The rules, in
// order: the caller's cancellation and timeouts; the server's replies, by
// code and step; then network and TLS failures, which are Unavailable; and
// anything else is Internal.
func (s *Sender) fail(ctx context.Context, step string, err error) error {
	addr := s.cfg.addr()
	if ctxErr := ctx.Err(); errors.Is(ctxErr, context.Canceled) {
		return s.errorf(icrec.Unavailable, fmt.Errorf("%w: %w", ctxErr, err), "sending mail through %s was cancelled during %s", addr, step)
	}
	if te, ok := errors.AsType[*textproto.Error](err); ok {
		return s.replyError(step, te)
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		hint := ""
		if step == stepGreeting && s.cfg.TLSMode != ImplicitTLS {
			hint = "; if that port expects TLS from the start (such as 465), use smtps://"
		}
		return s.errorf(icrec.Unavailable, err, "the mail server %s did not respond in time during %s (the mail timeout is %v)%s", addr, step, s.cfg.timeout(), hint)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return s.errorf(icrec.Unavailable, err, "the mail server %s refused the connection: check that it is running and that the host and port are right", addr)
	}
	if de, ok := errors.AsType[*net.DNSError](err); ok {
		if de.IsNotFound {
			return s.errorf(icrec.Unavailable, err, "the mail server host %q does not exist: check the host in the mail settings", s.cfg.Host)
		}
		return s.errorf(icrec.Unavailable, err, "could not look up the mail server host %q", s.cfg.Host)
	}
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok && step == stepTLS {
		return s.errorf(icrec.Unavailable, err, "the mail server %s did not answer in TLS: if that port uses STARTTLS (such as 587), use smtp://", addr)
	}
	if isCertError(err) || step == stepTLS || step == stepStartTLS {
		return s.errorf(icrec.Unavailable, err, "the TLS handshake with the mail server %s failed: check that its certificate is valid for %q and trusted by this host", addr, s.cfg.Host)
	}
	if step == stepConnect {
		return s.errorf(icrec.Unavailable, err, "could not connect to the mail server %s", addr)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return s.errorf(icrec.Unavailable, err, "the mail server %s closed the connection during %s", addr, step)
	}
	return s.errorf(icrec.Internal, err, "sending mail through %s failed during %s", addr, step)
}

func isCertError(err error) bool {
	_, a := errors.AsType[*tls.CertificateVerificationError](err)
	_, b := errors.AsType[x509.UnknownAuthorityError](err)
	_, c := errors.AsType[x509.HostnameError](err)
	_, d := errors.AsType[x509.CertificateInvalidError](err)
	return a || b || c || d
}

// replyError translates an SMTP reply other than the one expected. Replies
// to RCPT TO are handled by rcpt, which sees them all at once. The reply is
// in the message, so it is not repeated as a cause.
func (s *Sender) replyError(step string, te *textproto.Error) *icrec.Error {
	addr, r := s.cfg.addr(), s.reply(te)
	switch {
	case te.Code >= 400 && te.Code < 500:
		return s.errorf(icrec.Unavailable, nil, "the mail server %s answered %s with a temporary failure (%s): try again later", addr, step, r)
	case step == stepAuth:
		return s.errorf(icrec.Internal, nil, "the mail server %s rejected the user name or password of %q (%s): check the credentials in the mail settings", addr, s.cfg.Username, r)
	case te.Code == 552 && (step == stepMail || step == stepDataEnd):
		return s.errorf(icrec.TooLarge, nil, "the message is too large for the mail server %s (%s)", addr, r)
	case step == stepGreeting:
		return s.errorf(icrec.Unavailable, nil, "the mail server %s refused service (%s)", addr, r)
	case step == stepMail && (te.Code == 530 || strings.HasPrefix(te.Msg, "5.7.")):
		return s.errorf(icrec.Internal, nil, "the mail server %s refused the sender %s for policy reasons (%s): it may require a user and password in the mail settings, or not let this user send as that From address", addr, s.from.Address, r)
	case step == stepMail:
		return s.errorf(icrec.Internal, nil, "the mail server %s rejected the sender %s (%s): check From in the mail settings", addr, s.from.Address, r)
	case step == stepDataEnd:
		return s.errorf(icrec.Internal, nil, "the mail server %s rejected the message (%s)", addr, r)
	}
	return s.errorf(icrec.Internal, nil, "the mail server %s answered %s with an error (%s)", addr, step, r)
}

// reply formats a server reply for a message: one line, not too long, and
// with the password removed should a server ever echo it.
func (s *Sender) reply(te *textproto.Error) string {
	msg := strings.Join(strings.Fields(te.Msg), " ")
	if p := string(s.cfg.Password); p != "" {
		plain := base64.StdEncoding.EncodeToString([]byte("\x00" + s.cfg.Username + "\x00" + p))
		msg = strings.NewReplacer(p, "REDACTED", plain, "REDACTED").Replace(msg)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return fmt.Sprintf("%d %s", te.Code, msg)
}

// attachmentError keeps the Kind of an *icrec.Error from the attachment's
// source (a blob that went missing is still NotFound), and makes anything
// else Internal.
func attachmentError(se *sourceError) error {
	msg := fmt.Sprintf("mail: could not read the attachment %q, so the message was not sent", se.name)
	if e, ok := errors.AsType[*icrec.Error](se.err); ok {
		return &icrec.Error{Kind: e.Kind, ID: e.ID, Message: msg, Err: se}
	}
	return &icrec.Error{Kind: icrec.Internal, Message: msg, Err: se}
}
