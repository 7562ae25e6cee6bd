// Package icws holds the wire representations of the Interaction Center Web
// Services (ICWS) API that icrec speaks: the JSON bodies of requests,
// responses, errors and messages, the ICWS date format, and the conversions
// between them and the icrec domain types.
//
// These types are an external contract. The server (internal/httpapi) and
// the Go client both use them, so the two sides cannot drift apart, and
// golden tests pin their JSON. Renaming a Go field must never change the wire.
//
// Decoding is lenient, as real ICWS clients need: property order does not
// matter (the official JavaScript library sends __type last), unknown
// properties and nulls are ignored, and the request Content-Type is not
// consulted. Decoding errors are *icrec.Error values that name the offending
// property, ready to be sent back as ICWS error bodies.
package icws

// ContentType is the media type of every JSON body icrec sends, errors
// included. The official ICWS JavaScript library parses a body as JSON only
// when the response carries this type.
const ContentType = "application/vnd.inin.icws+json; charset=utf-8"
