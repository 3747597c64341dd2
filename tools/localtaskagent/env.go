package localtaskagent

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/circleci-runner/circleci-runner/tools/taskproto"
)

// homeDir returns the home directory of the user the task agent runs as.
// HOME may be unset because systemd-run does not forward the caller's
// environment, so the user database is the fallback.
func homeDir() (string, error) {
	if home := os.Getenv("HOME"); home != "" {
		return home, nil
	}
	current, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("find the home directory: %w", err)
	}
	return current.HomeDir, nil
}

// resolveDir returns dir as an absolute path: "~" and "~/x" are under the
// home directory, and a relative path is under base. Empty means base.
func resolveDir(base, dir string) (string, error) {
	switch {
	case dir == "":
		return base, nil
	case dir == "~" || strings.HasPrefix(dir, "~/"):
		home, err := homeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, strings.TrimPrefix(dir, "~")), nil
	case filepath.IsAbs(dir):
		return filepath.Clean(dir), nil
	}
	return filepath.Join(base, dir), nil
}

// builtinEnvironment returns the variables that CircleCI sets in every job.
func builtinEnvironment(config taskproto.TaskConfig, jobDir string) map[string]string {
	return map[string]string{
		"CI":                       "true",
		"CIRCLECI":                 "true",
		"CIRCLE_JOB":               config.JobName,
		"CIRCLE_BUILD_NUM":         strconv.Itoa(config.BuildNum),
		"CIRCLE_WORKING_DIRECTORY": jobDir,
		"CIRCLE_WORKFLOW_ID":       config.WorkflowID,
		"CIRCLE_WORKFLOW_JOB_ID":   config.TaskID,
		"CIRCLE_PROJECT_REPONAME":  config.ProjectName,
		"CIRCLE_NODE_INDEX":        "0",
		"CIRCLE_NODE_TOTAL":        "1",
	}
}

// stepEnvironment merges, from lowest to highest precedence, the task
// agent's own environment, the built-in variables, the job's environment and
// the step's environment.
func stepEnvironment(base []string, layers ...map[string]string) []string {
	merged := map[string]string{}
	for _, entry := range base {
		if name, value, ok := strings.Cut(entry, "="); ok {
			merged[name] = value
		}
	}
	if merged["HOME"] == "" {
		if home, err := homeDir(); err == nil {
			merged["HOME"] = home
		}
	}
	for _, layer := range layers {
		for name, value := range layer {
			merged[name] = value
		}
	}

	env := make([]string, 0, len(merged))
	for name, value := range merged {
		env = append(env, name+"="+value)
	}
	sort.Strings(env)
	return env
}
