package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"example.com/icrec"
)

// Export is an issued export link.
type Export struct {
	Link  *icrec.ExportLink
	Token icrec.Secret
	// Recording is shared with other requests (rights checks keep it in
	// memory): read it, never change it.
	Recording *icrec.Recording
	// FileName is the name the download will carry.
	FileName string
}

// IssueExport checks, in the order ICWS clients expect, that the user of
// sess may export a recording, or one of its attachments, and issues a
// link: the recording must exist (NotFound), the user must hold
// CanExportOrArchive on it (Forbidden), and attachmentID (the raw values of
// the query parameter) must be absent or name one attachment of an email
// recording (Invalid, property attachmentId). The issue is audited before
// the link is returned.
func (s *Service) IssueExport(ctx context.Context, sess *icrec.Session, recordingID string, attachmentID Parsed[[]string], clientAddr string) (*Export, error) {
	if err := s.exportsOn(); err != nil {
		return nil, err
	}
	r, err := s.authorized(ctx, sess, recordingID, icrec.CanExportOrArchive, clientAddr, "export-uri")
	if err != nil {
		return nil, err
	}
	if attachmentID.Err != nil {
		return nil, attachmentID.Err
	}
	att, err := ParseAttachmentID(attachmentID.Value, r)
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, sess, r, att, icrec.LinkExport, clientAddr)
}

// IssuePlayback issues a playback link for GET .../playback-uri: like an
// export link of the primary media, but served inline for a player, and
// for a user who may play the recording (CanPlay).
func (s *Service) IssuePlayback(ctx context.Context, sess *icrec.Session, recordingID, clientAddr string) (*Export, error) {
	if err := s.exportsOn(); err != nil {
		return nil, err
	}
	r, err := s.authorized(ctx, sess, recordingID, icrec.CanPlay, clientAddr, "playback-uri")
	if err != nil {
		return nil, err
	}
	return s.issue(ctx, sess, r, 0, icrec.LinkPlayback, clientAddr)
}

// issue signs and audits a link to attachment att of r (0: the media), for
// the purpose given.
func (s *Service) issue(ctx context.Context, sess *icrec.Session, r *icrec.Recording, att int, purpose icrec.LinkPurpose, clientAddr string) (*Export, error) {
	// A link to media the store has lost could never work: that is the
	// archive's failure, and the caller should hear of it now.
	if info, err := s.blobs.Stat(ctx, r.Media.Key); err != nil {
		return nil, fmt.Errorf("archive: the media of recording %s (icrec fsck shows the cause): %w", r.ID, asInternal(err))
	} else if info.Size != r.Media.Size {
		return nil, fmt.Errorf("archive: the media of recording %s is %d bytes, the catalogue says %d (run icrec fsck)", r.ID, info.Size, r.Media.Size)
	}
	link := &icrec.ExportLink{
		RecordingID: r.ID,
		Attachment:  att,
		Purpose:     purpose,
		UserID:      sess.UserID,
		SessionID:   sess.ID,
		Expires:     s.now().Add(s.exports.TTL).Truncate(time.Second),
	}
	if s.exports.BindClient {
		link.ClientAddr = clientAddr
	}
	tok, err := s.exports.Signer.Sign(link)
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, &icrec.AuditEvent{Kind: icrec.AuditExportIssued, UserID: sess.UserID, SessionID: sess.ID, ClientAddr: clientAddr,
		RecordingID: r.ID, Attachment: att, Outcome: "ok",
		Detail: fmt.Sprintf(`{"link":%q,"expires":%q,"boundTo":%q,"purpose":%q}`, link.ID, link.Expires.UTC().Format(time.RFC3339), link.ClientAddr, purpose)}); err != nil {
		return nil, err
	}
	return &Export{Link: link, Token: tok, Recording: r, FileName: fileName(r, att)}, nil
}

// ParseAttachmentID checks the attachmentId query parameter: absent means
// the primary media; otherwise it must appear once and be an integer from
// 1 to the number of attachments of an email recording.
func ParseAttachmentID(values []string, r *icrec.Recording) (int, error) {
	bad := func(format string, args ...any) (int, error) {
		return 0, icrec.InvalidProperty("attachmentId", format, args...)
	}
	switch len(values) {
	case 0:
		return 0, nil
	case 1:
	default:
		return bad("The attachmentId query parameter is given %d times; give it once.", len(values))
	}
	v := values[0]
	n, err := strconv.Atoi(v)
	switch {
	case err != nil || strings.TrimLeft(v, "0123456789") != "":
		// Atoi takes a sign; an attachment id is digits only.
		return bad("The attachmentId %q is not a positive integer.", clip(v))
	case r.MediaType != icrec.MediaEmail:
		return bad("Recording %s is a %s recording; only email recordings have attachments.", r.ID, r.MediaType)
	case len(r.Attachments) == 0:
		return bad("The email recording %s has no attachments.", r.ID)
	case n < 1 || n > len(r.Attachments):
		return bad("The attachmentId %d is out of range: the email recording %s has attachments 1 to %d.", n, r.ID, len(r.Attachments))
	}
	return n, nil
}

// fileName is the name a download carries: the original media file name,
// or the attachment's.
func fileName(r *icrec.Recording, att int) string {
	if att > 0 {
		return r.Attachments[att-1].FileName
	}
	if r.Media.FileName != "" {
		return r.Media.FileName
	}
	return r.ID
}

// exportsOn says why no export link can be issued or used, if so.
func (s *Service) exportsOn() error {
	switch {
	case s.exports.Disabled:
		return icrec.Errorf(icrec.Gone, icrec.IDGone, "Exporting recordings is turned off on this server.")
	case s.exports.Signer == nil:
		return fmt.Errorf("archive: export links are not configured")
	}
	return nil
}

// recordingFor returns the recording with the canonical id and the user of
// the session asking for it: the inputs of a rights check besides the
// policies.
func (w view) recordingFor(ctx context.Context, sess *icrec.Session, id string) (*icrec.Recording, *icrec.User, error) {
	r, err := w.recording(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	u, err := w.user(ctx, sess.UserID)
	if err != nil {
		return nil, nil, err
	}
	return r, u, nil
}

// Download is an export link opened for reading.
type Download struct {
	Link *icrec.ExportLink
	// Recording is shared with other requests (rights checks keep it in
	// memory): read it, never change it.
	Recording   *icrec.Recording
	Attachment  *icrec.Attachment // nil for the primary media
	Blob        icrec.Blob
	ContentType string
	FileName    string
	Size        int64
	SHA256      string
	ModTime     time.Time
}

// OpenDownload opens what a token grants, re-checking everything the link
// was issued on, as of now: the token (Forbidden if not valid, Gone if
// expired), the client address if the link is bound (Forbidden), that the
// recording still exists (NotFound), and that its user still exists, is
// enabled and still holds the right the link's purpose needs on it
// (Forbidden), and that the stored media is whole (an Internal error
// otherwise). The caller must close Blob.
func (s *Service) OpenDownload(ctx context.Context, token, clientAddr string) (*Download, error) {
	if err := s.exportsOn(); err != nil {
		return nil, err
	}
	link, err := s.exports.Signer.Verify(token, s.now())
	if err != nil {
		s.emit(&icrec.AuditEvent{Kind: icrec.AuditDenied, ClientAddr: clientAddr, Outcome: "download: " + icrec.ErrorMessage(err)})
		return nil, err
	}
	deny := func(err error, why string) (*Download, error) {
		s.emit(&icrec.AuditEvent{Kind: icrec.AuditDenied, UserID: link.UserID, SessionID: link.SessionID, ClientAddr: clientAddr,
			RecordingID: link.RecordingID, Attachment: link.Attachment, Outcome: "download: " + why, Detail: fmt.Sprintf(`{"link":%q}`, link.ID)})
		return nil, err
	}
	if link.ClientAddr != "" && link.ClientAddr != clientAddr {
		return deny(icrec.Errorf(icrec.Forbidden, icrec.IDAccessDenied, "This export link works only from the address that asked for it."), "client address")
	}
	w, err := s.view(ctx)
	if err != nil {
		return nil, err
	}
	r, err := w.recording(ctx, link.RecordingID)
	if icrec.IsKind(err, icrec.NotFound) {
		return deny(icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "The recording %s no longer exists.", link.RecordingID), "recording deleted")
	} else if err != nil {
		return nil, err
	}
	u, err := w.user(ctx, link.UserID)
	forbidden := icrec.Errorf(icrec.Forbidden, icrec.IDAccessDenied, "The user of this link may no longer download the recording.")
	switch {
	case icrec.IsKind(err, icrec.NotFound):
		return deny(forbidden, "user deleted")
	case err != nil:
		return nil, err
	case u.Disabled:
		return deny(forbidden, "user disabled")
	}
	g, err := w.rights(ctx, u, r)
	if err != nil {
		return nil, err
	}
	if !g.Rights.Has(link.Purpose.Right()) {
		return deny(forbidden, "right revoked")
	}
	if link.Attachment > len(r.Attachments) {
		return deny(icrec.Errorf(icrec.NotFound, icrec.IDNotFound, "The recording %s has no attachment %d.", r.ID, link.Attachment), "attachment gone")
	}
	b, err := s.blobs.Open(ctx, r.Media.Key)
	if err != nil {
		// The catalogue names media the store does not have: a damaged
		// archive, not the client's doing.
		return nil, fmt.Errorf("archive: open the media of recording %s (icrec fsck shows the cause): %w", r.ID, asInternal(err))
	}
	// An attachment is decoded from the stored message, so a damaged
	// message would make a damaged attachment: both are checked.
	if info := b.Info(); info.Size != r.Media.Size || !strings.EqualFold(info.SHA256, r.Media.SHA256) {
		b.Close()
		return nil, fmt.Errorf("archive: the media of recording %s is %d bytes with SHA-256 %s, the catalogue says %d bytes, %s (run icrec fsck)",
			r.ID, info.Size, info.SHA256, r.Media.Size, r.Media.SHA256)
	}
	d := &Download{Link: link, Recording: r, Blob: b, FileName: fileName(r, link.Attachment), ModTime: r.Created}
	if link.Attachment > 0 {
		a := r.Attachments[link.Attachment-1]
		d.Attachment = &a
		d.ContentType, d.Size, d.SHA256 = a.ContentType, a.Size, a.SHA256
		return d, nil
	}
	d.ContentType, d.Size, d.SHA256 = r.Media.ContentType, r.Media.Size, r.Media.SHA256
	return d, nil
}

// asInternal keeps a store's NotFound from reaching the client as a 404:
// the link was valid, the archive is what is wrong.
func asInternal(err error) error {
	if e, ok := errors.AsType[*icrec.Error](err); ok && e.Kind != icrec.Internal {
		return fmt.Errorf("%s: %s", e.Kind, e.Message)
	}
	return err
}

// DownloadDone audits a finished download: how many bytes went out of how
// many the response announced (want; negative if none was announced), of
// which range, and with what status. A body cut short is "incomplete".
func (s *Service) DownloadDone(d *Download, clientAddr, rangeHeader string, status int, bytes, want int64) {
	outcome := "ok"
	switch {
	case status >= 400:
		outcome = strconv.Itoa(status)
	case want >= 0 && bytes < want:
		outcome = "incomplete"
	}
	s.emit(&icrec.AuditEvent{Kind: icrec.AuditDownload, UserID: d.Link.UserID, SessionID: d.Link.SessionID, ClientAddr: clientAddr,
		RecordingID: d.Recording.ID, Attachment: d.Link.Attachment, Outcome: outcome,
		Detail: fmt.Sprintf(`{"link":%q,"purpose":%q,"status":%d,"bytes":%d,"range":%q}`, d.Link.ID, d.Link.Purpose, status, bytes, clip(rangeHeader))})
}

// record writes an audit event and waits until it is durable.
func (s *Service) record(ctx context.Context, e *icrec.AuditEvent) error {
	if s.audit == nil {
		return nil
	}
	return s.audit.Record(ctx, e)
}

// emitter is an Auditor that can also queue an event without waiting.
type emitter interface {
	Emit(e *icrec.AuditEvent)
}

// emit records an event without making the caller wait, when the auditor
// can, for events recorded after the client has its answer.
func (s *Service) emit(e *icrec.AuditEvent) {
	if s.audit == nil {
		return
	}
	if em, ok := s.audit.(emitter); ok {
		em.Emit(e)
		return
	}
	if err := s.audit.Record(context.Background(), e); err != nil {
		s.log.Error("audit event lost", "kind", e.Kind, "err", err)
	}
}

// Attributes returns a recording's custom attributes, for a user who may
// view them.
func (s *Service) Attributes(ctx context.Context, sess *icrec.Session, recordingID, clientAddr string) ([]icrec.Attribute, error) {
	r, err := s.authorized(ctx, sess, recordingID, icrec.CanViewCustomAttributes, clientAddr, "attributes")
	if err != nil {
		return nil, err
	}
	// A copy: r is shared, and a caller may sort or append.
	return slices.Clone(r.Attributes), nil
}
