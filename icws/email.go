package icws

import (
	"encoding/json"
	"fmt"

	"example.com/icrec"
)

// emailParameters is the wire form of ICWS emailParameters.
type emailParameters struct {
	ToParticipants *emailAddresses `json:"toParticipants"`
	CcParticipants *emailAddresses `json:"ccParticipants"`
	ReplyToAddress *string         `json:"replyToAddress"`
	EmailSubject   *string         `json:"emailSubject"`
	EmailBody      *string         `json:"emailBody"`
	Priority       *int            `json:"priority"`
}

type emailAddresses struct {
	EmailAddresses *[]struct {
		DisplayName *string `json:"displayName"`
		Address     *string `json:"address"`
	} `json:"emailAddresses"`
}

// ParseEmailParameters decodes the body of PUT
// .../recordings/{id}/send-as-email.
func ParseEmailParameters(data []byte) (icrec.Email, error) {
	var p emailParameters
	if err := unmarshalObject(data, &p); err != nil {
		return icrec.Email{}, err
	}
	return p.email("")
}

// ParseRecordingsEmail decodes the body of PUT
// .../recordings/send-as-email:
// {"recordings":{"recordingIds":[…]},"parameters":emailParameters}.
func ParseRecordingsEmail(data []byte) ([]string, icrec.Email, error) {
	var in struct {
		Recordings *struct {
			RecordingIDs *[]string `json:"recordingIds"`
		} `json:"recordings"`
		Parameters *json.RawMessage `json:"parameters"`
	}
	if err := unmarshalObject(data, &in); err != nil {
		return nil, icrec.Email{}, err
	}
	if in.Recordings == nil || in.Recordings.RecordingIDs == nil {
		return nil, icrec.Email{}, icrec.MissingProperty("recordings.recordingIds", "Property recordings.recordingIds is required: the ids of the recordings to send.")
	}
	if len(*in.Recordings.RecordingIDs) == 0 {
		return nil, icrec.Email{}, icrec.InvalidProperty("recordings.recordingIds", "Property recordings.recordingIds is empty; name at least one recording.")
	}
	if in.Parameters == nil {
		return nil, icrec.Email{}, icrec.MissingProperty("parameters", "Property parameters is required: the emailParameters.")
	}
	var p emailParameters
	if err := unmarshalObject(*in.Parameters, &p); err != nil {
		return nil, icrec.Email{}, prefixProperty(err, "parameters")
	}
	m, err := p.email("parameters.")
	return *in.Recordings.RecordingIDs, m, err
}

func (p emailParameters) email(prefix string) (icrec.Email, error) {
	var m icrec.Email
	if p.ToParticipants == nil || p.ToParticipants.EmailAddresses == nil {
		return m, icrec.MissingProperty(prefix+"toParticipants", "Property %stoParticipants.emailAddresses is required.", prefix)
	}
	var err error
	if m.To, err = addresses(prefix+"toParticipants", p.ToParticipants); err != nil {
		return m, err
	}
	if len(m.To) == 0 {
		return m, icrec.InvalidProperty(prefix+"toParticipants", "Property %stoParticipants names nobody; give at least one address.", prefix)
	}
	if p.CcParticipants != nil && p.CcParticipants.EmailAddresses != nil {
		if m.Cc, err = addresses(prefix+"ccParticipants", p.CcParticipants); err != nil {
			return m, err
		}
	}
	if p.ReplyToAddress != nil {
		m.ReplyTo = *p.ReplyToAddress
	}
	if p.EmailSubject != nil {
		m.Subject = *p.EmailSubject
	}
	if p.EmailBody != nil {
		m.Body = *p.EmailBody
	}
	m.Priority = 1
	if p.Priority != nil && (*p.Priority == 2 || *p.Priority == 4) {
		m.Priority = *p.Priority
	}
	return m, nil
}

func addresses(property string, a *emailAddresses) ([]icrec.EmailAddress, error) {
	out := make([]icrec.EmailAddress, 0, len(*a.EmailAddresses))
	for i, e := range *a.EmailAddresses {
		if e.Address == nil || *e.Address == "" {
			return nil, icrec.MissingProperty(fmt.Sprintf("%s.emailAddresses[%d].address", property, i), "Address %d of %s is missing.", i, property)
		}
		ea := icrec.EmailAddress{Address: *e.Address}
		if e.DisplayName != nil {
			ea.DisplayName = *e.DisplayName
		}
		out = append(out, ea)
	}
	return out, nil
}

// prefixProperty names a property inside an enclosing object.
func prefixProperty(err error, prefix string) error {
	if e, ok := err.(*icrec.Error); ok {
		c := *e
		if c.Property == "" {
			c.Property = prefix
		} else {
			c.Property = prefix + "." + c.Property
		}
		return &c
	}
	return err
}
