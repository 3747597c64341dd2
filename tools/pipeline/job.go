package pipeline

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"
)

// resourceClassPattern is the self-hosted runner form namespace/name.
var resourceClassPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+/[A-Za-z0-9_-]+$`)

// ValidResourceClass reports whether class has the form namespace/name of a
// self-hosted runner resource class.
func ValidResourceClass(class string) bool {
	return resourceClassPattern.MatchString(class)
}

// executorKeys are the job keys that select an executor other than machine.
var executorKeys = map[string]bool{
	"docker": true, "macos": true, "windows": true, "executor": true,
}

func (p *parser) job(name string, n *yaml.Node, path string) *Job {
	job := &Job{Name: name}
	entries, ok := p.mapping(n, path)
	if !ok {
		return job
	}

	var machineSet, executorSet, stepsSet bool
	for _, e := range entries {
		keyPath := joinPath(path, e.key)
		switch e.key {
		case "machine":
			machineSet = true
			job.Machine = p.machine(e.value, keyPath)
		case "resource_class":
			job.ResourceClass = p.resourceClass(e.value, keyPath)
		case "environment":
			job.Environment = p.environment(e.value, keyPath)
		case "working_directory":
			job.WorkingDirectory, _ = p.text(e.value, keyPath)
		case "shell":
			job.Shell, _ = p.text(e.value, keyPath)
		case "steps":
			stepsSet = true
			job.Steps = p.steps(e.value, keyPath)
		case "description":
			// Documentation only: it changes nothing about how the job runs.
		default:
			executorSet = executorSet || executorKeys[e.key]
			p.unsupportedJobKey(e, keyPath)
		}
	}

	if !machineSet && !executorSet && job.ResourceClass == "" {
		p.errorf(resolve(n), path, "the job has no executor; add machine: true and a self-hosted resource_class")
	}
	if !stepsSet {
		p.errorf(resolve(n), path, "steps is missing")
	}
	return job
}

func (p *parser) unsupportedJobKey(e entry, path string) {
	if executorKeys[e.key] {
		p.errorf(e.keyAt, path, "executor %q is not supported by the local runner API; use machine: true with a self-hosted resource_class", e.key)
		return
	}
	p.unsupported(e.keyAt, path, fmt.Sprintf("job key %q", e.key))
}

// machine accepts `machine: true` or a map without keys. A machine image is
// chosen by the runner's host, so `image` is rejected.
func (p *parser) machine(n *yaml.Node, path string) bool {
	n = resolve(n)
	if n.Kind == yaml.MappingNode {
		entries, _ := p.mapping(n, path)
		for _, e := range entries {
			if e.key == "image" {
				p.errorf(e.keyAt, joinPath(path, "image"), "a machine image is not supported for self-hosted runners; remove image and set a self-hosted resource_class")
				continue
			}
			p.unsupported(e.keyAt, joinPath(path, e.key), fmt.Sprintf("machine key %q", e.key))
		}
		return true
	}

	value, ok := p.boolean(n, path)
	if ok && !value {
		p.errorf(n, path, "machine: false selects no executor; use machine: true")
	}
	return value
}

func (p *parser) resourceClass(n *yaml.Node, path string) string {
	class, ok := p.text(n, path)
	if !ok {
		return ""
	}
	if !ValidResourceClass(class) {
		p.errorf(resolve(n), path, "resource class %q is not a self-hosted runner resource class; use namespace/name", class)
		return ""
	}
	return class
}
