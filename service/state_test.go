package service_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
	"github.com/localcases/localcases/store/memory"
)

func newStateService(t *testing.T) *service.Service {
	t.Helper()
	s, err := service.New(context.Background(), memory.New(), service.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestExportImportRoundTrip: a snapshot loaded into another server gives
// back the same state, down to list order, and exports identically.
func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := newStateService(t)
	d, err := src.CreateDomain(ctx, &api.CreateDomainRequest{Name: api.String("fixture")})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := src.CreateTemplate(ctx, &api.CreateTemplateRequest{DomainId: d.DomainId, Name: api.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"one", "two"} {
		c, err := src.CreateCase(ctx, &api.CreateCaseRequest{DomainId: d.DomainId, TemplateId: tpl.TemplateId, ClientToken: api.String(title),
			Fields: []api.FieldValue{{Id: api.String("title"), Value: &api.FieldValueUnion{StringValue: api.String(title)}}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.CreateRelatedItem(ctx, &api.CreateRelatedItemRequest{DomainId: d.DomainId, CaseId: c.CaseId, Type: ptr(api.RelatedItemTypeContact),
			Content: &api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: api.String("arn:aws:connect:us-east-1:000000000000:instance/i/contact/" + title)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	snap, err := src.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(snap)

	dst := newStateService(t)
	if _, err := dst.CreateDomain(ctx, &api.CreateDomainRequest{Name: api.String("replaced by the import")}); err != nil {
		t.Fatal(err)
	}
	var loaded localcases.Snapshot
	json.Unmarshal(data, &loaded)
	if err := dst.Import(ctx, &loaded); err != nil {
		t.Fatal(err)
	}
	again, err := dst.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data2, _ := json.Marshal(again)
	if string(data) != string(data2) {
		t.Fatalf("export after import differs:\n%s\n%s", data, data2)
	}
	s, err := dst.SearchCases(ctx, &api.SearchCasesRequest{DomainId: d.DomainId})
	if err != nil || s.TotalCount != 2 {
		t.Fatalf("search after import: %+v %v", s, err)
	}
	l, err := dst.ListCasesForContact(ctx, &api.ListCasesForContactRequest{DomainId: d.DomainId, ContactArn: api.String("arn:aws:connect:us-east-1:000000000000:instance/i/contact/one")})
	if err != nil || len(l.Cases) != 1 {
		t.Fatalf("contact links after import: %+v %v", l, err)
	}
	// The clientToken came along: a retry of a fixture's CreateCase is not a new case.
	c, err := dst.CreateCase(ctx, &api.CreateCaseRequest{DomainId: d.DomainId, TemplateId: tpl.TemplateId, ClientToken: api.String("one"),
		Fields: []api.FieldValue{{Id: api.String("title"), Value: &api.FieldValueUnion{StringValue: api.String("one")}}}})
	if err != nil || *c.CaseId != *s.Cases[len(s.Cases)-1].CaseId && *c.CaseId != *s.Cases[0].CaseId {
		t.Fatalf("retried CreateCase after import: %+v %v", c, err)
	}
}

func TestImportRefusesForeignOrBrokenSnapshots(t *testing.T) {
	ctx := context.Background()
	s := newStateService(t)
	tests := []localcases.Snapshot{
		{Format: "other", Region: "us-east-1", Account: "000000000000"},
		{Format: localcases.SnapshotFormat, Region: "eu-west-1", Account: "000000000000"},
		{Format: localcases.SnapshotFormat, Region: "us-east-1", Account: "000000000000",
			Records: []localcases.SnapshotRecord{{Collection: "meta", Scope: "", ID: "server", Data: json.RawMessage(`{}`)}}},
	}
	for i, snap := range tests {
		if err := s.Import(ctx, &snap); err == nil {
			t.Errorf("snapshot %d imported", i)
		}
	}
}

func TestReset(t *testing.T) {
	ctx := context.Background()
	s := newStateService(t)
	d, _ := s.CreateDomain(ctx, &api.CreateDomainRequest{Name: api.String("gone")})
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDomain(ctx, &api.GetDomainRequest{DomainId: d.DomainId}); err == nil {
		t.Fatal("domain survived the reset")
	}
	l, _ := s.ListDomains(ctx, &api.ListDomainsRequest{})
	if len(l.Domains) != 0 {
		t.Fatalf("domains after reset: %+v", l.Domains)
	}
}

func ptr[T any](v T) *T { return &v }
