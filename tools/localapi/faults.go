package localapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Duration is a time.Duration written in JSON as a Go duration string such
// as "1.5s".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string with a unit.
func (d *Duration) UnmarshalJSON(data []byte) error {
	var text string
	if err := json.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("invalid duration %s: use a string such as \"2s\"", data)
	}
	value, err := time.ParseDuration(text)
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a number with a unit, such as \"2s\"", text)
	}
	*d = Duration(value)
	return nil
}

// FaultRule is a fault injected into the responses of matching requests.
// Requests under /local/ are never faulted. A rule has at most one response
// fault (Status, Truncate, Hijack, Oversize or InvalidJSON), and Delay may
// come before any of them or alone. Only Status skips the real handler, so
// with the other faults the request still takes effect: a claim whose
// response is truncated still claims a job.
type FaultRule struct {
	// ID is assigned when the rule is added.
	ID int `json:"id"`

	// Method matches the request method; empty matches every method.
	Method string `json:"method,omitempty"`

	// Path matches the request path exactly, or as a prefix when it ends
	// with "*".
	Path string `json:"path"`

	// Count is how many matching requests the rule applies to before it is
	// removed; 0 means every matching request.
	Count int `json:"count,omitempty"`

	// Delay is the wait before the response.
	Delay Duration `json:"delay,omitempty"`

	// Status is sent instead of the real response, with RetryAfter as the
	// Retry-After header (seconds or an HTTP-date) and Body as the body,
	// or a JSON message when Body is empty.
	Status     int    `json:"status,omitempty"`
	RetryAfter string `json:"retry_after,omitempty"`
	Body       string `json:"body,omitempty"`

	// Truncate sends the first half of the real body with a matching
	// Content-Length, so the HTTP exchange succeeds but the content is cut.
	Truncate bool `json:"truncate,omitempty"`

	// Hijack sends the real status and headers and half the body, then
	// closes the connection, so the client sees the body end early.
	Hijack bool `json:"hijack,omitempty"`

	// Oversize pads the real body to this many bytes: a JSON body with
	// leading spaces, so it stays valid JSON, and any other body with
	// trailing zero bytes.
	Oversize int64 `json:"oversize,omitempty"`

	// InvalidJSON replaces the real body with text that is not JSON.
	InvalidJSON bool `json:"invalid_json,omitempty"`

	// Hits is how many requests the rule has handled.
	Hits int `json:"hits"`
}

func (rule *FaultRule) validate() error {
	if !strings.HasPrefix(rule.Path, "/") {
		return fmt.Errorf("invalid fault path %q: it must start with /", rule.Path)
	}
	if strings.HasPrefix(rule.Path, "/local") {
		return fmt.Errorf("invalid fault path %q: /local endpoints cannot be faulted", rule.Path)
	}
	if rule.Count < 0 {
		return fmt.Errorf("invalid fault count %d: use 0 for every request or a positive number", rule.Count)
	}
	if rule.Delay < 0 {
		return errors.New("invalid fault delay: it must not be negative")
	}
	if err := rule.validateEffects(); err != nil {
		return err
	}
	return rule.validateStatus()
}

func (rule *FaultRule) validateEffects() error {
	effects := 0
	for _, set := range []bool{rule.Status != 0, rule.Truncate, rule.Hijack, rule.Oversize != 0, rule.InvalidJSON} {
		if set {
			effects++
		}
	}
	if effects > 1 {
		return errors.New("invalid fault: use at most one of status, truncate, hijack, oversize and invalid_json")
	}
	if effects == 0 && rule.Delay == 0 {
		return errors.New("invalid fault: it has no effect; set delay, status, truncate, hijack, oversize or invalid_json")
	}
	if rule.Oversize < 0 {
		return fmt.Errorf("invalid fault oversize %d: use a positive number of bytes", rule.Oversize)
	}
	return nil
}

func (rule *FaultRule) validateStatus() error {
	if rule.Status == 0 {
		if rule.RetryAfter != "" || rule.Body != "" {
			return errors.New("invalid fault: retry_after and body need a status")
		}
		return nil
	}
	if rule.Status < 200 || rule.Status > 599 {
		return fmt.Errorf("invalid fault status %d: use 200 to 599", rule.Status)
	}
	if rule.RetryAfter == "" {
		return nil
	}
	if seconds, err := strconv.Atoi(rule.RetryAfter); err == nil && seconds >= 0 {
		return nil
	}
	if _, err := http.ParseTime(rule.RetryAfter); err == nil {
		return nil
	}
	return fmt.Errorf("invalid retry_after %q: use whole seconds or an HTTP-date", rule.RetryAfter)
}

func (rule *FaultRule) matches(method, path string) bool {
	if rule.Method != "" && !strings.EqualFold(rule.Method, method) {
		return false
	}
	if prefix, ok := strings.CutSuffix(rule.Path, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return path == rule.Path
}

// faultSet is the ordered list of fault rules. The first matching rule
// handles a request.
type faultSet struct {
	mu     sync.Mutex
	rules  []*FaultRule
	nextID int
}

func (f *faultSet) add(rule FaultRule) (FaultRule, error) {
	if err := rule.validate(); err != nil {
		return FaultRule{}, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()

	f.nextID++
	rule.ID = f.nextID
	rule.Hits = 0
	f.rules = append(f.rules, &rule)
	return rule, nil
}

// take returns the rule for a request and counts the hit, removing a rule
// whose count is used up.
func (f *faultSet) take(method, path string) (FaultRule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()

	for i, rule := range f.rules {
		if !rule.matches(method, path) {
			continue
		}
		rule.Hits++
		if rule.Count > 0 && rule.Hits >= rule.Count {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
		}
		return *rule, true
	}
	return FaultRule{}, false
}

func (f *faultSet) list() []FaultRule {
	f.mu.Lock()
	defer f.mu.Unlock()

	out := make([]FaultRule, len(f.rules))
	for i, rule := range f.rules {
		out[i] = *rule
	}
	return out
}

func (f *faultSet) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.rules = nil
}

// AddFault adds a fault rule after the existing ones and returns it with its
// id.
func (s *Server) AddFault(rule FaultRule) (FaultRule, error) {
	return s.faults.add(rule)
}

// Faults returns the active fault rules, with their hit counts.
func (s *Server) Faults() []FaultRule {
	return s.faults.list()
}

// ClearFaults removes every fault rule and ends any checksum fault.
func (s *Server) ClearFaults() {
	s.faults.clear()
	s.agents.setFault(ChecksumCorrect)
}
