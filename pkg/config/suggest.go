package config

import (
	"strings"
)

const maxSuggestLength = 100

// closestKey returns the known dotted key or section that a mistyped dotted
// name most likely means, or "" when none is close. A name whose last part is
// a known key in another section, such as runner.auth_token, gets that key.
func closestKey(name string) string {
	for _, s := range keySpecs {
		if leaf(s.key) == strings.ToLower(leaf(name)) {
			return s.key
		}
	}
	return closest(name, knownNames())
}

// knownNames returns every dotted key and every section.
func knownNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, s := range keySpecs {
		for name := s.key; name != ""; name = section(name) {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	return names
}

// closestEnv returns the known variable closest to a mistyped one, or "".
func closestEnv(name string) string {
	var names []string
	for _, s := range keySpecs {
		names = append(names, s.envName(), s.aliasName())
	}
	return closest(name, names)
}

// closest returns the candidate with the smallest edit distance to word, or
// "" when even that one differs in more than a third of word's characters
// (and in more than two, so short words still get a suggestion). Words much
// longer than any key get no suggestion, which also bounds the work.
func closest(word string, candidates []string) string {
	if len(word) > maxSuggestLength {
		return ""
	}
	word = strings.ToLower(word)
	best, bestDistance := "", -1
	for _, c := range candidates {
		d := editDistance(word, strings.ToLower(c))
		if bestDistance < 0 || d < bestDistance {
			best, bestDistance = c, d
		}
	}
	if bestDistance < 0 || bestDistance > max(2, len(word)/3) {
		return ""
	}
	return best
}

// editDistance returns the optimal string alignment distance: the number of
// insertions, deletions, substitutions and swaps of neighbouring characters
// that turn a into b.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	rows := make([][]int, len(x)+1)
	for i := range rows {
		rows[i] = make([]int, len(y)+1)
		rows[i][0] = i
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(x)][len(y)]
}
