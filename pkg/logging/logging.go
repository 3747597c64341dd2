// Package logging builds the agent's zerolog logger from the logging
// section of the configuration: JSON or text, to standard error, to the
// journal when standard error is connected to it, or to a file.
package logging

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/rs/zerolog"
	"github.com/rs/zerolog/journald"
)

// Options selects where and how the agent logs.
type Options struct {
	// File is logging.file; "" means standard error.
	File string
	// Level is logging.level, such as "info" or "debug".
	Level string
	// Format is logging.format: "json" or "text".
	Format string
	// Stderr is the agent's standard error.
	Stderr io.Writer
	// Journal reports whether standard error is the systemd journal; nil
	// asks go-systemd.
	Journal func() bool
}

// New returns the logger and a function that closes the log file, if any.
func New(opts Options) (zerolog.Logger, func() error, error) {
	level := zerolog.InfoLevel
	if opts.Level != "" {
		parsed, err := zerolog.ParseLevel(opts.Level)
		if err != nil {
			return zerolog.Logger{}, nil, fmt.Errorf("invalid logging.level %q: use trace, debug, info, warn or error", opts.Level)
		}
		level = parsed
	}

	out, closeFn, err := destination(opts)
	if err != nil {
		return zerolog.Logger{}, nil, err
	}
	logger := zerolog.New(out).Level(level).With().Timestamp().Logger()
	return logger, closeFn, nil
}

func destination(opts Options) (io.Writer, func() error, error) {
	noClose := func() error { return nil }
	if opts.File != "" {
		file, err := os.OpenFile(opts.File, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("open logging.file: %w", err)
		}
		return format(file, opts.Format), file.Close, nil
	}

	isJournal := opts.Journal
	if isJournal == nil {
		isJournal = stderrIsJournal
	}
	if isJournal() {
		// The journal keeps its own timestamps and priorities, so each
		// line becomes one entry at the level's priority.
		return journald.NewJournalDWriter(), noClose, nil
	}
	return format(opts.Stderr, opts.Format), noClose, nil
}

func format(w io.Writer, name string) io.Writer {
	if name == "text" {
		return zerolog.ConsoleWriter{Out: w, NoColor: true, TimeFormat: time.RFC3339}
	}
	return w
}

func stderrIsJournal() bool {
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok
}
