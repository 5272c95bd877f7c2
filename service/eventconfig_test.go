package service_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
)

func cpFieldIDs(ids ...string) []api.FieldIdentifier {
	out := make([]api.FieldIdentifier, 0, len(ids))
	for _, id := range ids {
		out = append(out, api.FieldIdentifier{Id: api.String(id)})
	}
	return out
}

func cpEventConfig(enabled bool, content *bool, fields ...string) *api.EventBridgeConfiguration {
	cfg := &api.EventBridgeConfiguration{Enabled: &enabled, IncludedData: &api.EventIncludedData{
		CaseData: &api.CaseEventIncludedData{Fields: cpFieldIDs(fields...)},
	}}
	if content != nil {
		cfg.IncludedData.RelatedItemData = &api.RelatedItemEventIncludedData{IncludeContent: content}
	}
	return cfg
}

func TestCaseEventConfiguration(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	keep := cpField(t, s, d, "Keep", api.FieldTypeText)
	drop := cpField(t, s, d, "Drop", api.FieldTypeText)
	get := func() *api.EventBridgeConfiguration {
		t.Helper()
		out, err := s.GetCaseEventConfiguration(ctx, &api.GetCaseEventConfigurationRequest{DomainId: &d})
		cpOK(t, err)
		return out.EventBridge
	}

	// Publishing is off until configured (§10).
	if got := get(); !reflect.DeepEqual(got, &api.EventBridgeConfiguration{Enabled: api.Bool(false)}) {
		t.Errorf("default = %+v, want {enabled:false}", got)
	}

	cfg := cpEventConfig(true, api.Bool(true), "status", keep, drop)
	in := &api.PutCaseEventConfigurationRequest{DomainId: &d, EventBridge: cfg}
	cpValid(t, in)
	_, err := s.PutCaseEventConfiguration(ctx, in)
	cpOK(t, err)
	if got := get(); !reflect.DeepEqual(got, cfg) {
		t.Errorf("after Put = %+v, want %+v", got, cfg)
	}

	// Deleted fields drop out of what Get reports.
	cpDeleteField(t, s, d, drop)
	if got := get(); !reflect.DeepEqual(got, cpEventConfig(true, api.Bool(true), "status", keep)) {
		t.Errorf("after deleting a field = %+v", got.IncludedData.CaseData.Fields)
	}
	// All of them gone still leaves a (required) list.
	cpDeleteField(t, s, d, keep)
	_, err = s.PutCaseEventConfiguration(ctx, &api.PutCaseEventConfigurationRequest{DomainId: &d, EventBridge: cpEventConfig(false, nil)})
	cpOK(t, err)
	if got := get(); got.IncludedData.CaseData.Fields == nil || *got.Enabled {
		t.Errorf("after Put with no fields = %+v", got)
	}

	// A later Put replaces the whole configuration.
	_, err = s.PutCaseEventConfiguration(ctx, &api.PutCaseEventConfigurationRequest{DomainId: &d, EventBridge: &api.EventBridgeConfiguration{Enabled: api.Bool(true)}})
	cpOK(t, err)
	if got := get(); !reflect.DeepEqual(got, &api.EventBridgeConfiguration{Enabled: api.Bool(true)}) {
		t.Errorf("after replacing = %+v", got)
	}

	tests := []struct {
		name   string
		domain string
		cfg    *api.EventBridgeConfiguration
		want   api.ErrorCode
	}{
		{"unknown domain", "nd", &api.EventBridgeConfiguration{Enabled: api.Bool(true)}, api.CodeResourceNotFoundException},
		{"unknown field", d, cpEventConfig(true, nil, "title", "nope"), api.CodeValidationException},
		{"deleted field", d, cpEventConfig(true, nil, drop), api.CodeValidationException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &api.PutCaseEventConfigurationRequest{DomainId: &tc.domain, EventBridge: tc.cfg}
			cpValid(t, in)
			_, err := s.PutCaseEventConfiguration(ctx, in)
			cpWant(t, err, tc.want)
		})
	}
	if got := get(); !*got.Enabled || got.IncludedData != nil {
		t.Errorf("a failed Put changed the configuration: %+v", got)
	}
	_, err = s.GetCaseEventConfiguration(ctx, &api.GetCaseEventConfigurationRequest{DomainId: api.String("nd")})
	cpWant(t, err, api.CodeResourceNotFoundException)
}
