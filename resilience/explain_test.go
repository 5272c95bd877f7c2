package resilience

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"
)

func TestExplainCode(t *testing.T) {
	tests := []struct {
		in        string
		code      string
		status    int
		retryable bool
	}{
		{"AccessDeniedException", "AccessDeniedException", 403, false},
		{"ConflictException", "ConflictException", 409, false},
		{"InternalServerException", "InternalServerException", 500, true},
		{"ResourceNotFoundException", "ResourceNotFoundException", 404, false},
		{"ServiceQuotaExceededException", "ServiceQuotaExceededException", 402, false},
		{"ThrottlingException", "ThrottlingException", 429, true},
		{"ValidationException", "ValidationException", 400, false},
		{"throttling", "ThrottlingException", 429, true},
		{" validationexception ", "ValidationException", 400, false},
		{"429", "ThrottlingException", 429, true},
		{"503", "ServerError", 503, true},
		{"599", "ServerError", 599, true},
		{"NetworkError", "NetworkError", 0, true},
		{"Timeout", "Timeout", 0, true},
		{"Canceled", "Canceled", 0, false},
		{"CircuitBreakerOpen", "CircuitBreakerOpen", 0, true},
		{"RetryBudgetExhausted", "RetryBudgetExhausted", 0, true},
		{"Bogus", "Unknown", 0, false},
		{"418", "Unknown", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			e := ExplainCode(tt.in)
			if e.Code != tt.code || e.HTTPStatus != tt.status || e.Retryable != tt.retryable {
				t.Fatalf("got {%s %d %v}, want {%s %d %v}", e.Code, e.HTTPStatus, e.Retryable, tt.code, tt.status, tt.retryable)
			}
			if e.Summary == "" || e.OperatorAction == "" || (e.Code != "Unknown" && len(e.Causes) == 0) {
				t.Fatalf("incomplete explanation %+v", e)
			}
		})
	}
}

func TestExplanationString(t *testing.T) {
	got := ExplainCode("ThrottlingException").String()
	for _, want := range []string{"ThrottlingException (HTTP 429)\n", "Retryable: yes", "\nLikely causes:\n  - ", "\nWhat to do:\n  "} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if s := ExplainCode("NetworkError").String(); strings.Contains(s, "(HTTP") || !strings.Contains(s, "Retryable: yes") {
		t.Errorf("network block:\n%s", s)
	}
}

func TestExplainError(t *testing.T) {
	opErr := func(err error) error {
		return &smithy.OperationError{ServiceID: "ConnectCases", OperationName: "GetCase", Err: err}
	}
	tests := []struct {
		name      string
		err       error
		code      string
		status    int
		retryable bool
	}{
		{"modeled", opErr(errISE), "InternalServerException", 500, true},
		{"raw 502", opErr(respErr(502, nil, &smithy.DeserializationError{})), "ServerError", 502, true},
		{"undocumented code with known status", opErr(respErr(404, nil, &smithy.GenericAPIError{Code: "NoSuchThing"})), "ResourceNotFoundException", 404, false},
		{"breaker", opErr(&BreakerOpenError{Operation: "GetCase", RetryIn: time.Second}), "CircuitBreakerOpen", 0, true},
		{"budget joined keeps the cause", opErr(errors.Join(errISE, ErrRetryBudgetExhausted)), "InternalServerException", 500, true},
		{"deadline", opErr(&aws.RequestCanceledError{Err: context.DeadlineExceeded}), "Timeout", 0, true},
		{"canceled", opErr(context.Canceled), "Canceled", 0, false},
		{"unknown", errors.New("weird"), "Unknown", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Explain(tt.err)
			if e.Code != tt.code || e.HTTPStatus != tt.status || e.Retryable != tt.retryable {
				t.Fatalf("got {%s %d %v}, want {%s %d %v}", e.Code, e.HTTPStatus, e.Retryable, tt.code, tt.status, tt.retryable)
			}
		})
	}
	if e := Explain(nil); e.Code != "" {
		t.Fatalf("Explain(nil) = %+v", e)
	}
	e := Explain(respErr(404, nil, &smithy.GenericAPIError{Code: "NoSuchThing"}))
	if !strings.Contains(strings.Join(e.Causes, "\n"), "NoSuchThing") {
		t.Fatalf("undocumented code not mentioned: %v", e.Causes)
	}
	if e2 := ExplainCode("ResourceNotFoundException"); len(e2.Causes) == len(e.Causes) {
		t.Fatal("Explain modified the shared table")
	}
}

func TestExplainText(t *testing.T) {
	tests := []struct{ text, code string }{
		{"operation error ConnectCases: ListDomains, exceeded maximum number of attempts, 4, https response error StatusCode: 500, RequestID: 1, InternalServerException: boom", "InternalServerException"},
		{"api error ValidationException: 1 validation error detected", "ValidationException"},
		{"https response error StatusCode: 503, RequestID: , deserialization failed", "ServerError"},
		{"https response error StatusCode: 504, RequestID: , Gateway Timeout", "ServerError"},
		{"resilience: circuit breaker for GetCase is open; next probe in 3s", "CircuitBreakerOpen"},
		{"resilience: retry budget exhausted for GetCase", "RetryBudgetExhausted"},
		{`dial tcp 127.0.0.1:4566: connect: connection refused`, "NetworkError"},
		{"context deadline exceeded", "Timeout"},
		{"context canceled", "Canceled"},
		{"throttling", "ThrottlingException"},
		{"403", "AccessDeniedException"},
		{"ServiceQuotaExceeded", "ServiceQuotaExceededException"},
		{"all good", "Unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.text, func(t *testing.T) {
			if got := ExplainText(tt.text).Code; got != tt.code {
				t.Fatalf("ExplainText(%q) = %s, want %s", tt.text, got, tt.code)
			}
		})
	}
}

func TestUserMessage(t *testing.T) {
	leak := respErr(400, nil, &types.ValidationException{Message: aws.String("customer email alice@example.com invalid")})
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{respErr(500, nil, &types.InternalServerException{RetryAfterSeconds: aws.Int32(5)}), "The service had a temporary problem. Please try again in 5 seconds."},
		{respErr(500, nil, &types.InternalServerException{RetryAfterSeconds: aws.Int32(1)}), "The service had a temporary problem. Please try again in 1 second."},
		{errISE, "The service had a temporary problem. Please try again in a few moments."},
		{respErr(503, nil, nil), "The service is temporarily unavailable. Please try again in a few moments."},
		{&BreakerOpenError{RetryIn: 2500 * time.Millisecond}, "The service is temporarily unavailable. Please try again in 3 seconds."},
		{&BreakerOpenError{}, "The service is temporarily unavailable. Please try again shortly."},
		{errThrottle, "There are too many requests right now. Please wait a few seconds and try again."},
		{fmt.Errorf("%w", ErrRetryBudgetExhausted), "There are too many requests right now. Please wait a few seconds and try again."},
		{respErr(403, nil, &types.AccessDeniedException{}), "You do not have access to do this."},
		{errNotFound, "The case or item no longer exists, or the link is wrong."},
		{respErr(409, nil, &types.ConflictException{}), "This item was changed or already exists. Please refresh and try again."},
		{respErr(402, nil, &types.ServiceQuotaExceededException{}), "A limit has been reached. Please contact your administrator."},
		{leak, "Some of the information entered is not valid. Please check it and try again."},
		{&attemptTimeoutError{err: context.DeadlineExceeded}, "The request took too long. Please try again."},
		{context.Canceled, "The request was cancelled."},
		{errors.New("x"), "Something went wrong. Please try again later."},
	}
	for _, tt := range tests {
		if got := UserMessage(tt.err); got != tt.want {
			t.Errorf("UserMessage(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
