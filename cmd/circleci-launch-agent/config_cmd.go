package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/circleci-runner/circleci-runner/pkg/config"
)

// maxTokenLine bounds the line that --token-stdin reads. Runner tokens are
// well under a hundred characters.
const maxTokenLine = 4096

// runConfigCommand runs "circleci-launch-agent config ARGS...", the editor
// that the Debian maintainer scripts use, and returns the exit status: 0 on
// success, 1 for an unset key or a failure, 2 for a usage error. args are
// the arguments after "config".
func runConfigCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, configUsage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, configUsage())
		return exitOK
	case "get":
		return runConfigGet(args[1:], stdout, stderr)
	case "has":
		return runConfigHas(args[1:], stdout, stderr)
	case "set":
		return runConfigSet(args[1:], stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "circleci-launch-agent config: unknown command %q; use get, has or set, "+
		"or run \"circleci-launch-agent config --help\"\n", args[0])
	return exitUsage
}

// configFlags is the parsed command line of one config subcommand.
type configFlags struct {
	name       string // "get", "has" or "set"
	path       string
	tokenStdin bool
	args       []string
}

// parseConfigFlags parses a subcommand's flags. It returns a non-negative
// exit status when the command is already done: help was printed, or the
// command line is invalid.
func parseConfigFlags(name string, args []string, stdout, stderr io.Writer) (configFlags, int) {
	parsed := configFlags{name: name}
	flags := pflag.NewFlagSet("circleci-launch-agent config "+name, pflag.ContinueOnError)
	flags.SetOutput(io.Discard)
	flags.StringVar(&parsed.path, "config", config.DefaultPath, "path of the YAML configuration file")
	if name == "set" {
		flags.BoolVar(&parsed.tokenStdin, "token-stdin", false,
			"read api.auth_token as one line from standard input")
	}

	err := flags.Parse(args)
	switch {
	case errors.Is(err, pflag.ErrHelp):
		fmt.Fprint(stdout, configSubcommandUsage(name, flags.FlagUsages()))
		return parsed, exitOK
	case err != nil:
		return parsed, configUsageError(stderr, name, err.Error())
	}
	parsed.args = flags.Args()
	return parsed, -1
}

// configUsageError prints a usage error and returns exitUsage.
func configUsageError(stderr io.Writer, name, message string) int {
	fmt.Fprintf(stderr, "circleci-launch-agent config %s: %s\nRun \"circleci-launch-agent config %s --help\" for usage.\n",
		name, message, name)
	return exitUsage
}

// configFailure prints an error that is not a usage error and returns exitError.
func configFailure(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "circleci-launch-agent config %s: %v\n", name, err)
	return exitError
}

// parseKeyArgument checks that the command line holds exactly one known key.
func parseKeyArgument(flags configFlags, stderr io.Writer) (string, int) {
	if len(flags.args) != 1 {
		return "", configUsageError(stderr, flags.name,
			fmt.Sprintf("expected one KEY, got %d arguments", len(flags.args)))
	}
	key := flags.args[0]
	if err := config.CheckKey(key); err != nil {
		return "", configUsageError(stderr, flags.name, err.Error())
	}
	return key, -1
}

func runConfigGet(args []string, stdout, stderr io.Writer) int {
	flags, status := parseConfigFlags("get", args, stdout, stderr)
	if status >= 0 {
		return status
	}
	key, status := parseKeyArgument(flags, stderr)
	if status >= 0 {
		return status
	}
	if key == "api.auth_token" {
		return configUsageError(stderr, "get", "api.auth_token is never printed, so that the token stays out of "+
			"terminals and logs; run \"circleci-launch-agent config has api.auth_token\" to check whether it is set")
	}

	data, err := readConfigForEdit(flags.path)
	if err != nil {
		return configFailure(stderr, "get", err)
	}
	value, ok, err := config.Get(data, key)
	switch {
	case err != nil:
		return configFailure(stderr, "get", fmt.Errorf("%s: %w", flags.path, err))
	case !ok:
		return exitError
	}
	fmt.Fprintln(stdout, value)
	return exitOK
}

func runConfigHas(args []string, stdout, stderr io.Writer) int {
	flags, status := parseConfigFlags("has", args, stdout, stderr)
	if status >= 0 {
		return status
	}
	key, status := parseKeyArgument(flags, stderr)
	if status >= 0 {
		return status
	}

	data, err := readConfigForEdit(flags.path)
	if err != nil {
		return configFailure(stderr, "has", err)
	}
	ok, err := config.Has(data, key)
	switch {
	case err != nil:
		return configFailure(stderr, "has", fmt.Errorf("%s: %w", flags.path, err))
	case !ok:
		return exitError
	}
	return exitOK
}

func runConfigSet(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags, status := parseConfigFlags("set", args, stdout, stderr)
	if status >= 0 {
		return status
	}
	changes, status := parseChanges(flags, stderr)
	if status >= 0 {
		return status
	}
	if flags.tokenStdin {
		token, err := readTokenLine(stdin)
		if err != nil {
			return configFailure(stderr, "set", err)
		}
		changes = append(changes, config.Change{Key: "api.auth_token", Value: token})
	}

	data, err := readConfigForEdit(flags.path)
	if err != nil {
		return configFailure(stderr, "set", err)
	}
	edited, err := config.Edit(data, changes)
	if err != nil {
		return configFailure(stderr, "set", fmt.Errorf("%s: %w", flags.path, err))
	}
	if err := writeFileAtomically(flags.path, edited); err != nil {
		return configFailure(stderr, "set", err)
	}
	return exitOK
}

// parseChanges parses the KEY=VALUE arguments of config set. The token is
// rejected there, because any user can read a process's arguments.
func parseChanges(flags configFlags, stderr io.Writer) ([]config.Change, int) {
	if len(flags.args) == 0 && !flags.tokenStdin {
		return nil, configUsageError(stderr, "set", "expected at least one KEY=VALUE, or --token-stdin")
	}
	changes := make([]config.Change, 0, len(flags.args))
	for _, arg := range flags.args {
		if key, _, _ := strings.Cut(arg, "="); key == "api.auth_token" {
			return nil, configUsageError(stderr, "set", "api.auth_token is not accepted as an argument, where other "+
				"users can read it in the process list; pass --token-stdin and write the token on standard input")
		}
		change, err := config.ParseChange(arg)
		if err != nil {
			return nil, configUsageError(stderr, "set", err.Error())
		}
		changes = append(changes, change)
	}
	return changes, -1
}

// readTokenLine reads the token from the first line of r, without its line
// break. Errors never contain the token.
func readTokenLine(r io.Reader) (string, error) {
	reader := bufio.NewReader(io.LimitReader(r, maxTokenLine+2))
	line, err := reader.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("cannot read the token from standard input: %w", err)
	}
	token := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	switch {
	case len(token) > maxTokenLine:
		return "", fmt.Errorf("the line on standard input is longer than %d bytes, so it is not a token; "+
			"write only the token, followed by a line break", maxTokenLine)
	case strings.TrimSpace(token) == "":
		return "", errors.New("no token on standard input; write the token as one line, " +
			"such as: echo \"$TOKEN\" | circleci-launch-agent config set --token-stdin")
	case strings.ContainsFunc(token, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "", errors.New("the token on standard input contains control characters; write only the token")
	}
	return token, nil
}

// readConfigForEdit reads the config file. A missing file reads as empty, so
// that set creates it and get and has report every key unset.
func readConfigForEdit(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the config file: %w", err)
	}
	return data, nil
}

// writeFileAtomically replaces the file at path, or the file that a symbolic
// link at path points to, with data. It writes a temporary file in the same
// directory and gives it the old file's mode and owner. A new file gets mode
// 0600 and root, or the caller's user when the caller is not root. The
// temporary file is flushed to disk and renamed over the old one, so that a
// crash leaves either the old or the new file.
func writeFileAtomically(path string, data []byte) error {
	target, err := resolveTarget(path)
	if err != nil {
		return err
	}
	mode, uid, gid, err := targetModeAndOwner(target)
	if err != nil {
		return err
	}

	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot create a temporary file next to %s: %w", target, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename

	if err := writeAndSync(tmp, data, mode, uid, gid); err != nil {
		return fmt.Errorf("cannot write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("cannot replace %s: %w", target, err)
	}
	return syncDirectory(filepath.Dir(target))
}

// resolveTarget follows a symbolic link at path, so that the rename replaces
// the file and not the link.
func resolveTarget(path string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	switch {
	case err == nil:
		return target, nil
	case errors.Is(err, fs.ErrNotExist):
		return path, nil
	default:
		return "", fmt.Errorf("cannot resolve %s: %w", path, err)
	}
}

// targetModeAndOwner returns the permissions and owner to give the new file.
func targetModeAndOwner(target string) (fs.FileMode, int, int, error) {
	info, err := os.Stat(target)
	switch {
	case errors.Is(err, fs.ErrNotExist) && os.Geteuid() == 0:
		return 0o600, 0, 0, nil
	case errors.Is(err, fs.ErrNotExist):
		return 0o600, os.Geteuid(), os.Getegid(), nil
	case err != nil:
		return 0, 0, 0, fmt.Errorf("cannot read the mode of %s: %w", target, err)
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, 0, fmt.Errorf("cannot read the owner of %s", target)
	}
	return info.Mode().Perm(), int(st.Uid), int(st.Gid), nil
}

func writeAndSync(f *os.File, data []byte, mode fs.FileMode, uid, gid int) error {
	// Ownership and mode are set before the data is written, so the token
	// is never in a file that others can read.
	if err := f.Chown(uid, gid); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDirectory flushes a directory so that a rename in it survives a crash.
func syncDirectory(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("cannot open %s to flush it: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("cannot flush %s: %w", dir, err)
	}
	return nil
}

func configUsage() string {
	var b bytes.Buffer
	b.WriteString(`Usage: circleci-launch-agent config get [--config PATH] KEY
       circleci-launch-agent config has [--config PATH] KEY
       circleci-launch-agent config set [--config PATH] [--token-stdin] KEY=VALUE...

Reads and changes single keys of the launch agent's configuration file in
place, keeping comments, key order, indentation and line endings. The Debian
maintainer scripts use these commands. They read and write only the file:
defaults and environment variables play no part.

Commands:
  get KEY          print the value of KEY; exit 1 when it is unset
  has KEY          exit 0 when KEY has a value that is not empty, 1 otherwise
  set KEY=VALUE    change or add keys; --token-stdin sets api.auth_token

Option of every command:
  --config PATH    path of the YAML configuration file
                   (default ` + config.DefaultPath + `)

Keys, with their type, default and the environment variables that override
them when the agent runs (runner.idle_timeout 0s means never):
`)
	writeKeyTable(&b)
	b.WriteString(`
Exit statuses: 0 success, 1 unset key or failure, 2 invalid command line.
Run "circleci-launch-agent config COMMAND --help" for the details of a command.
`)
	return b.String()
}

// writeKeyTable lists each key with its type and default on one line and
// its environment variables on the next.
func writeKeyTable(w io.Writer) {
	for _, k := range config.Keys() {
		def := "default " + k.Default
		switch {
		case k.Required:
			def = "required"
		case k.Default == "":
			def = "unset by default"
		}
		fmt.Fprintf(w, "  %s (%s, %s)\n      %s or %s\n", k.Key, k.Type, def, k.Env, k.Alias)
	}
}

func configSubcommandUsage(name, flagUsages string) string {
	return configSubcommandHelp[name] + "\nOptions:\n" + flagUsages +
		"\nExit statuses: 0 success, 1 " + configExitOneMeaning[name] + ", 2 invalid command line.\n"
}

var configExitOneMeaning = map[string]string{
	"get": "unset key or failure",
	"has": "no value or failure",
	"set": "failure",
}

var configSubcommandHelp = map[string]string{
	"get": `Usage: circleci-launch-agent config get [--config PATH] KEY

Prints the value of KEY as written in the configuration file, without
defaults or environment overrides. A list is printed as a YAML flow list, such
as ["/opt/circleci/launch-task"]. When KEY is unset, or the file does not
exist, nothing is printed and the exit status is 1.

api.auth_token is never printed, so that the token stays out of terminals and
logs; "circleci-launch-agent config has api.auth_token" checks whether one is
set.
`,
	"has": `Usage: circleci-launch-agent config has [--config PATH] KEY

Exits 0 when KEY has a value in the configuration file that is not empty or
only whitespace, and 1 when it is missing, empty, an empty list, or the file
does not exist. Prints nothing. Works for api.auth_token.
`,
	"set": `Usage: circleci-launch-agent config set [--config PATH] [--token-stdin] KEY=VALUE...

Changes each KEY to VALUE in place, or adds it at the end of its section (and
the section at the end of the file), keeping comments, other keys, their
order, indentation, line endings and, where possible, quoting.

VALUE is read as an environment variable would be: true or false for a
boolean, a Go duration such as 5h or 30s for a duration, and for
runner.command_prefix a YAML flow list such as
runner.command_prefix='["/opt/circleci/launch-task"]' or words separated by
spaces. Strings that YAML would read as something else, such as 007, true or
1e100, are quoted in the file.

The token is not accepted as an argument, because other users can read
arguments in the process list. --token-stdin reads it as one line from
standard input instead:
  echo "$TOKEN" | circleci-launch-agent config set --token-stdin

The file is replaced atomically: a temporary file in the same directory gets
the old file's mode and owner, or mode 0600 and owner root for a new file, is
flushed to disk and renamed over the old one. The result must parse and must
not have duplicate keys. The values are not validated further, because the
file may still be incomplete; the agent validates it when it starts.
`,
}
