package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"jastar/storage"
)

// dejaVuSans is the chart's font; see the package comment for why this
// one and its license.
//
//go:embed font/DejaVuSans.ttf
var dejaVuSans []byte

// The chart's layout in pixels: a column of labels, bars, and a column of
// numbers on the right. Telegram shows a photo up to 1280 px wide; 800
// keeps 13 px text readable on a phone without zooming.
const (
	chartWidth    = 800
	chartMargin   = 16
	chartLabelW   = 230
	chartBarX     = chartMargin + chartLabelW + 8
	chartValueW   = 120
	chartBarMaxW  = chartWidth - chartBarX - chartValueW - chartMargin
	chartRowH     = 24
	chartBarH     = 16
	chartTextSize = 13
	chartHeadSize = 15
	chartTitleMax = 3 // lines of the question
)

// chartColors are the options' colors (Tableau 10, told apart by most
// color-blind readers); "other" takes chartOtherColor.
var (
	chartColors = []color.RGBA{
		{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff},
		{0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff},
	}
	chartOtherColor = color.RGBA{0x9c, 0x75, 0x5f, 0xff}
	chartMuted      = color.RGBA{0x75, 0x75, 0x75, 0xff}
	chartRule       = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
)

// PollChart draws a poll's results as a PNG: the question; every option's
// share of the respondents, in its color (which is the legend); then, for
// each district and each language, a bar split by the options chosen in
// that group. A hidden district (fewer than storage.MinPollGroup
// respondents) shows l.Hidden and no bar. Its cost does not depend on the
// number of answers: it reads only res.
func PollChart(p storage.Poll, res storage.PollResults, l PollLabels) ([]byte, error) {
	fnt, err := opentype.Parse(dejaVuSans)
	if err != nil {
		return nil, fmt.Errorf("parse chart font: %w", err)
	}
	// A face caches glyphs and is not safe for concurrent use: one per
	// chart.
	face, err := opentype.NewFace(fnt, &opentype.FaceOptions{Size: chartTextSize, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("chart font face: %w", err)
	}
	defer face.Close()
	head, err := opentype.NewFace(fnt, &opentype.FaceOptions{Size: chartHeadSize, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("chart heading face: %w", err)
	}
	defer head.Close()

	title := wrap(head, p.Question.In(l.Lang), chartWidth-2*chartMargin, chartTitleMax)
	options := len(p.Options)
	if p.Other {
		options++
	}
	sectionH := chartRowH + 8 // a heading and the space above it
	height := chartMargin + len(title)*(chartHeadSize+6) + chartRowH +
		sectionH + options*chartRowH +
		sectionH + len(res.ByDistrict)*chartRowH +
		sectionH + len(res.ByLang)*chartRowH + chartMargin
	img := image.NewRGBA(image.Rect(0, 0, chartWidth, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	c := canvas{img: img}

	y := chartMargin
	for _, line := range title {
		y += chartHeadSize + 6
		c.text(head, chartMargin, y-4, line, image.Black)
	}
	y += chartRowH
	c.text(face, chartMargin, y-6, l.Respondents(res.All.Respondents), chartMuted)

	section := func(name string) {
		y += sectionH
		c.rect(chartMargin, y-chartRowH+2, chartWidth-chartMargin, y-chartRowH+3, chartRule)
		c.text(head, chartMargin, y-6, name, image.Black)
	}
	// The overall shares: each option's bar is its share of the people
	// who answered (with several answers allowed they add up past 100%).
	section(l.Overall)
	for i := range options {
		label, share, col := l.Other, res.All.Other, chartOtherColor
		if i < len(p.Options) {
			label, share, col = p.Options[i].In(l.Lang), res.All.Options[i], chartColors[i%len(chartColors)]
		}
		top := y + (chartRowH-chartBarH)/2
		c.text(face, chartMargin, top+12, fit(face, label, chartLabelW), image.Black)
		w := int(math.Round(share.Share * chartBarMaxW))
		c.rect(chartBarX, top, chartBarX+w, top+chartBarH, col)
		c.text(face, chartBarX+w+6, top+12, fmt.Sprintf("%s · %d%%", l.number(share.Count), percent(share.Share)), chartMuted)
		y += chartRowH
	}
	groups := func(gs []storage.PollGroup, name func(string) string) {
		for _, g := range gs {
			top := y + (chartRowH-chartBarH)/2
			c.text(face, chartMargin, top+12, fit(face, name(g.Key), chartLabelW), image.Black)
			if g.Hidden {
				c.text(face, chartBarX, top+12, l.Hidden, chartMuted)
				y += chartRowH
				continue
			}
			c.stacked(chartBarX, top, g, p.Other)
			c.text(face, chartBarX+chartBarMaxW+6, top+12, l.number(g.Respondents), chartMuted)
			y += chartRowH
		}
	}
	section(l.ByDistrict)
	groups(res.ByDistrict, l.District)
	section(l.ByLanguage)
	groups(res.ByLang, func(k string) string { return l.Language(storage.Lang(k)) })

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode chart: %w", err)
	}
	return buf.Bytes(), nil
}

// percent rounds a share to a whole percent.
func percent(share float64) int { return int(math.Round(share * 100)) }

type canvas struct{ img *image.RGBA }

func (c canvas) text(face font.Face, x, y int, s string, col color.Color) {
	d := font.Drawer{Dst: c.img, Src: image.NewUniform(col), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func (c canvas) rect(x0, y0, x1, y1 int, col color.Color) {
	draw.Draw(c.img, image.Rect(x0, y0, x1, y1), image.NewUniform(col), image.Point{}, draw.Src)
}

// stacked draws g's choices as one full-width bar split by option, each
// part its option's share of all the choices made in the group. Parts
// take differences of rounded ends, so they never gap.
func (c canvas) stacked(x, top int, g storage.PollGroup, other bool) {
	total := g.Other.Count
	for _, o := range g.Options {
		total += o.Count
	}
	if total <= 0 {
		return
	}
	cum := 0
	end := func(n int) int { return x + (n*chartBarMaxW+total/2)/total }
	for i, o := range g.Options {
		c.rect(end(cum), top, end(cum+o.Count), top+chartBarH, chartColors[i%len(chartColors)])
		cum += o.Count
	}
	if other {
		c.rect(end(cum), top, end(cum+g.Other.Count), top+chartBarH, chartOtherColor)
	}
}

// fit cuts s with an ellipsis to fit width pixels.
func fit(face font.Face, s string, width int) string {
	if font.MeasureString(face, s).Ceil() <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && font.MeasureString(face, string(r)+"…").Ceil() > width {
		r = r[:len(r)-1]
	}
	return strings.TrimSpace(string(r)) + "…"
}

// wrap breaks s into at most maxLines lines of width pixels at spaces (and at
// the question's own line breaks); the last line is cut with an ellipsis
// when the text goes on.
func wrap(face font.Face, s string, width, maxLines int) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			next := strings.TrimSpace(line + " " + w)
			if line != "" && font.MeasureString(face, next).Ceil() > width {
				lines = append(lines, line)
				line = w
				continue
			}
			line = next
		}
		lines = append(lines, line)
	}
	if len(lines) > maxLines {
		lines = append(lines[:maxLines-1], fit(face, lines[maxLines-1]+" "+lines[maxLines], width))
		if !strings.HasSuffix(lines[maxLines-1], "…") {
			lines[maxLines-1] += "…"
		}
	}
	for i := range lines {
		lines[i] = fit(face, lines[i], width)
	}
	return lines
}
