package service

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
)

// FuzzSearchFilter feeds arbitrary JSON as a SearchCases filter through the
// model's validation and, when valid, through the evaluator against a case
// holding every kind of value: neither may panic, and a filter and its
// negation never both match.
func FuzzSearchFilter(f *testing.F) {
	for _, s := range []string{
		`{"field":{"equalTo":{"id":"status","value":{"stringValue":"open"}}}}`,
		`{"andAll":[{"field":{"greaterThan":{"id":"n","value":{"doubleValue":1.5}}}},{"tag":{"equalTo":{"key":"k","value":"v"}}}]}`,
		`{"orAll":[]}`,
		`{"not":{"field":{"contains":{"id":"title","value":{"stringValue":"Printer"}}}}}`,
		`{"field":{"lessThanOrEqualTo":{"id":"due","value":{"stringValue":"2026-01-01T00:00:00Z"}}}}`,
		`{"field":{"equalTo":{"id":"b","value":{"emptyValue":{}}}}}`,
	} {
		f.Add([]byte(s))
	}
	c := &localcases.Case{
		ID: "c1",
		Fields: map[string]localcases.Value{
			"title":  {Kind: localcases.ValueString, S: "Printer on fire"},
			"status": {Kind: localcases.ValueString, S: "open"},
			"n":      {Kind: localcases.ValueDouble, N: 2},
			"b":      {Kind: localcases.ValueBool, B: true},
			"u":      {Kind: localcases.ValueUser, S: "arn:aws:connect:us-east-1:000000000000:instance/i/user/u"},
			"due":    {Kind: localcases.ValueString, S: "2025-06-01T00:00:00.000Z"},
		},
		Tags:     map[string]string{"k": "v"},
		Created:  time.Unix(0, 0),
		Modified: time.Unix(0, 0),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var filter api.CaseFilter
		if json.Unmarshal(data, &filter) != nil {
			return
		}
		in := api.SearchCasesRequest{DomainId: api.String("d"), Filter: &filter}
		if in.Validate() != nil {
			return
		}
		got := matches(&filter, c)
		if not := matches(&api.CaseFilter{Not: &filter}, c); not == got {
			t.Fatalf("filter %s and its negation both gave %v", data, got)
		}
	})
}
