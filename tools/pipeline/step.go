package pipeline

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

func (p *parser) steps(n *yaml.Node, path string) []Step {
	items, ok := p.sequence(n, path)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		p.errorf(resolve(n), path, "steps is empty")
	}

	steps := make([]Step, 0, len(items))
	for i, item := range items {
		if step, ok := p.step(item, indexPath(path, i)); ok {
			steps = append(steps, step)
		}
	}
	return steps
}

// step reads one step: a bare name such as `checkout`, or a map with one key,
// the step type, whose value configures it.
func (p *parser) step(n *yaml.Node, path string) (Step, bool) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		return p.stepOf(n.Value, n, nil, path)
	}
	entries, ok := p.mapping(n, path)
	if !ok {
		return Step{}, false
	}
	if len(entries) != 1 {
		p.errorf(n, path, "a step must be a map with one key, the step type, not %d keys", len(entries))
		return Step{}, false
	}
	return p.stepOf(entries[0].key, entries[0].keyAt, entries[0].value, path)
}

func (p *parser) stepOf(kind string, at, value *yaml.Node, path string) (Step, bool) {
	switch kind {
	case "checkout":
		return p.checkout(value, path)
	case "run":
		if value == nil {
			p.errorf(at, path, "a run step needs a command")
			return Step{}, false
		}
		return p.run(value, joinPath(path, "run"))
	}
	p.errorf(at, path, "step %q is not supported by the local runner API", kind)
	return Step{}, false
}

func (p *parser) checkout(value *yaml.Node, path string) (Step, bool) {
	step := Step{Type: StepCheckout, Name: "Checkout code", When: WhenOnSuccess}
	if isNull(value) {
		return step, true
	}

	entries, ok := p.mapping(value, joinPath(path, "checkout"))
	if !ok {
		return step, false
	}
	for _, e := range entries {
		keyPath := joinPath(path, "checkout."+e.key)
		if e.key == "path" {
			step.Path, _ = p.text(e.value, keyPath)
			continue
		}
		p.unsupported(e.keyAt, keyPath, fmt.Sprintf("checkout key %q", e.key))
	}
	return step, true
}

// run reads a run step, given as the command string or as a map.
func (p *parser) run(n *yaml.Node, path string) (Step, bool) {
	step := Step{Type: StepRun, When: WhenOnSuccess}
	if resolve(n).Kind == yaml.ScalarNode {
		command, ok := p.text(n, path)
		if ok && strings.TrimSpace(command) == "" {
			p.errorf(resolve(n), path, "the command is empty")
			return step, false
		}
		step.Command = command
		step.Name = defaultStepName(command)
		return step, ok
	}

	entries, ok := p.mapping(n, path)
	if !ok {
		return step, false
	}
	for _, e := range entries {
		p.runKey(&step, e, joinPath(path, e.key))
	}
	if strings.TrimSpace(step.Command) == "" {
		p.errorf(resolve(n), path, "command is missing or empty")
		return step, false
	}
	if step.Name == "" {
		step.Name = defaultStepName(step.Command)
	}
	return step, true
}

func (p *parser) runKey(step *Step, e entry, path string) {
	switch e.key {
	case "name":
		step.Name, _ = p.text(e.value, path)
	case "command":
		step.Command, _ = p.text(e.value, path)
	case "environment":
		step.Environment = p.environment(e.value, path)
	case "working_directory":
		step.WorkingDirectory, _ = p.text(e.value, path)
	case "shell":
		step.Shell, _ = p.text(e.value, path)
	case "background":
		step.Background, _ = p.boolean(e.value, path)
	case "when":
		step.When = p.when(e.value, path)
	case "no_output_timeout":
		step.NoOutputTimeout = p.noOutputTimeout(e.value, path)
	default:
		p.unsupported(e.keyAt, path, fmt.Sprintf("run key %q", e.key))
	}
}

func (p *parser) when(n *yaml.Node, path string) When {
	value, ok := p.text(n, path)
	if !ok {
		return WhenOnSuccess
	}
	switch When(value) {
	case WhenAlways, WhenOnSuccess, WhenOnFail:
		return When(value)
	}
	p.errorf(resolve(n), path, "invalid when %q: use always, on_success or on_fail", value)
	return WhenOnSuccess
}

// noOutputTimeout reads a duration such as 20m or 1h30m. A bare number has
// no unit and is rejected.
func (p *parser) noOutputTimeout(n *yaml.Node, path string) time.Duration {
	value, ok := p.text(n, path)
	if !ok {
		return 0
	}
	timeout, err := time.ParseDuration(value)
	if err != nil || timeout <= 0 {
		p.errorf(resolve(n), path, "invalid no_output_timeout %q: use a positive duration with a unit, such as 20m", value)
		return 0
	}
	return timeout
}

// defaultStepName names an unnamed run step after the first line of its
// command, as CircleCI does.
func defaultStepName(command string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(command), "\n")
	return first
}
