package localtaskagent

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// backgroundStep is a run step with `background: true`: it runs alongside
// the later steps, and is stopped when the job's steps are done.
type backgroundStep struct {
	process *stepProcess
	stopped atomic.Bool
	ended   chan struct{}
}

// startBackground starts the step and reports its end when it exits. The
// exit status of a background step does not fail the job.
func (a *Agent) startBackground(job *jobRun, index int, step taskproto.Step) (string, string) {
	start := time.Now()
	process, output, err := a.start(job, index, step)
	if err != nil {
		fmt.Fprintln(a.echo, err)
		a.endStep(index, step.Name, taskproto.StatusFailed, taskproto.NoExitCode, err.Error(), time.Since(start))
		return taskproto.StatusSuccess, ""
	}

	background := &backgroundStep{process: process, ended: make(chan struct{})}
	a.mu.Lock()
	a.background = append(a.background, background)
	a.mu.Unlock()

	go func() {
		defer close(background.ended)
		<-process.done
		output.Close()
		status, code, message := exitStatus(process)
		if background.stopped.Load() {
			status, code, message = taskproto.StatusCancelled, taskproto.NoExitCode, "stopped at the end of the job"
		}
		a.endStep(index, step.Name, status, code, message, time.Since(start))
	}()
	fmt.Fprintf(a.echo, "==> Step %d/%d: %s: running in the background\n", index+1, a.stepCount, step.Name)
	return taskproto.StatusSuccess, ""
}

// stopBackground stops every background step that is still running, and
// waits until each has reported its end.
func (a *Agent) stopBackground() {
	a.mu.Lock()
	steps := append([]*backgroundStep(nil), a.background...)
	a.mu.Unlock()

	var wg sync.WaitGroup
	for _, step := range steps {
		select {
		case <-step.process.done:
		default:
			step.stopped.Store(true)
			wg.Add(1)
			go func() {
				defer wg.Done()
				step.process.stop(a.KillGrace)
			}()
		}
	}
	wg.Wait()
	for _, step := range steps {
		<-step.ended
	}
}

// killLeftovers stops what steps left running in their process groups, so no
// process of the task outlives it.
func (a *Agent) killLeftovers() {
	a.mu.Lock()
	defer a.mu.Unlock()

	for _, process := range a.processes {
		process.killGroup()
	}
}
