package mail

import (
	"io"
	"net/mail"
)

// Priorities, with ICWS's values for a message's priority.
const (
	PriorityNormal = 1
	PriorityLow    = 2
	PriorityHigh   = 4
)

// Message is one mail to send. It is always sent as multipart/mixed: the
// body as text/plain, then one part per attachment.
type Message struct {
	To, Cc []mail.Address // at least one To; ASCII addresses only
	// ReplyTo is an RFC 5322 address list, empty for none.
	ReplyTo string
	Subject string
	Body    string // plain text; line breaks may be "\n" or "\r\n"
	// Priority is PriorityNormal, PriorityLow or PriorityHigh; any other
	// value means normal.
	Priority    int
	Attachments []Attachment
}

// Attachment is a file to attach. Its content is read only while the
// message is being sent, in pieces, so a recording is never held whole.
type Attachment struct {
	FileName string // any UTF-8 name, at most 255 bytes
	// ContentType is a media type such as "audio/wav"; empty means
	// application/octet-stream.
	ContentType string
	// Open is called once per send, after the server has accepted every
	// recipient. An error from it or from reading aborts the send without
	// the server delivering a partial message; an *icrec.Error in it keeps
	// its Kind.
	Open func() (io.ReadCloser, error)
	// Size, when positive, is the content's length: the send fails rather
	// than deliver a file of another length, and a message known to be
	// over the server's SIZE limit fails with TooLarge before any of it is
	// sent. Zero means unknown.
	Size int64
}
