package fault

import (
	"fmt"
	"sort"
	"strings"
)

// Error codes modelled by Amazon Connect Cases.
const (
	CodeAccessDenied         = "AccessDeniedException"
	CodeConflict             = "ConflictException"
	CodeInternalServer       = "InternalServerException"
	CodeResourceNotFound     = "ResourceNotFoundException"
	CodeServiceQuotaExceeded = "ServiceQuotaExceededException"
	CodeThrottling           = "ThrottlingException"
	CodeValidation           = "ValidationException"
)

// DefaultRetryAfterSeconds is sent with InternalServerException when a rule
// does not say otherwise, because the real service advertises a short back-off
// on 500s and clients that ignore it are exactly what chaos runs should expose.
const DefaultRetryAfterSeconds = 1

type errorDefault struct {
	status  int
	message string
}

var knownErrors = map[string]errorDefault{
	CodeAccessDenied:         {403, "You do not have sufficient access to perform this action."},
	CodeConflict:             {409, "The requested operation would cause a conflict with the current state of a service resource associated with the request. Resolve the conflict before retrying this request. See the accompanying error message for details."},
	CodeInternalServer:       {500, "We couldn't process your request because of an issue with the server. Try again later."},
	CodeResourceNotFound:     {404, "We couldn't find the requested resource. Check that your resources exists and were created in the same Amazon Web Services Region as your request, and try your request again."},
	CodeServiceQuotaExceeded: {402, "The service quota has been exceeded. For a list of service quotas, see Amazon Connect Service Quotas in the Amazon Connect Administrator Guide."},
	CodeThrottling:           {429, "The rate has been exceeded for this API. Please try again after a few minutes."},
	CodeValidation:           {400, "The request isn't valid. Check the syntax and try again."},
}

// KnownErrorCodes lists the error codes a rule may inject, sorted.
func KnownErrorCodes() []string {
	out := make([]string, 0, len(knownErrors))
	for c := range knownErrors {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// DefaultStatus returns the HTTP status Connect Cases uses for code, or 0.
func DefaultStatus(code string) int { return knownErrors[code].status }

// DefaultMessage returns the service's stock message for code, or "".
func DefaultMessage(code string) string { return knownErrors[code].message }

// canonicalCode maps a case-insensitive spelling to the canonical code, so
// that header users do not have to remember the exact casing.
func canonicalCode(s string) (string, bool) {
	if _, ok := knownErrors[s]; ok {
		return s, true
	}
	for c := range knownErrors {
		if strings.EqualFold(c, s) {
			return c, true
		}
	}
	return "", false
}

// codeForStatus lets a LocalStack-style rule that only sets statusCode still
// produce a real Connect Cases error shape.
func codeForStatus(status int) (string, bool) {
	for _, c := range KnownErrorCodes() {
		if knownErrors[c].status == status {
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
	d := knownErrors[s.Code]
	if s.StatusCode == 0 {
		s.StatusCode = d.status
		if s.StatusCode == 0 {
			s.StatusCode = 500
		}
	}
	if s.Message == "" {
		s.Message = d.message
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
