package api

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// noBound marks a missing min or max in generated checks; every bound in the
// model is non-negative.
const noBound = -1

// maxReported caps the list in one ValidationException so a hostile request
// with thousands of bad members cannot make a huge response.
const maxReported = 10

// pattern is a model pattern compiled for full-string matching, with an
// optional forbidden prefix standing in for a leading negative look-ahead.
type pattern struct {
	source    string
	re        *regexp.Regexp
	notPrefix *regexp.Regexp
}

func (p *pattern) match(s string) bool {
	if p.notPrefix != nil && p.notPrefix.MatchString(s) {
		return false
	}
	return p.re.MatchString(s)
}

// validator collects constraint violations in the wording AWS's validation
// layer uses: "Value '<v>' at '<member>' failed to satisfy constraint:
// Member must <rule>".
type validator struct {
	msgs  []string
	count int
}

func (v *validator) add(msg string) {
	v.count++
	if len(v.msgs) < maxReported {
		v.msgs = append(v.msgs, msg)
	}
}

func (v *validator) err() error {
	if v.count == 0 {
		return nil
	}
	noun := "errors"
	if v.count == 1 {
		noun = "error"
	}
	return &Error{
		Code:    CodeValidationException,
		Message: fmt.Sprintf("%d validation %s detected: %s", v.count, noun, strings.Join(v.msgs, "; ")),
	}
}

func (v *validator) required(p string) {
	v.add(fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", p))
}

func (v *validator) length(p, s string, min, max float64) {
	n := utf8.RuneCountInString(s)
	if min != noBound && float64(n) < min {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %s", clip(s), p, num(min)))
	}
	if max != noBound && float64(n) > max {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %s", clip(s), p, num(max)))
	}
}

func (v *validator) size(p string, n int, min, max float64) {
	if min != noBound && float64(n) < min {
		v.add(fmt.Sprintf("Value with %d elements at '%s' failed to satisfy constraint: Member must have length greater than or equal to %s", n, p, num(min)))
	}
	if max != noBound && float64(n) > max {
		v.add(fmt.Sprintf("Value with %d elements at '%s' failed to satisfy constraint: Member must have length less than or equal to %s", n, p, num(max)))
	}
}

func (v *validator) rangeCheck(p string, f, min, max float64) {
	if min != noBound && f < min {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %s", num(f), p, num(min)))
	}
	if max != noBound && f > max {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have value less than or equal to %s", num(f), p, num(max)))
	}
}

func (v *validator) pattern(p, s string, pat *pattern) {
	if !pat.match(s) {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", clip(s), p, pat.source))
	}
}

func (v *validator) enum(p, s string, names []string) {
	for _, n := range names {
		if n == s {
			return
		}
	}
	v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", clip(s), p, strings.Join(names, ", ")))
}

func (v *validator) union(p string, n int, members string) {
	if p == "" {
		p = "input"
	}
	v.add(fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have exactly one of [%s] set, found %d", p, members, n))
}

// num prints a bound or value as AWS does: plain decimal. %g would turn
// TargetSlaMinutes' maximum 1051200 into 1.0512e+06.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func join(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

func index(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

func key(p, k string) string { return p + "[" + strconv.Quote(clip(k)) + "]" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
