package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"example.com/icrec"
)

// readNewPassword gets a new password for a user: typed twice without echo
// when standard input is a terminal, otherwise the first line of standard
// input (so that scripts can pipe it in and it never appears in argv).
func readNewPassword(e env, userID string) (icrec.Secret, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprintf(e.stderr, "New password for %s: ", userID)
		a, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprintf(e.stderr, "Repeat the password: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(a) != string(b) {
			return "", errors.New("the passwords do not match")
		}
		return icrec.Secret(a), nil
	}
	line, err := bufio.NewReaderSize(io.LimitReader(e.stdin, 4096), 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password on standard input: pipe one line to it, or run on a terminal to be prompted")
	}
	return icrec.Secret(line), nil
}
