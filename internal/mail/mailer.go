package mail

import (
	"context"
	"net/mail"
	"strings"

	"example.com/icrec"
)

// Mailer returns s as the icrec.Mailer that send-as-email uses. Failures
// that are the mail server's or its settings' (credentials or sender
// refused, a reply icrec did not expect) become Upstream, so that the
// caller sees what the server said; a refused recipient stays Invalid, a
// message too large TooLarge, an unreachable server Unavailable.
func (s *Sender) Mailer() icrec.Mailer { return mailer{s} }

type mailer struct{ s *Sender }

func (m mailer) Send(ctx context.Context, e *icrec.Email) error {
	msg := &Message{ReplyTo: e.ReplyTo, Subject: e.Subject, Body: e.Body, Priority: e.Priority}
	for _, a := range e.To {
		msg.To = append(msg.To, mail.Address{Name: a.DisplayName, Address: a.Address})
	}
	for _, a := range e.Cc {
		msg.Cc = append(msg.Cc, mail.Address{Name: a.DisplayName, Address: a.Address})
	}
	for _, a := range e.Attachments {
		msg.Attachments = append(msg.Attachments, Attachment{FileName: a.FileName, ContentType: a.ContentType, Size: a.Size, Open: a.Open})
	}
	err := m.s.Send(ctx, msg)
	ie, ok := err.(*icrec.Error)
	if !ok {
		return err
	}
	c := *ie
	if c.Kind == icrec.Internal && c.Message != "" {
		c.Kind = icrec.Upstream
	}
	c.Property = icwsProperty(c.Property)
	return &c
}

// icwsProperty names a Message field as ICWS emailParameters does, so that
// propertyName points into the request the client sent.
func icwsProperty(p string) string {
	name, _, _ := strings.Cut(p, "[")
	switch name {
	case "to":
		return "toParticipants"
	case "cc":
		return "ccParticipants"
	case "replyTo":
		return "replyToAddress"
	case "subject":
		return "emailSubject"
	case "body":
		return "emailBody"
	}
	return p
}
