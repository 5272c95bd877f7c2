package server_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/internal/servertest"
)

// TestSDKSearchTermOnEveryEngine: SearchCases with a searchTerm, through
// the Go SDK and its paginator, finds the same cases on every engine's
// text index: case-insensitive substrings of any string value (§9.3),
// punctuation and multi-byte runes included, ANDed with a filter, and a
// case's new values once it is updated.
func TestSDKSearchTermOnEveryEngine(t *testing.T) {
	evEngines(t, func(t *testing.T, engine servertest.Option) {
		e := sdkcSetup(t, engine)
		straße := *e.create(sdkcS(e.notes, "Straße 5, 100% refund"), sdkcS(e.prio, "high")).CaseId
		cafe := *e.create(sdkcS("title", "Café au lait"), sdkcS(e.notes, "CUSTOMER_ID a_b")).CaseId
		power := *e.create(sdkcS("summary", "The device does not POWER on")).CaseId
		high := types.CaseFilter(&types.CaseFilterMemberField{Value: &types.FieldFilterMemberEqualTo{
			Value: types.FieldValue{Id: aws.String(e.prio), Value: &types.FieldValueUnionMemberStringValue{Value: "high"}}}})
		for _, tt := range []struct {
			term   string
			filter types.CaseFilter
			want   []string
		}{
			{"straße", nil, []string{straße}},
			{"STRASSE", nil, nil},
			{"100%", nil, []string{straße}},
			{"%", nil, []string{straße}},
			{"café AU", nil, []string{cafe}},
			{"_id", nil, []string{cafe}},
			{"power on", nil, []string{power}},
			{"er o", nil, []string{power}},
			{"a case", nil, []string{straße, power}},
			{"a case", high, []string{straße}},
			{"no such words", nil, nil},
		} {
			items, total := e.search(connectcases.SearchCasesInput{SearchTerm: aws.String(tt.term), Filter: tt.filter, MaxResults: aws.Int32(1)})
			got := sdkcCaseIDs(items)
			if total != int64(len(tt.want)) || !sameSet(got, tt.want) {
				t.Errorf("search %q: %v (total %d), want %v", tt.term, got, total, tt.want)
			}
		}
		e.mustUpdate(power, sdkcS("summary", "fixed"))
		if items, total := e.search(connectcases.SearchCasesInput{SearchTerm: aws.String("power")}); total != 0 || len(items) != 0 {
			t.Errorf("after the update, power finds %d cases", total)
		}
		if _, total := e.search(connectcases.SearchCasesInput{SearchTerm: aws.String("FIXED")}); total != 1 {
			t.Errorf("after the update, fixed finds %d cases, want 1", total)
		}
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		if seen[x]--; seen[x] < 0 {
			return false
		}
	}
	return true
}
