package service_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/service"
)

func layoutFieldIDsOf(c *api.LayoutContent) (top, more []string) {
	top, more = []string{}, []string{}
	for _, f := range c.Basic.TopPanel.Sections[0].FieldGroup.Fields {
		top = append(top, *f.Id)
	}
	for _, f := range c.Basic.MoreInfo.Sections[0].FieldGroup.Fields {
		more = append(more, *f.Id)
	}
	return top, more
}

func TestLayoutCreateAndGet(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	f1 := cpField(t, s, d, "Priority", api.FieldTypeText)

	in := &api.CreateLayoutRequest{DomainId: &d, Name: api.String("Main"), Content: cpLayout([]string{f1, "summary"}, []string{"customer_id"})}
	cpValid(t, in)
	out, err := s.CreateLayout(ctx, in)
	cpOK(t, err)
	if want := fmt.Sprintf("arn:aws:cases:us-east-1:000000000000:domain/%s/layout/%s", d, *out.LayoutId); *out.LayoutArn != want {
		t.Errorf("layoutArn = %s, want %s", *out.LayoutArn, want)
	}

	got, err := s.GetLayout(ctx, &api.GetLayoutRequest{DomainId: &d, LayoutId: out.LayoutId})
	cpOK(t, err)
	if *got.Name != "Main" || got.Deleted || *got.LayoutArn != *out.LayoutArn || got.CreatedTime == nil || got.LastModifiedTime == nil {
		t.Errorf("GetLayout = %+v", got)
	}
	if got.Tags == nil {
		t.Error("GetLayout tags is nil, want an empty map")
	}
	top, more := layoutFieldIDsOf(got.Content)
	if !reflect.DeepEqual(top, []string{f1, "summary"}) || !reflect.DeepEqual(more, []string{"customer_id"}) {
		t.Errorf("content = %v / %v", top, more)
	}
	if n := *got.Content.Basic.TopPanel.Sections[0].FieldGroup.Name; n != "top" {
		t.Errorf("field group name = %q", n)
	}
}

func TestLayoutCreateErrors(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{LayoutsPerDomain: 2})
	d := cpDomain(t, s)
	live := cpField(t, s, d, "Live", api.FieldTypeText)
	gone := cpField(t, s, d, "Gone", api.FieldTypeText)
	cpDeleteField(t, s, d, gone)
	_, err := s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: &d, Name: api.String("Taken"), Content: cpLayout([]string{live}, nil)})
	cpOK(t, err)

	many := make([]string, 101)
	for i := range many {
		many[i] = live
	}
	tests := []struct {
		name    string
		domain  string
		layout  string
		content *api.LayoutContent
		want    api.ErrorCode
	}{
		{"unknown domain", "no-such-domain", "L", cpLayout(nil, nil), api.CodeResourceNotFoundException},
		{"unknown field", d, "L", cpLayout([]string{"nope"}, nil), api.CodeValidationException},
		{"deleted field", d, "L", cpLayout(nil, []string{gone}), api.CodeValidationException},
		{"title placed", d, "L", cpLayout([]string{"title"}, nil), api.CodeValidationException},
		{"status placed", d, "L", cpLayout(nil, []string{"status"}), api.CodeValidationException},
		{"too many fields", d, "L", cpLayout(many[:60], many[60:]), api.CodeServiceQuotaExceededException},
		{"duplicate name", d, "Taken", cpLayout(nil, nil), api.CodeConflictException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &api.CreateLayoutRequest{DomainId: &tc.domain, Name: &tc.layout, Content: tc.content}
			cpValid(t, in)
			_, err := s.CreateLayout(ctx, in)
			cpWant(t, err, tc.want)
		})
	}

	t.Run("exactly 100 fields", func(t *testing.T) {
		_, err := s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: &d, Name: api.String("Hundred"), Content: cpLayout(many[:50], many[50:100])})
		cpOK(t, err)
	})
	t.Run("layouts per domain", func(t *testing.T) {
		_, err := s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: &d, Name: api.String("Third"), Content: cpLayout(nil, nil)})
		cpWant(t, err, api.CodeServiceQuotaExceededException)
	})
	t.Run("unknown domain is not found as a Domain", func(t *testing.T) {
		_, err := s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: api.String("nd"), Name: api.String("x"), Content: cpLayout(nil, nil)})
		e := err.(*api.Error)
		if e.ResourceType != "Domain" || e.ResourceID != "nd" {
			t.Errorf("not found = %+v", e)
		}
	})
}

func TestLayoutUpdate(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	f1 := cpField(t, s, d, "F1", api.FieldTypeText)
	f2 := cpField(t, s, d, "F2", api.FieldTypeNumber)
	create := func(name string, top ...string) string {
		out, err := s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: &d, Name: &name, Content: cpLayout(top, nil)})
		cpOK(t, err)
		return *out.LayoutId
	}
	a := create("A", f1)
	create("B")
	get := func(id string) *api.GetLayoutResponse {
		out, err := s.GetLayout(ctx, &api.GetLayoutRequest{DomainId: &d, LayoutId: &id})
		cpOK(t, err)
		return out
	}

	// Name only: content stays.
	_, err := s.UpdateLayout(ctx, &api.UpdateLayoutRequest{DomainId: &d, LayoutId: &a, Name: api.String("A2")})
	cpOK(t, err)
	got := get(a)
	if top, _ := layoutFieldIDsOf(got.Content); *got.Name != "A2" || !reflect.DeepEqual(top, []string{f1}) {
		t.Errorf("after rename: name %s, top %v", *got.Name, top)
	}
	// Content only: name stays.
	_, err = s.UpdateLayout(ctx, &api.UpdateLayoutRequest{DomainId: &d, LayoutId: &a, Content: cpLayout([]string{f2}, []string{f1})})
	cpOK(t, err)
	got = get(a)
	if top, more := layoutFieldIDsOf(got.Content); *got.Name != "A2" || !reflect.DeepEqual(top, []string{f2}) || !reflect.DeepEqual(more, []string{f1}) {
		t.Errorf("after content update: name %s, %v / %v", *got.Name, top, more)
	}
	// Keeping its own name is not a conflict.
	_, err = s.UpdateLayout(ctx, &api.UpdateLayoutRequest{DomainId: &d, LayoutId: &a, Name: api.String("A2")})
	cpOK(t, err)

	tests := []struct {
		name string
		in   *api.UpdateLayoutRequest
		want api.ErrorCode
	}{
		{"unknown domain", &api.UpdateLayoutRequest{DomainId: api.String("nd"), LayoutId: &a, Name: api.String("x")}, api.CodeResourceNotFoundException},
		{"unknown layout", &api.UpdateLayoutRequest{DomainId: &d, LayoutId: api.String("nl"), Name: api.String("x")}, api.CodeResourceNotFoundException},
		{"name taken", &api.UpdateLayoutRequest{DomainId: &d, LayoutId: &a, Name: api.String("B")}, api.CodeConflictException},
		{"unknown field", &api.UpdateLayoutRequest{DomainId: &d, LayoutId: &a, Content: cpLayout([]string{"nope"}, nil)}, api.CodeValidationException},
		{"title", &api.UpdateLayoutRequest{DomainId: &d, LayoutId: &a, Content: cpLayout([]string{"title"}, nil)}, api.CodeValidationException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cpValid(t, tc.in)
			_, err := s.UpdateLayout(ctx, tc.in)
			cpWant(t, err, tc.want)
		})
	}
	if got := get(a); *got.Name != "A2" {
		t.Errorf("a failed update changed the layout: %s", *got.Name)
	}
}

func TestLayoutDelete(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{LayoutsPerDomain: 1})
	d := cpDomain(t, s)
	out, err := s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: &d, Name: api.String("L"), Content: cpLayout([]string{"summary"}, nil)})
	cpOK(t, err)
	id := *out.LayoutId

	_, err = s.DeleteLayout(ctx, &api.DeleteLayoutRequest{DomainId: &d, LayoutId: &id})
	cpOK(t, err)

	got, err := s.GetLayout(ctx, &api.GetLayoutRequest{DomainId: &d, LayoutId: &id})
	cpOK(t, err)
	if !got.Deleted {
		t.Error("GetLayout of a deleted layout: deleted = false")
	}
	list, err := s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: &d})
	cpOK(t, err)
	if list.Layouts == nil || len(list.Layouts) != 0 {
		t.Errorf("ListLayouts = %#v, want an empty non-nil list", list.Layouts)
	}
	_, err = s.UpdateLayout(ctx, &api.UpdateLayoutRequest{DomainId: &d, LayoutId: &id, Name: api.String("x")})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.DeleteLayout(ctx, &api.DeleteLayoutRequest{DomainId: &d, LayoutId: &id})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.DeleteLayout(ctx, &api.DeleteLayoutRequest{DomainId: &d, LayoutId: api.String("nl")})
	cpWant(t, err, api.CodeResourceNotFoundException)
	_, err = s.DeleteLayout(ctx, &api.DeleteLayoutRequest{DomainId: api.String("nd"), LayoutId: &id})
	cpWant(t, err, api.CodeResourceNotFoundException)
	_, err = s.GetLayout(ctx, &api.GetLayoutRequest{DomainId: &d, LayoutId: api.String("nl")})
	cpWant(t, err, api.CodeResourceNotFoundException)

	// A deleted layout frees its name and its place in the quota.
	_, err = s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: &d, Name: api.String("L"), Content: cpLayout(nil, nil)})
	cpOK(t, err)
}

func TestLayoutGetOmitsDeletedFields(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	keep := cpField(t, s, d, "Keep", api.FieldTypeText)
	drop := cpField(t, s, d, "Drop", api.FieldTypeText)
	out, err := s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: &d, Name: api.String("L"), Content: cpLayout([]string{drop, keep}, []string{drop})})
	cpOK(t, err)
	cpDeleteField(t, s, d, drop)

	got, err := s.GetLayout(ctx, &api.GetLayoutRequest{DomainId: &d, LayoutId: out.LayoutId})
	cpOK(t, err)
	top, more := layoutFieldIDsOf(got.Content)
	if !reflect.DeepEqual(top, []string{keep}) || len(more) != 0 {
		t.Errorf("content = %v / %v, want [%s] / []", top, more, keep)
	}
	if got.Content.Basic.MoreInfo.Sections[0].FieldGroup.Fields == nil {
		t.Error("an emptied field group must keep a non-nil fields list (the member is required)")
	}
	// Updating with the content GetLayout returned succeeds.
	_, err = s.UpdateLayout(ctx, &api.UpdateLayoutRequest{DomainId: &d, LayoutId: out.LayoutId, Content: got.Content})
	cpOK(t, err)
}

func TestListLayoutsPagination(t *testing.T) {
	ctx := context.Background()
	s := cpService(t, service.Quotas{})
	d := cpDomain(t, s)
	other := cpDomain(t, s)

	empty, err := s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: &d})
	cpOK(t, err)
	if empty.Layouts == nil || empty.NextToken != nil {
		t.Fatalf("empty ListLayouts = %#v", empty)
	}

	var want []string
	for i := range 5 {
		out, err := s.CreateLayout(ctx, &api.CreateLayoutRequest{DomainId: &d, Name: api.String(fmt.Sprintf("L%d", i)), Content: cpLayout(nil, nil)})
		cpOK(t, err)
		want = append(want, *out.LayoutId)
	}
	// A deleted layout in the middle is skipped without disturbing pages.
	_, err = s.DeleteLayout(ctx, &api.DeleteLayoutRequest{DomainId: &d, LayoutId: &want[2]})
	cpOK(t, err)
	want = append(want[:2], want[3:]...)

	var got []string
	var tok *string
	pages := 0
	for {
		out, err := s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: &d, MaxResults: api.Int32(2), NextToken: tok})
		cpOK(t, err)
		pages++
		for _, l := range out.Layouts {
			got = append(got, *l.LayoutId)
			if l.LayoutArn == nil || l.Name == nil {
				t.Errorf("summary missing members: %+v", l)
			}
		}
		if out.NextToken == nil {
			break
		}
		tok = out.NextToken
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if !reflect.DeepEqual(got, want) || pages != 2 {
		t.Errorf("listed %v in %d pages, want %v in 2", got, pages, want)
	}

	first, err := s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: &d, MaxResults: api.Int32(1)})
	cpOK(t, err)
	if first.NextToken == nil {
		t.Fatal("no nextToken on a partial page")
	}
	_, err = s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: &other, NextToken: first.NextToken})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.ListTemplates(ctx, &api.ListTemplatesRequest{DomainId: &d, NextToken: first.NextToken})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.ListCaseRules(ctx, &api.ListCaseRulesRequest{DomainId: &d, NextToken: first.NextToken})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: &d, NextToken: api.String("garbage")})
	cpWant(t, err, api.CodeValidationException)
	_, err = s.ListLayouts(ctx, &api.ListLayoutsRequest{DomainId: api.String("nd")})
	cpWant(t, err, api.CodeResourceNotFoundException)
}
