package fault

import (
	"fmt"
	"slices"
	"strings"

	"github.com/localcases/localcases/api"
)

// The error codes of the API model, under the short names rules and tests
// use. The model (package api) is their one source: statuses, messages and
// which operation declares which error all come from there.
const (
	CodeAccessDenied         = string(api.CodeAccessDeniedException)
	CodeConflict             = string(api.CodeConflictException)
	CodeInternalServer       = string(api.CodeInternalServerException)
	CodeResourceNotFound     = string(api.CodeResourceNotFoundException)
	CodeServiceQuotaExceeded = string(api.CodeServiceQuotaExceededException)
	CodeThrottling           = string(api.CodeThrottlingException)
	CodeValidation           = string(api.CodeValidationException)
)

// DefaultRetryAfterSeconds is sent with InternalServerException when a rule
// does not say otherwise, because the real service advertises a short back-off
// on 500s and clients that ignore it are exactly what chaos runs should expose.
const DefaultRetryAfterSeconds = 1

// knownCodes are the model's error codes, sorted: the codes a rule may inject.
var knownCodes = func() []string {
	var out []string
	for _, c := range api.ModelErrorCodes() {
		out = append(out, string(c))
	}
	return out
}()

// KnownErrorCodes lists the error codes a rule may inject, sorted.
func KnownErrorCodes() []string { return slices.Clone(knownCodes) }

// modelled returns code as a model error code, if it is one.
func modelled(code string) (api.ErrorCode, bool) {
	c := api.ErrorCode(code)
	return c, c.Modelled()
}

// DefaultStatus returns the HTTP status Connect Cases uses for code, or 0.
func DefaultStatus(code string) int {
	if c, ok := modelled(code); ok {
		return c.Status()
	}
	return 0
}

// DefaultMessage returns the service's stock message for code, or "".
func DefaultMessage(code string) string {
	if c, ok := modelled(code); ok {
		return c.DefaultMessage()
	}
	return ""
}

// canonicalCode maps a case-insensitive spelling to the canonical code, so
// that header users do not have to remember the exact casing.
func canonicalCode(s string) (string, bool) {
	return canonical(knownCodes, s)
}

// canonical returns the name in names that s spells, exactly or else
// ignoring case.
func canonical(names []string, s string) (string, bool) {
	for _, n := range names {
		if n == s {
			return n, true
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, s) {
			return n, true
		}
	}
	return "", false
}

// codeForStatus lets a LocalStack-style rule that only sets statusCode still
// produce a real Connect Cases error shape.
func codeForStatus(status int) (string, bool) {
	for _, c := range knownCodes {
		if DefaultStatus(c) == status {
			return c, true
		}
	}
	return "", false
}

// ErrorSpec describes the service error to return. In rules, zero fields mean
// "use the Connect Cases default"; in a Decision the spec is resolved.
type ErrorSpec struct {
	Code       string `json:"code,omitempty"`
	StatusCode int    `json:"statusCode,omitempty"`
	Message    string `json:"message,omitempty"`
	// RetryAfterSeconds drives the Retry-After response header. nil means the
	// default (1 s for InternalServerException, none otherwise); 0 means omit
	// the header. In a resolved spec nil always means "no header".
	RetryAfterSeconds *int `json:"retryAfterSeconds,omitempty"`
}

func (s ErrorSpec) validate() (ErrorSpec, error) {
	if s.Code == "" {
		if s.StatusCode == 0 {
			return s, fmt.Errorf("error: code or statusCode is required")
		}
		c, ok := codeForStatus(s.StatusCode)
		if !ok {
			return s, fmt.Errorf("error: statusCode %d has no Connect Cases error code; set code to one of %s", s.StatusCode, strings.Join(KnownErrorCodes(), ", "))
		}
		s.Code = c
	}
	c, ok := canonicalCode(s.Code)
	if !ok {
		return s, fmt.Errorf("error: unknown error code %q; known codes: %s", s.Code, strings.Join(KnownErrorCodes(), ", "))
	}
	s.Code = c
	if s.StatusCode != 0 && (s.StatusCode < 400 || s.StatusCode > 599) {
		return s, fmt.Errorf("error: statusCode %d out of range [400,599]", s.StatusCode)
	}
	if s.RetryAfterSeconds != nil && *s.RetryAfterSeconds < 0 {
		return s, fmt.Errorf("error: retryAfterSeconds %d must be >= 0", *s.RetryAfterSeconds)
	}
	return s, nil
}

// Resolve fills status, message and Retry-After from the Connect Cases
// defaults so the HTTP layer never has to know them.
func (s ErrorSpec) Resolve() ErrorSpec {
	if s.StatusCode == 0 {
		s.StatusCode = DefaultStatus(s.Code)
		if s.StatusCode == 0 {
			s.StatusCode = 500
		}
	}
	if s.Message == "" {
		s.Message = DefaultMessage(s.Code)
	}
	switch {
	case s.RetryAfterSeconds == nil && s.Code == CodeInternalServer:
		s.RetryAfterSeconds = intPtr(DefaultRetryAfterSeconds)
	case s.RetryAfterSeconds != nil && *s.RetryAfterSeconds == 0:
		s.RetryAfterSeconds = nil
	case s.RetryAfterSeconds != nil:
		s.RetryAfterSeconds = intPtr(*s.RetryAfterSeconds)
	}
	return s
}

func intPtr(v int) *int { return &v }

func (s *ErrorSpec) clone() *ErrorSpec {
	if s == nil {
		return nil
	}
	c := *s
	if s.RetryAfterSeconds != nil {
		c.RetryAfterSeconds = intPtr(*s.RetryAfterSeconds)
	}
	return &c
}
