package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/circleci-runner/circleci-runner/pkg/agent"
	"github.com/circleci-runner/circleci-runner/pkg/config"
	"github.com/circleci-runner/circleci-runner/pkg/health"
	"github.com/circleci-runner/circleci-runner/pkg/logging"
	"github.com/circleci-runner/circleci-runner/pkg/runnerapi"
	"github.com/circleci-runner/circleci-runner/pkg/taskagent"
	"github.com/circleci-runner/circleci-runner/pkg/version"
	"github.com/circleci-runner/circleci-runner/pkg/workdir"
)

// serve runs the claim loop until it stops and returns the exit status.
func serve(ctx context.Context, cfg *config.Config, warnings []config.Warning, stateDir string, signals <-chan os.Signal, stderr io.Writer) int {
	log, output, err := logging.New(loggingOptions(cfg, stderr))
	if err != nil {
		// A log file that cannot be opened is a configuration error,
		// which a restart would not fix.
		fmt.Fprintf(stderr, "circleci-launch-agent: %v; fix logging.file in %s\n", err, cfg.Path)
		return exitConfig
	}
	defer output.Close()

	logSettings(log, cfg, warnings, "launch agent starting")
	hostname, _ := os.Hostname()
	executable, err := os.Executable()
	if err != nil {
		log.Warn().Err(err).Msg("cannot find the agent's executable; upgrades will not be noticed")
	}

	a, err := agent.New(agent.Options{
		Config: cfg,
		Build: func(cfg *config.Config) (agent.Parts, error) {
			return buildParts(cfg, log)
		},
		Reload: func() (*config.Config, error) {
			return reloadConfig(cfg.Path, log, output, stderr)
		},
		Health:           health.NewReporter(health.SystemdNotify, log),
		Log:              log,
		Signals:          signals,
		Environ:          os.Environ(),
		Hostname:         hostname,
		IP:               primaryIP(),
		Version:          version.Version(),
		Executable:       executable,
		WatchdogInterval: health.WatchdogInterval(),
		StopUnit:         stopTransientUnit,
		StateFile:        stateFile(stateDir, cfg.Path),
	})
	if err != nil {
		log.Error().Err(err).Msg("launch agent could not start")
		return exitError
	}
	if err := a.Run(ctx); err != nil {
		log.Error().Err(err).Msg("launch agent failed")
		return exitError
	}
	return exitOK
}

func loggingOptions(cfg *config.Config, stderr io.Writer) logging.Options {
	return logging.Options{
		File:   cfg.Logging.File,
		Level:  cfg.Logging.Level,
		Format: cfg.Logging.Format,
		Stderr: stderr,
	}
}

// logSettings logs the warnings and every setting with its source.
func logSettings(log zerolog.Logger, cfg *config.Config, warnings []config.Warning, message string) {
	for _, w := range warnings {
		log.Warn().Str("warning", w.String()).Msg("configuration warning")
	}
	settings := zerolog.Dict()
	for _, s := range cfg.Settings() {
		settings.Dict(s.Key, zerolog.Dict().Str("value", s.Value).Str("source", s.Source))
	}
	log.Info().
		Str("version", version.Version()).
		Str("config", cfg.Path).
		Dict("settings", settings).
		Msg(message)
}

// reloadConfig reads the configuration again for SIGHUP and applies its
// logging settings, which also reopens a log file that was rotated.
func reloadConfig(path string, log zerolog.Logger, output *logging.Output, stderr io.Writer) (*config.Config, error) {
	cfg, warnings, err := loadConfig(path)
	if err != nil {
		return nil, err
	}
	if err := output.Reopen(loggingOptions(cfg, stderr)); err != nil {
		return nil, err
	}
	logSettings(log, cfg, warnings, "configuration read for reload")
	return cfg, nil
}

// buildParts makes the runner API client, the task agent cache and the
// working directory template for a configuration.
func buildParts(cfg *config.Config, log zerolog.Logger) (agent.Parts, error) {
	template, err := workdir.Parse(cfg.Runner.WorkingDirectory)
	if err != nil {
		return agent.Parts{}, err
	}
	api := runnerapi.New(runnerapi.Options{
		BaseURL:        cfg.API.URL,
		Token:          cfg.API.AuthToken,
		UserAgent:      version.UserAgent(),
		RequestTimeout: cfg.API.RequestTimeout,
	})
	cache := taskagent.New(taskagent.Options{
		Dir:       taskAgentDirectory(cfg),
		BaseURL:   cfg.Runner.TaskAgentBaseURL,
		UserAgent: version.UserAgent(),
		Warn: func(err error) {
			log.Warn().Err(err).Msg("task agent cache")
		},
	})
	return agent.Parts{API: api, TaskAgents: cache, WorkDir: template}, nil
}

// taskAgentDirectory is runner.task_agent_directory, or a default that
// the agent's user can write: a root agent keeps task agents where the
// Debian package purges them.
func taskAgentDirectory(cfg *config.Config) string {
	if dir := cfg.Runner.TaskAgentDirectory; dir != "" {
		return dir
	}
	if os.Geteuid() == 0 {
		return "/var/lib/circleci-runner/task-agent"
	}
	if cache, err := os.UserCacheDir(); err == nil {
		return filepath.Join(cache, "circleci-runner", "task-agent")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("circleci-runner-%d", os.Geteuid()), "task-agent")
}

// stateFile returns the path where the agent records the task it has
// claimed until the task is reported. The name carries a hash of the configuration path, so
// agents with different configurations on one host keep separate records.
func stateFile(stateDir, configPath string) string {
	sum := sha256.Sum256([]byte(configPath))
	name := "task-in-flight-" + hex.EncodeToString(sum[:4]) + ".json"
	if stateDir != "" {
		return filepath.Join(stateDir, name)
	}
	if os.Geteuid() == 0 {
		return filepath.Join("/var/lib/circleci-runner", name)
	}
	if cache, err := os.UserCacheDir(); err == nil {
		return filepath.Join(cache, "circleci-runner", name)
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("circleci-runner-%d", os.Geteuid()), name)
}

// primaryIP returns the first global unicast IPv4 address of an interface
// that is up, or "" when there is none. It sends no packet.
func primaryIP() string {
	interfaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, iface := range interfaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, addr := range addrs {
			ipNet, ok := addr.(*net.IPNet)
			if ok && ipNet.IP.To4() != nil && ipNet.IP.IsGlobalUnicast() {
				return ipNet.IP.String()
			}
		}
	}
	return ""
}
