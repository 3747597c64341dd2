package release

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	sumA = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb" // sha256("a")
	sumB = "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d" // sha256("b")
)

func TestParseFormats(t *testing.T) {
	input := strings.Join([]string{
		"# produced by the package builder",
		sumA + " *linux/amd64/circleci-agent",
		"",
		strings.ToUpper(sumB) + "  linux/arm64/circleci-agent\r",
		"SHA256 (docs/read me.txt) = " + sumA,
		"\\" + sumB + " *odd\\\\name\\nwith\\rescapes",
	}, "\n")

	checksums, err := Parse(strings.NewReader(input))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	want := []Entry{
		{Sum: sumA, Path: "docs/read me.txt"},
		{Sum: sumA, Path: "linux/amd64/circleci-agent"},
		{Sum: sumB, Path: "linux/arm64/circleci-agent"},
		{Sum: sumB, Path: "odd\\name\nwith\rescapes"},
	}
	if diff := cmp.Diff(want, checksums.Entries()); diff != "" {
		t.Errorf("Entries (-want +got):\n%s", diff)
	}
}

func TestParseEmptyInput(t *testing.T) {
	checksums, err := Parse(strings.NewReader(""))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if checksums.Len() != 0 {
		t.Errorf("Len = %d, want 0", checksums.Len())
	}
}

func TestParseRejectsMalformedLines(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		message string
	}{
		{"short digest", "abc *file", `expected "DIGEST *PATH"`},
		{"non-hex digest", strings.Repeat("g", 64) + " *file", "not a hexadecimal digit"},
		{"wrong marker", sumA + " #file", `expected "*" or " "`},
		{"no separator", sumA + "*file", `expected "DIGEST *PATH"`},
		{"empty path", sumA + " *", "the path is empty"},
		{"bsd without digest", "SHA256 (file)", `expected "SHA256 (PATH) = DIGEST"`},
		{"bsd short digest", "SHA256 (file) = abc", "has 3 characters"},
		{"bad escape", "\\" + sumA + " *a\\tb", `contains "\t"`},
		{"lone backslash", "\\" + sumA + " *a\\", "lone backslash"},
		{"md5 digest", "d41d8cd98f00b204e9800998ecf8427e  file", `expected "DIGEST *PATH"`},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			input := sumB + " *first\n" + test.line + "\n"

			_, err := Parse(strings.NewReader(input))

			var parseErr *ParseError
			if !errors.As(err, &parseErr) {
				t.Fatalf("Parse error = %v, want a *ParseError", err)
			}
			if parseErr.Line != 2 {
				t.Errorf("Line = %d, want 2", parseErr.Line)
			}
			if !strings.Contains(parseErr.Message, test.message) {
				t.Errorf("Message = %q, want it to contain %q", parseErr.Message, test.message)
			}
			if !strings.HasPrefix(err.Error(), "checksums.txt line 2: ") {
				t.Errorf("Error() = %q, want the line number first", err.Error())
			}
		})
	}
}

func TestParseRejectsDuplicatePath(t *testing.T) {
	input := sumA + " *file\n" + sumB + "  file\n"

	_, err := Parse(strings.NewReader(input))

	var parseErr *ParseError
	if !errors.As(err, &parseErr) || parseErr.Line != 2 {
		t.Fatalf("Parse error = %v, want a *ParseError on line 2", err)
	}
	if !strings.Contains(err.Error(), `"file" is listed twice`) {
		t.Errorf("error = %q, want it to name the path", err)
	}
}

func TestParseRejectsLongLine(t *testing.T) {
	input := sumA + " *" + strings.Repeat("x", maxLineBytes) + "\n"

	_, err := Parse(strings.NewReader(input))

	if err == nil || !strings.Contains(err.Error(), "longer than 65536 bytes") {
		t.Errorf("Parse error = %v, want the line limit named", err)
	}
}

func TestLookup(t *testing.T) {
	checksums, err := Parse(strings.NewReader(sumA + " *linux/amd64/circleci-agent\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	sum, ok := checksums.Lookup("linux/amd64/circleci-agent")
	if !ok || sum != sumA {
		t.Errorf("Lookup = %q, %v; want %q, true", sum, ok, sumA)
	}
	if _, ok := checksums.Lookup("./linux/amd64/circleci-agent"); ok {
		t.Error("Lookup matched a path with a leading ./")
	}
	if _, ok := checksums.Lookup("linux/arm64/circleci-agent"); ok {
		t.Error("Lookup matched a missing path")
	}
}

func TestLookupZeroValue(t *testing.T) {
	var checksums Checksums

	if _, ok := checksums.Lookup("anything"); ok {
		t.Error("Lookup on the zero Checksums returned ok")
	}
}

func TestWriteSortsAndMarksBinary(t *testing.T) {
	entries := []Entry{
		{Sum: strings.ToUpper(sumB), Path: "linux/arm64/circleci-launch-agent"},
		{Sum: sumA, Path: "linux/amd64/circleci-launch-agent"},
	}
	var out bytes.Buffer

	if err := Write(&out, entries); err != nil {
		t.Fatalf("Write: %v", err)
	}

	want := sumA + " *linux/amd64/circleci-launch-agent\n" +
		sumB + " *linux/arm64/circleci-launch-agent\n"
	if out.String() != want {
		t.Errorf("Write output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestWriteRejectsInvalidEntries(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		message string
	}{
		{"short digest", []Entry{{Sum: "abc", Path: "f"}}, `checksum of "f"`},
		{"empty path", []Entry{{Sum: sumA, Path: ""}}, "empty path"},
		{"nul in path", []Entry{{Sum: sumA, Path: "a\x00b"}}, "NUL"},
		{"duplicate path", []Entry{{Sum: sumA, Path: "f"}, {Sum: sumB, Path: "f"}}, "listed twice"},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			var out bytes.Buffer

			err := Write(&out, test.entries)

			if err == nil || !strings.Contains(err.Error(), test.message) {
				t.Errorf("Write error = %v, want it to contain %q", err, test.message)
			}
			if out.Len() != 0 {
				t.Errorf("Write wrote %q before failing", out.String())
			}
		})
	}
}

func TestWriteParseRoundTrip(t *testing.T) {
	entries := []Entry{
		{Sum: sumA, Path: "back\\slash"},
		{Sum: sumB, Path: "new\nline"},
		{Sum: sumA, Path: "carriage\rreturn"},
		{Sum: sumB, Path: "plain/path with spaces"},
	}
	var out bytes.Buffer
	if err := Write(&out, entries); err != nil {
		t.Fatalf("Write: %v", err)
	}

	checksums, err := Parse(&out)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	for _, entry := range entries {
		sum, ok := checksums.Lookup(entry.Path)
		if !ok || sum != entry.Sum {
			t.Errorf("Lookup(%q) = %q, %v; want %q, true", entry.Path, sum, ok, entry.Sum)
		}
	}
}

// TestWriteAcceptedBySHA256Sum runs the real sha256sum on Write's output,
// as the installation script of the launch agent does.
func TestWriteAcceptedBySHA256Sum(t *testing.T) {
	sha256sum, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum is not installed")
	}
	dir := t.TempDir()
	files := map[string]string{
		"linux/amd64/circleci-launch-agent": "amd64 binary",
		"linux/arm64/circleci-launch-agent": "arm64 binary",
		"back\\slash":                       "escaped name",
	}
	var entries []Entry
	for name, content := range files {
		entries = append(entries, Entry{Sum: writeFile(t, dir, name, content), Path: name})
	}
	entries = append(entries, Entry{Sum: sumA, Path: "linux/riscv64/not-downloaded"})
	writeChecksums(t, filepath.Join(dir, "checksums.txt"), entries)

	command := exec.Command(sha256sum, "--check", "--ignore-missing", "--strict", "checksums.txt")
	command.Dir = dir
	output, err := command.CombinedOutput()

	if err != nil {
		t.Fatalf("sha256sum --check: %v\n%s", err, output)
	}
	if got := strings.Count(string(output), ": OK"); got != len(files) {
		t.Errorf("sha256sum verified %d files, want %d:\n%s", got, len(files), output)
	}
}

func TestWriteRejectedBySHA256SumOnMismatch(t *testing.T) {
	sha256sum, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum is not installed")
	}
	dir := t.TempDir()
	writeFile(t, dir, "linux/amd64/circleci-launch-agent", "tampered")
	entries := []Entry{{Sum: sumA, Path: "linux/amd64/circleci-launch-agent"}}
	writeChecksums(t, filepath.Join(dir, "checksums.txt"), entries)

	command := exec.Command(sha256sum, "--check", "--ignore-missing", "checksums.txt")
	command.Dir = dir
	output, err := command.CombinedOutput()

	if err == nil {
		t.Errorf("sha256sum --check accepted a wrong digest:\n%s", output)
	}
}

func TestFileSHA256(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a", "a")

	sum, err := FileSHA256(filepath.Join(dir, "a"))

	if err != nil || sum != sumA {
		t.Errorf("FileSHA256 = %q, %v; want %q, nil", sum, err, sumA)
	}
}

func TestFileSHA256MissingFile(t *testing.T) {
	_, err := FileSHA256(filepath.Join(t.TempDir(), "missing"))

	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("FileSHA256 error = %v, want os.ErrNotExist", err)
	}
}

// writeFile writes content to dir/name and returns its SHA-256 digest.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}

	sum, err := FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func writeChecksums(t *testing.T, path string, entries []Entry) {
	t.Helper()
	var out bytes.Buffer
	if err := Write(&out, entries); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
