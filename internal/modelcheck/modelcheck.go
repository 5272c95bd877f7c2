// Package modelcheck enforces the constraints of an AWS service model
// (lengths, ranges, patterns, enums, list sizes, unions, required members)
// for the code internal/apigen generates. Every generated API package shares
// it, so all of them report violations in the one wording AWS's validation
// layer uses: "Value '<v>' at '<member>' failed to satisfy constraint:
// Member must <rule>". Each package turns the result into its own
// ValidationException.
package modelcheck

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// NoBound marks a missing min or max in generated checks; every bound in the
// models is non-negative.
const NoBound = -1

// maxReported caps the list in one ValidationException so a hostile request
// with thousands of bad members cannot make a huge response.
const maxReported = 10

// Pattern is a model pattern compiled for full-string matching, with an
// optional forbidden prefix standing in for a leading negative look-ahead,
// which RE2 lacks.
type Pattern struct {
	source    string
	re        *regexp.Regexp
	notPrefix *regexp.Regexp
}

// NewPattern compiles a model pattern: re is the anchored expression and
// notPrefix, when not empty, the anchored forbidden prefix. It panics on a
// bad expression, as it runs at package init of generated code.
func NewPattern(source, re, notPrefix string) *Pattern {
	p := &Pattern{source: source, re: regexp.MustCompile(re)}
	if notPrefix != "" {
		p.notPrefix = regexp.MustCompile(notPrefix)
	}
	return p
}

func (p *Pattern) match(s string) bool {
	if p.notPrefix != nil && p.notPrefix.MatchString(s) {
		return false
	}
	return p.re.MatchString(s)
}

// Validator collects constraint violations.
type Validator struct {
	msgs  []string
	count int
}

func (v *Validator) add(msg string) {
	v.count++
	if len(v.msgs) < maxReported {
		v.msgs = append(v.msgs, msg)
	}
}

// Message returns the whole ValidationException message, or "" when no
// constraint was broken.
func (v *Validator) Message() string {
	if v.count == 0 {
		return ""
	}
	noun := "errors"
	if v.count == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", v.count, noun, strings.Join(v.msgs, "; "))
}

// Required reports a missing required member.
func (v *Validator) Required(p string) {
	v.add(fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", p))
}

// Length checks a string's length in characters.
func (v *Validator) Length(p, s string, min, max float64) {
	n := utf8.RuneCountInString(s)
	if min != NoBound && float64(n) < min {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %s", Clip(s), p, num(min)))
	}
	if max != NoBound && float64(n) > max {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %s", Clip(s), p, num(max)))
	}
}

// Size checks the number of elements of a list or map.
func (v *Validator) Size(p string, n int, min, max float64) {
	if min != NoBound && float64(n) < min {
		v.add(fmt.Sprintf("Value with %d elements at '%s' failed to satisfy constraint: Member must have length greater than or equal to %s", n, p, num(min)))
	}
	if max != NoBound && float64(n) > max {
		v.add(fmt.Sprintf("Value with %d elements at '%s' failed to satisfy constraint: Member must have length less than or equal to %s", n, p, num(max)))
	}
}

// Range checks a number against the model's min and max.
func (v *Validator) Range(p string, f, min, max float64) {
	if min != NoBound && f < min {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %s", num(f), p, num(min)))
	}
	if max != NoBound && f > max {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have value less than or equal to %s", num(f), p, num(max)))
	}
}

// Pattern checks s against a model pattern.
func (v *Validator) Pattern(p, s string, pat *Pattern) {
	if !pat.match(s) {
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", Clip(s), p, pat.source))
	}
}

// Enum checks s is one of names.
func (v *Validator) Enum(p, s string, names []string) {
	for _, n := range names {
		if n == s {
			return
		}
	}
	v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", Clip(s), p, strings.Join(names, ", ")))
}

// Union reports a union with n members set instead of exactly one.
func (v *Validator) Union(p string, n int, members string) {
	if p == "" {
		p = "input"
	}
	v.add(fmt.Sprintf("Value at '%s' failed to satisfy constraint: Member must have exactly one of [%s] set, found %d", p, members, n))
}

// num prints a bound or value as AWS does: plain decimal. %g would turn
// TargetSlaMinutes' maximum 1051200 into 1.0512e+06.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Join is the path of member name inside p.
func Join(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

// Index is the path of element i of the list at p.
func Index(p string, i int) string { return p + "[" + strconv.Itoa(i) + "]" }

// Key is the path of key k of the map at p.
func Key(p, k string) string { return p + "[" + strconv.Quote(Clip(k)) + "]" }

// SortedKeys returns a map's keys in order, so that errors are reported in a
// stable order.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Clip keeps error messages bounded however large the offending value.
func Clip(s string) string { return ClipTo(s, 128) }

// ClipTo cuts s to at most max bytes of valid UTF-8 plus "...", so an error
// message quoting a client's value stays bounded and stays valid JSON text.
func ClipTo(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "..."
}
