package agent

import (
	"bytes"
	"io"
	"sync"

	"github.com/rs/zerolog"
)

// maxLoggedOutput bounds how much of one task agent's output reaches the
// log, so a job that prints gigabytes cannot flood the journal.
const maxLoggedOutput = 1 << 20

// taskOutput returns the writers for the task agent's standard output and
// standard error.
func (a *Agent) taskOutput(t *task) (stdout, stderr io.Writer) {
	if a.opts.TaskOutput != nil {
		return a.opts.TaskOutput, a.opts.TaskOutput
	}
	budget := &outputBudget{left: maxLoggedOutput}
	return &lineLogger{log: t.log, stream: "stdout", budget: budget},
		&lineLogger{log: t.log, stream: "stderr", budget: budget}
}

// outputBudget is shared by the two streams of one task.
type outputBudget struct {
	mu        sync.Mutex
	left      int
	truncated bool
}

// take returns how many of n bytes may be logged, and true the first time
// the budget runs out.
func (b *outputBudget) take(n int) (allowed int, exhausted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()

	allowed = min(n, b.left)
	b.left -= allowed
	if allowed < n && !b.truncated {
		b.truncated = true
		return allowed, true
	}
	return allowed, false
}

// lineLogger logs each line written to it as one entry.
type lineLogger struct {
	log     zerolog.Logger
	stream  string
	budget  *outputBudget
	partial []byte
}

func (l *lineLogger) Write(p []byte) (int, error) {
	allowed, exhausted := l.budget.take(len(p))
	l.partial = append(l.partial, p[:allowed]...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.emit(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	if exhausted {
		if len(l.partial) > 0 {
			l.emit(l.partial)
			l.partial = nil
		}
		l.log.Warn().Int("limit_bytes", maxLoggedOutput).Msg("task agent output exceeds the log limit; the rest is not logged")
	}
	return len(p), nil
}

func (l *lineLogger) emit(line []byte) {
	l.log.Info().Str("stream", l.stream).Msg(string(bytes.TrimRight(line, "\r")))
}
