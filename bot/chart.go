package bot

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The chart is plain horizontal bars drawn with the standard library. Its
// labels use basicfont, a 7×13 bitmap font of golang.org/x/image that knows
// ASCII only: rows are labelled with catalog ids (ASCII by the catalog's
// rules) and the message beside the chart names them in the reader's
// language.
const (
	chartWidth   = 760
	chartMargin  = 12
	chartLabelW  = 25 * 7 // 24 characters and a space
	chartBarX    = chartMargin + chartLabelW
	chartBarMaxW = chartWidth - chartBarX - 7*6 - chartMargin // room for the total
	chartRowH    = 22
	chartBarH    = 14
	chartGapH    = 14
)

// chartColors are the status colors, in the stacking order of chartRow.
var chartColors = [4]color.RGBA{
	{0x2e, 0x7d, 0x32, 0xff}, // attended: green
	{0x1e, 0x63, 0xb4, 0xff}, // booked: blue
	{0xef, 0x8a, 0x17, 0xff}, // no-show: orange
	{0x9e, 0x9e, 0x9e, 0xff}, // cancelled: grey
}

// chartRow is one bar: its label and its counts by status, in the order of
// chartColors.
type chartRow struct {
	Label  string
	Counts [4]int
}

func (r chartRow) total() int { return r.Counts[0] + r.Counts[1] + r.Counts[2] + r.Counts[3] }

// chartSection is a group of bars, set apart by a gap; the caption says
// what each group is, in the reader's language.
type chartSection struct {
	Rows []chartRow
}

// drawChart renders the sections as a PNG. Every section shares one scale,
// so bars compare across sections.
func drawChart(sections []chartSection) ([]byte, error) {
	height := chartMargin * 2
	maxTotal := 1
	for _, s := range sections {
		height += chartGapH + len(s.Rows)*chartRowH
		for _, r := range s.Rows {
			maxTotal = max(maxTotal, r.total())
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, chartWidth, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	face := basicfont.Face7x13
	text := func(x, y int, s string) {
		d := font.Drawer{Dst: img, Src: image.Black, Face: face, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	y := chartMargin
	for _, s := range sections {
		y += chartGapH
		for _, r := range s.Rows {
			label := r.Label
			if len(label) > 24 {
				label = label[:24]
			}
			top := y + (chartRowH-chartBarH)/2
			text(chartMargin, top+11, label)
			cum := 0
			for i, n := range r.Counts {
				x0 := chartBarX + barLen(cum, maxTotal)
				x1 := chartBarX + barLen(cum+n, maxTotal)
				draw.Draw(img, image.Rect(x0, top, x1, top+chartBarH), &image.Uniform{chartColors[i]}, image.Point{}, draw.Src)
				cum += n
			}
			text(chartBarX+barLen(cum, maxTotal)+4, top+11, strconv.Itoa(cum))
			y += chartRowH
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// barLen is the length in pixels of n bookings when maxTotal fills the bar
// area; stacked segments take differences of it, so they never gap.
func barLen(n, maxTotal int) int { return (n*chartBarMaxW + maxTotal/2) / maxTotal }
