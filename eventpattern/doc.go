// Package eventpattern matches JSON events against Amazon EventBridge event
// patterns, so that a local subscriber filters Connect Cases events exactly
// as an EventBridge rule would.
//
// Why a matcher of our own: the Go implementation of EventBridge patterns,
// Quamina (quamina.net/go/quamina, github.com/timbray/quamina), is not served
// by the module proxy this project builds from (both names answer 403), and
// aws/event-ruler, the reference matcher, is Java. This package implements
// the documented semantics and is tested against every example in the
// EventBridge user guide (see the URLs in match_test.go).
//
// Semantics (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html):
//
//   - A pattern is a JSON object mirroring the event's nesting. Every field it
//     names must match (AND); fields it does not name are ignored.
//   - A leaf is a non-empty array of alternatives (OR). Plain strings match
//     exactly and case-sensitively; numbers match by their textual form (300
//     and 300.0 differ; use {"numeric":["=",300]} to compare values); true,
//     false and null match those literals; "" matches only the empty string.
//   - An array in the event matches when any element matches. Objects inside
//     event arrays are matched as if the array were not there, and all the
//     fields of one pattern object must come from the same array element
//     (event-ruler's rulesForJSONEvent behaviour).
//   - Operators, each an object with one key inside the leaf array: prefix,
//     suffix (each taking a string or {"equals-ignore-case": string}),
//     equals-ignore-case, wildcard (* matches any run; ** is refused; \* and
//     \\ are the only escapes), anything-but (a string, a number, a non-empty
//     list of all strings or all numbers, or an object holding one of prefix,
//     suffix, equals-ignore-case, wildcard), numeric (one or two comparisons
//     with <, <=, =, >, >=; JSON numbers only), exists (true or false; a key
//     holding an object is not a leaf, so exists:false matches it), and cidr
//     (IPv4 or IPv6).
//   - "$or": [{...}, {...}, ...] at any object level ORs two or more
//     sub-patterns; any other shape of "$or" is a plain field name, as in
//     event-ruler.
//
// Choices where the documentation is silent, each following event-ruler:
// anything-but needs the field to be present with a value; anything-but with
// numbers compares numerically; an empty event array holds no leaf values
// (exists:false matches it); null is a present value (exists:true matches it).
// Numeric operands are not range-checked (EventBridge documents ±1.0e9,
// event-ruler ±5.0e9), so a pattern AWS accepts is never refused here.
//
// A nil *Pattern matches every event, so callers can keep "no filter" as nil.
package eventpattern
