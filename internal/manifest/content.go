package manifest

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"example.com/icrec"
)

// contentFamilies says which content types each media type may have: what
// the contract stores for it (calls as audio, emails as whole messages,
// screens as video, chats as transcripts).
var contentFamilies = map[icrec.MediaType]func(string) bool{
	icrec.MediaCall:               func(ct string) bool { return strings.HasPrefix(ct, "audio/") },
	icrec.MediaEmail:              func(ct string) bool { return ct == "message/rfc822" },
	icrec.MediaScreen:             func(ct string) bool { return strings.HasPrefix(ct, "video/") },
	icrec.MediaChat:               transcript,
	icrec.MediaChatTranscript:     transcript,
	icrec.MediaSocialConversation: transcript,
}

func transcript(ct string) bool {
	switch ct {
	case "text/html", "text/plain", "text/xml", "application/xml", "application/json", "application/xhtml+xml":
		return true
	}
	return false
}

// FitsMediaType checks that a content type is one a recording of media type
// m is stored as.
func FitsMediaType(m icrec.MediaType, contentType string) error {
	if fits, ok := contentFamilies[m]; ok && !fits(contentType) {
		return fmt.Errorf("%s does not fit a %s recording (%s)", contentType, m, familyHint[m])
	}
	return nil
}

var familyHint = map[icrec.MediaType]string{
	icrec.MediaCall:               "audio/...",
	icrec.MediaEmail:              "message/rfc822",
	icrec.MediaScreen:             "video/...",
	icrec.MediaChat:               "text/html, text/plain, text/xml, application/xml or application/json",
	icrec.MediaChatTranscript:     "text/html, text/plain, text/xml, application/xml or application/json",
	icrec.MediaSocialConversation: "text/html, text/plain, text/xml, application/xml or application/json",
}

// byExtension is a fixed table, so that what a manifest means does not
// depend on the host's mime.types.
var byExtension = map[string]string{
	".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/opus",
	".eml": "message/rfc822",
	".avi": "video/x-msvideo", ".mp4": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska",
	".html": "text/html", ".htm": "text/html", ".txt": "text/plain", ".xml": "application/xml", ".json": "application/json",
}

// ContentTypeByName guesses a content type from a file name's extension.
func ContentTypeByName(name string) (string, bool) {
	ct, ok := byExtension[strings.ToLower(path.Ext(name))]
	return ct, ok
}

// magic holds, for content types whose files start with a known signature,
// a check of the first bytes.
var magic = map[string]func(head []byte) bool{
	"audio/wav":        riff("WAVE"),
	"audio/x-wav":      riff("WAVE"),
	"audio/wave":       riff("WAVE"),
	"audio/vnd.wave":   riff("WAVE"),
	"audio/mpeg":       mp3,
	"audio/ogg":        prefix("OggS"),
	"audio/opus":       prefix("OggS"),
	"video/x-msvideo":  riff("AVI "),
	"video/avi":        riff("AVI "),
	"video/msvideo":    riff("AVI "),
	"video/mp4":        func(h []byte) bool { return len(h) >= 8 && string(h[4:8]) == "ftyp" },
	"video/webm":       prefix("\x1a\x45\xdf\xa3"),
	"video/x-matroska": prefix("\x1a\x45\xdf\xa3"),
	"application/json": func(h []byte) bool {
		t := bytes.TrimLeft(bytes.TrimPrefix(h, []byte("\xef\xbb\xbf")), " \t\r\n")
		return len(t) > 0 && (t[0] == '{' || t[0] == '[')
	},
	"message/rfc822": header,
}

func riff(form string) func([]byte) bool {
	return func(h []byte) bool { return len(h) >= 12 && string(h[:4]) == "RIFF" && string(h[8:12]) == form }
}

func prefix(p string) func([]byte) bool {
	return func(h []byte) bool { return bytes.HasPrefix(h, []byte(p)) }
}

func mp3(h []byte) bool {
	return bytes.HasPrefix(h, []byte("ID3")) || len(h) >= 2 && h[0] == 0xff && h[1]&0xe0 == 0xe0
}

// header reports whether a message starts with a header field.
func header(h []byte) bool {
	line, _, _ := bytes.Cut(h, []byte("\n"))
	name, _, ok := bytes.Cut(line, []byte(":"))
	return ok && len(name) > 0 && !bytes.ContainsAny(name, " \t")
}

// CheckContent checks a file's first bytes (up to 512) against its content
// type, for the types whose signature is known, so that a mislabelled file
// is refused at import rather than served under the wrong type for years.
func CheckContent(contentType string, head []byte) error {
	if check, ok := magic[contentType]; ok && !check(head) {
		return fmt.Errorf("the file does not look like %s", contentType)
	}
	return nil
}
