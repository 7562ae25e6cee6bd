package icws

import (
	"fmt"
	"strings"
	"time"
)

// TimeLayout is the compact ISO-8601 form in which ICWS servers emit every
// DateTime: UTC, basic format, no fraction.
const TimeLayout = "20060102T150405Z"

// FormatTime formats t as an ICWS DateTime.
func FormatTime(t time.Time) string {
	return t.UTC().Format(TimeLayout)
}

// parseLayouts are the forms accepted in requests: the basic format servers
// emit and the extended format browsers produce (Date.toISOString), each with
// optional fractional seconds and either Z or a numeric offset, and with the
// seconds left out as the official JavaScript library allows.
var parseLayouts = []string{
	"20060102T150405Z07:00",
	"20060102T150405Z0700",
	"20060102T1504Z07:00",
	"20060102T1504Z0700",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z0700",
}

// ParseTime parses an ICWS DateTime in basic or extended ISO-8601 form. Go
// accepts a fractional second after the seconds field in every layout.
func ParseTime(s string) (time.Time, error) {
	if len(s) > 64 {
		return time.Time{}, fmt.Errorf("date %.20q… is too long", s)
	}
	// A lower-case t or z is legal ISO-8601 and JavaScript accepts it.
	u := strings.ToUpper(s)
	for _, layout := range parseLayouts {
		if t, err := time.Parse(layout, u); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not an ISO-8601 date and time such as %s or 2006-01-02T15:04:05Z", s, TimeLayout)
}

// DateTime is a time that crosses the wire as an ICWS DateTime string.
type DateTime struct{ time.Time }

// MarshalJSON emits the compact ICWS form.
func (t DateTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + FormatTime(t.Time) + `"`), nil
}

// UnmarshalJSON accepts every form ParseTime does.
func (t *DateTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("date must be a JSON string")
	}
	p, err := ParseTime(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}
