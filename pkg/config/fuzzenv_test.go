package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadEnviron checks Load with many environment variables at once: no
// panic, every problem and warning located, and the auth token never shown
// in a message unless it is a placeholder such as "<< token >>".
func FuzzLoadEnviron(f *testing.F) {
	f.Add([]byte(validHead), "LAUNCH_AGENT_RUNNER_MAX_RUN_TIME=1h\nCIRCLECI_RUNNER_MODE=single-task", "0123456789abcdef-fuzz")
	f.Add([]byte(validHead), "LAUNCH_AGENT_RUNER_NAME=x\nLAUNCH_AGENT_=\n=\nLAUNCH_AGENT_API_URL=ftp://x", "tok-abcdefghijklmnop")
	f.Add([]byte(""), "LAUNCH_AGENT_RUNNER_NAME=n\nLAUNCH_AGENT_API_URL=http://127.0.0.1:1/?t=TOKEN", "TOKEN-0123456789abcdef")
	f.Add([]byte("api:\n  auth_token: a\n"), "CIRCLECI_RUNNER_API_AUTH_TOKEN=b\nLAUNCH_AGENT_RUNNER_COMMAND_PREFIX=[\"/x\", ", "{{ token }}")
	f.Add([]byte(validHead), "LAUNCH_AGENT_RUNNER_WORK_DIR=relative/%s/%s\nLAUNCH_AGENT_LOGGING_LEVEL=loud", "0123456789abcdef0123")

	f.Fuzz(func(t *testing.T, data []byte, environText, token string) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		environ := strings.Split(environText, "\n")
		environ = append(environ, "LAUNCH_AGENT_API_AUTH_TOKEN="+token)

		cfg, warnings, err := Load(Options{Path: path, Environ: environ, HomeDir: "/home/fuzz"})

		var messages []string
		for _, w := range warnings {
			checkLocated(t, Problem(w))
			messages = append(messages, w.String())
		}
		if err != nil {
			checkRejection(t, err)
			messages = append(messages, err.Error())
		} else {
			checkAccepted(t, cfg)
		}
		if revealsToken(token, string(data), environText, messages) {
			t.Errorf("a message shows the auth token %q:\n%s", token, strings.Join(messages, "\n"))
		}
	})
}

// revealsToken reports whether a message contains token where it has no
// other reason to appear. Short tokens, placeholders, and tokens that the
// file or another variable also contain are not checked, because a message
// may quote that other text.
func revealsToken(token, file, environText string, messages []string) bool {
	trimmed := strings.TrimSpace(token)
	if len(trimmed) < maskMinLength || isPlaceholder(trimmed) {
		return false
	}
	if strings.Contains(file, trimmed) || strings.Contains(environText, trimmed) {
		return false
	}
	for _, message := range messages {
		if strings.Contains(message, trimmed) {
			return true
		}
	}
	return false
}
