package mimeindex

import (
	"io"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"example.com/icrec"
)

// partInfo is what the parser makes of a part's header.
type partInfo struct {
	mediaType  string            // lower-case type/subtype, defaults applied
	params     map[string]string // Content-Type parameters, names lower-cased
	cte        string            // a known Content-Transfer-Encoding, lower-cased
	disp       string            // Content-Disposition type, lower-cased; "" if none
	dispParams map[string]string
}

func (pi partInfo) multipart() bool { return strings.HasPrefix(pi.mediaType, "multipart/") }

func (h *header) info(defaultType string) partInfo {
	pi := partInfo{mediaType: defaultType}
	if h.has[fieldContentType] {
		mt, ps := splitValue(string(h.val[fieldContentType]))
		if validMediaType(mt) {
			pi.mediaType, pi.params = mt, ps
		}
	}
	pi.cte = "7bit"
	if h.has[fieldEncoding] {
		v := strings.TrimSpace(string(h.val[fieldEncoding]))
		if i := strings.IndexAny(v, " \t;("); i >= 0 {
			v = v[:i]
		}
		if v != "" {
			pi.cte = strings.ToLower(v)
		}
	}
	switch pi.cte {
	case "7bit", "8bit", "binary", "quoted-printable", "base64":
	default:
		// RFC 2045 §6.4: content in an unknown encoding is opaque. A
		// multipart's encoding is ignored altogether.
		if !pi.multipart() {
			pi.mediaType = "application/octet-stream"
		}
		pi.cte = "binary"
	}
	if h.has[fieldDisposition] {
		pi.disp, pi.dispParams = splitValue(string(h.val[fieldDisposition]))
	}
	return pi
}

// attachment reports whether a leaf is an attachment (see the package
// comment) and fills in what the header says about it: its content type
// and its file name as given, decoded but not yet made safe.
func (pi partInfo) attachment() (icrec.Attachment, bool) {
	name := decodedParam(pi.dispParams, "filename")
	if strings.TrimSpace(name) == "" {
		name = decodedParam(pi.params, "name")
	}
	named := strings.TrimSpace(name) != ""
	body := (pi.mediaType == "text/plain" || pi.mediaType == "text/html") &&
		(pi.disp == "" || pi.disp == "inline") && !named
	return icrec.Attachment{FileName: name, ContentType: pi.mediaType}, !body
}

// splitValue splits a structured field value such as
// `attachment; filename="a b.pdf"` into its leading token, lower-cased,
// and its parameters, names lower-cased, the first of each name winning.
// It is lenient as mail demands: an unquoted value runs to the next
// semicolon, blanks included; an unterminated quoted string runs to the
// end; a parameter without "=" is skipped. Comments are removed where a
// token may stand, in the leading token and before a parameter's name, but
// not from values: an unquoted file name such as report(1).pdf is common,
// and would lose its "(1)".
func splitValue(v string) (string, map[string]string) {
	main, rest := leadingToken(v)
	var ps map[string]string
	for {
		rest = strings.TrimLeft(rest, " \t;")
		if strings.HasPrefix(rest, "(") {
			rest = skipComment(rest)
			continue
		}
		if rest == "" {
			break
		}
		i := strings.IndexAny(rest, "=;")
		if i < 0 {
			break
		}
		if rest[i] == ';' {
			rest = rest[i+1:]
			continue
		}
		name := strings.ToLower(strings.TrimSpace(rest[:i]))
		rest = strings.TrimLeft(rest[i+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			val, rest = unquote(rest[1:])
			if _, after, ok := strings.Cut(rest, ";"); ok {
				rest = after
			} else {
				rest = ""
			}
		} else {
			val, rest, _ = strings.Cut(rest, ";")
			val = strings.TrimSpace(val)
		}
		if name == "" {
			continue
		}
		if ps == nil {
			ps = make(map[string]string)
		}
		if _, dup := ps[name]; !dup {
			ps[name] = val
		}
	}
	return main, ps
}

// leadingToken returns what comes before the parameters of a structured
// field value, lower-cased, and the parameters. RFC 2045 allows comments
// and blanks between the tokens of a media type (`multipart / mixed
// (digest follows)`), and a mailer that writes them means multipart/mixed,
// not the text/plain that a malformed type stands for; so comments go, a
// ";" inside one does not start the parameters, and blanks around the "/"
// close up.
func leadingToken(v string) (main, rest string) {
	var b strings.Builder
	for v != "" && v[0] != ';' {
		if v[0] == '(' {
			v = skipComment(v)
			b.WriteByte(' ') // a comment separates what it stands between
			continue
		}
		b.WriteByte(v[0])
		v = v[1:]
	}
	if v != "" {
		rest = v[1:]
	}
	main = strings.TrimSpace(b.String())
	if typ, sub, ok := strings.Cut(main, "/"); ok {
		main = strings.TrimSpace(typ) + "/" + strings.TrimSpace(sub)
	}
	return strings.ToLower(main), rest
}

// skipComment returns what follows the RFC 5322 comment that s starts
// with. Comments nest, and a backslash quotes the next character; one left
// open runs to the end.
func skipComment(s string) string {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return s[i+1:]
			}
		}
	}
	return ""
}

// unquote reads a quoted string whose opening quote is gone and returns
// its value and what follows the closing quote.
func unquote(s string) (val, rest string) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:]
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

func validMediaType(mt string) bool {
	typ, sub, ok := strings.Cut(mt, "/")
	return ok && isToken(typ) && isToken(sub)
}

// isToken reports whether s is an RFC 2045 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// decodedParam returns the parameter key decoded: from its RFC 2231 form
// (key* or the sections key*0, key*1*, …) if there is one and its charset
// is known, else from its plain form with any RFC 2047 encoded-words
// decoded.
func decodedParam(ps map[string]string, key string) string {
	if s, ok := extendedParam(ps, key); ok {
		return s
	}
	v := ps[key]
	if strings.Contains(v, "=?") {
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			return d
		}
	}
	return v
}

// extendedParam returns the parameter key from its RFC 2231 form, decoded;
// ok is false if there is none or its charset is unknown.
func extendedParam(ps map[string]string, key string) (s string, ok bool) {
	if v, ok := ps[key+"*"]; ok {
		charset, text := splitCharset(v)
		return toUTF8(charset, percentDecode(text))
	}
	if !hasSections(ps, key) {
		return "", false
	}
	var b []byte
	var charset string
	for i := 0; ; i++ {
		k := key + "*" + strconv.Itoa(i)
		if v, ok := ps[k+"*"]; ok {
			if i == 0 {
				charset, v = splitCharset(v)
			}
			b = append(b, percentDecode(v)...)
		} else if v, ok := ps[k]; ok {
			b = append(b, v...)
		} else {
			break
		}
	}
	return toUTF8(charset, b)
}

// hasExtended reports whether the parameter key is given in RFC 2231 form.
func hasExtended(ps map[string]string, key string) bool {
	_, whole := ps[key+"*"]
	return whole || hasSections(ps, key)
}

func hasSections(ps map[string]string, key string) bool {
	_, enc := ps[key+"*0*"]
	_, plain := ps[key+"*0"]
	return enc || plain
}

// splitCharset splits an RFC 2231 extended value charset'language'text.
func splitCharset(v string) (charset, text string) {
	charset, rest, ok := strings.Cut(v, "'")
	if !ok {
		return "", v
	}
	_, text, ok = strings.Cut(rest, "'")
	if !ok {
		return "", v
	}
	return charset, text
}

func percentDecode(s string) []byte {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return b
}

// toUTF8 converts text in a charset to UTF-8; ok is false for a charset
// the WHATWG Encoding Standard does not know.
func toUTF8(charset string, b []byte) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return string(b), true
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return "", false
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return "", false
	}
	return string(out), true
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}

// maxNameBytes bounds a file name, as most file systems do.
const maxNameBytes = 255

// fileName returns the name to offer for attachment index: the given name
// made safe, or attachment-N and an extension for the content type.
func fileName(given, contentType string, index int) string {
	if s := safeName(given); s != "" {
		return s
	}
	return "attachment-" + strconv.Itoa(index) + extension(contentType)
}

// safeName makes a name safe to offer a downloader, or returns "".
func safeName(s string) string {
	s = strings.ToValidUTF8(s, "_")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 || r == 0x2028 || r == 0x2029:
			return ' '
		case unicode.IsControl(r) || isBidiControl(r) || r == 0xfeff:
			return -1
		}
		return r
	}, s)
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(s)
	if s == "." || s == ".." {
		return ""
	}
	if len(s) <= maxNameBytes {
		return s
	}
	ext := ""
	if i := strings.LastIndexByte(s, '.'); i > 0 && len(s)-i <= 32 {
		ext = s[i:]
	}
	stem := s[:len(s)-len(ext)]
	n := maxNameBytes - len(ext)
	for n > 0 && !utf8.RuneStart(stem[n]) {
		n--
	}
	return strings.TrimRightFunc(stem[:n], unicode.IsSpace) + ext
}

// isBidiControl reports the characters that reorder text, which can make
// "invoice\u202Efdp.exe" look like a PDF.
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f ||
		0x202a <= r && r <= 0x202e || 0x2066 <= r && r <= 0x2069
}

// extensions fixes the extension for common types. It is the only source:
// fsck compares the names it rebuilds with those stored at import, so a
// name must not depend on the mime.types of the host that made it.
var extensions = map[string]string{
	"application/gzip":                               ".gz",
	"application/json":                               ".json",
	"application/msword":                             ".doc",
	"application/octet-stream":                       ".bin",
	"application/pdf":                                ".pdf",
	"application/pgp-signature":                      ".asc",
	"application/pkcs7-mime":                         ".p7m",
	"application/pkcs7-signature":                    ".p7s",
	"application/rtf":                                ".rtf",
	"application/vnd.ms-excel":                       ".xls",
	"application/vnd.ms-outlook":                     ".msg",
	"application/vnd.ms-powerpoint":                  ".ppt",
	"application/vnd.oasis.opendocument.spreadsheet": ".ods",
	"application/vnd.oasis.opendocument.text":        ".odt",
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         ".xlsx",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   ".docx",
	"application/x-pkcs7-signature":                                             ".p7s",
	"application/xml":                                                           ".xml",
	"application/zip":                                                           ".zip",
	"audio/mp4":                                                                 ".m4a",
	"audio/mpeg":                                                                ".mp3",
	"audio/ogg":                                                                 ".ogg",
	"audio/wav":                                                                 ".wav",
	"audio/x-wav":                                                               ".wav",
	"image/bmp":                                                                 ".bmp",
	"image/gif":                                                                 ".gif",
	"image/heic":                                                                ".heic",
	"image/jpeg":                                                                ".jpg",
	"image/png":                                                                 ".png",
	"image/svg+xml":                                                             ".svg",
	"image/tiff":                                                                ".tif",
	"image/webp":                                                                ".webp",
	"message/delivery-status":                                                   ".txt",
	"message/global":                                                            ".eml",
	"message/rfc822":                                                            ".eml",
	"text/calendar":                                                             ".ics",
	"text/csv":                                                                  ".csv",
	"text/html":                                                                 ".html",
	"text/plain":                                                                ".txt",
	"text/rfc822-headers":                                                       ".txt",
	"text/vcard":                                                                ".vcf",
	"text/x-vcard":                                                              ".vcf",
	"text/xml":                                                                  ".xml",
	"video/mp4":                                                                 ".mp4",
	"video/mpeg":                                                                ".mpeg",
	"video/quicktime":                                                           ".mov",
}

// extension returns the extension for a content type, or "" for a type
// the table does not know.
func extension(contentType string) string {
	return extensions[contentType]
}

// Extension returns the extension icrec gives files of a content type,
// parameters and letter case ignored, or "" for a type it does not know.
// The table is icrec's own, so a name is the same on every host.
func Extension(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return extension(strings.ToLower(strings.TrimSpace(mt)))
}
