package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns the terminal side of a new pseudo-terminal.
func openPTY(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("name the pseudo-terminal: %v", err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return tty
}

func TestNewLogger(t *testing.T) {
	// auto: JSON to a pipe or file, text to a terminal.
	var buf bytes.Buffer
	log, err := newLogger(&buf, "auto", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "k", "v")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["msg"] != "hello" || m["k"] != "v" {
		t.Errorf("auto off a terminal: %q is not the JSON line", buf.String())
	}
	if _, ok := log.Handler().(*slog.JSONHandler); !ok {
		t.Errorf("auto off a terminal: %T", log.Handler())
	}
	log, err = newLogger(openPTY(t), "auto", "info")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := log.Handler().(*slog.TextHandler); !ok {
		t.Errorf("auto on a terminal: %T, want text", log.Handler())
	}
	for _, tc := range []struct{ format, want string }{{"TEXT", "msg=hello k=v"}, {"json", `"msg":"hello","k":"v"`}} {
		buf.Reset()
		log, err := newLogger(&buf, tc.format, "debug")
		if err != nil {
			t.Fatal(err)
		}
		log.Debug("hello", "k", "v")
		if !strings.Contains(buf.String(), tc.want) {
			t.Errorf("%s: %q lacks %q", tc.format, buf.String(), tc.want)
		}
	}
	// The level filters.
	buf.Reset()
	log, _ = newLogger(&buf, "json", "warn")
	log.Info("quiet")
	if buf.Len() != 0 {
		t.Errorf("info logged at level warn: %q", buf.String())
	}
	for _, bad := range [][2]string{{"xml", "info"}, {"auto", "loud"}} {
		if _, err := newLogger(&buf, bad[0], bad[1]); err == nil {
			t.Errorf("newLogger(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
