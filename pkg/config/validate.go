package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
)

// validate checks the meaning of every value that resolved without a type
// problem. Checks that fail mark their key invalid.
func (l *loader) validate() {
	l.checkRequired()
	l.checkToken()
	l.checkURL("api.url", &l.cfg.API.URL, "https://runner.circleci.com")
	l.checkURL("runner.task_agent_base_url", &l.cfg.Runner.TaskAgentBaseURL, DefaultTaskAgentBaseURL)
	l.checkName()
	l.checkResourceClass()
	l.checkWorkingDirectory()
	l.checkChoice("runner.mode", "mode", l.cfg.Runner.Mode, ModeContinuous, ModeSingleTask)
	l.checkLoggingLevel()
	l.checkChoice("logging.format", "format", l.cfg.Logging.Format, "json", "text")
	l.checkDurations()
	l.checkTaskAgentDirectory()
	l.checkCommandPrefix()
}

var missingMessages = map[string]string{
	"api.auth_token": "missing; add auth_token under api:, set LAUNCH_AGENT_API_AUTH_TOKEN, " +
		"or run dpkg-reconfigure circleci-runner",
	"runner.name": "missing; add name under runner:, such as the host name, or set LAUNCH_AGENT_RUNNER_NAME",
}

// checkRequired reports each required key that is unset. The problem points
// at the key if it is written with no value, else at its section, else at
// the start of the file.
func (l *loader) checkRequired() {
	for _, spec := range keySpecs {
		if !spec.required || l.state[spec.key] != keyUnset {
			continue
		}
		p := Problem{File: l.path, Line: 1, Column: 1, Key: spec.key, Message: missingMessages[spec.key]}
		if v, ok := l.tree.values[spec.key]; ok {
			p.Line, p.Column = v.src.Line, v.src.Column
		} else if n, ok := l.tree.sections[section(spec.key)]; ok {
			p.Line, p.Column = n.Line, n.Column
		}
		l.report.problem(p)
		l.state[spec.key] = keyInvalid
	}
}

const tokenFix = "write the resource class token, or run dpkg-reconfigure circleci-runner"

// checkToken rejects an empty or placeholder token. Messages show the token
// only when it is a placeholder, and otherwise in its masked form.
func (l *loader) checkToken() {
	const key = "api.auth_token"
	token := l.cfg.API.AuthToken
	if !l.valid(key) {
		return
	}
	switch {
	case token == "":
		l.problem(key, "empty; "+tokenFix)
	case strings.TrimSpace(token) == "":
		l.problem(key, "contains only whitespace; "+tokenFix)
	case isPlaceholder(token):
		l.problem(key, fmt.Sprintf("%q is a placeholder; replace it with the resource class token, "+
			"or run dpkg-reconfigure circleci-runner", token))
	case strings.ContainsFunc(token, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		l.problem(key, fmt.Sprintf("token %s contains whitespace or control characters; write the token alone",
			Mask(token)))
	}
}

// placeholderWords are tokens from examples and templates, compared in lower
// case without punctuation.
var placeholderWords = []string{
	"authtoken", "token", "yourtoken", "yourauthtoken", "yourrunnertoken", "runnertoken",
	"resourceclasstoken", "insertauthtoken", "inserttokenhere", "tokenhere", "changeme",
	"replaceme", "placeholder", "secret", "todo", "xxx", "redacted",
}

// isPlaceholder reports whether a token is an example or an unrendered
// template: "<< your auth token >>", "AUTH_TOKEN", "{{ token }}", "${TOKEN}".
func isPlaceholder(token string) bool {
	t := strings.TrimSpace(token)
	switch {
	case strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">"),
		strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}"),
		strings.HasPrefix(t, "${") && strings.HasSuffix(t, "}"):
		return true
	}
	letters := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, t)
	return slices.Contains(placeholderWords, letters) || isRepeated(letters)
}

// isRepeated reports whether s is one character repeated, such as "xxxxxxxx".
func isRepeated(s string) bool {
	return len(s) > 1 && strings.Count(s, s[:1]) == len(s)
}

// checkURL requires an absolute http or https URL without query or fragment,
// and removes a trailing slash because the agent appends paths to it.
func (l *loader) checkURL(key string, value *string, example string) {
	if !l.valid(key) {
		return
	}
	u, err := url.Parse(*value)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		l.problem(key, fmt.Sprintf("%q is not an absolute http or https URL; write it such as %s", *value, example))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		l.problem(key, fmt.Sprintf("%q has a query or fragment; remove it, because the agent appends paths to this URL",
			*value))
	default:
		*value = strings.TrimRight(*value, "/")
	}
}

func (l *loader) checkName() {
	const key = "runner.name"
	name := l.cfg.Runner.Name
	if !l.valid(key) {
		return
	}
	if name == "" {
		l.problem(key, "empty; write a name such as the host name")
		return
	}
	if bad := disallowedCharacters(name, ".()-_"); bad != "" {
		l.problem(key, fmt.Sprintf("%q contains %s; use only letters, digits and . ( ) - _", name, bad))
	}
}

// checkResourceClass requires namespace/identifier, each part made of
// letters, digits, - and _.
func (l *loader) checkResourceClass() {
	const key = "runner.resource_class"
	class := l.cfg.Runner.ResourceClass
	if !l.valid(key) {
		return
	}
	namespace, identifier, ok := strings.Cut(class, "/")
	if !ok || namespace == "" || identifier == "" || strings.Contains(identifier, "/") {
		l.problem(key, fmt.Sprintf("%q is not namespace/identifier; write it such as my-namespace/my-resource-class",
			class))
		return
	}
	for _, part := range []struct{ name, value string }{{"namespace", namespace}, {"identifier", identifier}} {
		if bad := disallowedCharacters(part.value, "-_"); bad != "" {
			l.problem(key, fmt.Sprintf("%s %q of %q contains %s; use only letters, digits, - and _",
				part.name, part.value, class, bad))
			return
		}
	}
}

// disallowedCharacters lists, quoted and in order of appearance, the
// characters of s that are neither ASCII letters, digits nor in extra.
func disallowedCharacters(s, extra string) string {
	var bad []string
	for _, r := range s {
		ok := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || strings.ContainsRune(extra, r)
		quoted := fmt.Sprintf("%q", string(r))
		if !ok && !slices.Contains(bad, quoted) {
			bad = append(bad, quoted)
		}
	}
	return joinWords(bad)
}

const workDirExample = "/opt/circleci/workdir/%s"

// checkWorkingDirectory requires an absolute path with at most one %s, and
// rejects the root directory, where cleanup and the stale sweep would act on
// the whole file system.
func (l *loader) checkWorkingDirectory() {
	const key = "runner.working_directory"
	dir := l.cfg.Runner.WorkingDirectory
	if !l.valid(key) {
		return
	}
	count := strings.Count(dir, "%s")
	switch {
	case dir == "":
		l.problem(key, "empty; write an absolute path such as "+workDirExample)
	case !filepath.IsAbs(dir):
		l.problem(key, fmt.Sprintf("%q is relative; write an absolute path such as %s", dir, workDirExample))
	case count > 1:
		l.problem(key, fmt.Sprintf("%q contains %%s %d times; keep one %%s, which becomes the task's launch id",
			dir, count))
	case filepath.Clean(dir) == "/":
		l.problem(key, fmt.Sprintf("%q is the root directory; use a directory of its own such as %s",
			dir, workDirExample))
	case count == 1 && filepath.Dir(filepath.Clean(dir[:strings.Index(dir, "%s")]+"x")) == "/":
		l.problem(key, fmt.Sprintf("%q puts task directories in the root directory; use a directory of its own such as %s",
			dir, workDirExample))
	}
}

// checkChoice requires one of a fixed set of values.
func (l *loader) checkChoice(key, noun, value string, choices ...string) {
	if !l.valid(key) || slices.Contains(choices, value) {
		return
	}
	l.problem(key, fmt.Sprintf("%q is not a %s; use %s", value, noun, joinOr(choices)))
}

// checkLoggingLevel accepts zerolog's usual levels and "warning" for warn.
func (l *loader) checkLoggingLevel() {
	if l.cfg.Logging.Level == "warning" {
		l.cfg.Logging.Level = "warn"
	}
	l.checkChoice("logging.level", "level", l.cfg.Logging.Level, "trace", "debug", "info", "warn", "error")
}

// joinOr returns "a", "a or b" or "a, b or c".
func joinOr(words []string) string {
	joined := joinWords(words)
	if i := strings.LastIndex(joined, " and "); i >= 0 {
		joined = joined[:i] + " or " + joined[i+len(" and "):]
	}
	return joined
}

// checkDurations requires a positive max_run_time, claim_interval and
// request_timeout, and warns about a claim interval that would poll the
// runner API too often.
func (l *loader) checkDurations() {
	l.checkPositive("api.request_timeout", l.cfg.API.RequestTimeout, "30s")
	l.checkPositive("runner.max_run_time", l.cfg.Runner.MaxRunTime, "5h")
	l.checkPositive("runner.claim_interval", l.cfg.Runner.ClaimInterval, "5s")
	if interval := l.cfg.Runner.ClaimInterval; l.valid("runner.claim_interval") && interval < time.Second {
		l.warn("runner.claim_interval", fmt.Sprintf(
			"%s is below 1s, so an idle agent claims more than once a second; use 1s or more", interval))
	}
}

func (l *loader) checkPositive(key string, d time.Duration, example string) {
	if l.valid(key) && d <= 0 {
		l.problem(key, fmt.Sprintf("must be greater than 0s; write a duration such as %s", example))
	}
}

func (l *loader) checkTaskAgentDirectory() {
	const key = "runner.task_agent_directory"
	dir := l.cfg.Runner.TaskAgentDirectory
	if l.valid(key) && dir != "" && !filepath.IsAbs(dir) {
		l.problem(key, fmt.Sprintf("%q is relative; write an absolute path, or remove the key to use the default", dir))
	}
}
