package main

import (
	"context"
	"fmt"
	"time"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// watch prints a line whenever a job changes state, until every job has
// ended, the launch agent exits, the timeout passes or ctx ends.
func (d *demo) watch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.timeout)
	defer cancel()

	states := map[string]localapi.State{}
	for {
		changed := d.server.Changed()
		if d.printChanges(states) {
			d.logf("every job has ended")
			return nil
		}

		select {
		case <-changed:
		case <-d.agent.done:
			d.printChanges(states)
			return fmt.Errorf("%w (status %d)", errAgentExited, d.agent.exitCode())
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("timed out after %s waiting for every job to end", d.opts.timeout)
			}
			return fmt.Errorf("interrupted while jobs were running")
		}
	}
}

// printChanges prints each job whose state differs from states, records the
// new states, and reports whether every job has ended.
func (d *demo) printChanges(states map[string]localapi.State) bool {
	allEnded := true
	for _, job := range d.server.Jobs() {
		allEnded = allEnded && job.State.Ended()
		if states[job.ID] == job.State {
			continue
		}
		states[job.ID] = job.State
		d.logf("%-12s %s%s", job.Name, job.State, jobDetail(job))
	}
	return allEnded
}

func jobDetail(job localapi.Job) string {
	switch {
	case job.State == localapi.StateRunning && len(job.Claims) > 0:
		claim := job.Claims[len(job.Claims)-1]
		return fmt.Sprintf(" (claimed by runner %s, allocation %s)", claim.Runner, claim.Allocation)
	case job.State.Ended() && !job.StartedAt.IsZero():
		return fmt.Sprintf(" in %s%s", job.EndedAt.Sub(job.StartedAt).Round(time.Millisecond), messageDetail(job.Message))
	case job.State.Ended():
		return messageDetail(job.Message)
	}
	return ""
}

func messageDetail(message string) string {
	if message == "" {
		return ""
	}
	return ": " + message
}
