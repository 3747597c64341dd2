package config

import (
	"fmt"
	"time"
)

// DefaultPath is the configuration file that the Debian package writes.
const DefaultPath = "/opt/circleci/launch-agent-config.yaml"

// DefaultTaskAgentBaseURL is CircleCI's public release bucket for the task
// agent, the default of runner.task_agent_base_url.
const DefaultTaskAgentBaseURL = "https://circleci-binary-releases.s3.amazonaws.com/circleci-agent"

// Mode values for runner.mode.
const (
	ModeContinuous = "continuous"
	ModeSingleTask = "single-task"
)

// Config is the effective configuration after defaults, the file and the
// environment have been applied and validated.
type Config struct {
	// Path is the file the configuration was read from.
	Path string

	API     API
	Runner  Runner
	Logging Logging

	// Sources maps every dotted key to the source of its value, for the
	// startup log. A key that is unset has a SourceDefault entry.
	Sources map[string]Source
}

// API is the api section.
type API struct {
	AuthToken      string        // api.auth_token
	URL            string        // api.url
	RequestTimeout time.Duration // api.request_timeout, for each attempt of a runner API call
}

// Runner is the runner section.
type Runner struct {
	Name                         string        // runner.name
	ResourceClass                string        // runner.resource_class
	CommandPrefix                []string      // runner.command_prefix
	WorkingDirectory             string        // runner.working_directory
	CleanupWorkingDirectory      bool          // runner.cleanup_working_directory
	Mode                         string        // runner.mode
	MaxRunTime                   time.Duration // runner.max_run_time
	IdleTimeout                  time.Duration // runner.idle_timeout; 0 means never
	DisableAutoUpdate            bool          // runner.disable_auto_update
	SSHAdvertiseAddr             string        // runner.ssh.advertise_addr
	TaskAgentDirectory           string        // runner.task_agent_directory
	CacheTaskAgent               bool          // runner.cache_task_agent
	UseHomeSSHDirForCheckoutKeys bool          // runner.use_home_ssh_dir_for_checkout_keys
	TaskAgentBaseURL             string        // runner.task_agent_base_url
	ClaimInterval                time.Duration // runner.claim_interval
	CancelGracePeriod            time.Duration // runner.cancel_grace_period
}

// Logging is the logging section.
type Logging struct {
	File   string // logging.file; "" means standard error, and Load stores "-" as ""
	Level  string // logging.level
	Format string // logging.format: "json" or "text"
}

// Source is the origin of one configuration value: its default, a position
// in the file or an environment variable.
type Source struct {
	Kind   SourceKind
	Name   string // the file path or the environment variable
	Line   int    // for SourceFile
	Column int    // for SourceFile
}

// SourceKind is the kind of a Source.
type SourceKind int

// The kinds of Source.
const (
	SourceDefault SourceKind = iota
	SourceFile
	SourceEnv
)

// String returns "default", "FILE:LINE:COL" or "environment NAME".
func (s Source) String() string {
	switch s.Kind {
	case SourceFile:
		return fmt.Sprintf("%s:%d:%d", s.Name, s.Line, s.Column)
	case SourceEnv:
		return "environment " + s.Name
	default:
		return "default"
	}
}
