package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
	"github.com/localcases/localcases/store/memory"
)

// Helpers shared by the configuration-plane tests (layouts, templates, case
// rules, tags, event configuration). Names carry a cp prefix so they cannot
// clash with helpers other planes add to this test package.

func cpService(t *testing.T, q service.Quotas) *service.Service {
	t.Helper()
	s, err := service.New(context.Background(), memory.New(), service.Config{Quotas: q})
	if err != nil {
		t.Fatalf("service.New: %v", err)
	}
	return s
}

func cpDomain(t *testing.T, s *service.Service) string {
	t.Helper()
	out, err := s.CreateDomain(context.Background(), &api.CreateDomainRequest{Name: api.String("d-" + localcases.NewID())})
	if err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	return *out.DomainId
}

func cpField(t *testing.T, s *service.Service, domainID, name string, typ api.FieldType) string {
	t.Helper()
	out, err := s.CreateField(context.Background(), &api.CreateFieldRequest{DomainId: &domainID, Name: &name, Type: &typ})
	if err != nil {
		t.Fatalf("CreateField %s: %v", name, err)
	}
	return *out.FieldId
}

func cpDeleteField(t *testing.T, s *service.Service, domainID, id string) {
	t.Helper()
	if _, err := s.DeleteField(context.Background(), &api.DeleteFieldRequest{DomainId: &domainID, FieldId: &id}); err != nil {
		t.Fatalf("DeleteField %s: %v", id, err)
	}
}

// cpCode is the error code of err, "" for nil, and "not an *api.Error" for
// anything the HTTP layer would turn into an InternalServerException.
func cpCode(err error) api.ErrorCode {
	if err == nil {
		return ""
	}
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "not an *api.Error: " + api.ErrorCode(err.Error())
}

func cpWant(t *testing.T, err error, want api.ErrorCode) {
	t.Helper()
	if got := cpCode(err); got != want {
		t.Fatalf("error = %v (code %q), want code %q", err, got, want)
	}
}

func cpOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func cpItems(ids ...string) []api.FieldItem {
	out := make([]api.FieldItem, 0, len(ids))
	for _, id := range ids {
		out = append(out, api.FieldItem{Id: api.String(id)})
	}
	return out
}

// cpLayout builds basic layout content with one field group per panel.
func cpLayout(top, more []string) *api.LayoutContent {
	return &api.LayoutContent{Basic: &api.BasicLayout{
		TopPanel: &api.LayoutSections{Sections: []api.Section{{FieldGroup: &api.FieldGroup{Name: api.String("top"), Fields: cpItems(top...)}}}},
		MoreInfo: &api.LayoutSections{Sections: []api.Section{{FieldGroup: &api.FieldGroup{Name: api.String("more"), Fields: cpItems(more...)}}}},
	}}
}

// cpValid runs the model validation the HTTP layer runs before the service
// sees a request, so tests send only requests that could reach it.
func cpValid(t *testing.T, in api.Input) {
	t.Helper()
	if err := in.Validate(); err != nil {
		t.Fatalf("test request fails model validation: %v", err)
	}
}
