package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"example.com/icrec"
)

// UseMail configures send-as-email. Call it before the Service serves.
func (s *Service) UseMail(e Email) {
	if e.MaxAttach <= 0 {
		e.MaxAttach = DefaultMaxAttach
	}
	s.email = e
}

// SendAsEmail sends recordings by email on behalf of the user of sess, for
// PUT .../send-as-email (one recording) and PUT .../recordings/send-as-email
// (several, in one message). Every recording is checked before anything is
// sent: it must exist (NotFound) and the user must hold CanEmail on it
// (Forbidden). The media go as attachments while they total at most
// MaxAttach bytes; beyond that the message carries an export link to each
// recording instead, valid for the export TTL. The send is audited, one
// event per recording, whether it succeeds or fails.
func (s *Service) SendAsEmail(ctx context.Context, sess *icrec.Session, recordingIDs []string, params Parsed[icrec.Email], clientAddr string) error {
	if s.email.Mailer == nil {
		return icrec.Errorf(icrec.Gone, icrec.IDGone, "Sending recordings by email is not configured on this server: start icrec serve with --smtp-url.")
	}
	var recs []*icrec.Recording
	seen := map[string]bool{}
	var total int64
	for _, id := range recordingIDs {
		r, err := s.authorized(ctx, sess, id, icrec.CanEmail, clientAddr, "send-as-email")
		if err != nil {
			return err
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			recs = append(recs, r)
			total += r.Media.Size
		}
	}
	if params.Err != nil {
		return params.Err
	}
	m := params.Value

	how := "attached"
	var err error
	if total <= s.email.MaxAttach {
		attached := m
		for _, r := range recs {
			attached.Attachments = append(attached.Attachments, s.attachment(ctx, r))
		}
		err = s.email.Mailer.Send(ctx, &attached)
	}
	// A mail server that takes less than MaxAttach says so; links fit.
	if total > s.email.MaxAttach || icrec.IsKind(err, icrec.TooLarge) {
		how = "linked"
		body, lerr := s.linkBody(ctx, sess, recs, total, clientAddr)
		if lerr != nil {
			return lerr
		}
		if m.Body != "" {
			m.Body += "\n\n"
		}
		m.Body += body
		err = s.email.Mailer.Send(ctx, &m)
	}
	detail, _ := json.Marshal(map[string]any{"to": addrs(m.To), "cc": addrs(m.Cc), "media": how, "recordings": len(recs)})
	outcome := "ok"
	if err != nil {
		// The trail keeps the mail server's own words, for the operator.
		outcome = "failed: " + icrec.ErrorMessage(err)
	}
	switch {
	case icrec.IsKind(err, icrec.Unavailable), icrec.IsKind(err, icrec.Upstream),
		how == "linked" && icrec.IsKind(err, icrec.TooLarge):
		// The client hears what happened, not the mail server's address
		// or replies (internals, per the contract); the log has them.
		err = &icrec.Error{Kind: icrec.Upstream, ID: icrec.IDInternal, Err: err,
			Message: "The mail server did not take the message, so nothing was sent; the server's log has its answer under the request id."}
	}
	for _, r := range recs {
		e := &icrec.AuditEvent{Kind: icrec.AuditEmail, UserID: sess.UserID, SessionID: sess.ID, ClientAddr: clientAddr,
			RecordingID: r.ID, Outcome: outcome, Detail: string(detail)}
		if err != nil {
			s.emit(e)
		} else if rerr := s.record(ctx, e); rerr != nil {
			// The mail is gone; say so rather than report a failure the
			// user would retry into a second copy.
			s.log.Error("audit event lost after an email was sent", "recording", r.ID, "err", rerr)
		}
	}
	return err
}

// attachment returns a recording's media as an email attachment, read
// from the blob store as the message is sent.
func (s *Service) attachment(ctx context.Context, r *icrec.Recording) icrec.EmailAttachment {
	return icrec.EmailAttachment{
		FileName:    fileName(r, 0),
		ContentType: r.Media.ContentType,
		Size:        r.Media.Size,
		Open: func() (io.ReadCloser, error) {
			b, err := s.blobs.Open(ctx, r.Media.Key)
			if err != nil {
				return nil, fmt.Errorf("archive: open the media of recording %s (icrec fsck shows the cause): %w", r.ID, asInternal(err))
			}
			return b, nil
		},
	}
}

// linkBody issues an export link to each recording, for an email whose
// recordings are too large to attach.
func (s *Service) linkBody(ctx context.Context, sess *icrec.Session, recs []*icrec.Recording, total int64, clientAddr string) (string, error) {
	if err := s.exportsOn(); err != nil || s.exports.BaseURL == "" {
		return "", icrec.Errorf(icrec.Invalid, icrec.IDInvalidProperty,
			"The recordings are %d bytes, more than the %d bytes an email may carry, and export links, which would carry them instead, are turned off.", total, s.email.MaxAttach)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The recordings are too large to attach (%d bytes). Download them from these links:\n", total)
	for _, r := range recs {
		ex, err := s.issue(ctx, sess, r, 0, icrec.LinkEmail, "")
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n%s (%s, %d bytes), until %s:\n%s/export/%s/%s\n", r.ID, ex.FileName, r.Media.Size,
			ex.Link.Expires.UTC().Format(time.RFC1123), strings.TrimRight(s.exports.BaseURL, "/"), string(ex.Token), pathSegment(ex.FileName))
	}
	return b.String(), nil
}

func addrs(as []icrec.EmailAddress) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Address
	}
	return out
}

// pathSegment percent-encodes a file name for the last segment of a link.
func pathSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
