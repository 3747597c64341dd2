// Package pipeline reads a CircleCI 2.1 `.circleci/config.yml` into the jobs
// and workflows that the local runner API queues. It supports the subset that
// makes sense for self-hosted machine runners and rejects everything else by
// name and position, so a config is never run with parts silently ignored.
package pipeline

import "time"

// Config is a parsed `.circleci/config.yml`.
type Config struct {
	Version   string
	Jobs      map[string]*Job
	Workflows []*Workflow // in file order
}

// Job is one entry of the jobs map.
type Job struct {
	Name string

	// Machine is true when the job has `machine: true` or a machine map.
	Machine bool

	// ResourceClass is the self-hosted resource class, "namespace/name", or
	// "" when the job has only `machine: true`.
	ResourceClass string

	Environment      map[string]string
	WorkingDirectory string
	Shell            string
	Steps            []Step
}

// StepType is the kind of a step.
type StepType string

// The supported step types.
const (
	StepCheckout StepType = "checkout"
	StepRun      StepType = "run"
)

// When is the condition under which a run step runs.
type When string

// The values of a run step's `when` key.
const (
	WhenOnSuccess When = "on_success"
	WhenOnFail    When = "on_fail"
	WhenAlways    When = "always"
)

// DefaultNoOutputTimeout is CircleCI's documented default for a run step's
// no_output_timeout.
const DefaultNoOutputTimeout = 10 * time.Minute

// Step is one entry of a job's steps list.
type Step struct {
	Type StepType
	Name string

	// Path is the checkout directory of a checkout step, "" for the job's
	// working directory.
	Path string

	// The remaining fields belong to run steps.
	Command          string
	Environment      map[string]string
	WorkingDirectory string
	Shell            string
	Background       bool
	When             When

	// NoOutputTimeout is 0 when the config does not set it.
	NoOutputTimeout time.Duration
}

// Workflow is one entry of the workflows map.
type Workflow struct {
	Name string
	Jobs []WorkflowJob
}

// WorkflowJob is one job of a workflow.
type WorkflowJob struct {
	// Job is the key of the job in Config.Jobs.
	Job string

	// Name is the job's name inside the workflow: its `name:` key when set,
	// else Job. Requires lists such names.
	Name     string
	Requires []string
}
