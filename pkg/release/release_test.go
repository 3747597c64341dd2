package release

import (
	"bytes"
	"strings"
	"testing"
)

func TestValidateVersionAccepts(t *testing.T) {
	for _, version := range []string{"1", "1.2.3", "1.0.12345-abcdef0", "2.0.0+build.7", "v1_2"} {
		if err := ValidateVersion(version); err != nil {
			t.Errorf("ValidateVersion(%q) = %v, want nil", version, err)
		}
	}
}

func TestValidateVersionRejects(t *testing.T) {
	tests := []struct {
		version string
		message string
	}{
		{"", "empty"},
		{".", "start with a letter or digit"},
		{"..", "start with a letter or digit"},
		{".hidden", "start with a letter or digit"},
		{"-1", "start with a letter or digit"},
		{"1/2", `contains '/'`},
		{"1..2", `must not contain ".."`},
		{"1.2\\3", `contains '\\'`},
		{"1.2 3", `contains ' '`},
		{"1.2\n", `contains '\n'`},
		{"1.2%2f", `contains '%'`},
		{strings.Repeat("1", 129), "longer than 128 bytes"},
	}
	for _, test := range tests {
		err := ValidateVersion(test.version)

		if err == nil || !strings.Contains(err.Error(), test.message) {
			t.Errorf("ValidateVersion(%q) = %v, want an error containing %q", test.version, err, test.message)
		}
	}
}

func TestReadVersion(t *testing.T) {
	for _, content := range []string{"1.2.3\n", "1.2.3", "  1.2.3\r\n", "\n1.2.3\n\n"} {
		version, err := ReadVersion(strings.NewReader(content))

		if err != nil || version != "1.2.3" {
			t.Errorf("ReadVersion(%q) = %q, %v; want 1.2.3, nil", content, version, err)
		}
	}
}

func TestReadVersionRejects(t *testing.T) {
	tests := []struct {
		content string
		message string
	}{
		{"", "version is empty"},
		{"\n\n", "version is empty"},
		{"1.2.3\n1.2.4\n", "more than one line"},
		{"1.0<html>", "contains '<'"},
		{strings.Repeat("9", 1000), "longer than 128 bytes"},
	}
	for _, test := range tests {
		_, err := ReadVersion(strings.NewReader(test.content))

		if err == nil || !strings.Contains(err.Error(), test.message) {
			t.Errorf("ReadVersion(%.30q) = %v, want an error containing %q", test.content, err, test.message)
		}
	}
}

func TestWriteVersion(t *testing.T) {
	var out bytes.Buffer

	if err := WriteVersion(&out, "1.2.3"); err != nil {
		t.Fatalf("WriteVersion: %v", err)
	}

	if out.String() != "1.2.3\n" {
		t.Errorf("WriteVersion wrote %q, want %q", out.String(), "1.2.3\n")
	}
}

func TestWriteVersionRejectsUnsafeVersion(t *testing.T) {
	var out bytes.Buffer

	err := WriteVersion(&out, "../1.2.3")

	if err == nil {
		t.Error("WriteVersion accepted ../1.2.3")
	}
	if out.Len() != 0 {
		t.Errorf("WriteVersion wrote %q before failing", out.String())
	}
}
