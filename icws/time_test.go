package icws_test

import (
	"encoding/json"
	"testing"
	"time"

	"example.com/icrec/icws"
)

func TestParseTime(t *testing.T) {
	want := time.Date(2020, 10, 29, 8, 20, 18, 0, time.UTC)
	for _, s := range []string{
		"20201029T082018Z",
		"2020-10-29T08:20:18Z",
		"2020-10-29t08:20:18z",
		"2020-10-29T10:20:18+02:00",
		"20201029T102018+0200",
		"2020-10-29T03:20:18-0500",
	} {
		got, err := icws.ParseTime(s)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", s, err)
			continue
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q)=%v, want %v in UTC", s, got, want)
		}
	}
	for s, w := range map[string]time.Time{
		"20201029T082018.250Z":     want.Add(250 * time.Millisecond),
		"2020-10-29T08:20:18.250Z": want.Add(250 * time.Millisecond),
		"2020-10-29T08:20Z":        want.Add(-18 * time.Second),
		"20201029T0820Z":           want.Add(-18 * time.Second),
	} {
		if got, err := icws.ParseTime(s); err != nil || !got.Equal(w) {
			t.Errorf("ParseTime(%q)=%v, %v; want %v", s, got, err, w)
		}
	}
	for _, s := range []string{"", "yesterday", "2020-10-29", "20201029T082018", "2020-13-01T00:00:00Z", "2020-10-29T08:20:18Z extra", string(make([]byte, 100))} {
		if _, err := icws.ParseTime(s); err == nil {
			t.Errorf("ParseTime(%q) succeeded, want an error", s)
		}
	}
}

func TestDateTimeJSON(t *testing.T) {
	var v struct {
		T icws.DateTime `json:"t"`
	}
	if err := json.Unmarshal([]byte(`{"t":"2020-10-29T10:20:18+02:00"}`), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"t":"20201029T082018Z"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"t":12}`), &v); err == nil {
		t.Error("a number was accepted as a date")
	}
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"20201029T082018Z", "2020-10-29T08:20:18.123+02:00", "20201029T0820Z", "", "T", "9999-12-31T23:59:59Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := icws.ParseTime(s)
		if err != nil {
			return
		}
		// Whatever is accepted formats and parses back to the same second.
		back, err := icws.ParseTime(icws.FormatTime(tm))
		if err != nil {
			if tm.Year() < 0 || tm.Year() > 9999 {
				return // outside what the compact form can carry
			}
			t.Fatalf("ParseTime(FormatTime(%v)): %v", tm, err)
		}
		if !back.Equal(tm.Truncate(time.Second)) {
			t.Fatalf("round trip of %q: %v != %v", s, back, tm.Truncate(time.Second))
		}
	})
}
