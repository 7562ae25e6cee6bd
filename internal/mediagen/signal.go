package mediagen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// A Segment is one stretch of a mono sound, such as a tone, a pause or a
// speaker's turn. Segments are described in continuous time so that the
// same Signal can be rendered at 8 kHz or 16 kHz and sound the same.
type Segment interface {
	// Duration is how long the segment lasts.
	Duration() time.Duration
	// Fill sets dst[i] to the segment's sample number start+i at rate
	// samples per second, in the range [-1, 1]. It must give the same
	// values however the segment is cut into calls, because writers
	// render long segments a block at a time.
	Fill(dst []float64, start, rate int)
}

// A Signal is a sequence of segments played one after another.
type Signal []Segment

// Duration is the sum of the segments' durations.
func (s Signal) Duration() time.Duration {
	var d time.Duration
	for _, seg := range s {
		d += seg.Duration()
	}
	return d
}

// frames is the number of samples the signal has at rate. Each segment is
// rounded to a whole number of samples on its own, so that a segment
// always starts at its own sample 0.
func (s Signal) frames(rate int) int64 {
	var n int64
	for _, seg := range s {
		n += samplesIn(seg.Duration(), rate)
	}
	return n
}

// samplesIn is d expressed in samples at rate, rounded to the nearest.
func samplesIn(d time.Duration, rate int) int64 {
	if d <= 0 {
		return 0
	}
	return (int64(d)*int64(rate) + int64(time.Second)/2) / int64(time.Second)
}

// Silence is a pause of d.
func Silence(d time.Duration) Segment { return silence(d) }

type silence time.Duration

func (s silence) Duration() time.Duration { return time.Duration(s) }

func (s silence) Fill(dst []float64, _, _ int) {
	clear(dst)
}

// Trim cuts seg to at most d, so that a generated call can be given an
// exact length without knowing its parts' lengths in advance.
func Trim(seg Segment, d time.Duration) Segment {
	if d >= seg.Duration() {
		return seg
	}
	return trimmed{seg, max(d, 0)}
}

type trimmed struct {
	Segment
	d time.Duration
}

func (t trimmed) Duration() time.Duration { return t.d }

// Fill fades the last few milliseconds out, because the cut may fall in
// the middle of a tone or a syllable and would otherwise click.
func (t trimmed) Fill(dst []float64, start, rate int) {
	t.Segment.Fill(dst, start, rate)
	total := t.d.Seconds()
	for i := range dst {
		ts := float64(start+i) / float64(rate)
		if left := total - ts; left < edge {
			dst[i] *= max(left, 0) / edge
		}
	}
}

// edge is the rise and fall time of every tone burst. Switching a sine on
// abruptly makes a click that spreads energy over the whole band, which a
// DTMF detector (and a listener) would notice.
const edge = 0.005

// tone is one or more sinusoids, optionally switched on and off in a
// cadence, as the call-progress tones of a telephone network are.
type tone struct {
	d     time.Duration
	freqs []float64
	amps  []float64
	on    float64 // seconds; 0 means continuous
	off   float64
}

func (t tone) Duration() time.Duration { return t.d }

func (t tone) Fill(dst []float64, start, rate int) {
	total := t.d.Seconds()
	for i := range dst {
		ts := float64(start+i) / float64(rate)
		env := burst(ts, total)
		if t.on > 0 {
			p := math.Mod(ts, t.on+t.off)
			env = min(env, burst(p, t.on))
		}
		v := 0.0
		if env > 0 {
			for k, f := range t.freqs {
				v += t.amps[k] * math.Sin(2*math.Pi*f*ts)
			}
		}
		dst[i] = v * env
	}
}

// burst is the envelope at time ts of a burst lasting length seconds:
// raised-cosine ramps of edge seconds at both ends, 1 in between, 0
// outside.
func burst(ts, length float64) float64 {
	if ts < 0 || ts >= length {
		return 0
	}
	e := min(edge, length/4)
	switch {
	case ts < e:
		return 0.5 - 0.5*math.Cos(math.Pi*ts/e)
	case length-ts < e:
		return 0.5 - 0.5*math.Cos(math.Pi*(length-ts)/e)
	}
	return 1
}

// Levels of the call-progress tones: each component at about -13 dBFS,
// so that two together stay well clear of clipping, like a real line.
const toneAmp = 0.22

// DialTone is the North American precise dial tone (350 Hz + 440 Hz,
// continuous) for d.
func DialTone(d time.Duration) Segment {
	return tone{d: d, freqs: []float64{350, 440}, amps: []float64{toneAmp, toneAmp}}
}

// Ringback is the North American ring-back tone (440 Hz + 480 Hz, 2 s on,
// 4 s off) that a caller hears while the far end rings, for d.
func Ringback(d time.Duration) Segment {
	return tone{d: d, freqs: []float64{440, 480}, amps: []float64{toneAmp, toneAmp}, on: 2, off: 4}
}

// Busy is the North American busy signal (480 Hz + 620 Hz, 0.5 s on,
// 0.5 s off) for d.
func Busy(d time.Duration) Segment {
	return tone{d: d, freqs: []float64{480, 620}, amps: []float64{toneAmp, toneAmp}, on: 0.5, off: 0.5}
}

// DTMFFrequencies returns the row (low) and column (high) frequencies in Hz
// of a DTMF key: one of 0-9, *, # and A-D.
func DTMFFrequencies(key rune) (low, high float64, ok bool) {
	const keys = "123A456B789C*0#D"
	i := -1
	for k, r := range keys {
		if r == key {
			i = k
			break
		}
	}
	if i < 0 {
		return 0, 0, false
	}
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	return rows[i/4], cols[i%4], true
}

// DTMF is the keypad tones for digits, each sounding for on and followed
// by off of silence. Telephone exchanges need at least 40 ms of each;
// 80 ms on, 70 ms off is what a phone's auto-dialler typically sends.
func DTMF(digits string, on, off time.Duration) (Segment, error) {
	if on <= 0 || off < 0 {
		return nil, fmt.Errorf("mediagen: DTMF timing %v on, %v off", on, off)
	}
	d := dtmf{on: on.Seconds(), off: off.Seconds()}
	for _, r := range digits {
		lo, hi, ok := DTMFFrequencies(r)
		if !ok {
			return nil, fmt.Errorf("mediagen: %q is not a DTMF key", r)
		}
		d.low = append(d.low, lo)
		d.high = append(d.high, hi)
	}
	d.d = time.Duration(len(d.low)) * (on + off)
	return d, nil
}

type dtmf struct {
	d         time.Duration
	low, high []float64
	on, off   float64
}

func (t dtmf) Duration() time.Duration { return t.d }

// The high group is sent a little louder than the low group (positive
// "twist"), as real keypads do to make up for line loss at high
// frequencies.
const (
	dtmfLowAmp  = 0.28
	dtmfHighAmp = 0.34
)

func (t dtmf) Fill(dst []float64, start, rate int) {
	period := t.on + t.off
	for i := range dst {
		ts := float64(start+i) / float64(rate)
		k := int(ts / period)
		if k >= len(t.low) {
			dst[i] = 0
			continue
		}
		env := burst(ts-float64(k)*period, t.on)
		if env == 0 {
			dst[i] = 0
			continue
		}
		dst[i] = env * (dtmfLowAmp*math.Sin(2*math.Pi*t.low[k]*ts) + dtmfHighAmp*math.Sin(2*math.Pi*t.high[k]*ts))
	}
}

// Typical speaking pitches in Hz, for Speech.
const (
	PitchLow  = 110 // a low adult voice
	PitchHigh = 205 // a high adult voice
)

// Speech is a speech-like sound of d: syllables of a voiced, harmonic tone
// whose pitch glides and whose two strongest bands move like the formants
// of vowels, grouped in words and phrases with pauses between them, and
// an occasional noise burst like a consonant. It is not intelligible, but
// it has speech's rhythm and spectrum, so that a waveform view, a
// silence detector or a listener sees a conversation. pitch is the
// speaker's average fundamental frequency in Hz.
func Speech(rng *rand.Rand, d time.Duration, pitch float64) Segment {
	s := speech{d: d, seed: rng.Uint64()}
	total := d.Seconds()
	t := 0.05 + rng.Float64()*0.15
	for t < total {
		words := 3 + rng.IntN(7)
		// Pitch falls through a phrase (declination); questions would
		// rise, but statements are the common case.
		f0 := pitch * (0.95 + rng.Float64()*0.15)
		for w := 0; w < words && t < total; w++ {
			for range 1 + rng.IntN(3) {
				length := 0.09 + rng.Float64()*0.17
				v1 := vowels[rng.IntN(len(vowels))]
				v2 := vowels[rng.IntN(len(vowels))]
				next := f0 * (0.96 + rng.Float64()*0.06)
				s.syl = append(s.syl, syllable{
					start: t, length: length,
					f0a: f0, f0b: next,
					f1a: v1[0], f1b: v2[0], f2a: v1[1], f2b: v2[1],
					amp:       0.35 + rng.Float64()*0.35,
					fricative: rng.IntN(10) < 4,
				})
				f0 = next
				t += length + 0.005 + rng.Float64()*0.02
			}
			t += 0.04 + rng.Float64()*0.1
		}
		t += 0.25 + rng.Float64()*0.5
	}
	// Drop syllables that would be cut off by the end, so the segment
	// ends in a pause rather than a click.
	for len(s.syl) > 0 {
		last := s.syl[len(s.syl)-1]
		if last.start+last.length <= total {
			break
		}
		s.syl = s.syl[:len(s.syl)-1]
	}
	return s
}

// vowels holds approximate first and second formant frequencies (Hz) of
// a few vowels: /i/, /e/, /a/, /o/, /u/ and schwa.
var vowels = [][2]float64{{280, 2250}, {400, 2000}, {730, 1100}, {450, 850}, {325, 800}, {500, 1500}}

type syllable struct {
	start, length float64
	f0a, f0b      float64
	f1a, f1b      float64
	f2a, f2b      float64
	amp           float64
	fricative     bool
}

type speech struct {
	d    time.Duration
	syl  []syllable
	seed uint64
}

func (s speech) Duration() time.Duration { return s.d }

// Harmonics above the telephone band (300-3400 Hz) would be cut by any
// real call path, so the voice is built only from those below it.
const speechTop = 3400.0

func (s speech) Fill(dst []float64, start, rate int) {
	clear(dst)
	if len(dst) == 0 {
		return
	}
	top := min(speechTop, 0.45*float64(rate))
	first := float64(start) / float64(rate)
	k := sort.Search(len(s.syl), func(i int) bool { return s.syl[i].start+s.syl[i].length > first })
	for i := range dst {
		ts := float64(start+i) / float64(rate)
		for k < len(s.syl) && s.syl[k].start+s.syl[k].length <= ts {
			k++
		}
		if k == len(s.syl) {
			break
		}
		y := s.syl[k]
		tau := ts - y.start
		if tau < 0 {
			continue
		}
		x := tau / y.length
		env := 0.5 - 0.5*math.Cos(2*math.Pi*x)
		f0 := y.f0a + (y.f0b-y.f0a)*x
		// The phase is the integral of the gliding pitch, so that the
		// glide does not make the waveform jump.
		phase := 2 * math.Pi * (y.f0a*tau + (y.f0b-y.f0a)*tau*x/2)
		f1 := y.f1a + (y.f1b-y.f1a)*x
		f2 := y.f2a + (y.f2b-y.f2a)*x
		// sin(h*phase) for every harmonic h by the Chebyshev recurrence
		// sin(h·p) = 2cos(p)·sin((h-1)·p) - sin((h-2)·p): one sine and
		// one cosine per sample instead of one per harmonic.
		c2 := 2 * math.Cos(phase)
		prev, cur := 0.0, math.Sin(phase)
		var v, norm float64
		for h := 1; float64(h)*f0 < top; h++ {
			f := float64(h) * f0
			a := 0.02 + resonance(f, f1, 90) + 0.6*resonance(f, f2, 130)
			v += a * cur
			norm += a
			prev, cur = cur, c2*cur-prev
		}
		if norm > 0 {
			v /= norm
		}
		if y.fricative && tau < 0.04 {
			v += 0.5 * (1 - tau/0.04) * noise(s.seed, uint64(k), uint64(start+i))
		}
		dst[i] = 0.9 * y.amp * env * v
	}
}

// resonance is the gain at f of a resonance centred on centre with
// half-power bandwidth bw: the shape of a formant.
func resonance(f, centre, bw float64) float64 {
	d := (f - centre) / bw
	return 1 / (1 + d*d)
}

// noise is white noise in [-1, 1) that depends only on its arguments, so
// that Fill stays a pure function of the sample index.
func noise(seed, syl, i uint64) float64 {
	x := seed ^ syl*0x9e3779b97f4a7c15 ^ i*0xbf58476d1ce4e5b9
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11)/float64(1<<52) - 1
}

// CallAudio is a plausible recording of a telephone call lasting exactly
// d. Half the calls are outbound: dial tone, a dialled number, ring-back
// and then a conversation. The others are inbound: a menu prompt
// answered with a key press, then a conversation. The conversation
// alternates two speakers of different pitch with short gaps.
func CallAudio(rng *rand.Rand, d time.Duration) Signal {
	agent, customer := float64(PitchHigh), float64(PitchLow)
	if rng.IntN(2) == 0 {
		agent, customer = customer, agent
	}
	agent *= 0.95 + rng.Float64()*0.1
	customer *= 0.95 + rng.Float64()*0.1
	ms := func(lo, hi int) time.Duration {
		return time.Duration(lo+rng.IntN(hi-lo+1)) * time.Millisecond
	}

	var segs Signal
	if rng.IntN(2) == 0 {
		number := []byte("1")
		for range 10 {
			number = append(number, byte('0'+rng.IntN(10)))
		}
		digits, _ := DTMF(string(number), 80*time.Millisecond, 70*time.Millisecond) // keys are all valid
		rings := 1 + rng.IntN(2)
		segs = append(segs,
			DialTone(ms(600, 1400)),
			digits,
			Silence(ms(300, 900)),
			Ringback(time.Duration(rings-1)*6*time.Second+2*time.Second+ms(200, 1500)),
			Speech(rng, ms(900, 1800), customer), // "Hello?"
			Silence(ms(200, 500)),
		)
	} else {
		key, _ := DTMF(string(rune('1'+rng.IntN(4))), 120*time.Millisecond, 0) // "1" to "4" are valid keys
		segs = append(segs,
			Silence(ms(100, 300)),
			Speech(rng, ms(3000, 5000), 180), // the menu prompt
			Silence(ms(500, 1500)),
			key,
			Silence(ms(400, 900)),
			Ringback(ms(2200, 2600)),
		)
	}
	turn := 0
	for segs.Duration() < d {
		pitch := agent
		if turn%2 == 1 {
			pitch = customer
		}
		segs = append(segs, Speech(rng, ms(1500, 7000), pitch), Silence(ms(150, 900)))
		turn++
	}
	// Cut the plan to exactly d.
	var out Signal
	left := d
	for _, seg := range segs {
		if left <= 0 {
			break
		}
		seg = Trim(seg, left)
		out = append(out, seg)
		left -= seg.Duration()
	}
	return out
}
