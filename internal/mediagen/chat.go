package mediagen

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math/rand/v2"
	"time"
)

// ChatMessage is one message of a chat, as WriteChatJSON writes it.
type ChatMessage struct {
	Time time.Time `json:"time"`
	From string    `json:"from"`
	Text string    `json:"text"`
}

// SystemSender is the From of the chat platform's own notices, such as a
// participant joining.
const SystemSender = "System"

// botName is the automated greeter some chats start with.
const botName = "Virtual Assistant"

// Chat is a web chat between a customer and an agent of the contact
// centre.
type Chat struct {
	Topic        string
	Customer     string // the customer's display name
	Agent        string // the agent's display name
	Participants []string
	Messages     []ChatMessage
}

// NewChat makes a plausible chat that starts at start: a customer asks
// about billing, a password, a delivery or a plan change, sometimes
// first greeted by a bot, and an agent joins and resolves it. Messages
// are spaced by reading, thinking and typing time. Some texts contain
// <, > and & so that renderers' escaping is exercised.
func NewChat(rng *rand.Rand, start time.Time) Chat {
	c := newCase(rng, start)
	chat := Chat{Topic: c.theme.topic, Customer: c.customer.Name(), Agent: c.agent}
	t := start.Truncate(time.Second)
	say := func(from, text string, typing bool) {
		if typing {
			// About 4 characters a second, after a pause to read and think.
			t = t.Add(time.Duration(2+rng.IntN(12))*time.Second + time.Duration(len(text))*250*time.Millisecond).Round(time.Second)
		} else {
			t = t.Add(time.Duration(1+rng.IntN(3)) * time.Second)
		}
		chat.Messages = append(chat.Messages, ChatMessage{Time: t, From: from, Text: text})
	}

	chat.Participants = []string{chat.Customer}
	chat.Messages = append(chat.Messages, ChatMessage{Time: t, From: SystemSender, Text: chat.Customer + " started the chat: " + c.theme.topic})
	if rng.IntN(10) < 3 {
		chat.Participants = append(chat.Participants, botName)
		say(botName, "Thanks for contacting Example Support. An agent will be with you shortly; your position in the queue is "+fmt.Sprint(1+rng.IntN(5))+".", false)
	}
	lines := c.lines(rng)
	say(chat.Customer, lines[0].say[0], true)
	t = t.Add(time.Duration(10+rng.IntN(90)) * time.Second) // waiting in the queue
	say(SystemSender, c.agent+" joined the chat", false)
	chat.Participants = append(chat.Participants, c.agent)
	for _, l := range lines[1:] {
		from := chat.Customer
		if l.agent {
			from = c.agent
		}
		say(from, l.say[0], true)
	}
	say(SystemSender, c.agent+" ended the chat", false)
	return chat
}

// WriteChatJSON writes the chat's messages as a JSON array of objects
// {"time", "from", "text"}, times in RFC 3339.
func WriteChatJSON(w io.Writer, c Chat) error {
	msgs := c.Messages
	if msgs == nil {
		msgs = []ChatMessage{} // an empty chat is [], not null
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // JSON, not HTML: keep "<" readable as typed
	return enc.Encode(msgs)
}

// chatTemplate is the transcript page. html/template escapes every value
// for its context, so a message such as "<b>" shows as typed.
var chatTemplate = template.Must(template.New("chat").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Chat transcript: {{.Topic}}</title>
<style>
body { font-family: Arial, sans-serif; margin: 2em; color: #333; }
table { border-collapse: collapse; width: 100%; }
td, th { padding: 4px 8px; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
tr.agent td.from { color: #005eb8; }
tr.system td { color: #888; font-style: italic; }
</style>
</head>
<body>
<h1>Chat transcript</h1>
<dl>
<dt>Topic</dt><dd>{{.Topic}}</dd>
<dt>Started</dt><dd><time datetime="{{.Start.Format "2006-01-02T15:04:05Z07:00"}}">{{.Start.Format "Mon, 2 Jan 2006 15:04:05 MST"}}</time></dd>
<dt>Participants</dt><dd>{{range $i, $p := .Participants}}{{if $i}}, {{end}}{{$p}}{{end}}</dd>
</dl>
<table>
<thead><tr><th>Time</th><th>From</th><th>Message</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="{{.Role}}"><td><time datetime="{{.Time.Format "2006-01-02T15:04:05Z07:00"}}">{{.Time.Format "15:04:05"}}</time></td><td class="from">{{.From}}</td><td>{{.Text}}</td></tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

// WriteChatHTML writes the chat as an HTML transcript page: the topic,
// start time and participants, then a table of the messages with their
// times and senders.
func WriteChatHTML(w io.Writer, c Chat) error {
	type row struct {
		ChatMessage
		Role string
	}
	view := struct {
		Chat
		Start time.Time
		Rows  []row
	}{Chat: c}
	if len(c.Messages) > 0 {
		view.Start = c.Messages[0].Time
	}
	for _, m := range c.Messages {
		role := "customer"
		switch m.From {
		case SystemSender:
			role = "system"
		case c.Agent, botName:
			role = "agent"
		}
		view.Rows = append(view.Rows, row{m, role})
	}
	return chatTemplate.Execute(w, view)
}

// SocialPost is one post or direct message of a social media
// conversation.
type SocialPost struct {
	ID        string    `json:"id"`
	Time      time.Time `json:"time"`
	From      string    `json:"from"` // the author's handle, "@name"
	Name      string    `json:"name"` // the author's display name
	Text      string    `json:"text"`
	InReplyTo string    `json:"inReplyTo,omitempty"`
	Public    bool      `json:"public"` // false for a direct message
}

// SocialConversation is a customer's exchange with the contact centre's
// social media account, as WriteSocialJSON writes it.
type SocialConversation struct {
	Platform       string       `json:"platform"`
	ConversationID string       `json:"conversationId"`
	Topic          string       `json:"topic"`
	Posts          []SocialPost `json:"posts"`
}

// supportHandle is the demo contact centre's social media account.
const supportHandle = "@ExampleSupport"

// NewSocialConversation makes a plausible social media conversation that
// starts at start: a customer's public complaint mentioning the support
// account, the account's public reply inviting a direct message, and
// the case resolved in direct messages. Each post replies to the one
// before.
func NewSocialConversation(rng *rand.Rand, start time.Time) SocialConversation {
	c := newCase(rng, start)
	handle := "@" + asciiLower(c.customer.First) + "_" + asciiLower(c.customer.Last)
	if rng.IntN(2) == 0 {
		handle += fmt.Sprint(rng.IntN(100))
	}
	s := SocialConversation{
		Platform: pick(rng, []string{"Twitter", "Facebook"}),
		Topic:    c.theme.topic,
	}
	// Post ids are large increasing numbers, as the platforms' are.
	id := uint64(1_700_000_000_000_000_000) + rng.Uint64N(100_000_000_000_000_000)
	t := start.Truncate(time.Second)
	post := func(agent, public bool, text string) {
		id += 1 + rng.Uint64N(1_000_000_000)
		p := SocialPost{ID: fmt.Sprint(id), Time: t, From: handle, Name: c.customer.Name(), Text: text, Public: public}
		if agent {
			p.From, p.Name = supportHandle, "Example Support"
		}
		if n := len(s.Posts); n > 0 {
			p.InReplyTo = s.Posts[n-1].ID
		}
		s.Posts = append(s.Posts, p)
		t = t.Add(time.Duration(30+rng.IntN(600)) * time.Second)
	}
	lines := c.lines(rng)
	post(false, true, supportHandle+" "+lines[0].say[0])
	s.ConversationID = s.Posts[0].ID
	post(true, true, "Hi "+c.customer.First+", sorry to hear that! Please send us a DM with your details and we'll take a look. ^"+c.agent[:1])
	post(false, false, "Hi, this is about my post earlier.")
	for _, l := range lines[2:] {
		text := l.say[0]
		if l.agent {
			text += " ^" + c.agent[:1]
		}
		post(l.agent, false, text)
	}
	return s
}

// WriteSocialJSON writes the conversation as a JSON object with its
// platform, id, topic and posts.
func WriteSocialJSON(w io.Writer, s SocialConversation) error {
	if s.Posts == nil {
		s.Posts = []SocialPost{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // JSON, not HTML: keep "<" readable as typed
	return enc.Encode(s)
}
