package fault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes Go duration strings
// ("250ms", "30s", "5m"). Bare numbers are rejected on purpose: "30" could mean
// seconds or milliseconds, and a chaos config that silently means the other
// one is worse than an error.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\" or \"250ms\", got %s", truncate(string(b)))
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use Go syntax such as \"30s\", \"250ms\", \"1m30s\")", s)
	}
	return v, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// StringList is a list of strings that unmarshals from either a JSON string
// (optionally comma separated) or a JSON array, because LocalStack rules use
// a single "operation" string while multi-operation rules want a list.
type StringList []string

// MarshalJSON writes a single element as a plain string, for LocalStack
// compatibility, and several as an array.
func (l StringList) MarshalJSON() ([]byte, error) {
	if len(l) == 1 {
		return json.Marshal(l[0])
	}
	return json.Marshal([]string(l))
}

// UnmarshalJSON implements json.Unmarshaler.
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*l = nil
		return nil
	}
	var out []string
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		out = strings.Split(s, ",")
	} else if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("expected a string or an array of strings, got %s", truncate(string(b)))
	}
	res := make([]string, 0, len(out))
	for _, s := range out {
		s = strings.TrimSpace(s)
		if s == "" {
			return errors.New("empty name in list")
		}
		res = append(res, s)
	}
	*l = res
	return nil
}

// AttemptRange is an inclusive range of SDK attempt numbers (1 is the first
// try). Max 0 means unbounded.
type AttemptRange struct {
	Min int `json:"min"`
	Max int `json:"max,omitempty"`
}

// Attempts selects SDK attempt numbers. The zero value matches every attempt.
//
// JSON accepts, all meaning the same kind of set:
//
//	"attempts": 1                      // only the first attempt
//	"attempts": "1-2"                  // attempts 1 and 2 (canonical form)
//	"attempts": "1-2,5,7-"             // 1, 2, 5 and every attempt from 7 on
//	"attempts": [1, 2, "4-5"]          // elements are numbers or range strings
//	"attempts": {"min": 1, "max": 2}   // max omitted = unbounded
//
// It is written back in the canonical string form.
type Attempts struct {
	ranges []AttemptRange
}

// AttemptsOf builds an Attempts from inclusive ranges.
func AttemptsOf(r ...AttemptRange) Attempts {
	return Attempts{ranges: append([]AttemptRange(nil), r...)}
}

// ParseAttempts parses the string form ("1-2,5,7-").
func ParseAttempts(s string) (Attempts, error) {
	var a Attempts
	s = strings.TrimSpace(s)
	if s == "" {
		return a, errors.New("attempts: empty")
	}
	for _, part := range strings.Split(s, ",") {
		r, err := parseAttemptRange(strings.TrimSpace(part))
		if err != nil {
			return Attempts{}, err
		}
		a.ranges = append(a.ranges, r)
	}
	return a, nil
}

func parseAttemptRange(p string) (AttemptRange, error) {
	lo, hi, isRange := strings.Cut(p, "-")
	min, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil {
		return AttemptRange{}, fmt.Errorf("attempts: invalid range %q (use forms like \"1\", \"1-3\", \"4-\")", p)
	}
	r := AttemptRange{Min: min, Max: min}
	if isRange {
		hi = strings.TrimSpace(hi)
		if hi == "" {
			r.Max = 0
		} else if r.Max, err = strconv.Atoi(hi); err != nil {
			return AttemptRange{}, fmt.Errorf("attempts: invalid range %q (use forms like \"1\", \"1-3\", \"4-\")", p)
		}
	}
	return r, validateRange(r)
}

func validateRange(r AttemptRange) error {
	if r.Min < 1 {
		return fmt.Errorf("attempts: attempt numbers start at 1, got %d", r.Min)
	}
	if r.Max != 0 && r.Max < r.Min {
		return fmt.Errorf("attempts: range %d-%d is empty", r.Min, r.Max)
	}
	return nil
}

// IsZero reports whether a matches every attempt because no filter was set.
func (a Attempts) IsZero() bool { return len(a.ranges) == 0 }

// Ranges returns a copy of the ranges.
func (a Attempts) Ranges() []AttemptRange { return append([]AttemptRange(nil), a.ranges...) }

// Contains reports whether attempt n is selected. n < 1 is treated as 1,
// because a request without an SDK attempt header is a first attempt.
func (a Attempts) Contains(n int) bool {
	if len(a.ranges) == 0 {
		return true
	}
	if n < 1 {
		n = 1
	}
	for _, r := range a.ranges {
		if n >= r.Min && (r.Max == 0 || n <= r.Max) {
			return true
		}
	}
	return false
}

// all reports whether every attempt is selected, filter or not.
func (a Attempts) all() bool { return a.Contains(1) && a.unboundedFrom1() }

func (a Attempts) unboundedFrom1() bool {
	if len(a.ranges) == 0 {
		return true
	}
	// Merge ranges to see if they cover [1, inf).
	rs := a.Ranges()
	sort.Slice(rs, func(i, j int) bool { return rs[i].Min < rs[j].Min })
	next := 1
	for _, r := range rs {
		if r.Min > next {
			return false
		}
		if r.Max == 0 {
			return true
		}
		if r.Max+1 > next {
			next = r.Max + 1
		}
	}
	return false
}

// String renders the canonical form.
func (a Attempts) String() string {
	parts := make([]string, len(a.ranges))
	for i, r := range a.ranges {
		switch {
		case r.Max == 0:
			parts[i] = fmt.Sprintf("%d-", r.Min)
		case r.Max == r.Min:
			parts[i] = strconv.Itoa(r.Min)
		default:
			parts[i] = fmt.Sprintf("%d-%d", r.Min, r.Max)
		}
	}
	return strings.Join(parts, ",")
}

// MarshalJSON implements json.Marshaler.
func (a Attempts) MarshalJSON() ([]byte, error) {
	if a.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(a.String())
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *Attempts) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*a = Attempts{}
		return nil
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := ParseAttempts(s)
		if err != nil {
			return err
		}
		*a = v
		return nil
	case '{':
		var r AttemptRange
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("attempts: %v", err)
		}
		if err := validateRange(r); err != nil {
			return err
		}
		*a = Attempts{ranges: []AttemptRange{r}}
		return nil
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(b, &elems); err != nil {
			return fmt.Errorf("attempts: %v", err)
		}
		if len(elems) == 0 {
			return errors.New("attempts: empty list")
		}
		var out Attempts
		for _, e := range elems {
			var one Attempts
			if err := one.UnmarshalJSON(e); err != nil {
				return err
			}
			if one.IsZero() {
				return errors.New("attempts: null in list")
			}
			out.ranges = append(out.ranges, one.ranges...)
		}
		*a = out
		return nil
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("attempts: expected number, string, array or {min,max}, got %s", truncate(string(b)))
		}
		if f != math.Trunc(f) || f < 1 || f > math.MaxInt32 {
			return fmt.Errorf("attempts: %s is not a valid attempt number", truncate(string(b)))
		}
		*a = Attempts{ranges: []AttemptRange{{Min: int(f), Max: int(f)}}}
		return nil
	}
}

// Latency is a fixed delay or a uniformly drawn one in [Min, Max].
//
//	"latency": "200ms"
//	"latency": {"min": "100ms", "max": "300ms"}
type Latency struct {
	Min time.Duration
	Max time.Duration
}

// FixedLatency returns a Latency of exactly d.
func FixedLatency(d time.Duration) *Latency { return &Latency{Min: d, Max: d} }

// MarshalJSON implements json.Marshaler.
func (l Latency) MarshalJSON() ([]byte, error) {
	if l.Min == l.Max {
		return json.Marshal(l.Min.String())
	}
	return json.Marshal(struct {
		Min string `json:"min"`
		Max string `json:"max"`
	}{l.Min.String(), l.Max.String()})
}

// UnmarshalJSON implements json.Unmarshaler.
func (l *Latency) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var raw struct {
			Min *Duration `json:"min"`
			Max *Duration `json:"max"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("latency: %v", err)
		}
		if raw.Min == nil || raw.Max == nil {
			return errors.New("latency: range needs both min and max")
		}
		*l = Latency{Min: raw.Min.D(), Max: raw.Max.D()}
		return nil
	}
	var d Duration
	if err := d.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("latency: %v", err)
	}
	*l = Latency{Min: d.D(), Max: d.D()}
	return nil
}

func (l Latency) validate() error {
	if l.Min < 0 || l.Max < 0 {
		return errors.New("latency: must not be negative")
	}
	if l.Max < l.Min {
		return fmt.Errorf("latency: max %v is below min %v", l.Max, l.Min)
	}
	return nil
}

// Action is what the HTTP layer must do with a faulted request.
type Action string

const (
	// ActionNone means handle the request normally. It only appears when the
	// fault header says "none", to opt a request out of all rules.
	ActionNone Action = "none"
	// ActionError returns a Connect Cases JSON error (Decision.Error).
	ActionError Action = "error"
	// ActionHTTP returns a bare status with a non-JSON body, the way a load
	// balancer in front of the service does (Decision.HTTPStatus).
	ActionHTTP Action = "http"
	// ActionLatency delays the request by Decision.Latency, then serves it.
	ActionLatency Action = "latency"
	// ActionDrop closes the connection without writing a response.
	ActionDrop Action = "drop"
	// ActionHang holds the request for Decision.Hang, longer than a sane
	// client timeout, then closes the connection without a response.
	ActionHang Action = "hang"
	// ActionCommitThenFail applies the write, then returns Decision.Error or,
	// when Decision.Drop is set, drops the connection. It is how an emulator
	// produces the "did my write happen?" ambiguity that makes retries unsafe.
	ActionCommitThenFail Action = "commit-then-fail"
)

// The actions of event rules (see events.go); ActionDrop is shared.
const (
	// ActionDuplicate delivers the event, then Copies more copies of it.
	ActionDuplicate Action = "duplicate"
	// ActionDelay holds the event for the rule's latency while later
	// events go on.
	ActionDelay Action = "delay"
	// ActionReorder holds the event back until the sink's next event has
	// been delivered.
	ActionReorder Action = "reorder"
)

var validActions = map[Action]bool{
	ActionError: true, ActionHTTP: true, ActionLatency: true, ActionDrop: true,
	ActionHang: true, ActionCommitThenFail: true,
	ActionDuplicate: true, ActionDelay: true, ActionReorder: true,
}

// eventActions are the actions only event rules take.
var eventActions = map[Action]bool{ActionDuplicate: true, ActionDelay: true, ActionReorder: true}

// LoadBalancerStatuses are the statuses ActionHTTP may use.
var LoadBalancerStatuses = []int{500, 502, 503, 504}

func validLBStatus(s int) bool {
	for _, v := range LoadBalancerStatuses {
		if v == s {
			return true
		}
	}
	return false
}

// HTTPBody returns the non-JSON body a load balancer would send with status,
// so SDKs hit the same "unparseable error body" path they hit in production.
func HTTPBody(status int) string {
	text := map[int]string{
		500: "500 Internal Server Error",
		502: "502 Bad Gateway",
		503: "503 Service Temporarily Unavailable",
		504: "504 Gateway Time-out",
	}[status]
	if text == "" {
		text = strconv.Itoa(status)
	}
	return "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n"
}
