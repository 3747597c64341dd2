package pipeline

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const fullConfig = `version: 2.1

jobs:
  build:
    <<: &defaults
      machine: true
      resource_class: acme/linux
    environment:
      GREETING: hello
      COUNT: 007
      EMPTY:
    working_directory: ~/project
    shell: /bin/sh -e
    steps:
      - checkout
      - run: echo one
      - run:
          name: Test
          command: |
            make test
            make lint
          environment:
            LEVEL: "2"
          working_directory: sub
          shell: /bin/bash -eo pipefail
          no_output_timeout: 20m
      - run:
          name: Server
          command: ./serve
          background: true
      - run:
          name: Report
          command: ./report
          when: on_fail
      - checkout:
          path: other
  deploy:
    machine: true
    resource_class: acme/deploy
    steps:
      - run:
          command: ./deploy
          when: always

workflows:
  version: 2
  main:
    jobs:
      - build
      - deploy:
          name: ship
          requires: [build]
`

func TestParseSupportedFeatures(t *testing.T) {
	config, err := Parse([]byte(fullConfig), "config.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	if config.Version != "2.1" {
		t.Errorf("Version = %q, want 2.1", config.Version)
	}
	want := &Job{
		Name:             "build",
		Machine:          true,
		ResourceClass:    "acme/linux",
		Environment:      map[string]string{"GREETING": "hello", "COUNT": "007", "EMPTY": ""},
		WorkingDirectory: "~/project",
		Shell:            "/bin/sh -e",
		Steps: []Step{
			{Type: StepCheckout, Name: "Checkout code", When: WhenOnSuccess},
			{Type: StepRun, Name: "echo one", Command: "echo one", When: WhenOnSuccess},
			{
				Type: StepRun, Name: "Test", Command: "make test\nmake lint\n",
				Environment:      map[string]string{"LEVEL": "2"},
				WorkingDirectory: "sub", Shell: "/bin/bash -eo pipefail",
				When: WhenOnSuccess, NoOutputTimeout: 20 * time.Minute,
			},
			{Type: StepRun, Name: "Server", Command: "./serve", Background: true, When: WhenOnSuccess},
			{Type: StepRun, Name: "Report", Command: "./report", When: WhenOnFail},
			{Type: StepCheckout, Name: "Checkout code", Path: "other", When: WhenOnSuccess},
		},
	}
	if diff := cmp.Diff(want, config.Jobs["build"]); diff != "" {
		t.Errorf("jobs.build (-want +got):\n%s", diff)
	}

	deploy := config.Jobs["deploy"]
	if deploy.ResourceClass != "acme/deploy" {
		t.Errorf("deploy resource class = %q", deploy.ResourceClass)
	}
	if deploy.Steps[0].When != WhenAlways {
		t.Errorf("deploy step when = %q, want always", deploy.Steps[0].When)
	}

	wantWorkflows := []*Workflow{{Name: "main", Jobs: []WorkflowJob{
		{Job: "build", Name: "build"},
		{Job: "deploy", Name: "ship", Requires: []string{"build"}},
	}}}
	if diff := cmp.Diff(wantWorkflows, config.Workflows); diff != "" {
		t.Errorf("workflows (-want +got):\n%s", diff)
	}
}

func TestParseMachineTrueOnly(t *testing.T) {
	config, err := Parse([]byte("version: 2.1\njobs:\n  build:\n    machine: True\n    steps: [checkout]\n"), "config.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	job := config.Jobs["build"]
	if !job.Machine {
		t.Error("Machine = false, want true")
	}
	if job.ResourceClass != "" {
		t.Errorf("ResourceClass = %q, want empty", job.ResourceClass)
	}
}

func TestParseWithoutWorkflowsRunsBuild(t *testing.T) {
	config, err := Parse([]byte("version: 2\njobs:\n  build:\n    resource_class: a/b\n    steps: [checkout]\n"), "config.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []*Workflow{{Name: "workflow", Jobs: []WorkflowJob{{Job: "build", Name: "build"}}}}
	if diff := cmp.Diff(want, config.Workflows); diff != "" {
		t.Errorf("workflows (-want +got):\n%s", diff)
	}
}

func TestParseCRLFAndMergeList(t *testing.T) {
	text := "version: 2.1\r\njobs:\r\n  build:\r\n    machine: true\r\n" +
		"    environment: &env\r\n      A: one\r\n    steps: [checkout]\r\n" +
		"  test:\r\n    machine: true\r\n    environment: &more\r\n      A: two\r\n      B: three\r\n    steps: [checkout]\r\n" +
		"  lint:\r\n    machine: true\r\n    environment:\r\n      <<: [*env, *more]\r\n      C: four\r\n    steps: [checkout]\r\n" +
		"workflows:\r\n  w:\r\n    jobs: [lint]"
	config, err := Parse([]byte(text), "config.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	// In a merge list, the earlier mapping wins.
	want := map[string]string{"A": "one", "B": "three", "C": "four"}
	if diff := cmp.Diff(want, config.Jobs["lint"].Environment); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

func TestParseRejectsAnchorKeys(t *testing.T) {
	text := "version: 2.1\ndefaults: &defaults\n  machine: true\njobs:\n  build:\n    <<: *defaults\n    steps: [checkout]\n"
	_, err := Parse([]byte(text), "config.yml")
	want := `config.yml:2:1: key "defaults" is not supported by the local runner API`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestParseMergeKeyPrecedence(t *testing.T) {
	text := `version: 2.1
jobs:
  build:
    machine: true
    environment: &env
      A: one
      B: two
    steps: [checkout]
  test:
    machine: true
    environment:
      <<: *env
      B: own
    steps: [checkout]
workflows:
  w:
    jobs: [build, test]
`
	config, err := Parse([]byte(text), "config.yml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := map[string]string{"A": "one", "B": "own"}
	if diff := cmp.Diff(want, config.Jobs["test"].Environment); diff != "" {
		t.Errorf("environment (-want +got):\n%s", diff)
	}
}

// TestParseRejections checks each rejection's full message, with its
// position and path.
func TestParseRejections(t *testing.T) {
	const head = "version: 2.1\njobs:\n  build:\n    machine: true\n"
	const workflows = "workflows:\n  w:\n    jobs: [build]\n"
	tests := []struct {
		name string
		text string
		want string
	}{
		{
			name: "unsupported step",
			text: head + "    steps:\n      - checkout\n      - run: make\n      - save_cache:\n          key: v1\n" + workflows,
			want: "config.yml:8:9: jobs.build.steps[2]: step \"save_cache\" is not supported by the local runner API",
		},
		{
			name: "orb command step",
			text: head + "    steps:\n      - node/install\n" + workflows,
			want: "config.yml:6:9: jobs.build.steps[0]: step \"node/install\" is not supported by the local runner API",
		},
		{
			name: "persist to workspace",
			text: head + "    steps:\n      - persist_to_workspace:\n          root: .\n" + workflows,
			want: "config.yml:6:9: jobs.build.steps[0]: step \"persist_to_workspace\" is not supported by the local runner API",
		},
		{
			name: "orbs",
			text: "version: 2.1\norbs:\n  node: circleci/node@5\n" + head[13:] + "    steps: [checkout]\n" + workflows,
			want: "config.yml:2:1: key \"orbs\" is not supported by the local runner API",
		},
		{
			name: "executors",
			text: "version: 2.1\nexecutors:\n  x:\n    machine: true\n" + head[13:] + "    steps: [checkout]\n" + workflows,
			want: "config.yml:2:1: key \"executors\" is not supported by the local runner API",
		},
		{
			name: "commands",
			text: "version: 2.1\ncommands:\n  x:\n    steps: [checkout]\n" + head[13:] + "    steps: [checkout]\n" + workflows,
			want: "config.yml:2:1: key \"commands\" is not supported by the local runner API",
		},
		{
			name: "pipeline parameters",
			text: "version: 2.1\nparameters:\n  x:\n    type: string\n" + head[13:] + "    steps: [checkout]\n" + workflows,
			want: "config.yml:2:1: key \"parameters\" is not supported by the local runner API",
		},
		{
			name: "docker job",
			text: "version: 2.1\njobs:\n  build:\n    docker:\n      - image: cimg/base:stable\n    steps: [checkout]\n" + workflows,
			want: "config.yml:4:5: jobs.build.docker: executor \"docker\" is not supported by the local runner API; use machine: true with a self-hosted resource_class",
		},
		{
			name: "executor reference",
			text: "version: 2.1\njobs:\n  build:\n    executor: x\n    resource_class: a/b\n    steps: [checkout]\n" + workflows,
			want: "config.yml:4:5: jobs.build.executor: executor \"executor\" is not supported by the local runner API; use machine: true with a self-hosted resource_class",
		},
		{
			name: "machine image",
			text: "version: 2.1\njobs:\n  build:\n    machine:\n      image: ubuntu-2204:current\n    steps: [checkout]\n" + workflows,
			want: "config.yml:5:7: jobs.build.machine.image: a machine image is not supported for self-hosted runners; remove image and set a self-hosted resource_class",
		},
		{
			name: "machine false",
			text: "version: 2.1\njobs:\n  build:\n    machine: false\n    steps: [checkout]\n" + workflows,
			want: "config.yml:4:14: jobs.build.machine: machine: false selects no executor; use machine: true",
		},
		{
			name: "machine yes",
			text: "version: 2.1\njobs:\n  build:\n    machine: yes\n    steps: [checkout]\n" + workflows,
			want: "config.yml:4:14: jobs.build.machine: must be true or false, not \"yes\"",
		},
		{
			name: "cloud resource class",
			text: "version: 2.1\njobs:\n  build:\n    machine: true\n    resource_class: large\n    steps: [checkout]\n" + workflows,
			want: "config.yml:5:21: jobs.build.resource_class: resource class \"large\" is not a self-hosted runner resource class; use namespace/name",
		},
		{
			name: "no executor",
			text: "version: 2.1\njobs:\n  build:\n    steps: [checkout]\n" + workflows,
			want: "config.yml:4:5: jobs.build: the job has no executor; add machine: true and a self-hosted resource_class",
		},
		{
			name: "job parameters",
			text: head + "    parameters:\n      x:\n        type: string\n    steps: [checkout]\n" + workflows,
			want: "config.yml:5:5: jobs.build.parameters: job key \"parameters\" is not supported by the local runner API",
		},
		{
			name: "parallelism",
			text: head + "    parallelism: 4\n    steps: [checkout]\n" + workflows,
			want: "config.yml:5:5: jobs.build.parallelism: job key \"parallelism\" is not supported by the local runner API",
		},
		{
			name: "missing steps",
			text: head + workflows,
			want: "config.yml:4:5: jobs.build: steps is missing",
		},
		{
			name: "empty steps",
			text: head + "    steps: []\n" + workflows,
			want: "config.yml:5:12: jobs.build.steps: steps is empty",
		},
		{
			name: "step with two keys",
			text: head + "    steps:\n      - run: a\n        name: b\n" + workflows,
			want: "config.yml:6:9: jobs.build.steps[0]: a step must be a map with one key, the step type, not 2 keys",
		},
		{
			name: "bare run",
			text: head + "    steps:\n      - run\n" + workflows,
			want: "config.yml:6:9: jobs.build.steps[0]: a run step needs a command",
		},
		{
			name: "run without command",
			text: head + "    steps:\n      - run:\n          name: x\n" + workflows,
			want: "config.yml:7:11: jobs.build.steps[0].run: command is missing or empty",
		},
		{
			name: "empty run command",
			text: head + "    steps:\n      - run: \"  \"\n" + workflows,
			want: "config.yml:6:14: jobs.build.steps[0].run: the command is empty",
		},
		{
			name: "unknown run key",
			text: head + "    steps:\n      - run:\n          command: x\n          max_auto_reruns: 2\n" + workflows,
			want: "config.yml:8:11: jobs.build.steps[0].run.max_auto_reruns: run key \"max_auto_reruns\" is not supported by the local runner API",
		},
		{
			name: "invalid when",
			text: head + "    steps:\n      - run:\n          command: x\n          when: sometimes\n" + workflows,
			want: "config.yml:8:17: jobs.build.steps[0].run.when: invalid when \"sometimes\": use always, on_success or on_fail",
		},
		{
			name: "no output timeout without unit",
			text: head + "    steps:\n      - run:\n          command: x\n          no_output_timeout: 600\n" + workflows,
			want: "config.yml:8:30: jobs.build.steps[0].run.no_output_timeout: invalid no_output_timeout \"600\": use a positive duration with a unit, such as 20m",
		},
		{
			name: "background not boolean",
			text: head + "    steps:\n      - run:\n          command: x\n          background: later\n" + workflows,
			want: "config.yml:8:23: jobs.build.steps[0].run.background: must be true or false, not \"later\"",
		},
		{
			name: "unknown checkout key",
			text: head + "    steps:\n      - checkout:\n          method: blobless\n" + workflows,
			want: "config.yml:7:11: jobs.build.steps[0].checkout.method: checkout key \"method\" is not supported by the local runner API",
		},
		{
			name: "environment list",
			text: head + "    environment:\n      - A=1\n    steps: [checkout]\n" + workflows,
			want: "config.yml:6:7: jobs.build.environment: must be a map, not a list",
		},
		{
			name: "environment name",
			text: head + "    environment:\n      1A: x\n    steps: [checkout]\n" + workflows,
			want: "config.yml:6:7: jobs.build.environment.1A: invalid environment variable name \"1A\": use letters, digits and _, not starting with a digit",
		},
		{
			name: "environment map value",
			text: head + "    environment:\n      A:\n        B: c\n    steps: [checkout]\n" + workflows,
			want: "config.yml:7:9: jobs.build.environment.A: must be a string, not a map",
		},
		{
			name: "duplicate key",
			text: head + "    machine: true\n    steps: [checkout]\n" + workflows,
			want: "config.yml:5:5: jobs.build: key \"machine\" is defined twice (first at line 4)",
		},
		{
			name: "filters",
			text: head + "    steps: [checkout]\nworkflows:\n  w:\n    jobs:\n      - build:\n          filters:\n            branches:\n              only: main\n",
			want: "config.yml:10:11: workflows.w.jobs[0].build.filters: workflow job key \"filters\" is not supported by the local runner API",
		},
		{
			name: "matrix",
			text: head + "    steps: [checkout]\nworkflows:\n  w:\n    jobs:\n      - build:\n          matrix:\n            parameters: {}\n",
			want: "config.yml:10:11: workflows.w.jobs[0].build.matrix: workflow job key \"matrix\" is not supported by the local runner API",
		},
		{
			name: "context",
			text: head + "    steps: [checkout]\nworkflows:\n  w:\n    jobs:\n      - build:\n          context: org-global\n",
			want: "config.yml:10:11: workflows.w.jobs[0].build.context: workflow job key \"context\" is not supported by the local runner API",
		},
		{
			name: "triggers",
			text: head + "    steps: [checkout]\nworkflows:\n  w:\n    triggers: []\n    jobs: [build]\n",
			want: "config.yml:8:5: workflows.w.triggers: workflow key \"triggers\" is not supported by the local runner API",
		},
		{
			name: "undefined job",
			text: head + "    steps: [checkout]\nworkflows:\n  w:\n    jobs: [build, test]\n",
			want: "config.yml:8:19: workflows.w.jobs[1]: job \"test\" is not defined in jobs",
		},
		{
			name: "unknown requirement",
			text: head + "    steps: [checkout]\nworkflows:\n  w:\n    jobs:\n      - build:\n          requires: [lint]\n",
			want: "config.yml:9:9: workflows.w.jobs: job \"build\" requires \"lint\", which is not a job of workflow \"w\"",
		},
		{
			name: "requires cycle",
			text: head + "    steps: [checkout]\nworkflows:\n  w:\n    jobs:\n      - build:\n          name: a\n          requires: [b]\n      - build:\n          name: b\n          requires: [a]\n",
			want: "config.yml:9:9: workflows.w.jobs: job \"a\" requires itself through its requires chain",
		},
		{
			name: "duplicate workflow job",
			text: head + "    steps: [checkout]\nworkflows:\n  w:\n    jobs: [build, build]\n",
			want: "config.yml:8:19: workflows.w.jobs[1]: job name \"build\" is used twice in this workflow (first at line 8); give one of them a name: key",
		},
		{
			name: "workflows version",
			text: head + "    steps: [checkout]\nworkflows:\n  version: 3\n  w:\n    jobs: [build]\n",
			want: "config.yml:7:12: workflows.version: workflows version \"3\" is not supported; use 2 or remove it",
		},
		{
			name: "no workflows and no build job",
			text: "version: 2.1\njobs:\n  test:\n    machine: true\n    steps: [checkout]\n",
			want: "config.yml:1:1: workflows is missing and no job is named build; add a workflows map",
		},
		{
			name: "missing version",
			text: head[13:] + "    steps: [checkout]\n" + workflows,
			want: "config.yml:1:1: version is missing; add version: 2.1",
		},
		{
			name: "old version",
			text: "version: 1\n" + head[13:] + "    steps: [checkout]\n" + workflows,
			want: "config.yml:1:10: version: version \"1\" is not supported; use 2.1",
		},
		{
			name: "empty file",
			text: "",
			want: "config.yml:1:1: the file is empty; it needs version, jobs and workflows",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.text), "config.yml")
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	text := "version: 2.1\norbs: {}\njobs:\n  build:\n    docker: []\n    steps: [save_cache]\nworkflows:\n  w:\n    jobs: [build]\n"
	_, err := Parse([]byte(text), "config.yml")

	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("error = %v, want Errors", err)
	}
	if len(list) != 3 {
		t.Fatalf("got %d errors, want 3:\n%v", len(list), err)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Line < list[i-1].Line {
			t.Errorf("errors not in file order:\n%v", err)
		}
	}
}

func TestParseInvalidYAML(t *testing.T) {
	_, err := Parse([]byte("version: [2.1\n"), "config.yml")
	if err == nil || !strings.HasPrefix(err.Error(), "config.yml: invalid YAML:") {
		t.Errorf("error = %v, want an invalid YAML error naming the file", err)
	}
}

func TestParseTwoDocuments(t *testing.T) {
	_, err := Parse([]byte("version: 2.1\n---\nversion: 2.1\n"), "config.yml")
	want := "config.yml: the file contains more than one YAML document"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestValidResourceClass(t *testing.T) {
	for class, want := range map[string]bool{
		"acme/linux": true, "a_b/c-d": true, "large": false, "a/b/c": false, "/b": false, "a/": false, "a b/c": false,
	} {
		if got := ValidResourceClass(class); got != want {
			t.Errorf("ValidResourceClass(%q) = %v, want %v", class, got, want)
		}
	}
}
