package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Markers around the part of the benchmarks page that WriteResults
// replaces. The text outside them is kept.
const (
	beginMarker = "<!-- begin make bench results -->"
	endMarker   = "<!-- end make bench results -->"
)

// Print writes one line per figure: name, value, goal, baseline, ratio and
// verdict.
func (r *Report) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\tgoal\tbaseline\tratio\tverdict")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, f.Value, dash(f.Goal), dash(f.Baseline), dash(f.Ratio), f.Verdict)
	}
	if len(r.Stages) > 0 {
		fmt.Fprintln(tw, "\nback-to-back task stage (median)\tagent\tbare fork/exec")
		for _, stage := range r.Stages {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", stage.Name, milliseconds(stage.Agent), stageBare(stage))
		}
	}
	return tw.Flush()
}

func stageBare(stage Stage) string {
	if stage.Bare == 0 {
		return "-"
	}
	return milliseconds(stage.Bare)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Results returns the Markdown of the results: command, machine, date,
// run time, the figures and the latency plot.
func (r *Report) Results(command, plotName string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Command: `%s`  \n", command)
	fmt.Fprintf(&b, "Machine: %s  \n", r.Machine)
	fmt.Fprintf(&b, "Load average at the start (1, 5, 15 min): %s  \n", r.LoadAverage)
	fmt.Fprintf(&b, "Date: %s; the run took %s.\n\n", r.Started.UTC().Format(time.RFC3339), r.Duration.Round(time.Second))
	b.WriteString("| figure | value | goal | baseline | ratio | verdict |\n|---|---|---|---|---|---|\n")
	for _, f := range r.Figures {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", f.Name, f.Value, dash(f.Goal), dash(f.Baseline), dash(f.Ratio), f.Verdict)
	}
	if len(r.Stages) > 0 {
		b.WriteString("\n| back-to-back task stage (median) | agent | bare fork/exec |\n|---|---|---|\n")
		for _, stage := range r.Stages {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", stage.Name, milliseconds(stage.Agent), stageBare(stage))
		}
	}
	if plotName != "" {
		fmt.Fprintf(&b, "\n![Distribution of back-to-back task start latency](%s)\n", plotName)
	}
	return b.String()
}

// WriteResults replaces the results part of the Markdown page at path,
// between its markers, with results. A missing page is created with a
// title and the markers.
func WriteResults(path, results string) error {
	page, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		page = []byte("# Benchmarks\n\n" + beginMarker + "\n" + endMarker + "\n")
	} else if err != nil {
		return err
	}

	begin := bytes.Index(page, []byte(beginMarker))
	end := bytes.Index(page, []byte(endMarker))
	if begin < 0 || end < begin {
		return fmt.Errorf("%s has no %q line followed by %q; add both where the results go", path, beginMarker, endMarker)
	}
	var out bytes.Buffer
	out.Write(page[:begin+len(beginMarker)])
	out.WriteString("\n" + results)
	out.Write(page[end:])
	return os.WriteFile(path, out.Bytes(), 0o644)
}
