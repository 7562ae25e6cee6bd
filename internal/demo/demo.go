// Package demo generates the demo archive that icrec serve --demo and icrec
// demo put into an empty data directory: real media (playable WAV calls,
// emails with attachments, chats, a screen recording in an AVI container)
// spread over the demo users and two workgroups, with attributes, tags and
// expiration dates, and a manifest that the ordinary importer reads. Going
// through the importer means the demo exercises the same path as real data.
package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"example.com/icrec"
	"example.com/icrec/icws"
	"example.com/icrec/internal/mediagen"
)

// Workgroups of the demo.
const (
	Support = "Support"
	Sales   = "Sales"
)

// agents are the demo users who take part in recordings, with their
// workgroup.
var agents = []struct{ id, workgroup string }{
	{"agent1", Support},
	{"agent2", Sales},
	{"supervisor", Support},
}

// Counts of generated recordings, by kind.
const (
	Calls   = 24
	Emails  = 6
	Chats   = 3
	Screens = 1
)

// Recording summarises one generated recording, for the walkthrough.
type Recording struct {
	ID        string
	MediaType icrec.MediaType
	Agent     string
	Workgroup string
}

// Generate writes the media files and manifest.jsonl into dir and returns
// what it made. The archive is the same for the same seed; dates are spread
// over the 30 days before now.
func Generate(dir string, seed uint64, now time.Time) ([]Recording, error) {
	g := &generator{dir: dir, rng: rand.New(rand.NewPCG(seed, seed^0x1c2e3c)), now: now.UTC().Truncate(time.Second)}
	if err := os.MkdirAll(filepath.Join(dir, "media"), 0o700); err != nil {
		return nil, err
	}
	steps := []struct {
		n    int
		make func(i int) error
	}{
		{Calls, g.call}, {Emails, g.email}, {Chats, g.chat}, {1, g.transcript}, {1, g.social}, {Screens, g.screen},
	}
	for _, s := range steps {
		for i := range s.n {
			if err := s.make(i); err != nil {
				return nil, err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.jsonl"), g.manifest.Bytes(), 0o600); err != nil {
		return nil, err
	}
	return g.made, nil
}

type generator struct {
	dir      string
	rng      *rand.Rand
	now      time.Time
	seq      int
	manifest bytes.Buffer
	made     []Recording
}

// line is a manifest line; see docs/import.md.
type line struct {
	RecordingID    string            `json:"recordingId"`
	InteractionID  string            `json:"interactionId"`
	MediaType      string            `json:"mediaType"`
	RecordingType  string            `json:"recordingType"`
	CallType       string            `json:"callType,omitempty"`
	Direction      string            `json:"direction"`
	RecordingDate  string            `json:"recordingDate"`
	Duration       float64           `json:"duration"`
	ExpirationDate string            `json:"expirationDate,omitempty"`
	LineName       string            `json:"lineName,omitempty"`
	InitiationPol  string            `json:"initiationPolicyName"`
	File           string            `json:"file"`
	ContentType    string            `json:"contentType"`
	Participants   []any             `json:"participants"`
	Workgroups     []string          `json:"workgroups"`
	Attributes     map[string]string `json:"attributes"`
	Tags           []string          `json:"tags"`
}

var tags = []string{"vip", "complaint", "billing", "follow-up", "escalated", "training"}

// add writes one recording's media and its manifest line.
func (g *generator) add(m icrec.MediaType, ext, contentType string, d time.Duration, write func(*os.File) error) error {
	g.seq++
	agent := agents[g.rng.IntN(len(agents))]
	date := g.now.Add(-time.Duration(g.rng.Int64N(int64(30 * 24 * time.Hour))))
	id := g.guid()
	file := fmt.Sprintf("media/%s-%03d%s", m, g.seq, ext)
	f, err := os.OpenFile(filepath.Join(g.dir, filepath.FromSlash(file)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("demo %s %d: %w", m, g.seq, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	l := line{
		RecordingID:   id,
		InteractionID: fmt.Sprintf("10%08d", 1000000+g.seq*37),
		MediaType:     m.String(),
		RecordingType: "PolicyRelated",
		Direction:     []string{"Inbound", "Outbound"}[g.rng.IntN(2)],
		RecordingDate: icws.FormatTime(date),
		Duration:      d.Seconds(),
		InitiationPol: "Record all " + agent.workgroup + " interactions",
		File:          file,
		ContentType:   contentType,
		Participants:  []any{agent.id, map[string]string{"name": customers[g.rng.IntN(len(customers))], "address": fmt.Sprintf("+1555%07d", g.rng.IntN(10000000))}},
		Workgroups:    []string{agent.workgroup},
		Attributes:    map[string]string{"Case": fmt.Sprintf("CASE-%05d", 10000+g.rng.IntN(90000)), "Queue": agent.workgroup + " " + m.String()},
		Tags:          []string{tags[g.rng.IntN(len(tags))]},
	}
	if m == icrec.MediaCall {
		l.CallType, l.LineName = "External", "SIP-Trunk-1"
	}
	// Some recordings must go after seven years, as compliance rules say;
	// others are kept until a retention policy decides.
	if g.seq%3 != 0 {
		l.ExpirationDate = icws.FormatTime(date.AddDate(7, 0, 0))
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	g.manifest.Write(b)
	g.manifest.WriteByte('\n')
	g.made = append(g.made, Recording{ID: id, MediaType: m, Agent: agent.id, Workgroup: agent.workgroup})
	return nil
}

var customers = []string{"Jane Caller", "Omar Haddad", "Li Wei", "Zoë Müller", "Carlos Pérez", "Aiyana Brooks"}

// guid makes a random-looking but reproducible GUID.
func (g *generator) guid() string {
	id, _ := icrec.CanonicalGUID(fmt.Sprintf("%016x%016x", g.rng.Uint64(), g.rng.Uint64()))
	return id
}

var wavFormats = []mediagen.WAVFormat{mediagen.FormatMuLaw8k, mediagen.FormatPCM8k, mediagen.FormatPCM16k}

func (g *generator) call(i int) error {
	d := time.Duration(4+g.rng.IntN(9)) * time.Second
	signal := mediagen.CallAudio(g.rng, d)
	format := wavFormats[i%len(wavFormats)]
	return g.add(icrec.MediaCall, ".wav", "audio/wav", d, func(f *os.File) error {
		return mediagen.WriteWAV(f, format, signal)
	})
}

func (g *generator) email(i int) error {
	e, err := mediagen.NewEmail(g.rng, g.now.Add(-time.Duration(i)*37*time.Hour))
	if err != nil {
		return err
	}
	return g.add(icrec.MediaEmail, ".eml", "message/rfc822", 0, func(f *os.File) error { return mediagen.WriteEmail(f, e) })
}

func (g *generator) chat(i int) error {
	c := mediagen.NewChat(g.rng, g.now.Add(-time.Duration(i)*29*time.Hour))
	d := chatDuration(c)
	return g.add(icrec.MediaChat, ".json", "application/json", d, func(f *os.File) error { return mediagen.WriteChatJSON(f, c) })
}

func (g *generator) transcript(int) error {
	c := mediagen.NewChat(g.rng, g.now.Add(-50*time.Hour))
	return g.add(icrec.MediaChatTranscript, ".html", "text/html", chatDuration(c), func(f *os.File) error { return mediagen.WriteChatHTML(f, c) })
}

func (g *generator) social(int) error {
	s := mediagen.NewSocialConversation(g.rng, g.now.Add(-70*time.Hour))
	return g.add(icrec.MediaSocialConversation, ".json", "application/json", 0, func(f *os.File) error { return mediagen.WriteSocialJSON(f, s) })
}

func (g *generator) screen(int) error {
	v, err := mediagen.NewDesktop(g.rng, mediagen.DesktopOptions{Duration: 6 * time.Second})
	if err != nil {
		return err
	}
	return g.add(icrec.MediaScreen, ".avi", "video/x-msvideo", 6*time.Second, func(f *os.File) error { return mediagen.WriteAVI(f, v, 0) })
}

func chatDuration(c mediagen.Chat) time.Duration {
	if len(c.Messages) < 2 {
		return 0
	}
	return c.Messages[len(c.Messages)-1].Time.Sub(c.Messages[0].Time)
}
