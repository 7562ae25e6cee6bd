package mail

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"example.com/icrec"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want Config
	}{
		{"smtp://mail.example.com", Config{Host: "mail.example.com", Port: 587, TLSMode: StartTLSRequired, Timeout: DefaultTimeout}},
		{"smtp://mail.example.com/", Config{Host: "mail.example.com", Port: 587, TLSMode: StartTLSRequired, Timeout: DefaultTimeout}},
		{"SMTP://alice@mail.example.com:2525?starttls=Opportunistic", Config{Host: "mail.example.com", Port: 2525, TLSMode: StartTLSOpportunistic, Username: "alice", Timeout: DefaultTimeout}},
		{"smtp://alice:s3cret@mail.example.com?starttls=required", Config{Host: "mail.example.com", Port: 587, Username: "alice", Password: "s3cret", Timeout: DefaultTimeout}},
		{"smtp://al%40ice:p%40ss%3Aw%2Fd%3F%23%25@mail.example.com", Config{Host: "mail.example.com", Port: 587, Username: "al@ice", Password: "p@ss:w/d?#%", Timeout: DefaultTimeout}},
		{"smtp://alice:p@ss@mail.example.com", Config{Host: "mail.example.com", Port: 587, Username: "alice", Password: "p@ss", Timeout: DefaultTimeout}},
		{"smtp://alice:a+b%20c@mail.example.com", Config{Host: "mail.example.com", Port: 587, Username: "alice", Password: "a+b c", Timeout: DefaultTimeout}},
		{"smtp://alice:@mail.example.com", Config{Host: "mail.example.com", Port: 587, Username: "alice", Timeout: DefaultTimeout}},
		{"smtps://alice:pw@mail.example.com", Config{Host: "mail.example.com", Port: 465, TLSMode: ImplicitTLS, Username: "alice", Password: "pw", Timeout: DefaultTimeout}},
		{"smtps://mail.example.com:2465", Config{Host: "mail.example.com", Port: 2465, TLSMode: ImplicitTLS, Timeout: DefaultTimeout}},
		{"smtp://localhost:25?starttls=none", Config{Host: "localhost", Port: 25, TLSMode: NoTLS, Timeout: DefaultTimeout}},
		{"smtp://alice:pw@127.0.0.1:25?starttls=none", Config{Host: "127.0.0.1", Port: 25, TLSMode: NoTLS, Username: "alice", Password: "pw", Timeout: DefaultTimeout}},
		{"smtp://[::1]:25?starttls=none", Config{Host: "::1", Port: 25, TLSMode: NoTLS, Timeout: DefaultTimeout}},
		{"smtp://[2001:db8::25]", Config{Host: "2001:db8::25", Port: 587, Timeout: DefaultTimeout}},
		{"smtp://192.0.2.25:587", Config{Host: "192.0.2.25", Port: 587, Timeout: DefaultTimeout}},
		{"smtp://mail.example.com?from=Recordings%20%3Crec@example.com%3E&helo=icrec.example.com&timeout=45s",
			Config{Host: "mail.example.com", Port: 587, From: "Recordings <rec@example.com>", HELO: "icrec.example.com", Timeout: 45 * time.Second}},
		{"smtp://mail.example.com?from=rec@example.com", Config{Host: "mail.example.com", Port: 587, From: "rec@example.com", Timeout: DefaultTimeout}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				// %#v hides the password, so show whether it matched.
				t.Errorf("got  %#v (password ok: %v)\nwant %#v", got, got.Password == tt.want.Password, tt.want)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct{ url, want string }{
		{"mail.example.com", "must start with smtp:// or smtps://"},
		{"alice:pw@mail.example.com", "must start with smtp:// or smtps://"},
		{"http://mail.example.com", `the scheme "http" is not smtp or smtps`},
		{"smtp://", "the host is missing"},
		{"smtp://alice:pw@", "the host is missing"},
		{"smtp://:pw@mail.example.com", "the user name before '@' is empty"},
		{"smtp://mail.example.com:0", `the port "0" is not a number from 1 to 65535`},
		{"smtp://mail.example.com:65536", `the port "65536"`},
		{"smtp://mail.example.com:smtp", `the port "smtp"`},
		{"smtp://mail.example.com:", "the port after ':' is empty"},
		{"smtp://[::1]:", "the port after ':' is empty"},
		{"smtp://::1", "an IPv6 address must be in brackets"},
		{"smtp://[::1", "lacks its closing ']'"},
		{"smtp://[127.0.0.1]", "is not an IPv6 address"},
		{"smtp://[::1]x", `unexpected "x" after the IPv6 address`},
		{"smtp://mail example.com", `the host "mail example.com" is not a valid host name`},
		{"smtp://-mail.example.com", "is not a valid host name"},
		{"smtp://mail.example.com/relay", "must not have a path"},
		{"smtp://mail.example.com#x", "must not have a #fragment"},
		{"smtp://mail.example.com?starttls=maybe", `starttls="maybe" is not required, opportunistic or none`},
		{"smtps://mail.example.com?starttls=required", "starttls does not apply to smtps://"},
		{"smtp://mail.example.com?startls=none", `unknown parameter "startls" (known: starttls, from, helo and timeout)`},
		{"smtp://mail.example.com?timeout=-1s", `timeout="-1s" is not a positive duration`},
		{"smtp://mail.example.com?timeout=soon", `timeout="soon"`},
		{"smtp://mail.example.com?from=nobody", `from: "nobody" is not an email address`},
		{"smtp://mail.example.com?from=j%C3%BCrgen@example.com", "not an ASCII address"},
		{"smtp://mail.example.com?from=a@example.com%0D%0ABcc:b@example.com", "from: the address must not contain line breaks"},
		{"smtp://mail.example.com?from=a@example.com&from=b@example.com", `the parameter "from" is given 2 times`},
		{"smtp://mail.example.com?helo=bad%20name", `helo="bad name" is not a host name`},
		{"smtp://mail.example.com?%zz", "the query after '?' is not valid"},
		{"smtp://alice:pw@mail.example.com?starttls=none", `starttls=none would send the password of "alice" to mail.example.com unencrypted`},
		{"smtp://alice:p%zzw@mail.example.com", "the password has a bad %-escape"},
		{"smtp://al%zzice:pw@mail.example.com", "the user name has a bad %-escape"},
		{"smtp://alice:p%0Aw@mail.example.com", "the password contains a control character"},
		{"smtp://al%0Dice:pw@mail.example.com", "the user name contains a control character"},
		{"smtp://alice:pa/ss@mail.example.com", "there is an '@' after the host"},
		{"smtp://alice:pa?ss@mail.example.com", "percent-encode '/', '?', '#' and '@'"},
		{"smtp://alice:pa#ss@mail.example.com", "there is an '@' after the host"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			_, err := ParseURL(tt.url)
			if icrec.ErrorKind(err) != icrec.Invalid {
				t.Fatalf("got %v, want an Invalid error", err)
			}
			if msg := icrec.ErrorMessage(err); !strings.HasPrefix(msg, "mail URL: ") || !strings.Contains(msg, tt.want) {
				t.Errorf("got %q, want %q", msg, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Host: "mail.example.com", From: "rec@example.com"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *Config)
		want   string
	}{
		{"ErrNoHost", func(c *Config) { c.Host = "" }, "the host is empty"},
		{"ErrBadHost", func(c *Config) { c.Host = "mail\r\n.example.com" }, "is not a valid host name"},
		{"ErrPort", func(c *Config) { c.Port = 70000 }, "the port 70000"},
		{"ErrTLSMode", func(c *Config) { c.TLSMode = 9 }, "the TLS mode 9 is unknown"},
		{"ErrHELO", func(c *Config) { c.HELO = "icrec\r\nMAIL FROM:<x@y>" }, "the HELO name"},
		{"ErrTimeout", func(c *Config) { c.Timeout = -time.Second }, "the timeout -1s is negative"},
		{"ErrPasswordWithoutUser", func(c *Config) { c.Password = "pw" }, "a password is set but no user name"},
		{"ErrUserControl", func(c *Config) { c.Username = "a\x00b" }, "the user name contains a control character"},
		{"ErrPasswordControl", func(c *Config) { c.Username, c.Password = "a", "p\nw" }, "the password contains a control character"},
		{"ErrPlainPassword", func(c *Config) { c.Username, c.TLSMode = "alice", NoTLS }, "would send the password"},
		{"ErrNoFrom", func(c *Config) { c.From = "" }, "the From address is missing"},
		{"ErrFrom", func(c *Config) { c.From = "rec" }, `From: "rec" is not an email address`},
		{"ErrFromInjection", func(c *Config) { c.From = "rec@example.com\r\nBcc: x@example.com" }, "must not contain line breaks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if icrec.ErrorKind(err) != icrec.Invalid || !strings.Contains(icrec.ErrorMessage(err), tt.want) {
				t.Errorf("got %v, want Invalid with %q", err, tt.want)
			}
		})
	}
}

func TestConfigRedacts(t *testing.T) {
	c, err := ParseURL("smtp://alice:hunter2@mail.example.com?from=rec@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if want := "smtp://alice:REDACTED@mail.example.com:587?from=rec%40example.com&starttls=required&timeout=30s"; c.String() != want {
		t.Errorf("String: got %q, want %q", c.String(), want)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("mail", "cfg", c)
	if want := "cfg.server=mail.example.com:587 cfg.tls=required cfg.from=rec@example.com cfg.user=alice cfg.password=REDACTED"; !strings.Contains(buf.String(), want) {
		t.Errorf("log: got %q, want %q", buf.String(), want)
	}
	if s := c.GoString(); !strings.Contains(s, "REDACTED") {
		t.Errorf("GoString %q", s)
	}
	smtps := Config{Host: "::1", TLSMode: ImplicitTLS, Username: "bob"}
	if want := "smtps://bob@[::1]:465"; smtps.String() != want {
		t.Errorf("String: got %q, want %q", smtps.String(), want)
	}
}
