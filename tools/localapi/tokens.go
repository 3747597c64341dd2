package localapi

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/circleci-runner/circleci-runner/tools/pipeline"
)

// ReadTokensFile reads resource-class tokens from a file with one
// "TOKEN namespace/name" line per token. Blank lines and lines starting with
// "#" are skipped. Tokens are kept out of command lines, where other users
// could read them, so they come from a file.
func ReadTokensFile(path string) (map[string]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read tokens file: %w", err)
	}
	defer file.Close()

	tokens, err := ParseTokens(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tokens, nil
}

// ParseTokens parses the format of ReadTokensFile. Error messages show
// tokens masked.
func ParseTokens(r io.Reader) (map[string]string, error) {
	tokens := map[string]string{}
	scanner := bufio.NewScanner(r)
	for number := 1; scanner.Scan(); number++ {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}

		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("line %d: want \"TOKEN namespace/name\", got %d fields", number, len(fields))
		}
		token, class := fields[0], fields[1]
		if !pipeline.ValidResourceClass(class) {
			return nil, fmt.Errorf("line %d: invalid resource class %q: use namespace/name", number, class)
		}
		if _, dup := tokens[token]; dup {
			return nil, fmt.Errorf("line %d: token %s is listed twice", number, MaskToken(token))
		}
		tokens[token] = class
	}
	if err := scanner.Err(); err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("no tokens: add a line \"TOKEN namespace/name\"")
	}
	return tokens, nil
}
