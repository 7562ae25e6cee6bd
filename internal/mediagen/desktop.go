package mediagen

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"time"
)

// DesktopOptions sizes a screen recording. Zero fields take the
// defaults: 640×360, 5 frames per second, 6 seconds.
type DesktopOptions struct {
	Width, Height int
	FPS           int
	Duration      time.Duration
}

// A Desktop is a Video of an agent's screen: a wallpaper, a task bar with
// a running clock, two idle windows and a contact-centre application in
// front, whose notes field fills with typed text, whose progress bar
// advances and whose queue selection changes, while the mouse pointer
// wanders between controls. All of it is planned when the Desktop is
// made, so that drawing a frame is a pure function of its number.
type Desktop struct {
	w, h, fps, n int
	scale        float64
	wallTop      color.RGBA
	wallBottom   color.RGBA
	accent       color.RGBA
	clock        int // seconds since midnight at frame 0
	idle         [2]idleWindow
	app          image.Rectangle
	queue        []queueItem
	fields       []int   // widths of the form's field values, in characters
	notes        []int   // word lengths of the typed notes, in characters
	typing       float64 // characters typed per frame
	waypoints    []image.Point
}

type idleWindow struct {
	r     image.Rectangle
	lines []int // widths of the text bars, as fractions of 1000
}

type queueItem struct {
	status color.RGBA
	a, b   int // text bar widths
}

var wallpapers = [][2]color.RGBA{
	{{28, 80, 140, 255}, {86, 150, 200, 255}},
	{{34, 92, 74, 255}, {122, 170, 120, 255}},
	{{78, 52, 112, 255}, {170, 112, 150, 255}},
	{{40, 44, 52, 255}, {96, 104, 120, 255}},
}

var accents = []color.RGBA{{0, 94, 184, 255}, {196, 64, 40, 255}, {0, 128, 110, 255}, {110, 70, 170, 255}}

// NewDesktop plans a screen recording from rng.
func NewDesktop(rng *rand.Rand, opt DesktopOptions) (*Desktop, error) {
	if opt.Width == 0 {
		opt.Width = 640
	}
	if opt.Height == 0 {
		opt.Height = 360
	}
	if opt.FPS == 0 {
		opt.FPS = 5
	}
	if opt.Duration == 0 {
		opt.Duration = 6 * time.Second
	}
	if opt.Width < 160 || opt.Height < 90 || opt.Width > 7680 || opt.Height > 4320 {
		return nil, fmt.Errorf("mediagen: desktop size %dx%d out of range 160x90 to 7680x4320", opt.Width, opt.Height)
	}
	if opt.FPS < 1 || opt.FPS > 60 {
		return nil, fmt.Errorf("mediagen: %d fps out of range 1-60", opt.FPS)
	}
	n := int(opt.Duration.Seconds()*float64(opt.FPS) + 0.5)
	if n < 1 {
		return nil, fmt.Errorf("mediagen: %v at %d fps is no frames", opt.Duration, opt.FPS)
	}
	d := &Desktop{
		w: opt.Width, h: opt.Height, fps: opt.FPS, n: n,
		scale: float64(opt.Height) / 360,
		clock: 8*3600 + rng.IntN(9*3600),
	}
	wp := wallpapers[rng.IntN(len(wallpapers))]
	d.wallTop, d.wallBottom = wp[0], wp[1]
	d.accent = accents[rng.IntN(len(accents))]

	bar := d.px(24)
	for k := range d.idle {
		ww := d.w/3 + rng.IntN(d.w/4)
		wh := (d.h-bar)/3 + rng.IntN((d.h-bar)/3)
		x := rng.IntN(d.w - ww)
		y := rng.IntN(d.h - bar - wh)
		win := idleWindow{r: image.Rect(x, y, x+ww, y+wh)}
		for range 3 + rng.IntN(5) {
			win.lines = append(win.lines, 300+rng.IntN(650))
		}
		d.idle[k] = win
	}
	// The application covers most of the screen, off-centre.
	aw := d.w * (70 + rng.IntN(15)) / 100
	ah := (d.h - bar) * (78 + rng.IntN(12)) / 100
	ax := rng.IntN(d.w - aw + 1)
	ay := rng.IntN(d.h - bar - ah + 1)
	d.app = image.Rect(ax, ay, ax+aw, ay+ah)

	statuses := []color.RGBA{{46, 160, 67, 255}, {230, 160, 20, 255}, {200, 50, 50, 255}, {120, 120, 120, 255}}
	for range 6 {
		d.queue = append(d.queue, queueItem{status: statuses[rng.IntN(len(statuses))], a: 40 + rng.IntN(50), b: 25 + rng.IntN(45)})
	}
	for range 3 {
		d.fields = append(d.fields, 6+rng.IntN(18))
	}
	for range 60 {
		d.notes = append(d.notes, 1+rng.IntN(9))
	}
	// A fast typist manages about 6 characters a second; the notes should
	// visibly grow even in a recording of a few seconds.
	d.typing = (5 + rng.Float64()*4) / float64(d.fps)

	for range 5 {
		d.waypoints = append(d.waypoints, image.Pt(rng.IntN(d.w-d.px(12)), rng.IntN(d.h-d.px(20))))
	}
	return d, nil
}

// Bounds implements Video.
func (d *Desktop) Bounds() image.Rectangle { return image.Rect(0, 0, d.w, d.h) }

// FPS implements Video.
func (d *Desktop) FPS() int { return d.fps }

// Len implements Video.
func (d *Desktop) Len() int { return d.n }

// px scales a length given for a 360-line screen to this one.
func (d *Desktop) px(v int) int { return int(math.Round(float64(v) * d.scale)) }

var (
	white      = color.RGBA{255, 255, 255, 255}
	paneGrey   = color.RGBA{242, 243, 245, 255}
	lineGrey   = color.RGBA{200, 204, 210, 255}
	textGrey   = color.RGBA{150, 155, 162, 255}
	textDark   = color.RGBA{60, 64, 72, 255}
	titleGrey  = color.RGBA{214, 216, 220, 255}
	taskbarBg  = color.RGBA{30, 33, 40, 255}
	taskButton = color.RGBA{58, 63, 74, 255}
	selectBg   = color.RGBA{214, 232, 250, 255}
	progressOK = color.RGBA{46, 160, 67, 255}
)

// Draw implements Video.
func (d *Desktop) Draw(dst *image.RGBA, i int) {
	i = max(0, min(i, d.n-1))
	// Wallpaper: a vertical gradient, one row at a time.
	for y := 0; y < d.h; y++ {
		t := float64(y) / float64(d.h-1)
		fill(dst, image.Rect(0, y, d.w, y+1), mix(d.wallTop, d.wallBottom, t))
	}

	for _, win := range d.idle {
		d.drawWindow(dst, win.r, titleGrey)
		body := image.Rect(win.r.Min.X+d.px(10), win.r.Min.Y+d.px(28), win.r.Max.X-d.px(10), win.r.Max.Y-d.px(6))
		for k, l := range win.lines {
			y := body.Min.Y + k*d.px(14)
			if y+d.px(6) > body.Max.Y {
				break
			}
			fill(dst, image.Rect(body.Min.X, y, body.Min.X+body.Dx()*l/1000, y+d.px(6)), lineGrey)
		}
	}

	d.drawApp(dst, i)
	d.drawTaskbar(dst, i)
	d.drawCursor(dst, d.cursorAt(i))
}

// drawWindow draws a window frame with its title bar and buttons.
func (d *Desktop) drawWindow(dst *image.RGBA, r image.Rectangle, title color.RGBA) {
	// The shadow shows only below and right of the window; blending just
	// those strips is much cheaper than blending the whole rectangle.
	o := d.px(3)
	black := color.RGBA{0, 0, 0, 255}
	fill(dst, image.Rect(r.Max.X, r.Min.Y+o, r.Max.X+o, r.Max.Y+o), black, 60)
	fill(dst, image.Rect(r.Min.X+o, r.Max.Y, r.Max.X, r.Max.Y+o), black, 60)
	fill(dst, r, white)
	stroke(dst, r, lineGrey)
	tb := image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+d.px(18))
	fill(dst, tb, title)
	fill(dst, image.Rect(tb.Min.X+d.px(8), tb.Min.Y+d.px(6), tb.Min.X+d.px(90), tb.Min.Y+d.px(12)), white, 200)
	bs := d.px(10)
	for k, c := range []color.RGBA{{232, 72, 60, 255}, {240, 180, 40, 255}, {80, 190, 80, 255}} {
		x := tb.Max.X - (k+1)*(bs+d.px(6))
		fill(dst, image.Rect(x, tb.Min.Y+d.px(4), x+bs, tb.Min.Y+d.px(4)+bs), c)
	}
}

func (d *Desktop) drawApp(dst *image.RGBA, i int) {
	r := d.app
	d.drawWindow(dst, r, d.accent)
	content := image.Rect(r.Min.X+1, r.Min.Y+d.px(18), r.Max.X-1, r.Max.Y-1)

	// Queue of interactions on the left; the agent picks another one a
	// third of the way through.
	left := image.Rect(content.Min.X, content.Min.Y, content.Min.X+content.Dx()*3/10, content.Max.Y)
	fill(dst, left, paneGrey)
	fill(dst, image.Rect(left.Max.X, left.Min.Y, left.Max.X+1, left.Max.Y), lineGrey)
	selected := 0
	if i >= d.n/3 {
		selected = 2
	}
	rowH := d.px(30)
	for k, q := range d.queue {
		y := left.Min.Y + d.px(6) + k*rowH
		if y+rowH > left.Max.Y {
			break
		}
		row := image.Rect(left.Min.X+d.px(4), y, left.Max.X-d.px(4), y+rowH-d.px(4))
		if k == selected {
			fill(dst, row, selectBg)
		}
		dot := d.px(8)
		fill(dst, image.Rect(row.Min.X+d.px(6), row.Min.Y+d.px(9), row.Min.X+d.px(6)+dot, row.Min.Y+d.px(9)+dot), q.status)
		tx := row.Min.X + d.px(20)
		avail := row.Max.X - tx - d.px(4)
		fill(dst, image.Rect(tx, row.Min.Y+d.px(5), tx+avail*q.a/100, row.Min.Y+d.px(11)), textDark)
		fill(dst, image.Rect(tx, row.Min.Y+d.px(15), tx+avail*q.b/100, row.Min.Y+d.px(20)), textGrey)
	}

	// Form fields on the right.
	right := image.Rect(left.Max.X+d.px(12), content.Min.Y+d.px(10), content.Max.X-d.px(12), content.Max.Y-d.px(10))
	cw := d.px(5) // the width of one typed character
	y := right.Min.Y
	for _, f := range d.fields {
		fill(dst, image.Rect(right.Min.X, y+d.px(4), right.Min.X+d.px(50), y+d.px(9)), textGrey)
		box := image.Rect(right.Min.X+d.px(60), y, right.Max.X, y+d.px(14))
		fill(dst, box, white)
		stroke(dst, box, lineGrey)
		fill(dst, image.Rect(box.Min.X+d.px(4), box.Min.Y+d.px(4), min(box.Max.X-d.px(4), box.Min.X+d.px(4)+f*cw), box.Min.Y+d.px(10)), textDark)
		y += d.px(20)
	}

	// The notes field, with text appearing as it is typed.
	notes := image.Rect(right.Min.X, y+d.px(6), right.Max.X, right.Max.Y-d.px(26))
	fill(dst, notes, white)
	stroke(dst, notes, d.accent)
	typed := int(float64(i+1) * d.typing)
	x, ly := notes.Min.X+d.px(6), notes.Min.Y+d.px(6)
	lineH := d.px(12)
	for _, word := range d.notes {
		if typed <= 0 {
			break
		}
		n := min(word, typed)
		typed -= word + 1
		if x+word*cw > notes.Max.X-d.px(6) {
			x, ly = notes.Min.X+d.px(6), ly+lineH
		}
		if ly+lineH > notes.Max.Y {
			break
		}
		fill(dst, image.Rect(x, ly, x+n*cw-1, ly+d.px(7)), textDark)
		x += n*cw + cw
	}
	// The caret blinks about twice a second.
	if (i*4/d.fps)%2 == 0 && ly+lineH <= notes.Max.Y {
		cx := x - cw + 1
		fill(dst, image.Rect(cx, ly-1, cx+max(1, d.px(1)), ly+d.px(9)), textDark)
	}

	// An upload progress bar under the notes, with its percentage.
	pb := image.Rect(right.Min.X, right.Max.Y-d.px(14), right.Max.X-d.px(40), right.Max.Y-d.px(4))
	fill(dst, pb, paneGrey)
	stroke(dst, pb, lineGrey)
	frac := float64(i+1) / float64(d.n)
	frac = frac * frac * (3 - 2*frac) // uploads start and finish slowly
	fill(dst, image.Rect(pb.Min.X+1, pb.Min.Y+1, pb.Min.X+1+int(float64(pb.Dx()-2)*frac), pb.Max.Y-1), progressOK)
	d.text(dst, pb.Max.X+d.px(6), pb.Min.Y+d.px(1), fmt.Sprintf("%d%%", int(frac*100)), textDark)
}

func (d *Desktop) drawTaskbar(dst *image.RGBA, i int) {
	bar := image.Rect(0, d.h-d.px(24), d.w, d.h)
	fill(dst, bar, taskbarBg)
	fill(dst, image.Rect(bar.Min.X+d.px(4), bar.Min.Y+d.px(4), bar.Min.X+d.px(20), bar.Max.Y-d.px(4)), d.accent)
	for k := range 3 {
		x := bar.Min.X + d.px(28) + k*d.px(84)
		btn := image.Rect(x, bar.Min.Y+d.px(4), x+d.px(78), bar.Max.Y-d.px(4))
		if x+d.px(78) > d.w-d.textWidth("00:00:00")-d.px(16) {
			break
		}
		c := taskButton
		if k == 0 {
			c = mix(taskButton, d.accent, 0.5)
		}
		fill(dst, btn, c)
		fill(dst, image.Rect(btn.Min.X+d.px(6), btn.Min.Y+d.px(6), btn.Max.X-d.px(20), btn.Min.Y+d.px(10)), lineGrey)
	}
	s := d.clock + i/d.fps
	clock := fmt.Sprintf("%02d:%02d:%02d", s/3600%24, s/60%60, s%60)
	d.text(dst, d.w-d.textWidth(clock)-d.px(8), bar.Min.Y+d.px(7), clock, white)
}

// cursorAt is where the pointer is in frame i: it glides between the
// waypoints, slowing down as it arrives at each, as a hand does.
func (d *Desktop) cursorAt(i int) image.Point {
	if d.n == 1 {
		return d.waypoints[0]
	}
	t := float64(i) / float64(d.n-1) * float64(len(d.waypoints)-1)
	k := min(int(t), len(d.waypoints)-2)
	f := t - float64(k)
	f = f * f * (3 - 2*f)
	a, b := d.waypoints[k], d.waypoints[k+1]
	return image.Pt(a.X+int(math.Round(float64(b.X-a.X)*f)), a.Y+int(math.Round(float64(b.Y-a.Y)*f)))
}

// arrow is the mouse pointer: X is its outline, o its fill.
var arrow = []string{
	"X..........",
	"XX.........",
	"XoX........",
	"XooX.......",
	"XoooX......",
	"XooooX.....",
	"XoooooX....",
	"XooooooX...",
	"XoooooooX..",
	"XooooooooX.",
	"XoooooXXXXX",
	"XooXooX....",
	"XoX.XooX...",
	"XX..XooX...",
	"X....XooX..",
	".....XooX..",
	"......XX...",
}

func (d *Desktop) drawCursor(dst *image.RGBA, at image.Point) {
	s := max(1, d.px(1))
	for y, row := range arrow {
		for x, c := range row {
			var col color.RGBA
			switch c {
			case 'X':
				col = color.RGBA{0, 0, 0, 255}
			case 'o':
				col = white
			default:
				continue
			}
			px := at.X + x*s
			py := at.Y + y*s
			fill(dst, image.Rect(px, py, px+s, py+s), col)
		}
	}
}

// glyphs is a 3×5 pixel font for the clock and the percentage: each row
// is three bits, most significant on the left.
var glyphs = map[rune][5]uint8{
	'0': {7, 5, 5, 5, 7}, '1': {2, 6, 2, 2, 7}, '2': {7, 1, 7, 4, 7}, '3': {7, 1, 7, 1, 7},
	'4': {5, 5, 7, 1, 1}, '5': {7, 4, 7, 1, 7}, '6': {7, 4, 7, 5, 7}, '7': {7, 1, 1, 2, 2},
	'8': {7, 5, 7, 5, 7}, '9': {7, 5, 7, 1, 7}, ':': {0, 2, 0, 2, 0}, '%': {5, 1, 2, 4, 5},
}

// textWidth is the width of s in the pixel font.
func (d *Desktop) textWidth(s string) int {
	return (4*len(s) - 1) * max(1, d.px(2))
}

// text draws s in the pixel font with its top-left corner at (x, y).
func (d *Desktop) text(dst *image.RGBA, x, y int, s string, c color.RGBA) {
	p := max(1, d.px(2)) // one font pixel
	for _, r := range s {
		g := glyphs[r]
		for row, bits := range g {
			for col := range 3 {
				if bits&(4>>col) != 0 {
					fill(dst, image.Rect(x+col*p, y+row*p, x+col*p+p, y+row*p+p), c)
				}
			}
		}
		x += 4 * p
	}
}

// fill paints r in c, optionally with an opacity out of 255.
func fill(dst *image.RGBA, r image.Rectangle, c color.RGBA, alpha ...uint8) {
	if len(alpha) > 0 {
		a := alpha[0]
		src := color.NRGBA{c.R, c.G, c.B, a}
		draw.Draw(dst, r, image.NewUniform(src), image.Point{}, draw.Over)
		return
	}
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}

// stroke draws a one-pixel border just inside r.
func stroke(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	fill(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), c)
	fill(dst, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), c)
	fill(dst, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), c)
	fill(dst, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), c)
}

// mix blends a towards b by t in [0, 1].
func mix(a, b color.RGBA, t float64) color.RGBA {
	l := func(x, y uint8) uint8 { return uint8(math.Round(float64(x) + (float64(y)-float64(x))*t)) }
	return color.RGBA{l(a.R, b.R), l(a.G, b.G), l(a.B, b.B), 255}
}
