package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzSeeds are the testdata files plus short files that reach the parser's
// rarer paths.
func fuzzSeeds(t testing.TB) [][]byte {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var seeds [][]byte
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, data)
	}
	for _, s := range []string{
		"",
		validHead,
		"\ufeff" + strings.ReplaceAll(validHead, "\n", "\r\n"),
		"api:\n\tauth_token: x\n",
		"runner: &r\n  ssh: *r\n  name: x\n",
		"runner:\n  command_prefix:\n    - /a\n    -\n    - {a: b}\n",
		"runner: {name: x, mode: [a, b], ssh: {advertise_addr: ~}}\n",
		"api:\n  auth_token: |\n    multi\n    line\nrunner:\n  name: \"q\\\"\"\n",
		"a: 1\n---\nb: 2\n",
		"runner:\n  name: multi\n    line # c\n  max_run_time: 1d\n",
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// fuzzEnvNames are the variables FuzzLoad may set: every known name and a
// misspelled one.
func fuzzEnvNames() []string {
	names := []string{"LAUNCH_AGENT_RUNER_NAME"}
	for _, s := range keySpecs {
		names = append(names, s.envName(), s.aliasName())
	}
	return names
}

// FuzzLoad checks that Load never panics and that every problem and warning
// points at a line of the file or at an environment variable.
func FuzzLoad(f *testing.F) {
	for i, seed := range fuzzSeeds(f) {
		f.Add(seed, uint8(i), "")
	}
	f.Add([]byte(validHead), uint8(0), "300")
	f.Add([]byte(validHead), uint8(5), `["/bin/sh", "-c"]`)
	names := fuzzEnvNames()

	f.Fuzz(func(t *testing.T, data []byte, envIndex uint8, envValue string) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		environ := []string{names[int(envIndex)%len(names)] + "=" + envValue}

		cfg, warnings, err := Load(Options{Path: path, Environ: environ, HomeDir: "/home/fuzz"})

		for _, w := range warnings {
			checkLocated(t, Problem(w))
		}
		if err != nil {
			checkRejection(t, err)
			return
		}
		checkAccepted(t, cfg)
	})
}

func checkRejection(t *testing.T, err error) {
	var configErr *Error
	if !errors.As(err, &configErr) {
		t.Fatalf("error is %T, not *Error: %v", err, err)
	}
	if len(configErr.Problems) == 0 {
		t.Fatal("*Error without problems")
	}
	for _, p := range configErr.Problems {
		checkLocated(t, p)
	}
}

func checkLocated(t *testing.T, p Problem) {
	if p.Message == "" {
		t.Errorf("problem without message: %+v", p)
	}
	if !(p.File != "" && p.Line >= 1) && p.Env == "" {
		t.Errorf("problem without a location: %s", p)
	}
}

func checkAccepted(t *testing.T, cfg *Config) {
	if cfg == nil {
		t.Fatal("no configuration and no error")
	}
	if len(cfg.Sources) != len(keySpecs) {
		t.Errorf("Sources has %d keys, want %d", len(cfg.Sources), len(keySpecs))
	}
	for _, s := range cfg.Settings() {
		if s.Key == "api.auth_token" && s.Value != Mask(cfg.API.AuthToken) {
			t.Errorf("token shown as %q", s.Value)
		}
	}
}

// FuzzEdit checks that Edit never panics, and that when it succeeds the
// result parses and Get returns the new value.
func FuzzEdit(f *testing.F) {
	for i, seed := range fuzzSeeds(f) {
		f.Add(seed, uint8(i), "value")
	}
	f.Add([]byte(commented), uint8(4), "/usr/bin/sudo -u circleci")
	f.Add([]byte(commented), uint8(2), "007")

	f.Fuzz(func(t *testing.T, data []byte, keyIndex uint8, text string) {
		spec := keySpecs[int(keyIndex)%len(keySpecs)]
		value, want := fuzzValue(spec, text)

		out, err := Edit(data, []Change{{Key: spec.key, Value: value}})
		if err != nil {
			return
		}

		got, ok, err := Get(out, spec.key)
		if err != nil || !ok || got != want {
			t.Errorf("Get after Edit = %q, %v, %v; want %q\nfile:\n%s", got, ok, err, want, out)
		}
	})
}

// fuzzValue turns fuzz text into a Change value of the key's type and the
// text Get returns for it.
func fuzzValue(spec keySpec, text string) (any, string) {
	switch spec.kind {
	case kindBool:
		b := len(text)%2 == 1
		return b, strconv.FormatBool(b)
	case kindList:
		items := strings.Fields(text)
		return items, flowList(items)
	default:
		return text, text
	}
}
