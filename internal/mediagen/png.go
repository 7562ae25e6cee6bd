package mediagen

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math/rand/v2"
)

// chartPalette is the chart's few colours. A paletted image compresses to
// a fraction of the size of an RGBA one, which keeps email attachments
// in the demo archive small.
var chartPalette = color.Palette{
	color.RGBA{255, 255, 255, 255}, // background
	color.RGBA{60, 64, 72, 255},    // axes and labels
	color.RGBA{222, 225, 230, 255}, // grid
	color.RGBA{0, 94, 184, 255},    // bars
	color.RGBA{232, 120, 30, 255},  // the busiest bar
	color.RGBA{46, 160, 67, 255},   // target line
}

// Chart draws a bar chart of calls per hour over a working day, the kind
// of image a supervisor pastes into a report: a grid, axes with tick
// labels in a pixel font, a bar per hour with the busiest highlighted,
// and a dashed service-level target line. width and height are at
// least 120 and 80.
func Chart(rng *rand.Rand, width, height int) (*image.Paletted, error) {
	if width < 120 || height < 80 || width > 4096 || height > 4096 {
		return nil, fmt.Errorf("mediagen: chart size %dx%d out of range 120x80 to 4096x4096", width, height)
	}
	img := image.NewPaletted(image.Rect(0, 0, width, height), chartPalette)
	// Calls per hour from 08:00 to 18:00: a morning peak and a smaller
	// one after lunch, as contact centres see.
	shape := []float64{0.35, 0.7, 0.95, 0.85, 0.6, 0.55, 0.8, 0.75, 0.5, 0.3}
	vals := make([]int, len(shape))
	top, busiest := 0, 0
	for k, s := range shape {
		vals[k] = int(s*float64(80+rng.IntN(60))) + rng.IntN(10)
		if vals[k] > top {
			top, busiest = vals[k], k
		}
	}
	scaleMax := (top/50 + 1) * 50

	const ink, grid, bar, peak, target = 1, 2, 3, 4, 5
	p := max(1, height/120) // one font pixel
	plot := image.Rect(4*4*p+6*p, 4*p, width-4*p, height-5*p-8*p)
	rect := func(r image.Rectangle, c uint8) {
		draw.Draw(img, r, image.NewUniform(chartPalette[c]), image.Point{}, draw.Src)
	}

	for k := 0; k <= 5; k++ {
		y := plot.Max.Y - plot.Dy()*k/5
		rect(image.Rect(plot.Min.X, y, plot.Max.X, y+1), grid)
		label := fmt.Sprint(scaleMax * k / 5)
		chartText(img, plot.Min.X-4*p*len(label)-3*p, y-2*p, label, p, ink)
	}
	slot := plot.Dx() / len(vals)
	for k, v := range vals {
		c := uint8(bar)
		if k == busiest {
			c = peak
		}
		x := plot.Min.X + k*slot + slot/6
		h := plot.Dy() * v / scaleMax
		rect(image.Rect(x, plot.Max.Y-h, x+slot*2/3, plot.Max.Y), c)
		label := fmt.Sprint(8 + k)
		chartText(img, x+(slot*2/3-4*p*len(label))/2, plot.Max.Y+3*p, label, p, ink)
	}
	ty := plot.Max.Y - plot.Dy()*(scaleMax*3/5)/scaleMax
	for x := plot.Min.X; x < plot.Max.X; x += 8 * p {
		rect(image.Rect(x, ty, min(x+5*p, plot.Max.X), ty+p), target)
	}
	rect(image.Rect(plot.Min.X, plot.Min.Y, plot.Min.X+1, plot.Max.Y), ink)
	rect(image.Rect(plot.Min.X, plot.Max.Y, plot.Max.X, plot.Max.Y+1), ink)
	return img, nil
}

// chartText draws s in the 3×5 pixel font, each font pixel p image
// pixels square, in palette colour c.
func chartText(img *image.Paletted, x, y int, s string, p int, c uint8) {
	for _, r := range s {
		for row, bits := range glyphs[r] {
			for col := range 3 {
				if bits&(4>>col) != 0 {
					draw.Draw(img, image.Rect(x+col*p, y+row*p, x+col*p+p, y+row*p+p), image.NewUniform(chartPalette[c]), image.Point{}, draw.Src)
				}
			}
		}
		x += 4 * p
	}
}

// WritePNG encodes img as PNG with the best compression, which costs
// little for images of this size and keeps attachments small.
func WritePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	return enc.Encode(w, img)
}
