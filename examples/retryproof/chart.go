package main

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Colours and markers per client, the kit drawn strongest.
var styles = map[string]struct {
	color color.Color
	shape draw.GlyphDrawer
	width vg.Length
}{
	naiveName:    {color.RGBA{R: 150, G: 150, B: 150, A: 255}, draw.BoxGlyph{}, 1.5},
	sdkName:      {color.RGBA{R: 31, G: 119, B: 180, A: 255}, draw.TriangleGlyph{}, 1.5},
	adaptiveName: {color.RGBA{R: 255, G: 127, B: 14, A: 255}, draw.PyramidGlyph{}, 1.5},
	kitName:      {color.RGBA{R: 44, G: 160, B: 44, A: 255}, draw.CircleGlyph{}, 2.5},
	// Variants: thin and dashed, so the defaults stand out.
	"kit+breaker":  {color.RGBA{R: 214, G: 39, B: 40, A: 255}, draw.CrossGlyph{}, 1},
	"kit+shedding": {color.RGBA{R: 148, G: 103, B: 189, A: 255}, draw.PlusGlyph{}, 1},
}

// chart draws success and requests per call against the fault rate, one
// line per client, with each seed's range as error bars, into a PNG.
func (r *results) chart(path string) error {
	success := plot.New()
	success.Title.Text = "Calls that succeed"
	success.X.Label.Text = "InternalServerException rate on GetCase (%)"
	success.Y.Label.Text = "success (%)"
	success.Y.Min, success.Y.Max = 0, 100

	cost := plot.New()
	cost.Title.Text = "Requests sent per logical call"
	cost.X.Label.Text = "InternalServerException rate on GetCase (%)"
	cost.Y.Label.Text = "requests per call"
	cost.Y.Min = 0

	recovery := plot.New()
	recovery.Title.Text = "100% outage: requests per call, and recovery"
	recovery.X.Label.Text = "requests sent per call during the outage"
	recovery.Y.Label.Text = "first success after its end (s)"
	recovery.Y.Min = 0
	recovery.X.Min = 0
	recovery.Add(plotter.NewGrid())
	recovery.Legend.Top = true

	for _, p := range []*plot.Plot{success, cost} {
		p.Add(plotter.NewGrid())
		p.Legend.Top = p == cost
		p.Legend.Left = true
		p.X.Min, p.X.Max = 0, 100
	}
	for _, name := range clientNames {
		st := styles[name]
		var ok, per plotter.XYs
		var okErr, perErr plotter.YErrors
		for _, rr := range r.Rates {
			c := rr.Clients[name]
			x := rr.Rate * 100
			ok = append(ok, plotter.XY{X: x, Y: 100 * c.Success})
			okErr = append(okErr, struct{ Low, High float64 }{100 * (c.Success - c.SuccessMin), 100 * (c.SuccessMax - c.Success)})
			per = append(per, plotter.XY{X: x, Y: c.PerCall})
			perErr = append(perErr, struct{ Low, High float64 }{c.PerCall - c.PerCallMin, c.PerCallMax - c.PerCall})
		}
		for _, set := range []struct {
			p    *plot.Plot
			xy   plotter.XYs
			errs plotter.YErrors
		}{{success, ok, okErr}, {cost, per, perErr}} {
			line, points, err := plotter.NewLinePoints(set.xy)
			if err != nil {
				return err
			}
			line.Color, line.Width = st.color, st.width
			if _, variant := variants[name]; variant {
				line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			points.Color, points.Shape, points.Radius = st.color, st.shape, vg.Points(3)
			bars, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{set.xy, set.errs})
			if err != nil {
				return err
			}
			bars.Color = st.color
			set.p.Add(line, points, bars)
			set.p.Legend.Add(name, line, points)
		}
		// One point per outage length: what the client cost the dead
		// service against how soon it noticed the return (capped at the
		// wait when it never did).
		var out plotter.XYs
		for _, o := range r.Outages {
			c := o.Clients[name]
			y := r.Settings.Tail.Seconds()
			if c.RecoverySeconds != nil {
				y = *c.RecoverySeconds
			}
			out = append(out, plotter.XY{X: c.PerCall, Y: y})
		}
		if len(out) > 0 {
			sc, err := plotter.NewScatter(out)
			if err != nil {
				return err
			}
			sc.Color, sc.Shape, sc.Radius = st.color, st.shape, vg.Points(4)
			recovery.Add(sc)
			recovery.Legend.Add(name, sc)
		}
	}

	const w, h = 17 * vg.Inch, 5 * vg.Inch
	img := vgimg.New(w, h)
	dc := draw.New(img)
	title := fmt.Sprintf("%s; %d calls per cell and seed, seeds %d–%d, %d concurrent; Retry-After: %d on every fault; %s",
		r.Date, r.Settings.Calls, r.Settings.Seed, r.Settings.Seed+int64(r.Settings.Seeds)-1, r.Settings.Concurrency, retryAfterSeconds, r.Machine)
	top := plot.New()
	top.Title.Text = title
	top.Title.TextStyle.Font.Size = vg.Points(10)
	top.HideAxes()
	const band = 28 // points of the title band at the top
	// Crop takes the amounts to move each edge inwards: left, right,
	// bottom, top (a negative top moves it down).
	top.Draw(draw.Crop(dc, 0, 0, h-vg.Points(band), 0))
	head := draw.Crop(dc, 0, 0, 0, -vg.Points(band))
	tiles := draw.Tiles{Rows: 1, Cols: 3, PadX: vg.Points(20), PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12)}
	canvases := plot.Align([][]*plot.Plot{{success, cost, recovery}}, tiles, head)
	success.Draw(canvases[0][0])
	cost.Draw(canvases[0][1])
	recovery.Draw(canvases[0][2])

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
