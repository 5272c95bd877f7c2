package api

import "github.com/localcases/localcases/internal/modelcheck"

// validationError is the ValidationException for what v collected, or nil.
func validationError(v *modelcheck.Validator) error {
	if msg := v.Message(); msg != "" {
		return &Error{Code: CodeValidationException, Message: msg}
	}
	return nil
}
