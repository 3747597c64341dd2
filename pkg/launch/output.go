package launch

import (
	"context"
	"io"
	"os"
	"sync"
	"time"
)

// outputDrainTime is how long the task agent's output is still read after
// it exits. A process that left the process group (with setsid) can keep
// the pipe open forever, so reading stops after this.
const outputDrainTime = 2 * time.Second

// output is one pipe from the task agent's stdout or stderr to a writer.
// The child gets the write end as an *os.File, so exec.Cmd.Wait returns
// when the process exits instead of when every holder of the pipe has
// closed it.
type output struct {
	read, write *os.File
	dst         io.Writer
	copied      chan struct{}
}

// connect makes the pipes for stdout and stderr and returns the write end
// of the standard input pipe. Writes to the two destinations are
// serialized, so one writer may serve both.
func (t *Task) connect(stdout, stderr io.Writer) (io.WriteCloser, error) {
	var mu sync.Mutex
	for _, dst := range []io.Writer{stdout, stderr} {
		if dst == nil {
			dst = io.Discard
		}
		dst = &lockedWriter{mu: &mu, w: dst}
		read, write, err := os.Pipe()
		if err != nil {
			t.closeChildEnds()
			t.closeOutputs()
			return nil, err
		}
		t.outputs = append(t.outputs, &output{read: read, write: write, dst: dst, copied: make(chan struct{})})
	}
	t.cmd.Stdout = t.outputs[0].write
	t.cmd.Stderr = t.outputs[1].write

	// The agent keeps its own copy of the read end of standard input, so
	// that after the exit it can count the bytes left unread.
	read, write, err := os.Pipe()
	if err != nil {
		t.closeChildEnds()
		t.closeOutputs()
		return nil, err
	}
	t.cmd.Stdin = read
	t.stdin = read
	return write, nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()

	return l.w.Write(p)
}

func (o *output) copy() {
	_, _ = io.Copy(o.dst, o.read)
	close(o.copied)
}

// closeChildEnds closes the agent's copy of the write ends once the child
// has its own.
func (t *Task) closeChildEnds() {
	for _, out := range t.outputs {
		out.write.Close()
	}
}

func (t *Task) closeOutputs() {
	for _, out := range t.outputs {
		out.read.Close()
	}
}

// finishOutputs waits for the copies to reach the end of the output, at
// most outputDrainTime, then closes the read ends.
func (t *Task) finishOutputs() {
	ctx, cancel := context.WithTimeout(context.Background(), outputDrainTime)
	defer cancel()
	for _, out := range t.outputs {
		select {
		case <-out.copied:
		case <-ctx.Done():
		}
	}
	t.closeOutputs()
	for _, out := range t.outputs {
		<-out.copied
	}
}
