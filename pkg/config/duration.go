package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// parseDuration parses a Go duration and explains the mistakes people make
// most: a bare number, a unit that Go lacks (1d) and a negative value.
func parseDuration(text string) (any, string) {
	d, err := time.ParseDuration(text)
	switch {
	case err == nil && d < 0:
		return nil, fmt.Sprintf("%q is negative; write a positive duration such as %s",
			text, strings.TrimPrefix(text, "-"))
	case err == nil:
		return d, ""
	case bareNumber.MatchString(text):
		return nil, fmt.Sprintf("%q has no unit; add a unit, such as %s", text, unitExamples(text))
	}
	if message, ok := unknownUnitMessage(text); ok {
		return nil, message
	}
	return nil, fmt.Sprintf("%q is not a duration; write a number and a unit, such as 5m or 1h30m", text)
}

var (
	bareNumber  = regexp.MustCompile(`^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)$`)
	numberUnit  = regexp.MustCompile(`^([0-9]+\.?[0-9]*|\.[0-9]+)([A-Za-zµμ]+)$`)
	integerText = regexp.MustCompile(`^[0-9]+$`)
)

// unitExamples returns the number in seconds and in minutes: "300s or 5m".
func unitExamples(number string) string {
	number = strings.TrimPrefix(number, "+")
	if integerText.MatchString(number) {
		if n, err := strconv.Atoi(number); err == nil && n > 0 && n%60 == 0 {
			return fmt.Sprintf("%ds or %dm", n, n/60)
		}
	}
	return fmt.Sprintf("%ss or %sm", number, number)
}

// goUnits are the units that time.ParseDuration accepts.
var goUnits = map[string]bool{"ns": true, "us": true, "µs": true, "μs": true, "ms": true, "s": true, "m": true, "h": true}

// goUnit is the Go duration unit and factor that replace a unit Go lacks.
type goUnit struct {
	unit   string
	factor float64
}

var unitReplacements = map[string]goUnit{
	"d": {"h", 24}, "day": {"h", 24}, "days": {"h", 24},
	"w": {"h", 168}, "wk": {"h", 168}, "week": {"h", 168}, "weeks": {"h", 168},
	"hr": {"h", 1}, "hrs": {"h", 1}, "hour": {"h", 1}, "hours": {"h", 1},
	"min": {"m", 1}, "mins": {"m", 1}, "minute": {"m", 1}, "minutes": {"m", 1},
	"sec": {"s", 1}, "secs": {"s", 1}, "second": {"s", 1}, "seconds": {"s", 1},
	"msec": {"ms", 1}, "msecs": {"ms", 1},
}

// unknownUnitMessage explains a number followed by a unit that Go's
// durations do not have, converting to a Go unit where one is known.
func unknownUnitMessage(text string) (string, bool) {
	m := numberUnit.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	number, unit := m[1], m[2]
	if goUnits[unit] {
		return fmt.Sprintf("%q is too long; the maximum is about 2562047h (292 years)", text), true
	}

	replacement, ok := unitReplacements[strings.ToLower(unit)]
	if !ok {
		return fmt.Sprintf("%q has unknown unit %q; use ns, us, ms, s, m or h, such as %sm",
			text, unit, number), true
	}
	n, err := strconv.ParseFloat(number, 64)
	if err != nil {
		return "", false
	}
	converted := strconv.FormatFloat(n*replacement.factor, 'f', -1, 64) + replacement.unit
	return fmt.Sprintf("%q has unknown unit %q; Go durations use %s, so write %s",
		text, unit, replacement.unit, converted), true
}
