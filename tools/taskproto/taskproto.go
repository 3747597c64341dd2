// Package taskproto is the wire format between the local runner API and the
// local task agent: the task configuration that GET /api/v2/task/config
// returns, and the bodies of the step and completion calls. CircleCI's own
// task agent speaks a closed protocol, so this one is ours; only task_id is
// read by the launch agent.
//
// Every call carries the task token as "Authorization: Bearer TOKEN", and
// every body is JSON sent with "Content-Type: application/json; charset=utf-8".
//
//	GET  /api/v2/task/config       TaskConfig
//	GET  /api/v2/task/checkout     the repository as an uncompressed tar
//	POST /api/v2/task/step/start   StepStart
//	POST /api/v2/task/step/output  StepOutput
//	POST /api/v2/task/step/end     StepEnd
//	POST /api/v2/task/complete     Complete
//
// A task agent reports each step in order: start, any number of output
// chunks, then end. A step skipped by its `when` condition gets only an end
// with StatusSkipped. Background steps start, and their output and end may
// arrive while later steps run; every background step must end before
// complete. After complete the task token is no longer accepted. When the
// task is cancelled on the server, every call gets 410 Gone, and the task
// agent stops its steps and exits.
package taskproto

// Paths of the task agent's calls, relative to the runner API base URL.
const (
	PathConfig     = "/api/v2/task/config"
	PathCheckout   = "/api/v2/task/checkout"
	PathStepStart  = "/api/v2/task/step/start"
	PathStepOutput = "/api/v2/task/step/output"
	PathStepEnd    = "/api/v2/task/step/end"
	PathComplete   = "/api/v2/task/complete"
)

// Step types.
const (
	StepCheckout = "checkout"
	StepRun      = "run"
)

// Values of Step.When.
const (
	WhenOnSuccess = "on_success"
	WhenOnFail    = "on_fail"
	WhenAlways    = "always"
)

// TaskConfig is the body of GET /api/v2/task/config.
type TaskConfig struct {
	TaskID     string `json:"task_id"`
	Allocation string `json:"allocation"`

	// JobName is the job's name in its workflow; BuildNum numbers the jobs
	// of one server from 1.
	JobName      string `json:"job_name"`
	BuildNum     int    `json:"build_num"`
	WorkflowID   string `json:"workflow_id"`
	WorkflowName string `json:"workflow_name"`
	ProjectName  string `json:"project_name"`

	// Environment is the job's environment. The task agent adds CircleCI's
	// built-in variables and each step's own environment.
	Environment map[string]string `json:"environment"`

	// WorkingDirectory is relative to the task agent's --workDir unless it
	// is absolute or starts with "~". Empty means --workDir itself.
	WorkingDirectory string `json:"working_directory"`

	// Shell is the job's default shell, such as "/bin/bash -eo pipefail".
	// Empty means the task agent's default.
	Shell string `json:"shell"`

	Steps []Step `json:"steps"`
}

// Step is one step of TaskConfig. Its index in TaskConfig.Steps identifies
// it in the step calls.
type Step struct {
	Type string `json:"type"`
	Name string `json:"name"`

	// Path is the target folder of a checkout step, relative to the job's
	// working directory. Empty means the working directory itself.
	Path string `json:"path,omitempty"`

	Command          string            `json:"command,omitempty"`
	Environment      map[string]string `json:"environment,omitempty"`
	WorkingDirectory string            `json:"working_directory,omitempty"`
	Shell            string            `json:"shell,omitempty"`
	Background       bool              `json:"background,omitempty"`
	When             string            `json:"when"`

	// NoOutputTimeout is a Go duration such as "10m0s". The step is ended
	// as timed out when it writes no output for that long.
	NoOutputTimeout string `json:"no_output_timeout,omitempty"`
}

// StepStart is the body of POST /api/v2/task/step/start.
type StepStart struct {
	Step int `json:"step"`
}

// StepOutput is the body of POST /api/v2/task/step/output: the next chunk
// of the step's combined standard output and standard error.
type StepOutput struct {
	Step   int    `json:"step"`
	Output string `json:"output"`
}

// MaxStepOutput is the maximum output of one step, in bytes, that the local
// runner API keeps and the local task agent sends.
const MaxStepOutput = 4 << 20

// Step statuses in StepEnd and in the local runner API's job records.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusSuccess   = "success"
	StatusFailed    = "failed"
	StatusTimedOut  = "timedout"
	StatusCancelled = "cancelled"
	StatusSkipped   = "skipped"
	StatusNotRun    = "not_run"
)

// NoExitCode is StepEnd.ExitCode for a step without an exit status.
const NoExitCode = -1

// StepEnd is the body of POST /api/v2/task/step/end. ExitCode is the exit
// status of a run step's process, 0 or 1 for a checkout, and NoExitCode for a
// skipped step or a process killed by a signal.
type StepEnd struct {
	Step     int    `json:"step"`
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message"`
}

// Task results in Complete.
const (
	ResultSucceeded = "succeeded"
	ResultFailed    = "failed"
	ResultCancelled = "cancelled"
)

// Complete is the body of POST /api/v2/task/complete.
type Complete struct {
	Result  string `json:"result"`
	Message string `json:"message"`
}
