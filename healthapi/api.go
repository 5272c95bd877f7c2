// Package healthapi holds the AWS Health API as Go types, generated from the
// service model in ../spec: every shape, enum and error, a Validate method
// per operation input that enforces each model constraint, and the operation
// table. The service speaks awsJson1_1: every call is POST / with the
// operation named in X-Amz-Target (TargetPrefix + "." + name).
//
// Files ending in _gen.go are generated; edit the generator in
// internal/apigen instead and rerun `go generate ./healthapi`.
package healthapi

//go:generate go run ../internal/apigen -package healthapi -model ../spec/health-2016-08-04.service.json -out .

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/localcases/localcases/internal/modelcheck"
)

// Input is implemented by every operation input shape.
type Input interface {
	// Validate reports every model constraint the input breaks as one
	// *Error with code ValidationException, or nil.
	Validate() error
}

// Operation is one row of the operation table.
type Operation struct {
	Name         string
	Method       string
	URI          string
	ResponseCode int
	HasBody      bool
	Idempotent   bool
	Errors       []ErrorCode // the errors the model declares for the operation
	NewInput     func() Input
	// Call invokes the Service method; the result is nil for operations
	// with no output shape.
	Call func(ctx context.Context, s Service, in Input) (any, error)
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

// Time is a model timestamp. awsJson1_1 sends timestamps as epoch seconds, a
// JSON number with the fraction in milliseconds, and every SDK parses them
// so; the AWS CLI and boto3 also send them so in filters.
type Time struct{ time.Time }

// NewTime returns t as a *Time truncated to the wire's precision.
func NewTime(t time.Time) *Time { return &Time{t.UTC().Truncate(time.Millisecond)} }

func (t Time) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

func (t *Time) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e11 {
		return fmt.Errorf("timestamp %.40s is not epoch seconds", b)
	}
	t.Time = time.UnixMilli(int64(math.Round(f * 1000))).UTC()
	return nil
}

// ErrorCode is an error type as the __type member carries it.
type ErrorCode string

// Codes that are not in the model but that the service sends: the
// protocol's and the account's errors, with the status AWS sends them with.
const (
	CodeValidationException           ErrorCode = "ValidationException"
	CodeSerializationException        ErrorCode = "SerializationException"
	CodeUnknownOperationException     ErrorCode = "UnknownOperationException"
	CodeSubscriptionRequiredException ErrorCode = "SubscriptionRequiredException"
	CodeInternalFailure               ErrorCode = "InternalFailure"
	CodeNotImplemented                ErrorCode = "NotImplementedException"
)

var protocolErrors = map[ErrorCode]errorInfo{
	CodeValidationException:           {status: 400, message: "The request isn't valid."},
	CodeSerializationException:        {status: 400, message: "The request body could not be parsed."},
	CodeUnknownOperationException:     {status: 400, message: "The requested operation is not recognized by the service."},
	CodeSubscriptionRequiredException: {status: 400, message: "The AWS Health API requires a Business, Enterprise On-Ramp, or Enterprise Support plan."},
	CodeInternalFailure:               {status: 500, message: "The request processing has failed because of an unknown error, exception or failure."},
	CodeNotImplemented:                {status: 501, message: "This operation is not implemented by localcases."},
}

// Error is an error the service sends to a client.
type Error struct {
	Code    ErrorCode
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// validationError is the ValidationException for what v collected, or nil.
func validationError(v *modelcheck.Validator) error {
	if msg := v.Message(); msg != "" {
		return Errorf(CodeValidationException, "%s", msg)
	}
	return nil
}

func notImplemented(op string) error {
	return Errorf(CodeNotImplemented, "%s is not implemented by localcases.", op)
}

// String returns a pointer to s, for building shapes.
func String(s string) *string { return &s }

// Int32 returns a pointer to n.
func Int32(n int32) *int32 { return &n }
