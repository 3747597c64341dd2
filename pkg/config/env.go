package config

import (
	"fmt"
	"strings"
)

// envValue is a configuration value from one environment variable.
type envValue struct {
	name string
	text string
}

// envTarget is the key that a known variable sets.
type envTarget struct {
	key     string
	primary bool // LAUNCH_AGENT_*, which wins over CIRCLECI_RUNNER_*
}

func knownEnvNames() map[string]envTarget {
	names := map[string]envTarget{}
	for _, s := range keySpecs {
		names[s.envName()] = envTarget{key: s.key, primary: true}
		names[s.aliasName()] = envTarget{key: s.key}
	}
	return names
}

// readEnvironment returns the configuration values set in environ, which has
// the form of os.Environ, by dotted key. An empty variable counts as unset.
// It warns about variables with our prefixes that name no key, and about keys
// set under both names.
func readEnvironment(environ []string, r *report) map[string]envValue {
	known := knownEnvNames()
	primary := map[string]envValue{}
	alias := map[string]envValue{}
	seen := map[string]bool{}

	for _, entry := range environ {
		name, text, ok := strings.Cut(entry, "=")
		if !ok || seen[name] {
			continue // the first entry of a name wins, as in os.Getenv
		}
		seen[name] = true
		if !strings.HasPrefix(name, envPrefix) && !strings.HasPrefix(name, aliasPrefix) {
			continue
		}

		ref, ok := known[name]
		switch {
		case !ok:
			r.warn(Problem{Env: name, Message: unknownEnvMessage(name)})
		case text == "":
		case ref.primary:
			primary[ref.key] = envValue{name: name, text: text}
		default:
			alias[ref.key] = envValue{name: name, text: text}
		}
	}
	return mergeAliases(primary, alias, r)
}

// mergeAliases adds the CIRCLECI_RUNNER_* values whose key has no
// LAUNCH_AGENT_* value.
func mergeAliases(primary, alias map[string]envValue, r *report) map[string]envValue {
	for _, s := range keySpecs {
		a, ok := alias[s.key]
		if !ok {
			continue
		}
		if p, ok := primary[s.key]; ok {
			r.warn(Problem{Env: a.name, Key: s.key, Message: fmt.Sprintf(
				"ignored because %s is also set; unset one of them", p.name)})
			continue
		}
		primary[s.key] = a
	}
	return primary
}

func unknownEnvMessage(name string) string {
	if suggestion := closestEnv(name); suggestion != "" {
		return fmt.Sprintf("names no configuration key and is ignored; did you mean %s?", suggestion)
	}
	return "names no configuration key and is ignored; run \"circleci-launch-agent config --help\" for the list of variables"
}
