package resilience

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
)

// Explanation is operator-facing guidance for one kind of failure.
type Explanation struct {
	Code           string // service code ("ThrottlingException") or synthetic ("NetworkError")
	Summary        string // one line: what happened
	Retryable      bool   // whether repeating the same request can succeed
	HTTPStatus     int    // typical status; 0 when there is no HTTP response
	Causes         []string
	OperatorAction string
	// Stopped, for an error from a call, says why the Kit stopped
	// retrying it (a Stop* constant, e.g. StopBudget); "" when the error
	// was not retryable or did not come through the Kit.
	Stopped string
}

// String renders a readable block, e.g. for `localcases explain`.
func (e Explanation) String() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.HTTPStatus)
	}
	b.WriteString("\n  ")
	b.WriteString(e.Summary)
	if e.Retryable {
		b.WriteString("\n  Retryable: yes")
	} else {
		b.WriteString("\n  Retryable: no")
	}
	if len(e.Causes) > 0 {
		b.WriteString("\nLikely causes:")
		for _, c := range e.Causes {
			b.WriteString("\n  - ")
			b.WriteString(c)
		}
	}
	if e.Stopped != "" {
		b.WriteString("\nRetries stopped: ")
		b.WriteString(e.Stopped)
	}
	if e.OperatorAction != "" {
		b.WriteString("\nWhat to do:\n  ")
		b.WriteString(e.OperatorAction)
	}
	return b.String()
}

var explanations = map[string]Explanation{
	codeAccessDenied: {
		Summary:    "The caller is not allowed to perform this operation on this resource.",
		HTTPStatus: 403,
		Causes: []string{
			"the IAM identity lacks the cases:<Operation> permission, or it is denied by an SCP or permission boundary",
			"the request is signed with different credentials than expected (wrong profile or role)",
			"the domain belongs to another account or Region",
			"the client clock is badly skewed, invalidating the signature",
		},
		OperatorAction: "Check which identity is used (aws sts get-caller-identity) and grant it the cases:<Operation> action on the domain ARN; retrying will not help.",
	},
	codeConflict: {
		Summary:    "The request conflicts with the current state of a resource.",
		HTTPStatus: 409,
		Causes: []string{
			"a resource with the same name already exists (field, layout, template, domain)",
			"the resource was modified or deleted concurrently",
			"the resource is still in use (e.g. deleting a domain that has cases)",
		},
		OperatorAction: "Re-read the resource, reconcile the change or pick another name, then send a new request; repeating the same one will fail again.",
	},
	codeInternal: {
		Summary:   "The service failed while processing the request.",
		Retryable: true, HTTPStatus: 500,
		Causes: []string{
			"a transient fault or deployment in the service",
			"a dependency of the service is degraded",
			"with localcases: fault injection or a bug in the emulator",
		},
		OperatorAction: "Retry with backoff, honouring Retry-After (the SDK retryer does this). If it persists, check the service health page or the localcases server log with the request ID.",
	},
	codeNotFound: {
		Summary:    "A resource referenced by the request does not exist.",
		HTTPStatus: 404,
		Causes: []string{
			"the case, domain, template, field or layout ID is wrong or was deleted",
			"the client points at another account, Region or localcases instance",
		},
		OperatorAction: "Verify the IDs and the endpoint/Region; retrying will not help.",
	},
	codeQuota: {
		Summary:    "A service quota would be exceeded.",
		HTTPStatus: 402,
		Causes: []string{
			"too many domains, fields, layouts, templates, related items or rules",
			"a per-case or per-field limit was reached",
		},
		OperatorAction: "Delete unused resources or request a quota increase (Service Quotas console); retrying will not help.",
	},
	codeThrottling: {
		Summary:   "The request rate exceeded the allowed limit.",
		Retryable: true, HTTPStatus: 429,
		Causes: []string{
			"bursts above the account's requests-per-second limit for this API",
			"too many concurrent workers sharing the account",
		},
		OperatorAction: "Retry with backoff (automatic); reduce concurrency or spread the load; request a higher limit if sustained.",
	},
	codeValidation: {
		Summary:    "The request did not satisfy the API's input constraints.",
		HTTPStatus: 400,
		Causes: []string{
			"a required field is missing or a value is out of range or malformed",
			"a field ID or value type does not match the domain's field definitions",
			"a pagination token is stale or belongs to another request",
		},
		OperatorAction: "Fix the request (the error message names the field); retrying the same input will fail again.",
	},
	codeServerError: {
		Summary:   "The service or a proxy in front of it returned a 5xx without a Connect Cases error body.",
		Retryable: true, HTTPStatus: 503,
		Causes: []string{
			"a load balancer or proxy is overloaded or has no healthy target (502/503/504)",
			"the localcases server is restarting",
		},
		OperatorAction: "Retry with backoff (automatic); check the endpoint, proxies and the server's health.",
	},
	codeNetwork: {
		Summary:   "No HTTP response: the connection failed or was reset.",
		Retryable: true,
		Causes: []string{
			"the server is not running or not listening on that port (connection refused)",
			"wrong endpoint URL, DNS name or proxy settings",
			"the connection was reset by a proxy, firewall or server restart",
		},
		OperatorAction: "Check the endpoint and that the server is up (for localcases: is the server running?); transient resets are retried automatically.",
	},
	codeTimeout: {
		Summary:   "The request did not complete in time.",
		Retryable: true,
		Causes: []string{
			"the per-attempt timeout or the caller's context deadline is too short for this operation",
			"the service or network is slow or unresponsive",
		},
		OperatorAction: "Retried automatically while the caller's deadline allows; if frequent, raise the deadline or investigate latency.",
	},
	codeCanceled: {
		Summary:        "The caller cancelled the request.",
		Causes:         []string{"the context was cancelled (user abort, shutdown, or parent request ended)"},
		OperatorAction: "Nothing to fix in the service; check why the caller gave up.",
	},
	codeBreakerOpen: {
		Summary:   "The client's circuit breaker is open: recent calls to this operation failed, so it fails fast without calling.",
		Retryable: true, HTTPStatus: 0,
		Causes: []string{
			"repeated 5xx, timeouts or connection failures on this operation",
			"the breaker was forced open after a failed health check",
		},
		OperatorAction: "Wait for the probe (BreakerOpenError.RetryIn); investigate the underlying failures in the logs.",
	},
	codeShed: {
		Summary:   "The client's adaptive throttling rejected the attempt without sending it.",
		Retryable: true,
		Causes: []string{
			"a large share of recent attempts failed, so the client sends fewer (WithClientThrottling)",
		},
		OperatorAction: "Look at the failures that preceded it; the client admits more attempts as they succeed.",
	},
	codeBudget: {
		Summary:   "Retries were stopped because the client's retry budget is spent.",
		Retryable: true,
		Causes: []string{
			"most recent attempts failed (an outage or a severe brownout), so retries earned no budget",
			"the budget ratio or reserve (WithRetryBudget) is too small for this traffic",
		},
		OperatorAction: "Treat as an outage signal: look at the original error; the budget refills as attempts succeed.",
	},
}

func init() {
	for code, e := range explanations {
		e.Code = code
		explanations[code] = e
	}
}

var statusCodes = map[int]string{
	400: codeValidation, 402: codeQuota, 403: codeAccessDenied, 404: codeNotFound,
	409: codeConflict, 429: codeThrottling, 500: codeInternal,
	502: codeServerError, 503: codeServerError, 504: codeServerError,
}

// ExplainCode explains an error code. It accepts the exact codes
// (case-insensitive), codes without the "Exception" suffix ("throttling"),
// the synthetic codes used in logs ("NetworkError", "Timeout",
// "CircuitBreakerOpen", "RetryBudgetExhausted", ...), and HTTP statuses
// ("429"). Unknown input yields Code "Unknown".
func ExplainCode(code string) Explanation {
	code = strings.TrimSpace(code)
	if n, err := strconv.Atoi(code); err == nil {
		if c, ok := statusCodes[n]; ok {
			e := explanations[c]
			e.HTTPStatus = n
			return e
		}
		if n >= 500 && n <= 599 {
			e := explanations[codeServerError]
			e.HTTPStatus = n
			return e
		}
	}
	for c, e := range explanations {
		if strings.EqualFold(code, c) || strings.EqualFold(code+"Exception", c) {
			return e
		}
	}
	return Explanation{
		Code:           codeUnknown,
		Summary:        fmt.Sprintf("%q is not a known Connect Cases or client error code.", code),
		OperatorAction: "Check the full error text; codes are listed in the Connect Cases API reference.",
	}
}

// Explain explains an error returned by a Connect Cases client.
func Explain(err error) Explanation {
	if err == nil {
		return Explanation{}
	}
	code := codeOf(err)
	_, known := explanations[code]
	if !known {
		// An undocumented code with a familiar status still says a lot.
		if c, ok := statusCodes[statusOf(err)]; ok {
			code = c
		}
	}
	e := ExplainCode(code)
	if c := apiCode(err); c != "" && c != e.Code {
		e.Causes = append(slices.Clone(e.Causes), "the service returned the undocumented code "+c)
	}
	if e.Code == codeUnknown {
		e.Summary = "An unexpected error that the client could not classify."
	}
	if s := statusOf(err); s != 0 {
		e.HTTPStatus = s
	}
	// The table says whether a later retry can succeed; classify adds
	// retryable errors the table cannot name. (Retryable here is about the
	// failure, not whether automatic retries continue: a budget-stopped
	// InternalServerException is still worth retrying later.)
	e.Retryable = e.Retryable || classify(err).retryable
	if e.Stopped = stoppedBy(err); e.Stopped != "" {
		if a := stopActions[e.Stopped]; a != "" && e.Code != codeBudget {
			e.OperatorAction = a + " " + e.OperatorAction
		}
	}
	return e
}

// stopActions is what an operator can do about each way retries end,
// put before the error's own advice.
var stopActions = map[string]string{
	StopBudget: "The Kit stopped retrying because its retry budget is spent: recent attempts mostly failed, " +
		"so retries were not paying off and would only add load. It refills as attempts succeed; " +
		"treat a run of these as an outage signal (see the HealthChecker).",
	StopMaxAttempts: "Every attempt the Kit allows (WithMaxAttempts) failed: the fault lasted longer than the retries. " +
		"If it is brief and frequent, more attempts or a longer caller deadline help.",
	StopDeadline: "The caller's context deadline ran out (or fell inside the next retry delay) before a retry could succeed; " +
		"a longer deadline lets the Kit wait out Retry-After.",
	StopHeld: "Nothing was sent: the Kit is held open (Kit.ForceOpen) because a health check reported an outage.",
	StopBreakerOpen: "Nothing was sent: the operation's circuit breaker is open after repeated failures; " +
		"it lets one probe through when BreakerOpenError.RetryIn has passed.",
	StopShed: "Nothing was sent: client-side throttling (WithClientThrottling) rejects attempts in proportion " +
		"to recent failures; it admits more as attempts succeed.",
}

// stoppedBy reads, from a call's error, why the Kit stopped retrying.
func stoppedBy(err error) string {
	var boe *BreakerOpenError
	var maxErr *retry.MaxAttemptsError
	var stop *stopError
	var ate *attemptTimeoutError
	switch {
	case errors.As(err, &boe) && boe.Held:
		return StopHeld
	case errors.Is(err, ErrBreakerOpen):
		return StopBreakerOpen
	case errors.Is(err, ErrShed):
		return StopShed
	case errors.Is(err, ErrRetryBudgetExhausted):
		return StopBudget
	case errors.As(err, &maxErr):
		return StopMaxAttempts
	case errors.As(err, &stop) && stop.deadline,
		errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &ate):
		return StopDeadline
	}
	return ""
}

var textPatterns = []struct {
	re   *regexp.Regexp
	code string
}{
	{regexp.MustCompile(`(?i)circuit breaker`), codeBreakerOpen},
	{regexp.MustCompile(`(?i)\b(AccessDenied|Conflict|InternalServer|ResourceNotFound|ServiceQuotaExceeded|Throttling|Validation)Exception\b`), ""},
	{regexp.MustCompile(`(?i)StatusCode:\s*(\d{3})`), ""},
	{regexp.MustCompile(`\b(NetworkError|Timeout|Canceled|CircuitBreakerOpen|ClientThrottled|RetryBudgetExhausted|ServerError)\b`), ""},
	{regexp.MustCompile(`(?i)retry budget`), codeBudget},
	{regexp.MustCompile(`(?i)connection refused|connection reset|no such host|broken pipe|\bEOF\b`), codeNetwork},
	{regexp.MustCompile(`(?i)deadline exceeded|timed out|timeout`), codeTimeout},
	{regexp.MustCompile(`(?i)context canceled`), codeCanceled},
	{regexp.MustCompile(`^\s*\d{3}\s*$`), ""},
}

// ExplainText finds the most telling error code in arbitrary text (a code,
// an HTTP status, or a whole error message pasted from a log) and explains
// it.
func ExplainText(s string) Explanation {
	for _, p := range textPatterns {
		m := p.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		code := p.code
		if code == "" {
			code = m[len(m)-1] // the group if any, else the whole match
		}
		if e := ExplainCode(code); e.Code != codeUnknown {
			return e
		}
	}
	return ExplainCode(s)
}

// UserMessage is a short sentence safe to show an end user: it never
// contains server messages, IDs or field values.
func UserMessage(err error) string {
	if err == nil {
		return ""
	}
	var boe *BreakerOpenError
	if errors.As(err, &boe) {
		return "The service is temporarily unavailable. Please try again" + inSeconds(boe.RetryIn) + "."
	}
	if errors.Is(err, ErrShed) {
		return "The service is having trouble right now, so this request was not sent. Please try again in a few seconds."
	}
	code := codeOf(err)
	switch code {
	case codeInternal, codeServerError, codeThrottling, codeTimeout, codeNetwork:
		switch stoppedBy(err) {
		case StopBudget:
			return "The service is having trouble right now and many requests are failing. Please try again in a minute."
		case StopMaxAttempts:
			if code == codeThrottling {
				return "There are too many requests right now, and several tries did not get through. Please wait a few seconds and try again."
			}
			return "The service had a temporary problem and several tries did not get through. Please try again" + retryHint(err) + "."
		case StopDeadline:
			return "The service is slow or having trouble, and the request ran out of time. Please try again" + retryHint(err) + "."
		}
	}
	switch code {
	case codeInternal:
		return "The service had a temporary problem. Please try again" + retryHint(err) + "."
	case codeServerError:
		return "The service is temporarily unavailable. Please try again in a few moments."
	case codeThrottling, codeBudget:
		return "There are too many requests right now. Please wait a few seconds and try again."
	case codeAccessDenied:
		return "You do not have access to do this."
	case codeNotFound:
		return "The case or item no longer exists, or the link is wrong."
	case codeConflict:
		return "This item was changed or already exists. Please refresh and try again."
	case codeQuota:
		return "A limit has been reached. Please contact your administrator."
	case codeValidation:
		return "Some of the information entered is not valid. Please check it and try again."
	case codeNetwork:
		return "The service could not be reached. Please check your connection and try again."
	case codeTimeout:
		return "The request took too long. Please try again."
	case codeCanceled:
		return "The request was cancelled."
	}
	return "Something went wrong. Please try again later."
}

// retryHint is " in N seconds" from the server's Retry-After, else " in a
// few moments".
func retryHint(err error) string {
	var ise *types.InternalServerException
	if errors.As(err, &ise) && ise.RetryAfterSeconds != nil && *ise.RetryAfterSeconds > 0 {
		return inSeconds(time.Duration(*ise.RetryAfterSeconds) * time.Second)
	}
	return " in a few moments"
}

func inSeconds(d time.Duration) string {
	if d <= 0 {
		return " shortly"
	}
	n := int(math.Ceil(d.Seconds()))
	if n == 1 {
		return " in 1 second"
	}
	return fmt.Sprintf(" in %d seconds", n)
}
