package config

import (
	"fmt"
	"sort"
	"strings"
)

// valueKind is the YAML shape and Go type of one key's value.
type valueKind int

const (
	kindString   valueKind = iota // string, taken as written
	kindBool                      // true or false
	kindDuration                  // a Go duration such as 5m or 1h30m
	kindList                      // a list of strings
)

func (k valueKind) String() string {
	switch k {
	case kindBool:
		return "boolean"
	case kindDuration:
		return "duration"
	case kindList:
		return "list of strings"
	default:
		return "string"
	}
}

// keySpec describes one configuration key. The environment names follow the
// scheme in the package documentation.
type keySpec struct {
	key      string // dotted key, such as runner.max_run_time
	kind     valueKind
	def      string // default in the environment syntax; "" for none
	required bool
	path     bool // a leading ~/ is the agent user's home directory
	secret   bool // masked in Settings and never put in messages
}

// keySpecs lists every key in the order of the startup log and the help text.
var keySpecs = []keySpec{
	{key: "api.auth_token", kind: kindString, required: true, secret: true},
	{key: "api.url", kind: kindString, def: "https://runner.circleci.com"},
	{key: "api.request_timeout", kind: kindDuration, def: "30s"},
	{key: "runner.name", kind: kindString, required: true},
	{key: "runner.resource_class", kind: kindString},
	{key: "runner.command_prefix", kind: kindList},
	{key: "runner.working_directory", kind: kindString, def: "/opt/circleci/workdir/%s", path: true},
	{key: "runner.cleanup_working_directory", kind: kindBool, def: "false"},
	{key: "runner.mode", kind: kindString, def: ModeContinuous},
	{key: "runner.max_run_time", kind: kindDuration, def: "5h"},
	{key: "runner.idle_timeout", kind: kindDuration, def: "0s"},
	{key: "runner.disable_auto_update", kind: kindBool, def: "false"},
	{key: "runner.ssh.advertise_addr", kind: kindString},
	{key: "runner.task_agent_directory", kind: kindString, path: true},
	{key: "runner.cache_task_agent", kind: kindBool, def: "true"},
	{key: "runner.use_home_ssh_dir_for_checkout_keys", kind: kindBool, def: "false"},
	{key: "runner.task_agent_base_url", kind: kindString, def: DefaultTaskAgentBaseURL},
	{key: "runner.claim_interval", kind: kindDuration, def: "5s"},
	{key: "runner.cancel_grace_period", kind: kindDuration, def: "20s"},
	{key: "logging.file", kind: kindString, path: true},
	{key: "logging.level", kind: kindString, def: "info"},
	{key: "logging.format", kind: kindString, def: "json"},
}

// envOverrides lists the LAUNCH_AGENT_* names that do not follow the
// upper-case rule, because the launch agent reference chose shorter ones.
var envOverrides = map[string]string{
	"runner.working_directory":         "RUNNER_WORK_DIR",
	"runner.cleanup_working_directory": "RUNNER_CLEANUP_WORK_DIR",
}

// legacyKeys maps old spellings from CircleCI's documentation to today's key.
var legacyKeys = map[string]string{
	"api.host": "api.url",
}

const (
	envPrefix   = "LAUNCH_AGENT_"
	aliasPrefix = "CIRCLECI_RUNNER_"
)

// envName returns the LAUNCH_AGENT_* variable of a key.
func (s keySpec) envName() string {
	return envPrefix + envSuffix(s.key)
}

// aliasName returns the CIRCLECI_RUNNER_* variable of a key. Machine runner 3
// drops the RUNNER_ part of runner.* keys, because its prefix contains it.
func (s keySpec) aliasName() string {
	return aliasPrefix + strings.TrimPrefix(envSuffix(s.key), "RUNNER_")
}

func envSuffix(key string) string {
	if name, ok := envOverrides[key]; ok {
		return name
	}
	return strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// section returns the dotted section of a key: "runner.ssh" for
// runner.ssh.advertise_addr.
func section(key string) string {
	i := strings.LastIndexByte(key, '.')
	if i < 0 {
		return ""
	}
	return key[:i]
}

// leaf returns the last part of a dotted key.
func leaf(key string) string {
	return key[strings.LastIndexByte(key, '.')+1:]
}

func lookupSpec(key string) (keySpec, bool) {
	for _, s := range keySpecs {
		if s.key == key {
			return s, true
		}
	}
	return keySpec{}, false
}

// isSection reports whether a dotted name is a section that contains keys,
// such as "runner" or "runner.ssh". The empty name is the top level.
func isSection(name string) bool {
	if name == "" {
		return true
	}
	for _, s := range keySpecs {
		if strings.HasPrefix(s.key, name+".") {
			return true
		}
	}
	return false
}

// sectionMembers returns the sorted names directly under a section.
func sectionMembers(name string) []string {
	prefix := ""
	if name != "" {
		prefix = name + "."
	}
	seen := map[string]bool{}
	for _, s := range keySpecs {
		rest, ok := strings.CutPrefix(s.key, prefix)
		if !ok {
			continue
		}
		first, _, _ := strings.Cut(rest, ".")
		seen[first] = true
	}
	members := make([]string, 0, len(seen))
	for m := range seen {
		members = append(members, m)
	}
	sort.Strings(members)
	return members
}

// KeyInfo describes one configuration key for help text.
type KeyInfo struct {
	Key      string // dotted key
	Type     string // "string", "boolean", "duration" or "list of strings"
	Env      string // LAUNCH_AGENT_* variable
	Alias    string // CIRCLECI_RUNNER_* variable
	Default  string // "" when the key has no default
	Required bool
}

// Keys returns every configuration key in a stable order.
func Keys() []KeyInfo {
	infos := make([]KeyInfo, 0, len(keySpecs))
	for _, s := range keySpecs {
		infos = append(infos, KeyInfo{
			Key:      s.key,
			Type:     s.kind.String(),
			Env:      s.envName(),
			Alias:    s.aliasName(),
			Default:  s.def,
			Required: s.required,
		})
	}
	return infos
}

// CheckKey returns an error when key is not a configuration key. The error
// suggests the closest key.
func CheckKey(key string) error {
	if _, ok := lookupSpec(key); ok {
		return nil
	}
	if key != "" && isSection(key) {
		return fmt.Errorf("%q is a section, not a key; name a key in it, such as %s", key, firstKeyIn(key))
	}
	if suggestion := closestKey(key); suggestion != "" {
		return fmt.Errorf("unknown key %q; did you mean %s?", key, suggestion)
	}
	return fmt.Errorf("unknown key %q; run \"circleci-launch-agent config --help\" for the list of keys", key)
}

// firstKeyIn returns the first key of a section in keySpecs order.
func firstKeyIn(name string) string {
	for _, s := range keySpecs {
		if strings.HasPrefix(s.key, name+".") {
			return s.key
		}
	}
	return ""
}
