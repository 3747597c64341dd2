package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// printSummary writes a table with a row per job and a row per step.
func printSummary(w io.Writer, jobs []localapi.Job, expected *Expected) {
	fmt.Fprintln(w)
	table := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(table, "JOB\tRESULT\tEXPECTED\tCHECK\tSTEP\tSTATUS\tDURATION")
	for _, job := range jobs {
		want := expected.Jobs[job.Name].Result
		verdict := "ok"
		if job.State != want {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(table, "%s\t%s\t%s\t%s\t\t\t\n", job.Name, job.State, orNone(string(want)), verdict)
		for _, step := range job.Steps {
			fmt.Fprintf(table, "\t\t\t\t%s\t%s\t%s\n", step.Name, step.Status, formatDuration(step))
		}
	}
	table.Flush()
}

func orNone(text string) string {
	if text == "" {
		return "(none)"
	}
	return text
}

func formatDuration(step localapi.StepRecord) string {
	if step.StartedAt.IsZero() || step.EndedAt.IsZero() {
		return "-"
	}
	return step.Duration().Round(time.Millisecond).String()
}

// printTail writes the last lines of a log file, if it exists.
func printTail(w io.Writer, path string, lines int) {
	file, err := os.Open(path)
	if err != nil {
		return
	}
	defer file.Close()

	var tail []string
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	for scanner.Scan() {
		tail = append(tail, scanner.Text())
		if len(tail) > lines {
			tail = tail[1:]
		}
	}
	fmt.Fprintf(w, "\nLast %d lines of %s:\n", len(tail), path)
	for _, line := range tail {
		fmt.Fprintf(w, "  %s\n", line)
	}
}
