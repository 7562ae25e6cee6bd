package icws

import (
	"bytes"
	"fmt"
	"time"

	"example.com/icrec"
)

// ExportURIResponse is the 200 body of GET
// /icws/{sessionId}/recordings/{recordingId}/export-uri.
type ExportURIResponse struct {
	URI string `json:"uri"`
}

// AttributeMap is the body of GET (and PUT) .../recordings/{id}/attributes.
type AttributeMap struct {
	AttributesValues []AttributeItem `json:"attributesValues"`
}

// AttributeItem is one custom attribute.
type AttributeItem struct {
	AttributeName  string `json:"attributeName"`
	AttributeValue string `json:"attributeValue"`
}

// FromAttributes returns the wire form of a recording's attributes.
func FromAttributes(attrs []icrec.Attribute) AttributeMap {
	m := AttributeMap{AttributesValues: make([]AttributeItem, len(attrs))}
	for i, a := range attrs {
		m.AttributesValues[i] = AttributeItem{AttributeName: a.Name, AttributeValue: a.Value}
	}
	return m
}

// ParseAttributeMap decodes the body of PUT .../attributes. Every item
// needs a name and a value.
func ParseAttributeMap(data []byte) ([]icrec.Attribute, error) {
	var in struct {
		AttributesValues *[]struct {
			AttributeName  *string `json:"attributeName"`
			AttributeValue *string `json:"attributeValue"`
		} `json:"attributesValues"`
	}
	if err := unmarshalObject(data, &in); err != nil {
		return nil, err
	}
	if in.AttributesValues == nil {
		return nil, icrec.MissingProperty("attributesValues", "Property attributesValues is required: a list of {attributeName, attributeValue}.")
	}
	out := make([]icrec.Attribute, 0, len(*in.AttributesValues))
	for i, a := range *in.AttributesValues {
		name, err := required(fmt.Sprintf("attributesValues[%d].attributeName", i), a.AttributeName)
		if err != nil {
			return nil, err
		}
		value, err := required(fmt.Sprintf("attributesValues[%d].attributeValue", i), a.AttributeValue)
		if err != nil {
			return nil, err
		}
		out = append(out, icrec.Attribute{Name: name, Value: value})
	}
	return out, nil
}

// TagList is the body of GET (and PUT) .../recordings/{id}/tags.
type TagList struct {
	Tags []string `json:"tags"`
}

// ParseTagList decodes the body of PUT .../tags.
func ParseTagList(data []byte) ([]string, error) {
	var in struct {
		Tags *[]*string `json:"tags"`
	}
	if err := unmarshalObject(data, &in); err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, icrec.MissingProperty("tags", "Property tags is required: a list of strings.")
	}
	out := make([]string, 0, len(*in.Tags))
	for i, t := range *in.Tags {
		if t == nil {
			return nil, icrec.InvalidProperty(fmt.Sprintf("tags[%d]", i), "Tag %d is null; tags are strings.", i)
		}
		out = append(out, *t)
	}
	return out, nil
}

// ParseRetentionExpiration decodes the body of POST
// .../retention-expiration: {"expirationDate": DateTime}, the date
// optional. An empty body is the same as {}.
func ParseRetentionExpiration(data []byte) (t time.Time, given bool, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return time.Time{}, false, nil
	}
	var in struct {
		ExpirationDate *string `json:"expirationDate"`
	}
	if err := unmarshalObject(data, &in); err != nil {
		return time.Time{}, false, err
	}
	if in.ExpirationDate == nil {
		return time.Time{}, false, nil
	}
	t, err = ParseTime(*in.ExpirationDate)
	if err != nil {
		return time.Time{}, false, icrec.InvalidProperty("expirationDate", "Property expirationDate %q is not a date: give 20060102T150405Z or ISO 8601.", clip(*in.ExpirationDate))
	}
	return t, true, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// MediaDetails is getMediaDetailsResponse, the body of GET
// .../recordings/{id}/media-details. Optional strings are null when the
// recording has none, as the real server's nullable properties are.
type MediaDetails struct {
	RecordingID          string              `json:"recordingId"`
	RelatedRecordingID   *string             `json:"relatedRecordingId"`
	ExpirationDate       *DateTime           `json:"expirationDate"`
	RecordingDate        DateTime            `json:"recordingDate"`
	InteractionID        string              `json:"interactionId"`
	InitiationPolicyName *string             `json:"initiationPolicyName"`
	LineName             *string             `json:"lineName"`
	SnippetInitiator     *string             `json:"snippetInitiator"`
	CallType             icrec.CallType      `json:"callType"`
	IsArchived           bool                `json:"isArchived"`
	Duration             float64             `json:"duration"`
	Direction            icrec.Direction     `json:"direction"`
	RecordingType        icrec.RecordingType `json:"recordingType"`
	NumAttachments       *int                `json:"numAttachments,omitempty"`
	MediaType            icrec.MediaType     `json:"mediaType"`
	IsEncrypted          bool                `json:"isEncrypted"`
}

// FromRecording returns the media-details of r. numAttachments is given
// for email recordings only, 0 included.
func FromRecording(r *icrec.Recording) MediaDetails {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	d := MediaDetails{
		RecordingID:          r.ID,
		RelatedRecordingID:   opt(r.RelatedRecordingID),
		RecordingDate:        DateTime{Time: r.RecordingDate},
		InteractionID:        r.InteractionID,
		InitiationPolicyName: opt(r.InitiationPolicyName),
		LineName:             opt(r.LineName),
		SnippetInitiator:     opt(r.SnippetInitiator),
		CallType:             r.CallType,
		IsArchived:           r.IsArchived,
		Duration:             r.Duration.Seconds(),
		Direction:            r.Direction,
		RecordingType:        r.RecordingType,
		MediaType:            r.MediaType,
		IsEncrypted:          r.IsEncrypted,
	}
	if !r.ExpirationDate.IsZero() {
		d.ExpirationDate = &DateTime{Time: r.ExpirationDate}
	}
	if r.MediaType == icrec.MediaEmail {
		n := len(r.Attachments)
		d.NumAttachments = &n
	}
	return d
}

// PlaybackURIResponse is getPlaybackUriResponse, the body of GET
// .../recordings/{id}/playback-uri.
type PlaybackURIResponse struct {
	URI          string       `json:"uri"`
	TimelineXML  string       `json:"timelineXml"`
	MediaDetails MediaDetails `json:"mediaDetails"`
}
