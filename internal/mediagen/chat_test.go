package mediagen_test

import (
	"bytes"
	"encoding/json"
	"html"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/icrec/internal/mediagen"
)

var chatStart = time.Date(2024, 11, 18, 16, 5, 0, 0, time.UTC)

// transcriptRow matches one message row of WriteChatHTML's table. Text
// cells may hold no raw '<', so a match also shows the text was escaped.
var transcriptRow = regexp.MustCompile(`<tr class="(\w+)"><td><time datetime="([^"]+)">[^<]*</time></td><td class="from">([^<]*)</td><td>([^<]*)</td></tr>`)

func TestNewChat(t *testing.T) {
	t.Run("OKPlausible", func(t *testing.T) {
		for seed := range uint64(20) {
			c := mediagen.NewChat(newRand(seed), chatStart)
			if len(c.Messages) < 6 {
				t.Fatalf("seed %d: %d messages", seed, len(c.Messages))
			}
			if !c.Messages[0].Time.Equal(chatStart) {
				t.Errorf("seed %d: starts at %v, want %v", seed, c.Messages[0].Time, chatStart)
			}
			senders := map[string]int{}
			for k, m := range c.Messages {
				senders[m.From]++
				if k > 0 && !m.Time.After(c.Messages[k-1].Time) {
					t.Errorf("seed %d: message %d at %v, not after %v", seed, k, m.Time, c.Messages[k-1].Time)
				}
				if m.Time.Nanosecond() != 0 {
					t.Errorf("seed %d: message %d at a fraction of a second", seed, k)
				}
			}
			if senders[c.Customer] < 2 || senders[c.Agent] < 2 || senders[mediagen.SystemSender] == 0 {
				t.Errorf("seed %d: senders %v", seed, senders)
			}
		}
	})
	t.Run("OKDeterministic", func(t *testing.T) {
		var a, b, c bytes.Buffer
		for _, x := range []struct {
			w    *bytes.Buffer
			seed uint64
		}{{&a, 9}, {&b, 9}, {&c, 10}} {
			if err := mediagen.WriteChatHTML(x.w, mediagen.NewChat(newRand(x.seed), chatStart)); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Error("the same seed gave different transcripts")
		}
		if bytes.Equal(a.Bytes(), c.Bytes()) {
			t.Error("different seeds gave the same transcript")
		}
	})
}

func TestWriteChatJSON(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c := mediagen.NewChat(newRand(3), chatStart)
		var b bytes.Buffer
		if err := mediagen.WriteChatJSON(&b, c); err != nil {
			t.Fatal(err)
		}
		// The shape is an array of objects with exactly these keys.
		var raw []map[string]any
		if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		for k, m := range raw {
			if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, []string{"from", "text", "time"}) {
				t.Fatalf("message %d has keys %v", k, got)
			}
		}
		var got []mediagen.ChatMessage
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(c.Messages) {
			t.Fatalf("%d messages, want %d", len(got), len(c.Messages))
		}
		for k, m := range got {
			w := c.Messages[k]
			if !m.Time.Equal(w.Time) || m.From != w.From || m.Text != w.Text {
				t.Errorf("message %d is %+v, want %+v", k, m, w)
			}
		}
	})
	t.Run("OKEmptyIsArray", func(t *testing.T) {
		var b bytes.Buffer
		if err := mediagen.WriteChatJSON(&b, mediagen.Chat{}); err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(b.String()); got != "[]" {
			t.Fatalf("empty chat is %q, want []", got)
		}
	})
}

func TestWriteChatHTML(t *testing.T) {
	t.Run("OKEveryMessage", func(t *testing.T) {
		for seed := range uint64(10) {
			c := mediagen.NewChat(newRand(seed), chatStart)
			var b bytes.Buffer
			if err := mediagen.WriteChatHTML(&b, c); err != nil {
				t.Fatal(err)
			}
			rows := transcriptRow.FindAllStringSubmatch(b.String(), -1)
			if len(rows) != len(c.Messages) {
				t.Fatalf("seed %d: %d rows, want %d", seed, len(rows), len(c.Messages))
			}
			for k, r := range rows {
				m := c.Messages[k]
				if got, want := r[2], m.Time.Format(time.RFC3339); got != want {
					t.Errorf("row %d datetime %q, want %q", k, got, want)
				}
				if got := html.UnescapeString(r[3]); got != m.From {
					t.Errorf("row %d from %q, want %q", k, got, m.From)
				}
				if got := html.UnescapeString(r[4]); got != m.Text {
					t.Errorf("row %d text %q, want %q", k, got, m.Text)
				}
				want := "customer"
				switch m.From {
				case mediagen.SystemSender:
					want = "system"
				case c.Agent, "Virtual Assistant":
					want = "agent"
				}
				if r[1] != want {
					t.Errorf("row %d (%s) class %q, want %q", k, m.From, r[1], want)
				}
			}
		}
	})
	t.Run("OKEscapesMarkup", func(t *testing.T) {
		c := mediagen.Chat{
			Topic:        "<i>Billing</i>",
			Customer:     "<b>Eve</b>",
			Agent:        "Sam",
			Participants: []string{"<b>Eve</b>", "Sam"},
			Messages: []mediagen.ChatMessage{
				{Time: chatStart, From: "<b>Eve</b>", Text: `<script>alert("x")</script> & more`},
				{Time: chatStart.Add(time.Minute), From: "Sam", Text: "Tom & Jerry's <order>"},
			},
		}
		var b bytes.Buffer
		if err := mediagen.WriteChatHTML(&b, c); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script>", "<b>", "<i>", "<order>", "& more"} {
			if strings.Contains(b.String(), bad) {
				t.Errorf("output contains unescaped %q", bad)
			}
		}
		rows := transcriptRow.FindAllStringSubmatch(b.String(), -1)
		if len(rows) != 2 || html.UnescapeString(rows[0][4]) != c.Messages[0].Text {
			t.Fatalf("rows %q", rows)
		}
	})
}

func TestWriteSocialJSON(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for seed := range uint64(10) {
			s := mediagen.NewSocialConversation(newRand(seed), chatStart)
			var b bytes.Buffer
			if err := mediagen.WriteSocialJSON(&b, s); err != nil {
				t.Fatal(err)
			}
			var got mediagen.SocialConversation
			if err := json.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Platform == "" || got.Topic == "" || len(got.Posts) < 4 {
				t.Fatalf("seed %d: %+v", seed, got)
			}
			if got.ConversationID != got.Posts[0].ID {
				t.Errorf("seed %d: conversationId %q, want the first post's id %q", seed, got.ConversationID, got.Posts[0].ID)
			}
			first := got.Posts[0]
			if !first.Public || !strings.HasPrefix(first.Text, "@ExampleSupport ") || first.InReplyTo != "" {
				t.Errorf("seed %d: first post %+v, want a public mention", seed, first)
			}
			private := 0
			for k, p := range got.Posts[1:] {
				prev := got.Posts[k]
				id, err1 := strconv.ParseUint(p.ID, 10, 64)
				prevID, err2 := strconv.ParseUint(prev.ID, 10, 64)
				if err1 != nil || err2 != nil || id <= prevID {
					t.Errorf("seed %d: post id %q after %q", seed, p.ID, prev.ID)
				}
				if p.InReplyTo != prev.ID {
					t.Errorf("seed %d: post %s replies to %q, want %q", seed, p.ID, p.InReplyTo, prev.ID)
				}
				if !p.Time.After(prev.Time) {
					t.Errorf("seed %d: post %s at %v, not after %v", seed, p.ID, p.Time, prev.Time)
				}
				if !p.Public {
					private++
				}
			}
			if private == 0 {
				t.Errorf("seed %d: no direct messages", seed)
			}
		}
	})
	t.Run("OKEmptyHasPostsArray", func(t *testing.T) {
		var b bytes.Buffer
		if err := mediagen.WriteSocialJSON(&b, mediagen.SocialConversation{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), `"posts": []`) {
			t.Fatalf("empty conversation is %s, want posts: []", b.String())
		}
	})
}
