// Package logging builds the agent's zerolog logger from the logging
// section of the configuration: JSON or text, to standard error, to the
// journal when standard error is connected to it, or to a file. The
// destination, format and level can change while the agent runs, so a
// SIGHUP applies new logging settings and reopens a rotated log file.
package logging

import (
	"fmt"
	"io"
	"os"
	"sync"
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
	// Journal reports whether standard error is the systemd journal. When
	// it is nil, go-systemd checks the JOURNAL_STREAM variable.
	Journal func() bool
}

// Output is the destination of a logger made by New. Reopen switches it to
// new settings; loggers derived from the logger follow.
type Output struct {
	mu      sync.Mutex
	level   zerolog.Level
	dst     io.Writer
	closeFn func() error
}

// New returns a logger and its Output. Durations in log fields are written
// as text such as "1m30s".
func New(opts Options) (zerolog.Logger, *Output, error) {
	zerolog.DurationFieldFormat = zerolog.DurationFormatString

	out := &Output{}
	if err := out.Reopen(opts); err != nil {
		return zerolog.Logger{}, nil, err
	}
	// The Output filters by level, so the logger passes every level on.
	logger := zerolog.New(out).Level(zerolog.TraceLevel).With().Timestamp().Logger()
	return logger, out, nil
}

// Reopen applies opts: it opens the log file again, which follows a file
// that logrotate renamed, and changes the format and level. On error the
// previous destination stays in use.
func (o *Output) Reopen(opts Options) error {
	level, err := parseLevel(opts.Level)
	if err != nil {
		return err
	}
	dst, closeFn, err := destination(opts)
	if err != nil {
		return err
	}

	o.mu.Lock()
	defer o.mu.Unlock()

	if o.closeFn != nil {
		_ = o.closeFn()
	}
	o.level, o.dst, o.closeFn = level, dst, closeFn
	return nil
}

// Close closes the log file, if any.
func (o *Output) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()

	if o.closeFn == nil {
		return nil
	}
	err := o.closeFn()
	o.closeFn = nil
	return err
}

// Write writes an entry without a level.
func (o *Output) Write(p []byte) (int, error) {
	return o.WriteLevel(zerolog.NoLevel, p)
}

// WriteLevel writes an entry at level unless the level is filtered out.
func (o *Output) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()

	if level != zerolog.NoLevel && level < o.level {
		return len(p), nil
	}
	if lw, ok := o.dst.(zerolog.LevelWriter); ok {
		return lw.WriteLevel(level, p)
	}
	return o.dst.Write(p)
}

func parseLevel(name string) (zerolog.Level, error) {
	if name == "" {
		return zerolog.InfoLevel, nil
	}
	level, err := zerolog.ParseLevel(name)
	if err != nil {
		return zerolog.NoLevel, fmt.Errorf("invalid logging.level %q: use trace, debug, info, warn or error", name)
	}
	return level, nil
}

func destination(opts Options) (io.Writer, func() error, error) {
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
		return journald.NewJournalDWriter(), nil, nil
	}
	return format(opts.Stderr, opts.Format), nil, nil
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

// CheckFile returns an error when logging.file cannot be written: the file
// exists and is not writable, or its folder is missing or not writable.
func CheckFile(path string) error {
	if path == "" {
		return nil
	}
	if err := writable(path); err == nil {
		return nil
	} else if !os.IsNotExist(err) {
		return fmt.Errorf("logging.file %s is not writable: %w", path, err)
	}
	dir := parentDir(path)
	if err := writable(dir); err != nil {
		return fmt.Errorf("logging.file %s cannot be created: %w; create the folder %s or change logging.file", path, err, dir)
	}
	return nil
}
