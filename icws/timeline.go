package icws

import (
	"encoding/xml"
	"time"

	"example.com/icrec"
)

// TimelineXML returns the timelineXml of a playback-uri answer. ICWS
// documents no schema for it, so icrec's is small and stable:
//
//	<timeline recordingId="…" interactionId="…" mediaType="Call"
//	          start="2024-01-31T10:15:00Z" end="2024-01-31T10:15:06.25Z" duration="6.25">
//	  <participant userId="agent1" name="Agent One" address="+15551234567"/>
//	</timeline>
//
// Times are RFC 3339 UTC, the duration in seconds; participants come in
// the recording's order, with the attributes they have.
func TimelineXML(r *icrec.Recording) string {
	type participant struct {
		UserID  string `xml:"userId,attr,omitempty"`
		Name    string `xml:"name,attr,omitempty"`
		Address string `xml:"address,attr,omitempty"`
	}
	type timeline struct {
		XMLName       xml.Name      `xml:"timeline"`
		RecordingID   string        `xml:"recordingId,attr"`
		InteractionID string        `xml:"interactionId,attr"`
		MediaType     string        `xml:"mediaType,attr"`
		Start         string        `xml:"start,attr"`
		End           string        `xml:"end,attr"`
		Duration      float64       `xml:"duration,attr"`
		Participants  []participant `xml:"participant"`
	}
	t := timeline{
		RecordingID:   r.ID,
		InteractionID: r.InteractionID,
		MediaType:     r.MediaType.String(),
		Start:         r.RecordingDate.UTC().Format(time.RFC3339Nano),
		End:           r.RecordingDate.Add(r.Duration).UTC().Format(time.RFC3339Nano),
		Duration:      r.Duration.Seconds(),
	}
	for _, p := range r.Participants {
		t.Participants = append(t.Participants, participant{UserID: p.UserID, Name: p.Name, Address: p.Address})
	}
	b, err := xml.Marshal(t)
	if err != nil {
		// Strings always marshal; invalid UTF-8 is replaced, not refused.
		panic(err)
	}
	return string(b)
}
