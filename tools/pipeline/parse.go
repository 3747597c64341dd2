package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the config file at path. Error messages name the
// file as path is written.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CircleCI config: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a config file's contents. file names the file in error
// messages. Every problem found is returned together as Errors.
func Parse(data []byte, file string) (*Config, error) {
	doc, err := decodeOne(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: file, Line: 1, Column: 1, Message: "the file is empty; it needs version, jobs and workflows"}}
	}

	p := &parser{file: file}
	config := p.config(doc.Content[0])
	if len(p.errs) > 0 {
		p.errs.sort()
		return nil, p.errs
	}
	return config, nil
}

// decodeOne decodes the only YAML document in data.
func decodeOne(data []byte) (*yaml.Node, error) {
	decoder := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := decoder.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}

	var next yaml.Node
	if err := decoder.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, errors.New("the file contains more than one YAML document")
	}
	return &doc, nil
}

func (p *parser) config(root *yaml.Node) *Config {
	config := &Config{Jobs: map[string]*Job{}}
	entries, ok := p.mapping(root, "")
	if !ok {
		return config
	}

	var versionAt, workflowsAt *yaml.Node
	for _, e := range entries {
		switch e.key {
		case "version":
			versionAt = e.value
			config.Version = p.version(e.value)
		case "jobs":
			config.Jobs = p.jobs(e.value)
		case "workflows":
			workflowsAt = e.value
		default:
			p.unsupported(e.keyAt, "", fmt.Sprintf("key %q", e.key))
		}
	}

	if versionAt == nil {
		p.errorf(root, "", "version is missing; add version: 2.1")
	}
	if workflowsAt != nil {
		config.Workflows = p.workflows(workflowsAt, config.Jobs)
	} else {
		config.Workflows = p.implicitWorkflow(root, config.Jobs)
	}
	return config
}

func (p *parser) version(n *yaml.Node) string {
	version, ok := p.text(n, "version")
	if !ok {
		return ""
	}
	switch version {
	case "2", "2.0", "2.1":
		return version
	}
	p.errorf(n, "version", "version %q is not supported; use 2.1", version)
	return ""
}

func (p *parser) jobs(n *yaml.Node) map[string]*Job {
	jobs := map[string]*Job{}
	entries, ok := p.mapping(n, "jobs")
	if !ok {
		return jobs
	}
	for _, e := range entries {
		jobs[e.key] = p.job(e.key, e.value, joinPath("jobs", e.key))
	}
	return jobs
}

// implicitWorkflow follows CircleCI's rule for a config without workflows:
// the job named build runs alone.
func (p *parser) implicitWorkflow(root *yaml.Node, jobs map[string]*Job) []*Workflow {
	if _, ok := jobs["build"]; !ok {
		p.errorf(root, "", "workflows is missing and no job is named build; add a workflows map")
		return nil
	}
	return []*Workflow{{Name: "workflow", Jobs: []WorkflowJob{{Job: "build", Name: "build"}}}}
}

// JobNames returns the names of the config's jobs in sorted order.
func (c *Config) JobNames() []string {
	names := make([]string, 0, len(c.Jobs))
	for name := range c.Jobs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
