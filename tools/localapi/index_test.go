package localapi

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteOutputsShowsEndOfEachStep(t *testing.T) {
	var many []string
	for i := 1; i <= 25; i++ {
		many = append(many, "line "+string(rune('a'+i%26)))
	}
	jobs := []Job{{
		ID: "job-1", Name: "build", BuildNum: 7,
		Steps: []StepRecord{
			{Index: 0, Name: "Checkout code", Output: "Unpacked 3 entries\n"},
			{Index: 1, Name: "Long", Output: strings.Join(many, "\n") + "\n"},
			{Index: 2, Name: "Silent"},
		},
	}}

	var out bytes.Buffer
	writeOutputs(&out, jobs)

	text := out.String()
	if !strings.Contains(text, "build (build 7), step 1. Checkout code:\n    Unpacked 3 entries\n") {
		t.Errorf("output lacks the first step:\n%s", text)
	}
	if !strings.Contains(text, "    ... 5 earlier lines at /local/jobs/job-1\n") {
		t.Errorf("output does not say that lines were left out:\n%s", text)
	}
	if got := strings.Count(text, "\n    line "); got != indexOutputLines {
		t.Errorf("long step shows %d lines, want %d", got, indexOutputLines)
	}
	if strings.Contains(text, "Silent") {
		t.Errorf("a step without output is listed:\n%s", text)
	}
}
