// Package awsjson serves an awsJson1_1 API, AWS Health's protocol: every
// call is POST / with the operation in X-Amz-Target
// ("AWSHealth_20160804.DescribeEvents") and its input as a JSON body of
// Content-Type application/x-amz-json-1.1. Responses are JSON of the same
// type; timestamps are epoch seconds. An error is
// {"__type": "<code>", "message": "..."} with the code also in
// x-amzn-ErrorType, which is where the AWS SDKs and the CLI read it:
// https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
package awsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/localcases/localcases/healthapi"
	"github.com/localcases/localcases/internal/modelcheck"
)

// ContentType is the protocol's media type.
const ContentType = "application/x-amz-json-1.1"

// MaxBodyBytes bounds a request body; Health inputs are small.
const MaxBodyBytes = 1 << 20

// Handler serves the healthapi operation table.
type Handler struct {
	svc healthapi.Service
	log *slog.Logger
}

// NewHandler returns a Handler calling svc.
func NewHandler(svc healthapi.Service, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{svc: svc, log: logger}
}

// Match reports whether r is a call of this API: the Cases API has no
// route at POST /, so the target header alone decides.
func Match(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/" &&
		strings.HasPrefix(r.Header.Get("X-Amz-Target"), healthapi.TargetPrefix+".")
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", id)
	target := r.Header.Get("X-Amz-Target")
	name := strings.TrimPrefix(target, healthapi.TargetPrefix+".")
	out, err := h.call(r, name)
	if err != nil {
		h.writeError(w, id, name, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		h.writeError(w, id, name, err)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
	h.log.Debug("health call", "requestId", id, "operation", name, "status", http.StatusOK)
}

func (h *Handler) call(r *http.Request, name string) (any, error) {
	op := healthapi.OperationByName(name)
	if op == nil || r.Method != http.MethodPost {
		return nil, healthapi.Errorf(healthapi.CodeUnknownOperationException, "The operation %s is not recognized by the service.", modelcheck.Clip(name))
	}
	in, err := decode(r.Body, op)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	out, err := op.Call(r.Context(), h.svc, in)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return struct{}{}, nil
	}
	return out, nil
}

// decode reads the JSON input. An empty body is an empty input, as the CLI
// sends "{}" and some clients send nothing. Unknown members are ignored, so
// a client built from a newer model still works.
func decode(body io.Reader, op *healthapi.Operation) (healthapi.Input, error) {
	data, err := io.ReadAll(io.LimitReader(body, MaxBodyBytes+1))
	if err != nil {
		return nil, healthapi.Errorf(healthapi.CodeSerializationException, "The request body could not be read.")
	}
	if len(data) > MaxBodyBytes {
		return nil, healthapi.Errorf(healthapi.CodeSerializationException, "The request body exceeds %d bytes.", MaxBodyBytes)
	}
	in := op.NewInput()
	if len(bytes.TrimSpace(data)) == 0 {
		return in, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(in); err != nil {
		return nil, serializationError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, healthapi.Errorf(healthapi.CodeSerializationException, "The request body has data after the JSON value.")
	}
	return in, nil
}

func serializationError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return healthapi.Errorf(healthapi.CodeSerializationException, "Expected %s for member '%s', got JSON %s.", modelType(te.Type), te.Field, te.Value)
	}
	return healthapi.Errorf(healthapi.CodeSerializationException, "The request body is not valid JSON: %s", modelcheck.Clip(err.Error()))
}

// modelType names a Go type as the model's type, for messages.
func modelType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "a boolean"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map:
		return "a map"
	case reflect.Struct:
		if t == reflect.TypeOf(healthapi.Time{}) {
			return "a timestamp"
		}
		return "a structure"
	}
	return t.String()
}

func (h *Handler) writeError(w http.ResponseWriter, id, op string, err error) {
	var e *healthapi.Error
	if !errors.As(err, &e) {
		h.log.Error("health call failed", "requestId", id, "operation", op, "err", err)
		e = healthapi.Errorf(healthapi.CodeInternalFailure, "The request processing has failed because of an unknown error, exception or failure.")
	}
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{string(e.Code), e.Message})
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("x-amzn-ErrorType", string(e.Code))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Code.Status())
	w.Write(body)
	h.log.Debug("health call", "requestId", id, "operation", op, "status", e.Code.Status(), "error", e.Code)
}
