package localtaskagent

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

const (
	// flushInterval is how often buffered output is sent to the runner API.
	flushInterval = 200 * time.Millisecond

	// maxChunk is the maximum output in bytes sent in one call. The local
	// runner API accepts request bodies of up to 1 MiB.
	maxChunk = 64 << 10

	// outputTruncated ends the output sent for a step that printed more than
	// taskproto.MaxStepOutput bytes.
	outputTruncated = "\n[output truncated by the local task agent]\n"
)

// outputStream is a step's standard output and standard error. It echoes
// each write to the task agent's own output and sends the output to the
// runner API in chunks, at most every flushInterval. Only the first
// taskproto.MaxStepOutput bytes are sent, so a step that prints faster than
// the runner API takes its output cannot make the buffer grow without bound.
type outputStream struct {
	client *client
	step   int
	echo   io.Writer

	mu     sync.Mutex
	buffer []byte
	// bufferedTotal is the number of output bytes buffered for the runner
	// API so far, sent or not. truncated is set once the rest is dropped.
	bufferedTotal int
	truncated     bool
	lastOutput    atomic.Int64 // Unix nanoseconds of the last write

	stop chan struct{}
	done chan struct{}
}

func newOutputStream(c *client, step int, echo io.Writer) *outputStream {
	stream := &outputStream{client: c, step: step, echo: echo, stop: make(chan struct{}), done: make(chan struct{})}
	stream.lastOutput.Store(time.Now().UnixNano())
	go stream.flushLoop()
	return stream
}

func (s *outputStream) Write(data []byte) (int, error) {
	s.echo.Write(data)
	s.lastOutput.Store(time.Now().UnixNano())

	s.mu.Lock()
	defer s.mu.Unlock()

	if s.truncated {
		return len(data), nil
	}
	accepted := data
	if room := taskproto.MaxStepOutput - len(outputTruncated) - s.bufferedTotal; len(accepted) > room {
		// Cut at a character boundary so the marker follows whole text.
		accepted = accepted[:completeRunes(accepted[:room])]
		s.truncated = true
	}
	s.buffer = append(s.buffer, accepted...)
	s.bufferedTotal += len(accepted)
	if s.truncated {
		s.buffer = append(s.buffer, outputTruncated...)
	}
	return len(data), nil
}

// sinceOutput returns the time since the last write, or since the stream
// was created.
func (s *outputStream) sinceOutput() time.Duration {
	return time.Since(time.Unix(0, s.lastOutput.Load()))
}

func (s *outputStream) flushLoop() {
	defer close(s.done)
	ticker := time.NewTicker(flushInterval)
	defer ticker.Stop()

	for {
		select {
		case <-ticker.C:
			s.flush(false)
		case <-s.stop:
			s.flush(true)
			return
		}
	}
}

// Close sends what is left, and returns once it was sent, so output always
// arrives before the step's end.
func (s *outputStream) Close() {
	close(s.stop)
	<-s.done
}

// flush sends the buffered output. Unless final, a UTF-8 sequence cut at the
// end of the buffer waits for its remaining bytes, because JSON strings
// cannot carry half a character.
func (s *outputStream) flush(final bool) {
	s.mu.Lock()
	cut := len(s.buffer)
	if !final {
		cut = completeRunes(s.buffer)
	}
	pending := s.buffer[:cut]
	s.buffer = append([]byte(nil), s.buffer[cut:]...)
	s.mu.Unlock()

	for len(pending) > 0 {
		size := min(len(pending), maxChunk)
		if size < len(pending) {
			size = completeRunes(pending[:size])
		}
		err := s.client.post(taskproto.PathStepOutput, taskproto.StepOutput{Step: s.step, Output: string(pending[:size])})
		if err != nil {
			s.client.logf("send output of step %d: %v", s.step, err)
		}
		pending = pending[size:]
	}
}

// completeRunes returns the length of the longest prefix of data that does
// not end inside a UTF-8 sequence.
func completeRunes(data []byte) int {
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax; i-- {
		if utf8.RuneStart(data[i]) {
			if utf8.FullRune(data[i:]) {
				return len(data)
			}
			return i
		}
	}
	return len(data)
}

// lockedWriter serializes writes from steps that run at the same time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(data []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.w.Write(data)
}
