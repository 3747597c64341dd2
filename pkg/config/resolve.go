package config

import (
	"fmt"
	"strings"
)

// resolve sets every key from the environment, else the file, else its
// default, and records where each value came from.
func (l *loader) resolve() {
	for _, spec := range keySpecs {
		value, src, problems := l.lookup(spec)
		l.cfg.Sources[spec.key] = src

		switch {
		case len(problems) > 0:
			l.report.problems = append(l.report.problems, problems...)
			l.state[spec.key] = keyInvalid
		case value == nil:
			l.state[spec.key] = keyUnset
			l.cfg.set(spec.key, defaultValue(spec))
		default:
			l.state[spec.key] = keySet
			l.cfg.set(spec.key, value)
		}
	}
}

// lookup returns a key's converted value and its source, or a nil value when
// the key is unset. A file value overridden by the environment is not
// converted, so a mistake in it does not stop the agent.
func (l *loader) lookup(spec keySpec) (any, Source, []Problem) {
	if e, ok := l.env[spec.key]; ok {
		src := Source{Kind: SourceEnv, Name: e.name}
		value, problems := convertText(spec, e.text, src)
		return value, src, problems
	}
	if v, ok := l.tree.values[spec.key]; ok && !isNull(v.node) {
		value, problems := convertNode(spec, v)
		return value, v.src, problems
	}
	return nil, Source{Kind: SourceDefault}, nil
}

// defaultValue returns a key's default converted to its type.
func defaultValue(spec keySpec) any {
	switch {
	case spec.kind == kindList:
		return []string(nil)
	case spec.def == "" && spec.kind == kindString:
		return ""
	}
	value, message := convertScalar(spec.kind, spec.def)
	if message != "" {
		panic(fmt.Sprintf("config: invalid default %q of %s: %s", spec.def, spec.key, message))
	}
	return value
}

// normalize expands ~/ in path keys and turns logging.file "-" into "",
// which means standard error.
func (l *loader) normalize() {
	for _, spec := range keySpecs {
		if !spec.path || l.state[spec.key] != keySet {
			continue
		}
		l.expandHome(spec.key, l.cfg.field(spec.key).(*string))
	}
	if l.state["runner.command_prefix"] == keySet && len(l.cfg.Runner.CommandPrefix) > 0 {
		l.expandHome("runner.command_prefix", &l.cfg.Runner.CommandPrefix[0])
	}
	if l.cfg.Logging.File == "-" {
		l.cfg.Logging.File = ""
	}
}

// expandHome replaces a leading ~/ with the agent user's home directory.
func (l *loader) expandHome(key string, path *string) {
	if *path != "~" && !strings.HasPrefix(*path, "~/") {
		return
	}
	if l.opts.HomeDir == "" {
		l.problem(key, fmt.Sprintf("%q starts with ~/, but the home directory of uid %d is unknown; write an absolute path",
			*path, l.opts.AgentUID))
		return
	}
	*path = strings.TrimSuffix(l.opts.HomeDir, "/") + (*path)[1:]
}

// problem reports a problem with a key's value at the value's source and
// marks the key invalid, so that later checks skip it.
func (l *loader) problem(key, message string) {
	l.report.problem(at(l.cfg.Sources[key], key, message))
	l.state[key] = keyInvalid
}

// warn reports a warning at a key's source.
func (l *loader) warn(key, message string) {
	l.report.warn(at(l.cfg.Sources[key], key, message))
}

// valid reports whether a key was set and no problem has been found with it.
func (l *loader) valid(key string) bool {
	return l.state[key] == keySet
}
