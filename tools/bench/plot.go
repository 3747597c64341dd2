package bench

import (
	"fmt"
	"image/color"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// binsPerDecade is the number of histogram bins per factor of ten of
// latency, so the bins are equally wide on the logarithmic axis.
const binsPerDecade = 20

// legendHeadroom is the height of the plot as a multiple of the tallest
// bin, which leaves the top for the legend.
const legendHeadroom = 1.5

// PlotStartLatency draws the distributions of the back-to-back start
// latencies and of the bare fork/exec latencies as histograms over a
// logarithmic millisecond axis, with lines at the percentiles and goals,
// into a PNG file at path.
func (r *Report) PlotStartLatency(path string) error {
	if len(r.StartLatencies) == 0 {
		return fmt.Errorf("no start latencies to plot")
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Task start: %d back-to-back no-op tasks through the launch agent", len(r.StartLatencies))
	p.X.Label.Text = "time to the task agent's first statement (ms, logarithmic)"
	p.Y.Label.Text = "tasks"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true

	edges := logEdges(append(append([]time.Duration(nil), r.StartLatencies...), r.BareLatencies...))
	agent := histogram(r.StartLatencies, edges, color.RGBA{R: 70, G: 130, B: 180, A: 255})
	bare := histogram(r.BareLatencies, edges, color.RGBA{R: 150, G: 150, B: 150, A: 255})
	p.Add(bare, agent)
	p.Legend.Add("claim response to first statement", agent)
	p.Legend.Add("bare fork/exec to first statement", bare)

	top := 0.0
	for _, bin := range append(agent.Bins, bare.Bins...) {
		top = max(top, bin.Weight)
	}
	markers := []struct {
		label string
		at    time.Duration
		color color.RGBA
	}{
		{"p50", percentile(r.StartLatencies, 50), color.RGBA{R: 34, G: 139, B: 34, A: 255}},
		{"p99", percentile(r.StartLatencies, 99), color.RGBA{R: 200, G: 30, B: 30, A: 255}},
		{"p50 goal", 20 * time.Millisecond, color.RGBA{R: 120, G: 120, B: 120, A: 255}},
		{"p99 goal", 100 * time.Millisecond, color.RGBA{R: 60, G: 60, B: 60, A: 255}},
	}
	for _, m := range markers {
		line, err := verticalLine(toMilliseconds(m.at), top, m.color)
		if err != nil {
			return err
		}
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s %.2f ms", m.label, toMilliseconds(m.at)), line)
	}

	// The axes leave room above the tallest bin for the legend, and to
	// the right of the p99 goal line.
	p.Y.Max = math.Ceil(top*legendHeadroom/50) * 50
	p.X.Max = math.Max(p.X.Max, 300)
	return p.Save(9*vg.Inch, 5*vg.Inch, path)
}

// logEdges returns bin edges in milliseconds, binsPerDecade to a factor of
// ten, from the decade below the smallest value to the one above the
// largest.
func logEdges(values []time.Duration) []float64 {
	low, high := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		ms := math.Max(toMilliseconds(v), 1e-3)
		low, high = math.Min(low, ms), math.Max(high, ms)
	}
	first, last := math.Floor(math.Log10(low)), math.Ceil(math.Log10(high))
	var edges []float64
	for step := first * binsPerDecade; step <= last*binsPerDecade; step++ {
		edges = append(edges, math.Pow(10, step/binsPerDecade))
	}
	return edges
}

// histogram counts values, in milliseconds, into the bins between edges.
func histogram(values []time.Duration, edges []float64, fill color.Color) *plotter.Histogram {
	bins := make([]plotter.HistogramBin, len(edges)-1)
	for i := range bins {
		bins[i] = plotter.HistogramBin{Min: edges[i], Max: edges[i+1]}
	}
	for _, v := range values {
		ms := toMilliseconds(v)
		for i := range bins {
			if ms < bins[i].Max || i == len(bins)-1 {
				bins[i].Weight++
				break
			}
		}
	}
	h := &plotter.Histogram{Bins: bins, FillColor: fill}
	h.LineStyle.Width = 0
	return h
}

func verticalLine(x, height float64, c color.Color) (*plotter.Line, error) {
	line, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: height}})
	if err != nil {
		return nil, err
	}
	line.Color = c
	line.Width = vg.Points(1.5)
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	return line, nil
}

func toMilliseconds(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
