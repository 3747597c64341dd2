package main

import (
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/circleci-runner/circleci-runner/tools/localapi"
)

// Expected is the content of expected.yaml: how each job must end.
type Expected struct {
	Jobs map[string]JobExpectation `yaml:"jobs"`
}

// JobExpectation is the expected end of every run of one job.
type JobExpectation struct {
	Result   localapi.State    `yaml:"result"`
	Outputs  map[string]texts  `yaml:"outputs"`
	Statuses map[string]string `yaml:"statuses"`
}

// texts is one string or a list of strings in YAML.
type texts []string

func (t *texts) UnmarshalYAML(node *yaml.Node) error {
	if node.Kind == yaml.ScalarNode {
		*t = texts{node.Value}
		return nil
	}
	var list []string
	if err := node.Decode(&list); err != nil {
		return err
	}
	*t = list
	return nil
}

func loadExpected(path string) (*Expected, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read expected results: %w", err)
	}
	decoder := yaml.NewDecoder(bytes.NewReader(data))
	decoder.KnownFields(true)
	var expected Expected
	if err := decoder.Decode(&expected); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	for name, job := range expected.Jobs {
		if !job.Result.Ended() {
			return nil, fmt.Errorf("%s: jobs.%s.result %q is invalid: use succeeded, failed, blocked or cancelled", path, name, job.Result)
		}
	}
	return &expected, nil
}

// check returns every difference between the jobs and the expectations.
func (e *Expected) check(jobs []localapi.Job) []string {
	var problems []string
	seen := map[string]bool{}
	for _, job := range jobs {
		seen[job.Name] = true
		want, ok := e.Jobs[job.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: expected.yaml has no entry for this job", job.Name))
			continue
		}
		problems = append(problems, want.check(job)...)
	}

	var missing []string
	for name := range e.Jobs {
		if !seen[name] {
			missing = append(missing, fmt.Sprintf("%s: expected.yaml names this job, but the pipeline did not run it", name))
		}
	}
	sort.Strings(missing)
	return append(problems, missing...)
}

func (want JobExpectation) check(job localapi.Job) []string {
	var problems []string
	if job.State != want.Result {
		problems = append(problems, fmt.Sprintf("%s: ended as %s, expected %s", job.Name, job.State, want.Result))
	}
	for _, name := range sortedKeys(want.Outputs) {
		step, ok := findStep(job, name)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no step is named %q", job.Name, name))
			continue
		}
		for _, text := range want.Outputs[name] {
			if !strings.Contains(step.Output, text) {
				problems = append(problems, fmt.Sprintf("%s: the output of step %q does not contain %q", job.Name, name, text))
			}
		}
	}
	for _, name := range sortedKeys(want.Statuses) {
		step, ok := findStep(job, name)
		if ok && step.Status != want.Statuses[name] {
			problems = append(problems, fmt.Sprintf("%s: step %q ended as %s, expected %s", job.Name, name, step.Status, want.Statuses[name]))
		}
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no step is named %q", job.Name, name))
		}
	}
	return problems
}

func findStep(job localapi.Job, name string) (localapi.StepRecord, bool) {
	for _, step := range job.Steps {
		if step.Name == name {
			return step, true
		}
	}
	return localapi.StepRecord{}, false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
