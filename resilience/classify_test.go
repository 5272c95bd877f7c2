package resilience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// skewWrapped mimics the SDK's retryableClockSkewError.
type skewWrapped struct{ error }

func (e skewWrapped) Unwrap() error        { return e.error }
func (e skewWrapped) RetryableError() bool { return true }

func TestClassify(t *testing.T) {
	deser := &smithy.DeserializationError{Err: errors.New("invalid character '<'")}
	tests := []struct {
		name      string
		err       error
		retryable bool
		throttle  bool
		code      string
	}{
		{"nil", nil, false, false, ""},
		{"InternalServerException", respErr(500, nil, &types.InternalServerException{Message: aws.String("boom")}), true, false, "InternalServerException"},
		{"ThrottlingException", respErr(429, nil, &types.ThrottlingException{}), true, true, "ThrottlingException"},
		{"raw 500 html", respErr(500, nil, deser), true, false, "ServerError"},
		{"raw 502 html", respErr(502, nil, deser), true, false, "ServerError"},
		{"raw 503 html", respErr(503, nil, deser), true, false, "ServerError"},
		{"raw 504 html", respErr(504, nil, deser), true, false, "ServerError"},
		{"raw 429 generic", respErr(429, nil, &smithy.GenericAPIError{Code: "UnknownError"}), true, true, "ThrottlingException"},
		{"ValidationException", respErr(400, nil, &types.ValidationException{}), false, false, "ValidationException"},
		{"AccessDeniedException", respErr(403, nil, &types.AccessDeniedException{}), false, false, "AccessDeniedException"},
		{"AccessDenied marked retryable by clock skew", skewWrapped{respErr(403, nil, &types.AccessDeniedException{})}, false, false, "AccessDeniedException"},
		{"ResourceNotFoundException", respErr(404, nil, &types.ResourceNotFoundException{}), false, false, "ResourceNotFoundException"},
		{"ConflictException", respErr(409, nil, &types.ConflictException{}), false, false, "ConflictException"},
		{"ServiceQuotaExceededException", respErr(402, nil, &types.ServiceQuotaExceededException{}), false, false, "ServiceQuotaExceededException"},
		{"400 unknown body", respErr(400, nil, deser), false, false, "Unknown"},
		{"connection refused", &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}}, true, false, "NetworkError"},
		{"connection reset", &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "http://x", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}}, true, false, "NetworkError"},
		{"EOF", &url.Error{Op: "Post", URL: "http://x", Err: io.EOF}, true, false, "NetworkError"},
		{"unexpected EOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), true, false, "NetworkError"},
		{"no such host", &url.Error{Op: "Post", URL: "http://x", Err: &net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}}, false, false, "NetworkError"},
		{"deadline", &url.Error{Op: "Post", URL: "http://x", Err: context.DeadlineExceeded}, true, false, "Timeout"},
		{"attempt timeout", &attemptTimeoutError{timeout: time.Second, err: errors.New("x")}, true, false, "Timeout"},
		{"attempt timeout as the SDK reports it", &attemptTimeoutError{timeout: time.Second, err: respErr(0, nil, &aws.RequestCanceledError{Err: context.DeadlineExceeded})}, true, false, "Timeout"},
		{"caller deadline as the SDK reports it", &aws.RequestCanceledError{Err: context.DeadlineExceeded}, true, false, "Timeout"},
		{"canceled", &url.Error{Op: "Post", URL: "http://x", Err: context.Canceled}, false, false, "Canceled"},
		{"sdk canceled", &aws.RequestCanceledError{Err: errors.New("x")}, false, false, "Canceled"},
		{"breaker open", &BreakerOpenError{Operation: "GetCase"}, false, false, "CircuitBreakerOpen"},
		{"budget alone", fmt.Errorf("%w for GetCase", ErrRetryBudgetExhausted), false, false, "RetryBudgetExhausted"},
		{"budget joined", errors.Join(respErr(500, nil, &types.InternalServerException{}), ErrRetryBudgetExhausted), false, false, "InternalServerException"},
		{"plain error", errors.New("serialization failed"), false, false, "Unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := classify(tt.err)
			if c.retryable != tt.retryable || c.throttle != tt.throttle || c.code != tt.code {
				t.Errorf("classify = {retryable:%v throttle:%v code:%q}, want {%v %v %q}",
					c.retryable, c.throttle, c.code, tt.retryable, tt.throttle, tt.code)
			}
			if got := New().Retryer().IsErrorRetryable(tt.err); got != tt.retryable {
				t.Errorf("IsErrorRetryable = %v, want %v", got, tt.retryable)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hdr := func(v string) http.Header { return http.Header{"Retry-After": []string{v}} }
	tests := []struct {
		name string
		err  error
		want time.Duration
		ok   bool
	}{
		{"modeled field", respErr(500, nil, &types.InternalServerException{RetryAfterSeconds: aws.Int32(7)}), 7 * time.Second, true},
		{"modeled field wins over header", respErr(500, hdr("1"), &types.InternalServerException{RetryAfterSeconds: aws.Int32(7)}), 7 * time.Second, true},
		{"header seconds on raw 503", respErr(503, hdr(" 3 "), &smithy.DeserializationError{}), 3 * time.Second, true},
		{"header http-date", respErr(503, hdr(now.Add(90*time.Second).Format(http.TimeFormat)), nil), 90 * time.Second, true},
		{"header date in the past", respErr(503, hdr(now.Add(-time.Hour).Format(http.TimeFormat)), nil), 0, true},
		{"header garbage", respErr(503, hdr("soon"), nil), 0, false},
		{"header negative", respErr(503, hdr("-1"), nil), 0, false},
		{"no header", respErr(503, nil, nil), 0, false},
		{"no response", errors.New("x"), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := retryAfter(tt.err, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("retryAfter = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
