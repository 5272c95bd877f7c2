package resilience

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Synthetic codes for failures that carry no service error code. They are
// what logs, events and Explain use, so they double as ExplainCode keys.
const (
	codeNetwork     = "NetworkError"
	codeTimeout     = "Timeout"
	codeCanceled    = "Canceled"
	codeBreakerOpen = "CircuitBreakerOpen"
	codeShed        = "ClientThrottled"
	codeBudget      = "RetryBudgetExhausted"
	codeServerError = "ServerError"
	codeUnknown     = "Unknown"
)

// The seven modeled Connect Cases errors.
const (
	codeAccessDenied = "AccessDeniedException"
	codeConflict     = "ConflictException"
	codeInternal     = "InternalServerException"
	codeNotFound     = "ResourceNotFoundException"
	codeQuota        = "ServiceQuotaExceededException"
	codeThrottling   = "ThrottlingException"
	codeValidation   = "ValidationException"
)

const (
	genericErrorCode = "UnknownError" // the SDK's code for a body without one
	opCreateCase     = "CreateCase"
)

// neverRetry lists client errors that cannot succeed by repetition. It is
// checked before any "retryable" signal because the SDK may wrap some of
// them (AccessDeniedException on clock skew) in errors claiming to be.
var neverRetry = map[string]bool{
	codeValidation:   true,
	codeAccessDenied: true,
	codeNotFound:     true,
	codeConflict:     true,
	codeQuota:        true,
}

// alwaysRetry are codes that are transient by definition: the Connect Cases
// ones plus the SDK's own throttle/timeout lists (covers proxies and the
// generic AWS front door, which may answer with those codes).
var alwaysRetry = func() map[string]bool {
	m := map[string]bool{codeInternal: true, codeThrottling: true}
	for c := range retry.DefaultThrottleErrorCodes {
		m[c] = true
	}
	for c := range retry.DefaultRetryableErrorCodes {
		m[c] = true
	}
	return m
}()

var retryableStatus = map[int]bool{500: true, 502: true, 503: true, 504: true, 429: true}

// class is the one classification shared by the retryer, the breaker, the
// logs and Explain, so that they can never disagree about an error.
type class struct {
	retryable bool
	throttle  bool
	// serverSide: evidence that the service (or the path to it) is unhealthy.
	serverSide bool
	code       string // service code if any, else a synthetic code
	status     int    // HTTP status, 0 if no response
}

func classify(err error) class {
	c := class{code: codeOf(err), status: statusOf(err)}
	if err == nil {
		return c
	}
	var ate *attemptTimeoutError
	switch {
	case errors.Is(err, ErrBreakerOpen), errors.Is(err, ErrRetryBudgetExhausted), errors.Is(err, ErrShed):
		// Our own fail-fast errors: retrying them would defeat their purpose.
		return c
	case errors.As(err, &ate):
		// Before the cancellation check: the SDK reports our per-attempt
		// timeout as a RequestCanceledError.
		c.retryable, c.serverSide = true, true
		return c
	case isCanceled(err):
		return c
	}
	if code := apiCode(err); code != "" {
		if neverRetry[code] {
			return c
		}
		if alwaysRetry[code] {
			c.retryable = true
			c.throttle = isThrottleCode(code)
			c.serverSide = !c.throttle
			return c
		}
	}
	if retryableStatus[c.status] {
		c.retryable = true
		c.throttle = c.status == http.StatusTooManyRequests
		c.serverSide = !c.throttle
		return c
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// Whether the caller's own deadline has passed is checked by
		// GetRetryToken, which has the context; the error alone cannot tell.
		c.retryable, c.serverSide = true, true
		return c
	}
	if c.status == 0 {
		switch (retry.RetryableConnectionError{}).IsErrorRetryable(err) {
		case aws.TrueTernary:
			c.retryable, c.serverSide = true, true
			return c
		case aws.FalseTernary:
			return c
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// The server dropped the connection mid-exchange.
			c.retryable, c.serverSide = true, true
			return c
		}
	}
	// Last: errors that declare themselves retryable (SDK clock-skew
	// wrapper, custom transports).
	if (retry.RetryableError{}).IsErrorRetryable(err) == aws.TrueTernary {
		c.retryable = true
	}
	return c
}

func isThrottleCode(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok || code == codeThrottling
}

// isCanceled: the caller cancelled. The SDK also reports an expired
// deadline as a RequestCanceledError; that is a timeout, not a cancel.
func isCanceled(err error) bool {
	if errors.Is(err, context.Canceled) {
		return true
	}
	var c interface{ CanceledError() bool }
	return errors.As(err, &c) && c.CanceledError() && !errors.Is(err, context.DeadlineExceeded)
}

// apiCode is the service error code, "" for transport failures and for
// bodies the SDK could not attribute to any code.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if code := ae.ErrorCode(); code != genericErrorCode {
			return code
		}
	}
	return ""
}

func statusOf(err error) int {
	var s interface{ HTTPStatusCode() int }
	if errors.As(err, &s) {
		return s.HTTPStatusCode()
	}
	return 0
}

// codeOf names a failure for logs, metrics and Explain: the service code
// when there is one, else the most specific synthetic code.
func codeOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrBreakerOpen):
		return codeBreakerOpen
	case errors.Is(err, ErrShed):
		return codeShed
	}
	if code := apiCode(err); code != "" {
		return code
	}
	status := statusOf(err)
	switch {
	case status == http.StatusTooManyRequests:
		return codeThrottling
	case status >= 500:
		return codeServerError
	case errors.Is(err, ErrRetryBudgetExhausted):
		return codeBudget
	}
	var ate *attemptTimeoutError
	if errors.As(err, &ate) || errors.Is(err, context.DeadlineExceeded) {
		return codeTimeout
	}
	if isCanceled(err) {
		return codeCanceled
	}
	if status == 0 {
		if (retry.RetryableConnectionError{}).IsErrorRetryable(err) != aws.UnknownTernary ||
			errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			var t interface{ Timeout() bool }
			if errors.As(err, &t) && t.Timeout() {
				return codeTimeout
			}
			return codeNetwork
		}
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return codeNetwork
		}
	}
	return codeUnknown
}

// notProcessed reports errors that prove the request was not acted upon, so
// even a non-idempotent request may be repeated: throttles are rejected at
// the front door and a failed dial never left the client.
func notProcessed(err error) bool {
	if c := classify(err); c.throttle {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// retryAfter extracts the server's requested wait. The modeled field wins
// (it is the service's documented contract); the raw header covers 503s
// from proxies or load balancers whose bodies the SDK could not decode.
func retryAfter(err error, now time.Time) (time.Duration, bool) {
	var ise *types.InternalServerException
	if errors.As(err, &ise) && ise.RetryAfterSeconds != nil && *ise.RetryAfterSeconds >= 0 {
		return time.Duration(*ise.RetryAfterSeconds) * time.Second, true
	}
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil {
		return 0, false
	}
	v := strings.TrimSpace(re.Response.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, perr := strconv.ParseInt(v, 10, 32); perr == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	// RFC 9110 also allows an HTTP-date.
	if t, perr := http.ParseTime(v); perr == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// requestIDOf finds the AWS request ID carried by an error, if any.
func requestIDOf(err error) string {
	var r interface{ ServiceRequestID() string }
	if errors.As(err, &r) {
		return r.ServiceRequestID()
	}
	return ""
}
