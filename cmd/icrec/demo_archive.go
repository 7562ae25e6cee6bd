package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"example.com/icrec"
	"example.com/icrec/internal/archive"
	"example.com/icrec/internal/auth"
	"example.com/icrec/internal/datadir"
	"example.com/icrec/internal/demo"
)

const demoUsage = `Usage: icrec demo [--data DIR] [--demo-password PW]

Fills an empty data directory with a demo archive: the demo users (admin,
supervisor, agent1, agent2; passwords printed once), about 35 recordings
generated on the spot (playable calls, emails with attachments, chats, a
screen recording) over two workgroups, and a policy that lets supervisor
export the recordings of the Support workgroup. icrec serve --demo does the
same before it starts serving. Nothing is added where there already are
users or recordings.

Example:
  icrec demo --data ./icrec-data && icrec serve --data ./icrec-data
`

// demoSeed fixes the demo archive, so that every new user sees the same one.
const demoSeed = 2024

// demoPolicy is the demo's one security policy.
var demoPolicy = archive.NewPolicy{
	Name:   "Supervisors export Support",
	Roles:  []string{"supervisor"},
	Scopes: []icrec.Scope{{Kind: icrec.ScopeWorkgroup, Value: demo.Support}},
	Rights: icrec.ReadAccess | icrec.CanPlay | icrec.CanExportOrArchive | icrec.CanViewCustomAttributes | icrec.CanViewTags,
}

func runDemo(ctx context.Context, args []string, e env) error {
	var data, password string
	fs := newFlagSet("demo", demoUsage, e.stdout)
	fs.StringVar(&password, "demo-password", "", "give every demo user this `password` instead of random ones")
	pos, err := dataFlags(fs, "demo", args, e, &data)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo", "unexpected argument %q", pos[0])
	}
	if password != "" {
		if err := auth.ValidatePassword(icrec.Secret(password)); err != nil {
			return usagef("demo", "--demo-password: %v", err)
		}
	}
	return withApp(ctx, data, discardLogger(), func(a *app) error {
		sessions, err := a.users(auth.DefaultConfig())
		if err != nil {
			return err
		}
		return seedDemo(ctx, a, sessions, password, apiBase(":8018", ""), e.stdout, discardLogger())
	})
}

// seedDemo creates the demo users and the demo archive where there are
// none, and prints how to try them against the API at base.
func seedDemo(ctx context.Context, a *app, sessions *auth.Service, password, base string, out io.Writer, log *slog.Logger) error {
	if err := createDemoUsers(ctx, sessions, password, out); err != nil {
		return err
	}
	n, err := a.archive.CountRecordings(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(out, "icrec: the archive already has %d recordings; --demo added none.\n", n)
		return nil
	}
	lock, err := datadir.TryLock(a.dir)
	if err != nil {
		return err
	}
	defer lock.Release()

	tmp, err := os.MkdirTemp("", "icrec-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	made, err := demo.Generate(tmp, demoSeed, time.Now())
	if err != nil {
		return fmt.Errorf("generate the demo archive: %w", err)
	}
	f, err := os.Open(tmp + "/manifest.jsonl")
	if err != nil {
		return err
	}
	defer f.Close()
	var firstErr error
	sum, err := a.archive.Import(ctx, f, archive.ImportOptions{Dir: tmp}, func(ev archive.ImportEvent) {
		if ev.Err != nil && firstErr == nil {
			firstErr = ev.Err
		}
	})
	if err != nil {
		return fmt.Errorf("import the demo archive: %w", err)
	}
	if firstErr != nil {
		return fmt.Errorf("import the demo archive: %w", firstErr)
	}
	if _, err := a.archive.AddPolicy(ctx, demoPolicy); err != nil && !icrec.IsKind(err, icrec.Conflict) {
		return err
	}
	log.Info("demo archive created", "recordings", sum.Imported, "bytes", sum.Bytes)
	printWalkthrough(out, base, made, sum)
	return nil
}

// apiBase is the URL a person on this machine reaches the API at, from the
// listen addresses: the HTTP one if there is one, else the HTTPS one.
func apiBase(httpAddr, httpsAddr string) string {
	scheme, addr := "http", httpAddr
	if addr == "" {
		scheme, addr = "https", httpsAddr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return scheme + "://localhost"
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

func printWalkthrough(out io.Writer, base string, made []demo.Recording, sum archive.ImportSummary) {
	counts := map[icrec.MediaType]int{}
	pick := map[string]string{}
	for _, r := range made {
		counts[r.MediaType]++
		key := r.MediaType.String() + "/" + r.Workgroup
		if pick[key] == "" {
			pick[key] = r.ID
		}
	}
	fmt.Fprintf(out, "\nicrec demo archive: %d recordings (%s): %d calls, %d emails, %d chats, %d chat transcript, %d social conversation, %d screen recording.\n",
		sum.Imported, humanBytes(sum.Bytes), counts[icrec.MediaCall], counts[icrec.MediaEmail], counts[icrec.MediaChat],
		counts[icrec.MediaChatTranscript], counts[icrec.MediaSocialConversation], counts[icrec.MediaScreen])
	fmt.Fprintf(out, "Workgroups %s and %s; the policy %q lets supervisor export Support's recordings;\n", demo.Support, demo.Sales, demoPolicy.Name)
	fmt.Fprintln(out, "admin may do everything, and agents may play the recordings they took part in.")
	fmt.Fprintln(out, "\nSome recordings to try:")
	for _, k := range []string{"Call/Support", "Call/Sales", "Email/Support", "Email/Sales", "Screen/Support", "Screen/Sales"} {
		if id := pick[k]; id != "" {
			fmt.Fprintf(out, "  %-15s %s\n", k, id)
		}
	}
	if id := pick["Call/Support"]; id != "" {
		fmt.Fprintf(out, "\nWho may do what:  icrec rights supervisor %s\n", id)
	}
	k := ""
	if strings.HasPrefix(base, "https:") {
		k = "-k "
	}
	fmt.Fprintf(out, `Log in (ICWS):     curl %s-s -c icws.cookies -X POST %s/icws/connection \
                     -d '{"__type":"urn:inin.com:connection:icAuthConnectionRequestSettings","applicationName":"demo","userID":"supervisor","password":"PASSWORD"}'
`, k, base)
	id := pick["Call/Support"]
	if id == "" {
		id = "RECORDINGID"
	}
	fmt.Fprintf(out, `Export link:       curl %s-s -b icws.cookies -H "ININ-ICWS-CSRF-Token: CSRFTOKEN" \
                     %s/icws/SESSIONID/recordings/%s/export-uri
Download it:       curl -k -OJ "URI"   (the link works without the session; -k: the certificate is self-signed)
`, k, base, id)
}
