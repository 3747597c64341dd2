package config

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one configuration mistake with its location. A value read from
// the file has File, Line and Column, and a value from the environment has
// Env instead. Problems about the file as a whole, such as its permissions, have
// File and no line.
type Problem struct {
	File    string
	Line    int // 1-based; 0 when the problem concerns the whole file
	Column  int // 1-based, in characters; 0 when unknown
	Env     string
	Key     string // dotted key, or "" for syntax errors
	Message string
}

// String formats the problem as "FILE:LINE:COL: KEY: MESSAGE", or as
// "environment NAME: KEY: MESSAGE" for a value from the environment. Parts
// that are unknown are left out.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.location())
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

func (p Problem) location() string {
	switch {
	case p.Env != "":
		return "environment " + p.Env + ": "
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File + ": "
	case p.Column == 0:
		return fmt.Sprintf("%s:%d: ", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d: ", p.File, p.Line, p.Column)
	}
}

// Warning is a problem that does not stop the agent, such as a config file
// that others can read. It has the same fields and format as Problem.
type Warning Problem

// String formats the warning like Problem.String.
func (w Warning) String() string {
	return Problem(w).String()
}

// Error lists every problem that Load found. The command exits with status
// 78 (EX_CONFIG) on it.
type Error struct {
	Problems []Problem
}

// Error returns one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// report collects problems and warnings while Load runs.
type report struct {
	problems []Problem
	warnings []Warning
}

func (r *report) problem(p Problem) {
	r.problems = append(r.problems, p)
}

func (r *report) warn(p Problem) {
	r.warnings = append(r.warnings, Warning(p))
}

// sortProblems orders problems about the whole file first, then by line and
// column, then problems from the environment in the order they were found.
func sortProblems(problems []Problem) {
	sort.SliceStable(problems, func(i, j int) bool {
		a, b := problems[i], problems[j]
		if rank(a) != rank(b) {
			return rank(a) < rank(b)
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

func rank(p Problem) int {
	switch {
	case p.File != "" && p.Env == "":
		return 0
	case p.Env != "":
		return 1
	default:
		return 2
	}
}

func sortWarnings(warnings []Warning) {
	problems := make([]Problem, len(warnings))
	for i, w := range warnings {
		problems[i] = Problem(w)
	}
	sortProblems(problems)
	for i, p := range problems {
		warnings[i] = Warning(p)
	}
}

// at returns a Problem located at src.
func at(src Source, key, message string) Problem {
	switch src.Kind {
	case SourceFile:
		return Problem{File: src.Name, Line: src.Line, Column: src.Column, Key: key, Message: message}
	case SourceEnv:
		return Problem{Env: src.Name, Key: key, Message: message}
	default:
		return Problem{Key: key, Message: message}
	}
}
