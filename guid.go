package icrec

import "strings"

// CanonicalGUID returns s as an upper-case GUID with hyphens
// (0DE0C017-CD4F-D013-8E31-18D8B7470001), the form ICWS servers emit, and
// whether s was a GUID at all. It accepts any letter case, surrounding braces
// and the 32-digit form without hyphens, since clients send all three.
func CanonicalGUID(s string) (string, bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	var hex []byte
	switch len(s) {
	case 36:
		hex = make([]byte, 0, 32)
		for i := 0; i < 36; i++ {
			c := s[i]
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if c != '-' {
					return "", false
				}
				continue
			}
			hex = append(hex, c)
		}
	case 32:
		hex = []byte(s)
	default:
		return "", false
	}
	var b strings.Builder
	b.Grow(36)
	for i, c := range hex {
		switch {
		case '0' <= c && c <= '9', 'A' <= c && c <= 'F':
		case 'a' <= c && c <= 'f':
			c -= 'a' - 'A'
		default:
			return "", false
		}
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String(), true
}
