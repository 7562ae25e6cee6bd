package mail

import (
	"bytes"
	"encoding/base64"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
)

// composed builds m as Send would and returns the message bytes.
func composed(t *testing.T, m *Message) (*envelope, []byte) {
	t.Helper()
	e, err := compose(m, &netmail.Address{Name: "Recordings", Address: "rec@icrec.test"}, "icrec.test", t0)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.writeTo(&b); err != nil {
		t.Fatal(err)
	}
	if int64(b.Len()) != e.size {
		t.Errorf("wrote %d bytes, estimated %d", b.Len(), e.size)
	}
	return e, b.Bytes()
}

func TestPriority(t *testing.T) {
	tests := []struct {
		priority             int
		xPriority, importace string
	}{
		{PriorityHigh, "1", "high"},
		{PriorityNormal, "3", "normal"},
		{PriorityLow, "5", "low"},
		{0, "3", "normal"},
		{3, "3", "normal"},
		{-4, "3", "normal"},
	}
	for _, tt := range tests {
		m := testMessage()
		m.Priority = tt.priority
		_, data := composed(t, m)
		msg, _ := parseMessage(t, data)
		if got, got2 := msg.Header.Get("X-Priority"), msg.Header.Get("Importance"); got != tt.xPriority || got2 != tt.importace {
			t.Errorf("priority %d: X-Priority %q, Importance %q; want %q, %q", tt.priority, got, got2, tt.xPriority, tt.importace)
		}
	}
}

func TestSubject(t *testing.T) {
	tests := []struct {
		name, subject string
		raw           bool // sent as is, not RFC 2047-encoded
	}{
		{"ASCII", "Recording of call 42", true},
		{"Empty", "", true},
		{"LongASCII", strings.Repeat("recording ", 30) + "end", true},
		{"NonASCII", "Aufnahme für Jürgen", false},
		{"LongNonASCII", strings.Repeat("Grüße aus Köln, ", 20), false},
		{"CJK", "録音ファイルのお知らせ、通話番号四十二、長い件名のテストです、もう少し長くします", false},
		{"Tab", "a\tb", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testMessage()
			m.Subject = tt.subject
			_, data := composed(t, m)
			checkWire(t, data)
			msg, _ := parseMessage(t, data)
			raw := msg.Header.Get("Subject")
			if encoded := strings.Contains(raw, "=?utf-8?"); encoded == tt.raw {
				t.Errorf("subject %q went out as %q", tt.subject, raw)
			}
			if got, err := new(mime.WordDecoder).DecodeHeader(raw); err != nil || got != tt.subject {
				t.Errorf("subject %q went out as %q, which decodes to %q, %v", tt.subject, raw, got, err)
			}
		})
	}
}

func TestAttachmentNames(t *testing.T) {
	tests := []struct {
		name, fallback, encoded string
	}{
		{"call-42.wav", "call-42.wav", "call-42.wav"},
		{"Müller, Jürgen – 3. März.wav", "Muller, Jurgen _ 3. Marz.wav", "M%C3%BCller%2C%20J%C3%BCrgen%20%E2%80%93%203.%20M%C3%A4rz.wav"},
		{`say "hi" \ bye.wav`, "say _hi_ _ bye.wav", "say%20%22hi%22%20%5C%20bye.wav"},
		{"録音.wav", "__.wav", "%E9%8C%B2%E9%9F%B3.wav"},
		{"100%;a=b'c.wav", "100%;a=b'c.wav", "100%25%3Ba%3Db%27c.wav"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := []byte("some audio")
			_, data := composed(t, testMessage(bytesAttachment(tt.name, "audio/wav", content)))
			checkWire(t, data)
			want := "filename=\"" + tt.fallback + "\";\r\n filename*=UTF-8''" + tt.encoded + ";\r\n"
			if !bytes.Contains(data, []byte(want)) {
				t.Errorf("message lacks %q", want)
			}
			_, parts := parseMessage(t, data)
			_, params, err := mime.ParseMediaType(parts[1].header.Get("Content-Disposition"))
			if err != nil || params["filename"] != tt.name {
				t.Errorf("filename decodes to %q, %v; want %q", params["filename"], err, tt.name)
			}
			if !bytes.Equal(parts[1].content, content) {
				t.Errorf("content %q", parts[1].content)
			}
		})
	}
}

func TestBase64Lines(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 56, 57, 58, 114, 1000, 32<<10 + 7} {
		data := bytes.Repeat([]byte{0xa5, 0x00, 0x7f}, n/3+1)[:n]
		_, msg := composed(t, testMessage(bytesAttachment("x.bin", "", data)))
		_, parts := parseMessage(t, msg)
		if !bytes.Equal(parts[1].content, data) {
			t.Errorf("%d bytes: decoded %d bytes that differ", n, len(parts[1].content))
		}
		// The encoded lines are all 76 long but the last, and none is empty.
		enc := base64.StdEncoding.EncodeToString(data)
		var want strings.Builder
		for len(enc) > base64Line {
			want.WriteString(enc[:base64Line] + "\r\n")
			enc = enc[base64Line:]
		}
		want.WriteString(enc + "\r\n--")
		if !bytes.Contains(msg, []byte("\r\n\r\n"+want.String())) {
			t.Errorf("%d bytes: the part is not in lines of 76", n)
		}
	}
}

func TestMessageID(t *testing.T) {
	m := testMessage()
	e1, _ := composed(t, m)
	e2, _ := composed(t, m)
	if e1.messageID == e2.messageID || e1.boundary == e2.boundary {
		t.Errorf("two messages share Message-ID %s or boundary %s", e1.messageID, e1.boundary)
	}
	for _, tt := range []struct{ helo, want string }{
		{"icrec.example.com", "icrec.example.com"},
		{"icrec", "example.org"},
		{"localhost", "example.org"},
		{"192.0.2.1", "example.org"},
	} {
		if got := idDomain(tt.helo, "rec@example.org"); got != tt.want {
			t.Errorf("idDomain(%q): got %q, want %q", tt.helo, got, tt.want)
		}
	}
}

func TestRecipientsDeduplicated(t *testing.T) {
	m := testMessage()
	m.Cc = append(m.Cc, netmail.Address{Address: "OPS@example.com"})
	e, _ := composed(t, m)
	var got []string
	for _, r := range e.rcpts {
		got = append(got, r.addr)
	}
	if want := "juergen@example.com ops@example.com jane@example.com"; strings.Join(got, " ") != want {
		t.Errorf("recipients %q, want %q", got, want)
	}
}

func TestLongAddressListFolded(t *testing.T) {
	m := testMessage()
	for range 30 {
		m.Cc = append(m.Cc, netmail.Address{Name: "Some Long Display Name", Address: "someone.with.a.long.address@example.com"})
	}
	_, data := composed(t, m)
	checkWire(t, data)
	msg, _ := parseMessage(t, data)
	list, err := msg.Header.AddressList("Cc")
	if err != nil || len(list) != 31 {
		t.Errorf("Cc has %d addresses, %v", len(list), err)
	}
}
