// Package api holds the Amazon Connect Cases API as Go types, generated from
// the service model in ../spec: every shape, enum and error, a Validate method
// per operation input that enforces each model constraint, the HTTP binding
// of path and query members, and the operation table.
//
// Files ending in _gen.go are generated; edit the generator in
// internal/apigen instead and rerun `go generate ./api`.
package api

//go:generate go run ../internal/apigen -model ../spec/connectcases-2022-10-03.service.json -out .

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/localcases/localcases/internal/modelcheck"
)

// Input is implemented by every operation input shape.
type Input interface {
	// Validate reports every model constraint the input breaks as one
	// *Error with code ValidationException, or nil.
	Validate() error
	// BindHTTP copies the members that travel in the path, query string or
	// headers from r. It returns a ValidationException *Error for a value
	// that cannot be parsed, such as a non-numeric maxResults.
	BindHTTP(r Binding) error
}

// Binding gives the generated binders the parts of a request outside the
// body. restjson implements it over *http.Request.
type Binding interface {
	PathValue(name string) string
	Query(name string) []string
	Header(name string) []string
}

// Operation is one row of the operation table.
type Operation struct {
	Name         string
	Method       string
	URI          string // the model's requestUri template
	ResponseCode int
	HasBody      bool // the input has members that travel in the JSON body
	Idempotent   bool
	Errors       []ErrorCode // the errors the model declares for the operation
	NewInput     func() Input
	// Call invokes the Service method; the result is nil for operations
	// with no output shape.
	Call func(ctx context.Context, s Service, in Input) (any, error)
}

// Declares reports whether the model lists code among the operation's errors.
func (op *Operation) Declares(code ErrorCode) bool {
	for _, c := range op.Errors {
		if c == code {
			return true
		}
	}
	return false
}

// OperationByName returns the operation called name, or nil.
func OperationByName(name string) *Operation {
	for _, op := range Operations {
		if op.Name == name {
			return op
		}
	}
	return nil
}

// Time is a model timestamp. The model marks every timestamp iso8601; the
// service writes UTC with millisecond precision and a Z suffix, the form in
// AWS's own samples, which every SDK parses.
type Time struct{ time.Time }

// TimeFormat is the layout of Time on the wire.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// NewTime returns t as a *Time truncated to the wire's precision.
func NewTime(t time.Time) *Time { return &Time{t.UTC().Truncate(time.Millisecond)} }

func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeFormat)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeFormat)
	return append(b, '"'), nil
}

func (t *Time) UnmarshalJSON(b []byte) error {
	if s, err := strconv.Unquote(string(b)); err == nil {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("timestamp %q is not ISO-8601", s)
		}
		t.Time = v
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is neither ISO-8601 nor epoch seconds", b)
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
	return nil
}

// ErrorCode is an error type as the x-amzn-ErrorType header carries it.
type ErrorCode string

// Codes that are not in the model but that the protocol layer sends, in the
// form AWS's rest-json services use for them.
const (
	CodeSerializationException     ErrorCode = "SerializationException"
	CodeUnknownOperationException  ErrorCode = "UnknownOperationException"
	CodeRequestEntityTooLarge      ErrorCode = "RequestEntityTooLargeException"
	CodeNotImplementedException    ErrorCode = "NotImplementedException"
	CodeMethodNotAllowedException  ErrorCode = "MethodNotAllowedException"
	CodeUnsupportedMediaTypeExcept ErrorCode = "UnsupportedMediaTypeException"
	CodeRequestHeadersTooLarge     ErrorCode = "RequestHeaderFieldsTooLargeException"
)

var protocolErrors = map[ErrorCode]errorInfo{
	CodeSerializationException:     {status: 400, message: "The request body could not be parsed."},
	CodeUnknownOperationException:  {status: 404, message: "The requested operation is not recognized by the service."},
	CodeRequestEntityTooLarge:      {status: 413, message: "The request body is too large."},
	CodeNotImplementedException:    {status: 501, message: "This operation is not implemented by localcases yet."},
	CodeMethodNotAllowedException:  {status: 405, message: "The HTTP method is not allowed for this resource."},
	CodeUnsupportedMediaTypeExcept: {status: 415, message: "The request content type is not supported."},
	CodeRequestHeadersTooLarge:     {status: 431, message: "The request line and headers are too large."},
}

// DefaultMessage is the model's documentation sentence for the error.
func (c ErrorCode) DefaultMessage() string {
	if i, ok := c.info(); ok {
		return i.message
	}
	return "An internal error occurred."
}

// Modelled reports whether the code is one of the model's error shapes.
func (c ErrorCode) Modelled() bool { _, ok := modelErrors[c]; return ok }

// Retryable reports the model's retryable trait.
func (c ErrorCode) Retryable() bool { i, _ := c.info(); return i.retryable }

// ModelErrorCodes lists the model's error codes in name order.
func ModelErrorCodes() []ErrorCode {
	out := make([]ErrorCode, 0, len(modelErrors))
	for c := range modelErrors {
		out = append(out, c)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Error is an error the service sends to a client. Its members are the union
// of the members of the model's error shapes.
type Error struct {
	Code         ErrorCode
	Message      string
	ResourceID   string // ResourceNotFoundException
	ResourceType string // ResourceNotFoundException
	// RetryAfterSeconds, when set on an InternalServerException, is sent as
	// the Retry-After header in plain decimal seconds (the Go SDK parses it
	// with strconv.ParseInt base 0, so no leading zeros or dates).
	RetryAfterSeconds *int
	// StatusCode, when non-zero, replaces the code's usual status: fault
	// rules may send a modelled error with another status, as LocalStack's
	// chaos rules can.
	StatusCode int
}

// Status is the HTTP status the error is sent with.
func (e *Error) Status() int {
	if e.StatusCode != 0 {
		return e.StatusCode
	}
	return e.Code.Status()
}

func (e *Error) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

// Errorf returns an *Error with a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns the ResourceNotFoundException for a resource.
func NotFound(resourceType, id string) *Error {
	return &Error{
		Code:         CodeResourceNotFoundException,
		Message:      fmt.Sprintf("%s %s not found.", resourceType, id),
		ResourceID:   id,
		ResourceType: resourceType,
	}
}

// Validation is a ValidationException with a message.
func Validation(format string, args ...any) *Error {
	return Errorf(CodeValidationException, format, args...)
}

// Conflict is a ConflictException with a message.
func Conflict(format string, args ...any) *Error {
	return Errorf(CodeConflictException, format, args...)
}

// QuotaExceeded is a ServiceQuotaExceededException with a message.
func QuotaExceeded(format string, args ...any) *Error {
	return Errorf(CodeServiceQuotaExceededException, format, args...)
}

func parseInt32(member, s string) (int32, error) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, Validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", modelcheck.Clip(s), member)
	}
	return int32(n), nil
}

// String returns a pointer to s, for building shapes.
func String(s string) *string { return &s }

// Bool returns a pointer to b.
func Bool(b bool) *bool { return &b }

// Int32 returns a pointer to n.
func Int32(n int32) *int32 { return &n }

// Float64 returns a pointer to f.
func Float64(f float64) *float64 { return &f }

// ToString returns *p, or "" for nil.
func ToString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ClipTo cuts s to at most max bytes of valid UTF-8 plus "...", so an error
// message quoting a client's value stays bounded and stays valid JSON text.
func ClipTo(s string, max int) string { return modelcheck.ClipTo(s, max) }

func notImplemented(op string) error {
	return Errorf(CodeNotImplementedException, "%s is not implemented by localcases yet.", op)
}
