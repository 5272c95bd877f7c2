package fault

import (
	"slices"
	"testing"
)

// The quota table is keyed by operation name, so a misspelt name would
// throttle nothing; every key must be an operation of the model, and every
// operation must have a quota.
func TestQuotaTableCoversTheModel(t *testing.T) {
	quotas := DefaultQuotas()
	for op := range quotas {
		if !slices.Contains(KnownOperations(), op) {
			t.Errorf("quota for %q, which the model does not have", op)
		}
	}
	for _, op := range KnownOperations() {
		if _, ok := quotas[op]; !ok {
			t.Errorf("no quota for %s", op)
		}
	}
}

// Which errors an operation declares comes from the model: CreateCase does
// not declare ServiceQuotaExceededException, CreateCaseRule does.
func TestDeclaredErrorsComeFromTheModel(t *testing.T) {
	e, _ := newTestEngine(t, mustRules(t, `[{"error":{"code":"ServiceQuotaExceededException"}}]`))
	if d, ok := e.Decide(Request{Operation: "CreateCase"}); ok {
		t.Errorf("CreateCase: injected %+v, an error it does not declare", d)
	}
	if d, ok := e.Decide(Request{Operation: "CreateCaseRule"}); !ok || d.Error.Code != CodeServiceQuotaExceeded || d.Error.StatusCode != 402 {
		t.Errorf("CreateCaseRule: got %+v, %v", d, ok)
	}
}
