package icrec

import (
	"context"
	"io"
)

// Email is a message that icrec sends on a user's behalf: a recording sent
// with ICWS send-as-email.
type Email struct {
	To, Cc []EmailAddress
	// ReplyTo is an address, empty for none.
	ReplyTo  string
	Subject  string
	Body     string // plain text
	Priority int    // 1 normal, 2 low, 4 high; anything else is normal
	// Attachments are read only while the message is sent, so that a
	// recording is never held in memory whole.
	Attachments []EmailAttachment
}

// EmailAddress is a recipient.
type EmailAddress struct {
	DisplayName string
	Address     string
}

// EmailAttachment is a file attached to an Email.
type EmailAttachment struct {
	FileName    string
	ContentType string
	Size        int64
	Open        func() (io.ReadCloser, error)
}

// Mailer sends email. A recipient the mail server refuses is Invalid,
// naming the address; a mail server that cannot be reached or answers
// with a temporary failure is Unavailable.
type Mailer interface {
	Send(ctx context.Context, m *Email) error
}
