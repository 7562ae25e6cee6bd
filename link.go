package icrec

import (
	"strconv"
	"time"
)

// ExportLink is what an export URI grants: one download of one recording's
// primary media (Attachment 0) or of one of its email attachments, on behalf
// of the user and session that asked for it, until Expires. The link is
// self-authorising: whoever holds the URI may use it, which is why it is
// short-lived, optionally bound to the client address, and re-checked
// against the user's rights when used.
type ExportLink struct {
	RecordingID string // canonical GUID
	Attachment  int    // 0 for the primary media, else the attachmentId
	Purpose     LinkPurpose
	UserID      string
	SessionID   string
	Expires     time.Time // whole seconds
	// ClientAddr, when not empty, is the only address the link works from.
	ClientAddr string
	// ID is a random identifier of this link: two links for the same
	// recording differ, and the audit trail can name the link a download
	// used without recording the token.
	ID string
}

// LinkPurpose says what a link was issued for, and so which right its
// user must still hold when it is used and how the download is served.
type LinkPurpose uint8

const (
	// LinkExport is a link from export-uri: a download (Content-Disposition
	// attachment) for a user holding CanExportOrArchive.
	LinkExport LinkPurpose = iota
	// LinkPlayback is a link from playback-uri: served inline, for a
	// player, to a user holding CanPlay.
	LinkPlayback
	// LinkEmail is a link that send-as-email put in a message in place of
	// media too large to attach: a download for a user holding CanEmail,
	// the right that let them send it.
	LinkEmail
)

// Right is what the user of a link of this purpose must hold.
func (p LinkPurpose) Right() Rights {
	switch p {
	case LinkPlayback:
		return CanPlay
	case LinkEmail:
		return CanEmail
	}
	return CanExportOrArchive
}

func (p LinkPurpose) String() string {
	switch p {
	case LinkExport:
		return "export"
	case LinkPlayback:
		return "playback"
	case LinkEmail:
		return "email"
	}
	return "purpose " + strconv.Itoa(int(p))
}

// LinkSigner turns export links into unguessable tokens and back.
type LinkSigner interface {
	// Sign returns the token of l. It fills in l.ID if it is empty.
	Sign(l *ExportLink) (Secret, error)
	// Verify returns the link a token stands for. A token that is
	// malformed, tampered with, or signed with an unknown key is
	// Forbidden; one whose link has expired at now is Gone.
	Verify(token string, now time.Time) (*ExportLink, error)
}
