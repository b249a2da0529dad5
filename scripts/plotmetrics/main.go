// Command plotmetrics scrapes a Cairn /metrics endpoint at a fixed interval
// and draws the main panels of docs/grafana-dashboard.json from the samples
// into a PNG, with the standard library only (docs/metrics.md). It is not
// Grafana: it computes the same expressions (rates, histogram quantiles)
// over the scraped series.
//
//	plotmetrics -url http://127.0.0.1:9121/metrics -duration 60s -out docs/dashboard.png
package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:9121/metrics", "metrics endpoint")
	duration := flag.Duration("duration", 60*time.Second, "how long to scrape")
	interval := flag.Duration("interval", time.Second, "time between scrapes")
	window := flag.Int("window", 5, "scrapes per rate window (Grafana's rate[...] range)")
	out := flag.String("out", "docs/dashboard.png", "PNG file to write")
	flag.Parse()

	var scrapes []scrapeT
	start := time.Now()
	for t := time.Now(); time.Since(start) < *duration; t = t.Add(*interval) {
		time.Sleep(time.Until(t))
		s, err := fetch(*url)
		if err != nil {
			log.Fatalf("scrape: %v", err)
		}
		scrapes = append(scrapes, scrapeT{at: time.Since(start).Seconds(), v: s})
	}
	if len(scrapes) <= *window {
		log.Fatalf("only %d scrapes", len(scrapes))
	}
	panels := buildPanels(scrapes, *window)
	img := render(panels, fmt.Sprintf("CAIRN - PANELS OF DOCS/GRAFANA-DASHBOARD.JSON FROM %d SCRAPES OF A REAL RUN (PLOTMETRICS, NOT GRAFANA)", len(scrapes)))
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	for _, p := range panels {
		for _, l := range p.lines {
			lo, hi := minMax(l.pts)
			fmt.Printf("%-28s %-22s min %12.2f max %12.2f\n", p.title, l.name, lo, hi)
		}
	}
}

type scrapeT struct {
	at float64 // seconds since the first scrape
	v  map[string]float64
}

// fetch reads one scrape: series (name plus labels, as printed) to value.
func fetch(url string) (map[string]float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

type point struct{ x, y float64 }

type line struct {
	name string
	pts  []point
}

type panel struct {
	title, unit string
	lines       []line
}

// rate is Grafana's rate(series[window]) at each scrape after the first window.
func rate(s []scrapeT, w int, series string) []point {
	var pts []point
	for i := w; i < len(s); i++ {
		a, b := s[i-w], s[i]
		d := b.v[series] - a.v[series]
		if d < 0 { // counter reset
			d = b.v[series]
		}
		pts = append(pts, point{b.at, d / (b.at - a.at)})
	}
	return pts
}

func gauge(s []scrapeT, series string, scale float64) []point {
	var pts []point
	for _, sc := range s {
		if v, ok := sc.v[series]; ok {
			pts = append(pts, point{sc.at, v * scale})
		}
	}
	return pts
}

// quantile is histogram_quantile(q, rate(name_bucket{cmd}[window])) in
// microseconds, interpolating linearly inside the bucket as Prometheus does.
func quantile(s []scrapeT, w int, name, cmd string, q float64) []point {
	var bounds []float64
	prefix := name + `_bucket{cmd="` + cmd + `",le="`
	for k := range s[len(s)-1].v {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			le := strings.TrimSuffix(rest, `"}`)
			b, err := strconv.ParseFloat(le, 64)
			if le == "+Inf" {
				b, err = math.Inf(1), nil
			}
			if err == nil {
				bounds = append(bounds, b)
			}
		}
	}
	sort.Float64s(bounds)
	key := func(b float64) string {
		if math.IsInf(b, 1) {
			return prefix + `+Inf"}`
		}
		return prefix + strconv.FormatFloat(b, 'g', -1, 64) + `"}`
	}
	var pts []point
	for i := w; i < len(s); i++ {
		a, b := s[i-w], s[i]
		total := b.v[key(math.Inf(1))] - a.v[key(math.Inf(1))]
		if total <= 0 {
			continue
		}
		rank, prevBound, prevCum := q*total, 0.0, 0.0
		for _, bd := range bounds {
			cum := b.v[key(bd)] - a.v[key(bd)]
			if cum >= rank {
				if math.IsInf(bd, 1) {
					bd = prevBound
				}
				v := bd
				if cum > prevCum {
					v = prevBound + (bd-prevBound)*(rank-prevCum)/(cum-prevCum)
				}
				pts = append(pts, point{b.at, v * 1e6})
				break
			}
			prevBound, prevCum = bd, cum
		}
	}
	return pts
}

// topCommands returns the commands with the most calls during the run.
func topCommands(s []scrapeT, n int) []string {
	type kv struct {
		cmd   string
		calls float64
	}
	var all []kv
	for k, v := range s[len(s)-1].v {
		if rest, ok := strings.CutPrefix(k, `redis_commands_total{cmd="`); ok && v > s[0].v[k] {
			all = append(all, kv{strings.TrimSuffix(rest, `"}`), v - s[0].v[k]})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].calls > all[j].calls })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].cmd)
	}
	return out
}

func buildPanels(s []scrapeT, w int) []panel {
	cmds := topCommands(s, 4)
	ops := panel{title: "OPS/S BY COMMAND", unit: "OPS/S"}
	p50 := panel{title: "LATENCY P50 BY COMMAND", unit: "US"}
	p99 := panel{title: "LATENCY P99 BY COMMAND", unit: "US"}
	for _, c := range cmds {
		ops.lines = append(ops.lines, line{c, rate(s, w, `redis_commands_total{cmd="`+c+`"}`)})
		p50.lines = append(p50.lines, line{c, quantile(s, w, "cairn_command_duration_seconds", c, 0.5)})
		p99.lines = append(p99.lines, line{c, quantile(s, w, "cairn_command_duration_seconds", c, 0.99)})
	}
	return []panel{
		ops, p50, p99,
		{title: "CONNECTED CLIENTS", unit: "CLIENTS", lines: []line{{"CLIENTS", gauge(s, "redis_connected_clients", 1)}}},
		{title: "KEYS", unit: "KEYS", lines: []line{
			{"DB0", gauge(s, `redis_db_keys{db="db0"}`, 1)},
			{"DB0 EXPIRING", gauge(s, `redis_db_keys_expiring{db="db0"}`, 1)}}},
		{title: "MEMORY", unit: "MB", lines: []line{
			{"USED", gauge(s, "redis_memory_used_bytes", 1.0/(1<<20))},
			{"MAXMEMORY", gauge(s, "redis_memory_max_bytes", 1.0/(1<<20))}}},
		{title: "EVICTIONS AND EXPIRIES", unit: "KEYS/S", lines: []line{
			{"EVICTED", rate(s, w, "redis_evicted_keys_total")},
			{"EXPIRED", rate(s, w, "redis_expired_keys_total")}}},
		{title: "PEBBLE COMPACTIONS / FLUSHES", unit: "PER S", lines: []line{
			{"COMPACTIONS", rate(s, w, "cairn_pebble_compactions_total")},
			{"FLUSHES", rate(s, w, "cairn_pebble_flushes_total")},
			{"WRITE STALLS", rate(s, w, "cairn_pebble_write_stalls_total")}}},
		{title: "PEBBLE WAL FSYNC P99", unit: "MS", lines: []line{
			{"P99", walQuantile(s, w, 0.99)}}},
	}
}

// walQuantile is the fsync histogram's quantile in milliseconds.
func walQuantile(s []scrapeT, w int, q float64) []point {
	const name = "cairn_pebble_wal_fsync_duration_seconds"
	// The WAL histogram has no cmd label; reuse quantile on a relabelled copy.
	rel := make([]scrapeT, len(s))
	for i, sc := range s {
		m := map[string]float64{}
		for k, v := range sc.v {
			if rest, ok := strings.CutPrefix(k, name+`_bucket{le="`); ok {
				m[name+`_bucket{cmd="wal",le="`+rest] = v
			}
		}
		rel[i] = scrapeT{sc.at, m}
	}
	pts := quantile(rel, w, name, "wal", q)
	for i := range pts {
		pts[i].y /= 1000 // µs to ms
	}
	return pts
}

func minMax(pts []point) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		lo, hi = math.Min(lo, p.y), math.Max(hi, p.y)
	}
	if len(pts) == 0 {
		return 0, 0
	}
	return lo, hi
}

// Rendering: a 2-column grid of panels with axes, a grid, lines and
// legends, text in a 3x5 pixel font scaled up.

const (
	panelW, panelH = 640, 250
	cols           = 2
	margin         = 16
	scale          = 2 // font pixel size
)

var (
	bg      = color.RGBA{24, 27, 31, 255}
	panelBg = color.RGBA{34, 37, 43, 255}
	gridC   = color.RGBA{60, 64, 72, 255}
	textC   = color.RGBA{216, 217, 218, 255}
	palette = []color.RGBA{{115, 191, 105, 255}, {242, 204, 12, 255}, {87, 148, 242, 255}, {255, 120, 10, 255}, {184, 119, 217, 255}, {242, 73, 92, 255}}
)

func render(panels []panel, title string) *image.RGBA {
	rows := (len(panels) + cols - 1) / cols
	W := cols*panelW + (cols+1)*margin
	H := rows*panelH + (rows+1)*margin + 30
	img := image.NewRGBA(image.Rect(0, 0, W, H))
	fill(img, img.Bounds(), bg)
	drawText(img, margin, 12, title, textC)
	xmax := 0.0
	for _, p := range panels {
		for _, l := range p.lines {
			if n := len(l.pts); n > 0 {
				xmax = math.Max(xmax, l.pts[n-1].x)
			}
		}
	}
	for i, p := range panels {
		x0 := margin + (i%cols)*(panelW+margin)
		y0 := 30 + margin + (i/cols)*(panelH+margin)
		drawPanel(img, image.Rect(x0, y0, x0+panelW, y0+panelH), p, xmax)
	}
	return img
}

func drawPanel(img *image.RGBA, r image.Rectangle, p panel, xmax float64) {
	fill(img, r, panelBg)
	drawText(img, r.Min.X+10, r.Min.Y+8, p.title+" ("+p.unit+")", textC)
	plot := image.Rect(r.Min.X+80, r.Min.Y+30, r.Max.X-14, r.Max.Y-46)
	ymax := 0.0
	for _, l := range p.lines {
		_, hi := minMax(l.pts)
		ymax = math.Max(ymax, hi)
	}
	ymax = niceCeil(ymax)
	for k := 0; k <= 4; k++ {
		y := plot.Max.Y - k*plot.Dy()/4
		hline(img, plot.Min.X, plot.Max.X, y, gridC)
		lbl := formatNum(ymax * float64(k) / 4)
		drawText(img, plot.Min.X-8-textWidth(lbl), y-5, lbl, textC)
	}
	for k := 0; k <= 6; k++ {
		x := plot.Min.X + k*plot.Dx()/6
		vline(img, x, plot.Min.Y, plot.Max.Y, gridC)
		lbl := strconv.Itoa(int(xmax*float64(k)/6)) + "S"
		drawText(img, x-textWidth(lbl)/2, plot.Max.Y+6, lbl, textC)
	}
	lx := r.Min.X + 10
	for j, l := range p.lines {
		c := palette[j%len(palette)]
		px := func(pt point) (int, int) {
			x := plot.Min.X + int(pt.x/xmax*float64(plot.Dx()))
			y := plot.Max.Y - int(pt.y/ymax*float64(plot.Dy()))
			return x, y
		}
		for k := 1; k < len(l.pts); k++ {
			x1, y1 := px(l.pts[k-1])
			x2, y2 := px(l.pts[k])
			thickLine(img, x1, y1, x2, y2, c)
		}
		fill(img, image.Rect(lx, r.Max.Y-22, lx+14, r.Max.Y-14), c)
		name := strings.ToUpper(l.name)
		drawText(img, lx+20, r.Max.Y-23, name, textC)
		lx += 20 + textWidth(name) + 24
	}
}

func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func formatNum(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "K"
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func fill(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, c)
		}
	}
}

func hline(img *image.RGBA, x1, x2, y int, c color.RGBA) { fill(img, image.Rect(x1, y, x2+1, y+1), c) }
func vline(img *image.RGBA, x, y1, y2 int, c color.RGBA) { fill(img, image.Rect(x, y1, x+1, y2+1), c) }

// thickLine draws a 2-pixel line (Bresenham).
func thickLine(img *image.RGBA, x1, y1, x2, y2 int, c color.RGBA) {
	dx, dy := abs(x2-x1), -abs(y2-y1)
	sx, sy := sign(x2-x1), sign(y2-y1)
	err := dx + dy
	for {
		fill(img, image.Rect(x1, y1, x1+2, y1+2), c)
		if x1 == x2 && y1 == y2 {
			return
		}
		if e2 := 2 * err; e2 >= dy {
			err += dy
			x1 += sx
		} else {
			err += dx
			y1 += sy
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}

func textWidth(s string) int { return len(s) * 4 * scale }

// drawText writes s in the 3x5 font; unknown characters are blank.
func drawText(img *image.RGBA, x, y int, s string, c color.RGBA) {
	for _, ch := range strings.ToUpper(s) {
		if g, ok := font[ch]; ok {
			for row := 0; row < 5; row++ {
				for col := 0; col < 3; col++ {
					if g[row*4+col] == '#' {
						fill(img, image.Rect(x+col*scale, y+row*scale, x+(col+1)*scale, y+(row+1)*scale), c)
					}
				}
			}
		}
		x += 4 * scale
	}
}

// font is a 3x5 pixel font: five rows of three cells per glyph.
var font = map[rune]string{
	'A': ".#. #.# ### #.# #.#", 'B': "##. #.# ##. #.# ##.", 'C': ".## #.. #.. #.. .##", 'D': "##. #.# #.# #.# ##.",
	'E': "### #.. ##. #.. ###", 'F': "### #.. ##. #.. #..", 'G': ".## #.. #.# #.# .##", 'H': "#.# #.# ### #.# #.#",
	'I': "### .#. .#. .#. ###", 'J': "..# ..# ..# #.# .#.", 'K': "#.# #.# ##. #.# #.#", 'L': "#.. #.. #.. #.. ###",
	'M': "#.# ### ### #.# #.#", 'N': "##. #.# #.# #.# #.#", 'O': ".#. #.# #.# #.# .#.", 'P': "##. #.# ##. #.. #..",
	'Q': ".#. #.# #.# ##. .##", 'R': "##. #.# ##. #.# #.#", 'S': ".## #.. .#. ..# ##.", 'T': "### .#. .#. .#. .#.",
	'U': "#.# #.# #.# #.# ###", 'V': "#.# #.# #.# #.# .#.", 'W': "#.# #.# ### ### #.#", 'X': "#.# #.# .#. #.# #.#",
	'Y': "#.# #.# .#. .#. .#.", 'Z': "### ..# .#. #.. ###", '0': "### #.# #.# #.# ###", '1': ".#. ##. .#. .#. ###",
	'2': "### ..# ### #.. ###", '3': "### ..# .## ..# ###", '4': "#.# #.# ### ..# ..#", '5': "### #.. ### ..# ###",
	'6': "### #.. ### #.# ###", '7': "### ..# ..# .#. .#.", '8': "### #.# ### #.# ###", '9': "### #.# ### ..# ###",
	'.': "... ... ... ... .#.", ',': "... ... ... .#. #..", '-': "... ... ### ... ...", '/': "..# ..# .#. #.. #..",
	'(': ".#. #.. #.. #.. .#.", ')': ".#. ..# ..# ..# .#.", ':': "... .#. ... .#. ...", '%': "#.# ..# .#. #.. #.#",
	'|': ".#. .#. .#. .#. .#.", '_': "... ... ... ... ###", '+': "... .#. ### .#. ...", '"': "#.# #.# ... ... ...",
	'=': "... ### ... ### ...", '*': "#.# .#. #.# ... ...",
}
