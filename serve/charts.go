package serve

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts are drawn here as inline SVG: no chart library, no script, and
// they render wherever the page does (an iframe, a printout). Each chart
// is an <svg data-chart="ID"> whose every series is a <g data-series="NAME">,
// so a test (or a user's script) can find them.

// palette is colour-blind-safe (Okabe-Ito).
var palette = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"}

// series is one line or one set of bars; NaN values are gaps.
type series struct {
	name   string
	values []float64
}

// chart is one chart's data: x labels, series over them, and an optional
// horizontal target line.
type chart struct {
	id, title, unit string
	labels          []string
	series          []series
	bars            bool     // grouped bars instead of lines
	target          *float64 // drawn as a dashed line
	yMin            float64  // the axis starts here (0 unless set)
}

const (
	chartW, chartH                    = 720, 280
	padLeft, padRight, padTop, padBot = 72, 12, 48, 40
	maxBarWidth                       = 48.0
)

// max is the largest value of the chart (target included), at least yMin+ε.
func (c chart) max() float64 {
	m := c.yMin
	for _, s := range c.series {
		for _, v := range s.values {
			if !math.IsNaN(v) && v > m {
				m = v
			}
		}
	}
	if c.target != nil && *c.target > m {
		m = *c.target
	}
	if m <= c.yMin {
		m = c.yMin + 1
	}
	return m
}

// svg draws the chart. Labels and names are escaped; numbers are ours.
func (c chart) svg() template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" data-chart="%s" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		html.EscapeString(c.id), chartW, chartH, html.EscapeString(c.title))
	fmt.Fprintf(&b, `<title>%s</title><text x="4" y="14" font-size="13" font-weight="600">%s</text>`, html.EscapeString(c.title), html.EscapeString(c.title))
	top := c.max()
	plotW, plotH := float64(chartW-padLeft-padRight), float64(chartH-padTop-padBot)
	y := func(v float64) float64 { return padTop + plotH - (v-c.yMin)/(top-c.yMin)*plotH }
	n := max(len(c.labels), 1)
	slot := plotW / float64(n)
	x := func(i int) float64 { return padLeft + slot*(float64(i)+0.5) }
	c.axes(&b, top, y, x)
	for si, s := range c.series {
		colour := palette[si%len(palette)]
		fmt.Fprintf(&b, `<g data-series="%s" fill="%s" stroke="%s">`, html.EscapeString(s.name), colour, colour)
		if c.bars {
			c.drawBars(&b, s, si, y, x, slot)
		} else {
			drawLine(&b, s, y, x)
		}
		b.WriteString(`</g>`)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d" font-size="11">%s</text>`,
			padLeft+si*130, 22, colour, padLeft+si*130+14, 31, html.EscapeString(s.name))
	}
	if c.target != nil {
		fmt.Fprintf(&b, `<line class="target" x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#c00" stroke-dasharray="5,4"/>`,
			padLeft, chartW-padRight, y(*c.target), y(*c.target))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="10" fill="#c00" text-anchor="end">target</text>`, chartW-padRight, y(*c.target)-3)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// axes draws the y grid with four ticks and at most a dozen x labels.
func (c chart) axes(b *strings.Builder, top float64, y func(float64) float64, x func(int) float64) {
	for i := 0; i <= 4; i++ {
		v := c.yMin + (top-c.yMin)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>`, padLeft, chartW-padRight, y(v), y(v))
		fmt.Fprintf(b, `<text x="%d" y="%.1f" font-size="10" text-anchor="end">%s</text>`, padLeft-4, y(v)+3, html.EscapeString(tick(v, c.unit)))
	}
	every := max(1, len(c.labels)/8)
	for i, l := range c.labels {
		if i%every == 0 {
			fmt.Fprintf(b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%s</text>`, x(i), chartH-padBot+14, html.EscapeString(l))
		}
	}
}

func (c chart) drawBars(b *strings.Builder, s series, si int, y func(float64) float64, x func(int) float64, slot float64) {
	w := math.Min(slot*0.8/float64(len(c.series)), maxBarWidth)
	group := w * float64(len(c.series))
	for i, v := range s.values {
		if math.IsNaN(v) {
			continue
		}
		left := x(i) - group/2 + w*float64(si)
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %s</title></rect>`,
			left, y(v), math.Max(w-1, 1), y(c.yMin)-y(v), html.EscapeString(s.name), html.EscapeString(c.labels[i]), html.EscapeString(tick(v, c.unit)))
	}
}

func drawLine(b *strings.Builder, s series, y func(float64) float64, x func(int) float64) {
	var pts []string
	flush := func() {
		if len(pts) > 0 {
			fmt.Fprintf(b, `<polyline fill="none" stroke-width="2" points="%s"/>`, strings.Join(pts, " "))
			pts = pts[:0]
		}
	}
	for i, v := range s.values {
		if math.IsNaN(v) {
			flush()
			continue
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="2.5" stroke="none"/>`, x(i), y(v))
	}
	flush()
}

// tick prints an axis value in the chart's unit.
func tick(v float64, unit string) string {
	switch unit {
	case "%":
		return fmt.Sprintf("%.1f%%", v)
	case "min":
		return fmt.Sprintf("%.1f min", v)
	}
	return fmt.Sprintf("%.4g", v)
}
