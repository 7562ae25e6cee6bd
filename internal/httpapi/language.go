package httpapi

import (
	"strconv"
	"strings"

	"example.com/icrec/icws"
)

// languages are those icrec answers in.
var languages = []icws.Language{{LanguageID: "en-us", LanguageDisplayName: "English (United States)"}}

const defaultLanguage = "en-us"

// negotiateLanguage picks the supported language that best fits an
// Accept-Language header: the highest-weighted tag whose language matches
// one icrec has. Clients send en-us, en-US, en, en-au, or nothing at all,
// so the header is never required, and junk in it is ignored.
func negotiateLanguage(header string) string {
	best, bestQ := defaultLanguage, -1.0
	for part := range strings.SplitSeq(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if q <= bestQ || q == 0 {
			continue
		}
		if lang, ok := supportedLanguage(strings.TrimSpace(tag)); ok {
			best, bestQ = lang, q
		}
	}
	return best
}

// supportedLanguage maps a language tag to a supported language id by its
// primary subtag, so en-au is answered in en-us.
func supportedLanguage(tag string) (string, bool) {
	primary, _, _ := strings.Cut(tag, "-")
	for _, l := range languages {
		lp, _, _ := strings.Cut(l.LanguageID, "-")
		if strings.EqualFold(primary, lp) {
			return l.LanguageID, true
		}
	}
	return "", false
}
