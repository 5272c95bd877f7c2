package fault

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// HeaderName is the per-request fault header. The SDK forwards custom headers
// on every attempt, so a header fault applies to retries too unless it
// carries an attempts= parameter.
const HeaderName = "x-localcases-fault"

// HeaderFault is a parsed fault header.
type HeaderFault struct {
	Decision Decision
	// Attempts limits the fault to some SDK attempts; zero means all.
	Attempts Attempts
}

// Applies reports whether the fault applies to the given SDK attempt.
func (h HeaderFault) Applies(attempt int) bool { return h.Attempts.Contains(attempt) }

// FromHeader parses an x-localcases-fault value into a resolved Decision.
// The attempts= parameter is validated but only honoured by Engine.Decide
// (or ParseHeader callers), since a bare Decision has no attempt number.
//
// Grammar (keys case-insensitive, blanks around tokens ignored):
//
//	header  = fault *( ";" param )
//	fault   = ErrorCode                        ; InternalServerException
//	        | "error=" ErrorCode
//	        | "http=" ("500"|"502"|"503"|"504") ; bare status, HTML body
//	        | "drop"                            ; close, no response
//	        | "latency=" duration               ; delay, then serve normally
//	        | "hang" [ "=" duration ]           ; hold (default 60s), then close
//	        | "commit-then-fail" [ "=" (ErrorCode | "drop") ]
//	        | "none"                            ; bypass every rule
//	param   = "retryAfter=" seconds             ; 0 = no Retry-After header
//	        | "status=" 400..599                ; override error status
//	        | "message=" text                   ; override message (no ';')
//	        | "latency=" duration               ; extra delay before the fault
//	        | "attempts=" attempts              ; e.g. 1-2 or 1,3 or 2-
//	duration = Go duration ("200ms", "10s")
//
// Examples: "ThrottlingException", "InternalServerException;retryAfter=3",
// "http=503", "drop", "latency=200ms", "hang=10s",
// "commit-then-fail=InternalServerException", "ConflictException;attempts=1".
func FromHeader(value string) (Decision, error) {
	h, err := ParseHeader(value)
	return h.Decision, err
}

// ParseHeader parses an x-localcases-fault value; see FromHeader.
func ParseHeader(value string) (HeaderFault, error) {
	var h HeaderFault
	parts := strings.Split(value, ";")
	head := strings.TrimSpace(parts[0])
	if head == "" {
		return h, errors.New("fault header: empty")
	}
	key, val, hasVal := strings.Cut(head, "=")
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	d := Decision{Source: SourceHeader}
	var spec *ErrorSpec
	noValue := func() error {
		if hasVal {
			return fmt.Errorf("fault header: %q takes no value", key)
		}
		return nil
	}
	switch strings.ToLower(key) {
	case "none":
		d.Action = ActionNone
		if err := noValue(); err != nil {
			return h, err
		}
	case "drop":
		d.Action, d.Drop = ActionDrop, true
		if err := noValue(); err != nil {
			return h, err
		}
	case "http":
		s, err := strconv.Atoi(val)
		if err != nil || !validLBStatus(s) {
			return h, fmt.Errorf("fault header: http=%q: status must be one of %v", val, LoadBalancerStatuses)
		}
		d.Action, d.HTTPStatus = ActionHTTP, s
	case "latency":
		l, err := headerDuration("latency", val, hasVal)
		if err != nil {
			return h, err
		}
		d.Action, d.Latency = ActionLatency, l
	case "hang":
		d.Action, d.Hang = ActionHang, DefaultHang
		if hasVal {
			l, err := headerDuration("hang", val, true)
			if err != nil {
				return h, err
			}
			if l == 0 {
				return h, errors.New("fault header: hang must be > 0")
			}
			d.Hang = l
		}
	case "error":
		c, ok := canonicalCode(val)
		if !ok {
			return h, unknownCode(val)
		}
		d.Action, spec = ActionError, &ErrorSpec{Code: c}
	case "commit-then-fail":
		d.Action, d.CommitFirst = ActionCommitThenFail, true
		switch {
		case !hasVal:
			spec = &ErrorSpec{Code: CodeInternalServer}
		case strings.EqualFold(val, "drop"):
			d.Drop = true
		default:
			c, ok := canonicalCode(val)
			if !ok {
				return h, unknownCode(val)
			}
			spec = &ErrorSpec{Code: c}
		}
	default:
		c, ok := canonicalCode(key)
		if !ok {
			return h, fmt.Errorf("fault header: unknown fault %q; expected an error code (%s) or one of error=, http=, drop, latency=, hang, commit-then-fail, none", key, strings.Join(KnownErrorCodes(), ", "))
		}
		if err := noValue(); err != nil {
			return h, err
		}
		d.Action, spec = ActionError, &ErrorSpec{Code: c}
	}

	seen := map[string]bool{}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok {
			return h, fmt.Errorf("fault header: parameter %q needs a value (key=value)", k)
		}
		if seen[k] {
			return h, fmt.Errorf("fault header: duplicate parameter %q", k)
		}
		seen[k] = true
		needSpec := func() error {
			if spec == nil {
				return fmt.Errorf("fault header: %s= only applies to error faults", k)
			}
			return nil
		}
		switch k {
		case "retryafter":
			if err := needSpec(); err != nil {
				return h, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 86400 {
				return h, fmt.Errorf("fault header: retryAfter=%q must be whole seconds in [0,86400]", v)
			}
			spec.RetryAfterSeconds = intPtr(n)
		case "status":
			if err := needSpec(); err != nil {
				return h, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 400 || n > 599 {
				return h, fmt.Errorf("fault header: status=%q must be in [400,599]", v)
			}
			spec.StatusCode = n
		case "message":
			if err := needSpec(); err != nil {
				return h, err
			}
			spec.Message = v
		case "latency":
			if d.Action == ActionLatency {
				return h, errors.New("fault header: latency given twice")
			}
			l, err := headerDuration("latency", v, true)
			if err != nil {
				return h, err
			}
			d.Latency = l
		case "attempts":
			a, err := ParseAttempts(v)
			if err != nil {
				return h, fmt.Errorf("fault header: %w", err)
			}
			h.Attempts = a
		default:
			return h, fmt.Errorf("fault header: unknown parameter %q (known: retryAfter, status, message, latency, attempts)", k)
		}
	}
	if spec != nil {
		r := spec.Resolve()
		d.Error = &r
	}
	h.Decision = d
	return h, nil
}

func unknownCode(c string) error {
	return fmt.Errorf("fault header: unknown error code %q; known codes: %s", c, strings.Join(KnownErrorCodes(), ", "))
}

func headerDuration(key, val string, hasVal bool) (time.Duration, error) {
	if !hasVal || val == "" {
		return 0, fmt.Errorf("fault header: %s needs a duration, e.g. %s=200ms", key, key)
	}
	d, err := time.ParseDuration(val)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("fault header: %s=%q is not a non-negative Go duration (e.g. 200ms, 10s)", key, val)
	}
	return d, nil
}

// String renders h in the header grammar such that ParseHeader(h.String())
// yields h again; the HTTP layer can echo it in responses for debugging.
func (h HeaderFault) String() string {
	d := h.Decision
	var b strings.Builder
	switch d.Action {
	case ActionNone:
		b.WriteString("none")
	case ActionDrop:
		b.WriteString("drop")
	case ActionHTTP:
		fmt.Fprintf(&b, "http=%d", d.HTTPStatus)
	case ActionLatency:
		fmt.Fprintf(&b, "latency=%s", d.Latency)
	case ActionHang:
		fmt.Fprintf(&b, "hang=%s", d.Hang)
	case ActionCommitThenFail:
		if d.Drop {
			b.WriteString("commit-then-fail=drop")
		} else if d.Error != nil {
			b.WriteString("commit-then-fail=" + d.Error.Code)
		}
	case ActionError:
		if d.Error != nil {
			b.WriteString(d.Error.Code)
		}
	}
	if e := d.Error; e != nil {
		switch {
		case e.RetryAfterSeconds != nil:
			fmt.Fprintf(&b, ";retryAfter=%d", *e.RetryAfterSeconds)
		case e.Code == CodeInternalServer:
			b.WriteString(";retryAfter=0")
		}
		if e.StatusCode != DefaultStatus(e.Code) {
			fmt.Fprintf(&b, ";status=%d", e.StatusCode)
		}
		if e.Message != DefaultMessage(e.Code) {
			b.WriteString(";message=" + e.Message)
		}
	}
	if d.Action != ActionLatency && d.Latency != 0 {
		fmt.Fprintf(&b, ";latency=%s", d.Latency)
	}
	if !h.Attempts.IsZero() {
		b.WriteString(";attempts=" + h.Attempts.String())
	}
	return b.String()
}
