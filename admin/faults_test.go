package admin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/localcases/localcases/fault"
)

// DELETE /_localcases/faults removes what a body describes, as LocalStack's
// chaos API does (docs.localstack.cloud, Chaos API: POST a list of rules,
// PATCH more, DELETE a list naming the ones to drop). The LocalStack examples
// are carried over with service "connectcases" and Connect Cases error codes.
// A template matches whatever spelling the rule was added with.
func TestDeleteRulesByTemplate(t *testing.T) {
	rules := `[
		{"service": "connectcases", "region": "us-east-1"},
		{"service": "connectcases", "region": "us-east-1", "operation": "CreateCase", "probability": 0.5,
		 "error": {"statusCode": 500, "code": "InternalServerException"}},
		{"operation": ["GetCase", "SearchCases"], "error": {"code": "ThrottlingException"}},
		{"operation": "UpdateCase", "after": "1s", "latency": {"min": "10ms", "max": "10ms"}}
	]`
	tests := []struct {
		name, remove string
		left         []int // indexes of the rules above that remain
	}{
		{"LocalStack: service and region", `[{"service": "connectcases", "region": "us-east-1"}]`, []int{2, 3}},
		{"LocalStack: the whole rule", `[{"service": "connectcases", "region": "us-east-1", "operation": "CreateCase",
			"probability": 0.5, "error": {"statusCode": 500, "code": "InternalServerException"}}]`, []int{0, 2, 3}},
		{"a single object, not a list", `{"operation": "CreateCase"}`, []int{0, 2, 3}},
		{"operation as a string", `[{"operation": "CreateCase"}]`, []int{0, 2, 3}},
		{"operation in a list", `[{"operation": ["CreateCase"]}]`, []int{0, 2, 3}},
		{"operation list in another order", `[{"operation": ["SearchCases", "GetCase"]}]`, []int{0, 1, 3}},
		{"operation in another case", `[{"operation": "createcase"}]`, []int{0, 2, 3}},
		{"status the code implies", `[{"error": {"code": "ThrottlingException", "statusCode": 429}}]`, []int{0, 1, 3}},
		{"status alone", `[{"error": {"statusCode": 429}}]`, []int{0, 1, 3}},
		{"a nested member", `[{"error": {"code": "ThrottlingException"}}]`, []int{0, 1, 3}},
		{"a duration spelled otherwise", `[{"operation": "UpdateCase", "after": "1000ms"}]`, []int{0, 1, 2}},
		{"two templates", `[{"operation": "CreateCase"}, {"operation": "UpdateCase"}]`, []int{0, 2}},
		{"a zero member the rule lacks", `[{"operation": "CreateCase", "announced": false}]`, []int{0, 2, 3}},
		{"no match: other probability", `[{"operation": "CreateCase", "probability": 0.9}]`, []int{0, 1, 2, 3}},
		{"no match: other status", `[{"operation": "CreateCase", "error": {"statusCode": 503}}]`, []int{0, 1, 2, 3}},
		{"no match: member misspelt", `[{"operation": "CreateCase", "probabilty": 0.5}]`, []int{0, 1, 2, 3}},
		{"no body removes all", ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := fault.NewEngine()
			h := NewHandler(Options{})
			(&Faults{Engine: eng, Recorder: fault.NewRecorder(16)}).Register(h)
			do := func(method, body string) []fault.Rule {
				t.Helper()
				req := httptest.NewRequest(method, Prefix+"faults", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: HTTP %d: %s", method, rec.Code, rec.Body)
				}
				var out []fault.Rule
				if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
					t.Fatal(err)
				}
				return out
			}
			added := do(http.MethodPost, rules)
			left := do(http.MethodDelete, tt.remove)
			var got, want []string
			for _, r := range left {
				got = append(got, r.ID)
			}
			for _, i := range tt.left {
				want = append(want, added[i].ID)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("left %v, want %v", got, want)
			}
		})
	}
}
