package localapi

import (
	"strings"
	"testing"
)

func TestParseTokens(t *testing.T) {
	tokens, err := ParseTokens(strings.NewReader("# demo tokens\n\ntoken-one acme/linux\r\n  token-two   acme/arm  \n"))
	if err != nil {
		t.Fatalf("ParseTokens: %v", err)
	}
	if len(tokens) != 2 {
		t.Errorf("got %d tokens, want 2", len(tokens))
	}
	if tokens["token-one"] != "acme/linux" {
		t.Errorf("token-one = %q", tokens["token-one"])
	}
	if tokens["token-two"] != "acme/arm" {
		t.Errorf("token-two = %q", tokens["token-two"])
	}
}

func TestParseTokensRejections(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"token-only\n", `line 1: want "TOKEN namespace/name", got 1 fields`},
		{"a b c\n", `line 1: want "TOKEN namespace/name", got 3 fields`},
		{"# x\nsecret-token-1234 large\n", `line 2: invalid resource class "large": use namespace/name`},
		{"secret-token-1234 a/b\nsecret-token-1234 a/c\n", "line 2: token ****1234 is listed twice"},
		{"# nothing\n", `no tokens: add a line "TOKEN namespace/name"`},
	}
	for _, tt := range tests {
		_, err := ParseTokens(strings.NewReader(tt.text))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseTokens(%q) error = %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestReadTokensFileMissing(t *testing.T) {
	_, err := ReadTokensFile("/nonexistent/tokens")
	want := "read tokens file: open /nonexistent/tokens: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestMaskToken(t *testing.T) {
	for token, want := range map[string]string{
		"":                  "",
		"short":             "****",
		"abcdefghijk":       "****",
		"abcdefghijkl":      "****ijkl",
		"resource-token-99": "****n-99",
	} {
		if got := MaskToken(token); got != want {
			t.Errorf("MaskToken(%q) = %q, want %q", token, got, want)
		}
	}
}
