package pipeline

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

func (p *parser) workflows(n *yaml.Node, jobs map[string]*Job) []*Workflow {
	entries, ok := p.mapping(n, "workflows")
	if !ok {
		return nil
	}

	var workflows []*Workflow
	for _, e := range entries {
		path := joinPath("workflows", e.key)
		if e.key == "version" {
			p.workflowsVersion(e.value, path)
			continue
		}
		if workflow := p.workflow(e.key, e.value, path, jobs); workflow != nil {
			workflows = append(workflows, workflow)
		}
	}
	if len(workflows) == 0 {
		p.errorf(resolve(n), "workflows", "no workflow is defined")
	}
	return workflows
}

// workflowsVersion accepts the `version: 2` that configs written for
// CircleCI 2.0 carry inside workflows.
func (p *parser) workflowsVersion(n *yaml.Node, path string) {
	if value, ok := p.text(n, path); ok && value != "2" {
		p.errorf(resolve(n), path, "workflows version %q is not supported; use 2 or remove it", value)
	}
}

func (p *parser) workflow(name string, n *yaml.Node, path string, jobs map[string]*Job) *Workflow {
	entries, ok := p.mapping(n, path)
	if !ok {
		return nil
	}

	workflow := &Workflow{Name: name}
	var items *yaml.Node
	for _, e := range entries {
		if e.key == "jobs" {
			items = e.value
			continue
		}
		p.unsupported(e.keyAt, joinPath(path, e.key), fmt.Sprintf("workflow key %q", e.key))
	}
	if items == nil {
		p.errorf(resolve(n), path, "jobs is missing")
		return workflow
	}

	p.workflowJobs(workflow, items, joinPath(path, "jobs"), jobs)
	return workflow
}

func (p *parser) workflowJobs(workflow *Workflow, n *yaml.Node, path string, jobs map[string]*Job) {
	items, ok := p.sequence(n, path)
	if !ok {
		return
	}

	positions := map[string]*yaml.Node{}
	for i, item := range items {
		itemPath := indexPath(path, i)
		job, ok := p.workflowJob(item, itemPath, jobs)
		if !ok {
			continue
		}
		if first, dup := positions[job.Name]; dup {
			p.errorf(resolve(item), itemPath, "job name %q is used twice in this workflow (first at line %d); give one of them a name: key", job.Name, first.Line)
			continue
		}
		positions[job.Name] = resolve(item)
		workflow.Jobs = append(workflow.Jobs, job)
	}

	p.checkRequires(workflow, positions, path)
}

// workflowJob reads a job name, or a map from the job name to its options.
func (p *parser) workflowJob(n *yaml.Node, path string, jobs map[string]*Job) (WorkflowJob, bool) {
	n = resolve(n)
	var job WorkflowJob
	var options *yaml.Node
	at := n
	if n.Kind == yaml.ScalarNode {
		job.Job = n.Value
	} else {
		entries, ok := p.mapping(n, path)
		if !ok {
			return job, false
		}
		if len(entries) != 1 {
			p.errorf(n, path, "a workflow job must be a job name or a map with one key, the job name, not %d keys", len(entries))
			return job, false
		}
		job.Job, at, options = entries[0].key, entries[0].keyAt, entries[0].value
	}

	if _, ok := jobs[job.Job]; !ok {
		p.errorf(at, path, "job %q is not defined in jobs", job.Job)
		return job, false
	}
	job.Name = job.Job
	if options != nil && !isNull(options) {
		p.workflowJobOptions(&job, options, joinPath(path, job.Job))
	}
	return job, true
}

func (p *parser) workflowJobOptions(job *WorkflowJob, n *yaml.Node, path string) {
	entries, ok := p.mapping(n, path)
	if !ok {
		return
	}
	for _, e := range entries {
		keyPath := joinPath(path, e.key)
		switch e.key {
		case "requires":
			job.Requires = p.requires(e.value, keyPath)
		case "name":
			if name, ok := p.text(e.value, keyPath); ok {
				job.Name = name
			}
		default:
			p.unsupported(e.keyAt, keyPath, fmt.Sprintf("workflow job key %q", e.key))
		}
	}
}

func (p *parser) requires(n *yaml.Node, path string) []string {
	items, ok := p.sequence(n, path)
	if !ok {
		return nil
	}
	names := make([]string, 0, len(items))
	for i, item := range items {
		if name, ok := p.text(item, indexPath(path, i)); ok {
			names = append(names, name)
		}
	}
	return names
}

// checkRequires rejects a requirement that names no job of the workflow, and
// a cycle, which would leave its jobs waiting forever.
func (p *parser) checkRequires(workflow *Workflow, positions map[string]*yaml.Node, path string) {
	known := true
	for _, job := range workflow.Jobs {
		for _, required := range job.Requires {
			if _, ok := positions[required]; !ok {
				p.errorf(positions[job.Name], path, "job %q requires %q, which is not a job of workflow %q", job.Name, required, workflow.Name)
				known = false
			}
		}
	}
	if !known {
		return
	}
	if cycle := findCycle(workflow); cycle != "" {
		p.errorf(positions[cycle], path, "job %q requires itself through its requires chain", cycle)
	}
}

// findCycle returns the name of a job on a requires cycle, or "".
func findCycle(workflow *Workflow) string {
	requires := map[string][]string{}
	for _, job := range workflow.Jobs {
		requires[job.Name] = job.Requires
	}

	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(name string) string
	visit = func(name string) string {
		switch state[name] {
		case visiting:
			return name
		case done:
			return ""
		}
		state[name] = visiting
		for _, required := range requires[name] {
			if cycle := visit(required); cycle != "" {
				return cycle
			}
		}
		state[name] = done
		return ""
	}

	for _, job := range workflow.Jobs {
		if cycle := visit(job.Name); cycle != "" {
			return cycle
		}
	}
	return ""
}
