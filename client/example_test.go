package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"

	"example.com/icrec"
	"example.com/icrec/client"
)

// Log in, ask for a recording's export URI and download it, checked
// against the SHA-256 that the server gives as the ETag.
func Example() {
	ctx := context.Background()
	c, err := client.Connect(ctx, client.Config{
		Server:     exampleServer, // e.g. https://cic.example.com:8019
		UserID:     "admin",
		Password:   "demo-password-1",
		HTTPClient: exampleHTTPClient, // from client.NewHTTPClient(client.TLSOptions{CAFile: "ca.pem"})
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	id := exampleCallID
	md, err := c.MediaDetails(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	uri, err := c.ExportURI(ctx, id, 0) // 0: the primary media; 1…n: an email's attachments
	if err != nil {
		log.Fatal(err)
	}
	var buf bytes.Buffer // or an *os.File, which a later call can resume
	m, err := c.Download(ctx, uri, &buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("media type:", md.MediaType)
	fmt.Println("content type:", m.ContentType)
	fmt.Println("verified:", m.Verified, "complete:", m.Size == int64(buf.Len()))
	// Output:
	// media type: Call
	// content type: audio/wav
	// verified: true complete: true
}

// Errors from the server unwrap to the *icrec.Error it would have used, so
// that icrec.IsKind tells them apart; *client.Error has the HTTP status and
// the ICWS error.
func ExampleError() {
	ctx := context.Background()
	_, err := client.Connect(ctx, client.Config{Server: exampleServer, UserID: "supervisor", Password: "not the password"})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println("login:", e.Status, e.ICWS.ErrorID, "invalid:", icrec.IsKind(err, icrec.Invalid))
	}

	c, err := client.Connect(ctx, client.Config{Server: exampleServer, UserID: "supervisor", Password: "demo-password-1"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	for _, id := range []string{exampleCallID, exampleSalesID, "00000000-0000-0000-0000-000000000000"} {
		_, err := c.ExportURI(ctx, id, 0)
		switch {
		case err == nil:
			fmt.Println("export allowed")
		case icrec.IsKind(err, icrec.Forbidden):
			fmt.Println("export not allowed")
		case icrec.IsKind(err, icrec.NotFound):
			fmt.Println("no such recording")
		case errors.As(err, &e) && e.Temporary():
			fmt.Println("try again later:", err)
		default:
			log.Fatal(err)
		}
	}
	// Output:
	// login: 400 error.request.connection.authenticationFailure invalid: true
	// export allowed
	// export not allowed
	// no such recording
}
