// Command noopagent is the no-op task agent of the benchmarks. It accepts
// the task agent's command line, records the time its main function began,
// reads the task token from standard input and exits 0 without running a
// step.
//
// Each run appends one line, "ALLOCATION UNIX_NANOSECONDS", to recordFile
// with a single write to a file opened with O_APPEND, so runs never
// interleave within a line. The time is CLOCK_REALTIME, the clock the
// benchmark driver stamps claim responses with.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// recordFile is set at build time with -ldflags "-X main.recordFile=PATH".
// The launch agent passes a task agent only its fixed flags and a filtered
// environment, so the path cannot travel at run time. Empty records nothing.
var recordFile string

func main() {
	started := time.Now()

	allocation := flagValue(os.Args[1:], "--allocation=")
	if allocation == "" {
		fmt.Fprintln(os.Stderr, "noopagent: the --allocation flag is missing")
		os.Exit(2)
	}
	if err := record(allocation, started); err != nil {
		fmt.Fprintln(os.Stderr, "noopagent:", err)
		os.Exit(1)
	}

	// The launch agent writes the task token and a newline, then closes
	// standard input, so an empty token means the launch went wrong.
	token, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if strings.TrimSpace(token) == "" {
		fmt.Fprintln(os.Stderr, "noopagent: no task token on standard input")
		os.Exit(1)
	}
}

func flagValue(args []string, prefix string) string {
	for _, arg := range args {
		if value, ok := strings.CutPrefix(arg, prefix); ok {
			return value
		}
	}
	return ""
}

func record(allocation string, started time.Time) error {
	if recordFile == "" {
		return nil
	}
	file, err := os.OpenFile(recordFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	line := allocation + " " + strconv.FormatInt(started.UnixNano(), 10) + "\n"
	if _, err := file.WriteString(line); err != nil {
		file.Close()
		return fmt.Errorf("write %s: %w", recordFile, err)
	}
	return file.Close()
}
