package localapi

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/circleci-runner/circleci-runner/tools/pipeline"
)

// DefaultAgentVersion is the agent_version that claims hand out unless
// Options.AgentVersion is set.
const DefaultAgentVersion = "local-1"

// DefaultMaxUnclaims is how many times a job may be returned to the queue
// before POST /api/v3/runner/unclaim responds with 409.
const DefaultMaxUnclaims = 3

// Options configures a Server.
type Options struct {
	// RepoDir is the repository: it contains .circleci/config.yml, and
	// checkout steps receive its files.
	RepoDir string

	// Tokens maps each resource-class token to its resource class. A claim
	// with a token gets only jobs of that token's resource class.
	Tokens map[string]string

	// TaskAgents maps a GOARCH such as "amd64" to the path of the task
	// agent binary served for it. The files are read once, by New.
	TaskAgents map[string]string

	// AgentVersion is the agent_version of claims; DefaultAgentVersion
	// when empty.
	AgentVersion string

	// DefaultResourceClass is the resource class of jobs that have only
	// `machine: true`. When empty and the tokens name one resource class,
	// that class is the default.
	DefaultResourceClass string

	// MaxUnclaims is how many unclaims of one job succeed before the next
	// gets 409; DefaultMaxUnclaims when 0, and no unclaim succeeds when
	// negative.
	MaxUnclaims int

	// ClaimWarning is sent as the warning of every claim.
	ClaimWarning string

	// Logger receives a line for each job state change and each rejected
	// request. The zero value discards them.
	Logger zerolog.Logger

	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Server is the local runner API. Its Handler speaks the runner API, the task
// agent protocol of package taskproto, the task-agent downloads and the /local
// endpoints for tests and people.
type Server struct {
	opts    Options
	config  *pipeline.Config
	agents  *taskAgents
	faults  *faultSet
	calls   *callLog
	handler http.Handler
	log     zerolog.Logger

	mu           sync.Mutex
	jobs         []*job
	byID         map[string]*job
	tasks        map[string]*task // by task token
	buildNum     int
	queueSeq     int64
	agentVersion string
	served       map[string]bool // every agent_version handed out
	changed      chan struct{}

	http *httpServer
}

// New reads the repository's config, the task agent binaries and the tokens,
// and queues the jobs of every workflow whose requirements are met.
func New(opts Options) (*Server, error) {
	if err := completeOptions(&opts); err != nil {
		return nil, err
	}

	config, err := pipeline.Load(filepath.Join(opts.RepoDir, ".circleci", "config.yml"))
	if err != nil {
		return nil, err
	}
	agents, err := loadTaskAgents(opts.TaskAgents)
	if err != nil {
		return nil, err
	}

	s := &Server{
		opts:         opts,
		config:       config,
		agents:       agents,
		faults:       &faultSet{},
		calls:        &callLog{},
		log:          opts.Logger,
		byID:         map[string]*job{},
		tasks:        map[string]*task{},
		agentVersion: opts.AgentVersion,
		served:       map[string]bool{opts.AgentVersion: true},
		changed:      make(chan struct{}),
	}
	if err := s.expandWorkflows(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

func completeOptions(opts *Options) error {
	if opts.RepoDir == "" {
		return errors.New("the repository directory is missing")
	}
	if len(opts.Tokens) == 0 {
		return errors.New("no resource-class token is configured; add at least one token and resource class")
	}
	for _, class := range opts.Tokens {
		if !pipeline.ValidResourceClass(class) {
			return fmt.Errorf("invalid resource class %q of a token: use namespace/name", class)
		}
	}
	if len(opts.TaskAgents) == 0 {
		return errors.New("no task agent binary is configured")
	}

	if opts.AgentVersion == "" {
		opts.AgentVersion = DefaultAgentVersion
	}
	if opts.MaxUnclaims == 0 {
		opts.MaxUnclaims = DefaultMaxUnclaims
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return completeDefaultResourceClass(opts)
}

func completeDefaultResourceClass(opts *Options) error {
	if opts.DefaultResourceClass != "" {
		if !pipeline.ValidResourceClass(opts.DefaultResourceClass) {
			return fmt.Errorf("invalid default resource class %q: use namespace/name", opts.DefaultResourceClass)
		}
		return nil
	}

	classes := map[string]bool{}
	for _, class := range opts.Tokens {
		classes[class] = true
	}
	if len(classes) == 1 {
		for class := range classes {
			opts.DefaultResourceClass = class
		}
	}
	return nil
}

// Handler returns the HTTP handler of every endpoint.
func (s *Server) Handler() http.Handler {
	return s.handler
}

// Config returns the parsed CircleCI config of the repository.
func (s *Server) Config() *pipeline.Config {
	return s.config
}

// SetAgentVersion makes later claims hand out version. The task agent stays
// downloadable under every version handed out before.
func (s *Server) SetAgentVersion(version string) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.agentVersion = version
	s.served[version] = true
}

// notifyLocked wakes everything that waits for a change of the jobs. The
// caller holds s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
