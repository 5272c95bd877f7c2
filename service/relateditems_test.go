package service

import (
	"strings"
	"testing"
	"time"

	"github.com/localcases/localcases/api"
)

const csContact = "arn:aws:connect:us-east-1:123456789012:instance/i/contact/c1"

func csComment(body string) api.RelatedItemInputContent {
	return api.RelatedItemInputContent{Comment: &api.CommentContent{Body: &body, ContentType: ptr(api.CommentBodyTextTypeTextPlain)}}
}

func csSla(name, fieldID string, minutes int64, target string) api.RelatedItemInputContent {
	return api.RelatedItemInputContent{Sla: &api.SlaInputContent{SlaInputConfiguration: &api.SlaInputConfiguration{
		Name: &name, Type: ptr(api.SlaTypeCaseField), FieldId: &fieldID, TargetSlaMinutes: &minutes,
		TargetFieldValues: []api.FieldValueUnion{{StringValue: &target}},
	}}}
}

func (e *csEnv) items(caseID string, filters ...api.RelatedItemTypeFilter) []api.SearchRelatedItemsResponseItem {
	e.t.Helper()
	var all []api.SearchRelatedItemsResponseItem
	var tok *string
	for {
		out, err := e.s.SearchRelatedItems(e.ctx, &api.SearchRelatedItemsRequest{DomainId: &e.domain, CaseId: &caseID,
			Filters: filters, NextToken: tok, MaxResults: api.Int32(2)})
		if err != nil {
			e.t.Fatalf("SearchRelatedItems: %v", err)
		}
		all = append(all, out.RelatedItems...)
		if tok = out.NextToken; tok == nil {
			return all
		}
	}
}

func TestCreateRelatedItemTypes(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	custom := e.field("cf", api.FieldTypeText)
	num := e.field("cn", api.FieldTypeNumber)
	id := e.mustCase()
	other := e.mustCase()
	user := "arn:aws:connect:us-east-1:123456789012:instance/i/user/u"

	contactID := e.mustRelate(id, api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: api.String(csContact)}})
	out, err := e.s.CreateRelatedItem(e.ctx, &api.CreateRelatedItemRequest{DomainId: &e.domain, CaseId: &id,
		Type: ptr(api.RelatedItemTypeComment), Content: ptr(csComment("hello")), PerformedBy: &api.UserUnion{UserArn: &user}})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.s.arn("domain/%s/case/%s/related-item/%s", e.domain, id, *out.RelatedItemId); *out.RelatedItemArn != want {
		t.Errorf("arn = %s", *out.RelatedItemArn)
	}
	e.mustRelate(id, api.RelatedItemTypeFile, api.RelatedItemInputContent{File: &api.FileContent{FileArn: api.String("arn:aws:connect:::file/f")}})
	e.mustRelate(id, api.RelatedItemTypeConnectCase, api.RelatedItemInputContent{ConnectCase: &api.ConnectCaseInputContent{CaseId: &other}})
	e.mustRelate(id, api.RelatedItemTypeCustom, api.RelatedItemInputContent{Custom: &api.CustomInputContent{Fields: []api.FieldValue{sv(custom, "v"), nv(num, 3)}}})
	e.mustRelate(id, api.RelatedItemTypeSla, csSla("resolve", "status", 60, "closed"))

	items := e.items(id)
	if len(items) != 6 {
		t.Fatalf("%d items", len(items))
	}
	// Newest first.
	wantOrder := []api.RelatedItemType{api.RelatedItemTypeSla, api.RelatedItemTypeCustom, api.RelatedItemTypeConnectCase,
		api.RelatedItemTypeFile, api.RelatedItemTypeComment, api.RelatedItemTypeContact}
	for i, it := range items {
		if *it.Type != wantOrder[i] {
			t.Errorf("item %d is %s, want %s", i, *it.Type, wantOrder[i])
		}
		if it.Tags == nil || it.AssociationTime == nil {
			t.Errorf("item %d lacks tags or associationTime", i)
		}
	}
	if c := items[5].Content.Contact; *items[5].RelatedItemId != contactID || *c.Channel != "VOICE" || c.ConnectedToSystemTime == nil {
		t.Errorf("contact content = %s", csJSON(c))
	}
	if *items[4].PerformedBy.UserArn != user {
		t.Errorf("comment performedBy = %s", csJSON(items[4].PerformedBy))
	}
	sla := items[0].Content.Sla.SlaConfiguration
	if *sla.Status != api.SlaStatusActive || sla.TargetTime == nil || sla.CompletionTime != nil {
		t.Errorf("sla = %s", csJSON(sla))
	}
	if got := e.get(id, "next_sla_breach_datetime")["next_sla_breach_datetime"]; got == nil {
		t.Error("next_sla_breach_datetime not set")
	} else if tt, _ := parseTime(*got.StringValue); !tt.Equal(sla.TargetTime.Time) {
		t.Errorf("next_sla_breach_datetime = %s, target %s", *got.StringValue, sla.TargetTime.Time)
	}

	events := e.audit(id)
	if len(events) != 7 || *events[0].Type != api.AuditEventTypeRelatedItemCreated || *events[0].RelatedItemType != api.RelatedItemTypeSla {
		t.Errorf("audit = %s", csJSON(events[:2]))
	}
}

func TestCreateRelatedItemErrors(t *testing.T) {
	e := csNewEnv(t, Quotas{RelatedItemsPerCase: 4, FilesPerCase: 1, SLAsPerCase: 1, FieldsPerCustomItem: 2})
	custom := e.field("cf", api.FieldTypeText)
	c2 := e.field("c2", api.FieldTypeText)
	c3 := e.field("c3", api.FieldTypeText)
	gone := e.field("gone", api.FieldTypeText)
	e.deleteField(gone)
	id := e.mustCase()
	file := api.RelatedItemInputContent{File: &api.FileContent{FileArn: api.String("arn:f")}}
	customOf := func(f ...api.FieldValue) api.RelatedItemInputContent {
		return api.RelatedItemInputContent{Custom: &api.CustomInputContent{Fields: f}}
	}
	tests := []struct {
		name string
		typ  api.RelatedItemType
		c    api.RelatedItemInputContent
		want api.ErrorCode
	}{
		{"type mismatch", api.RelatedItemTypeFile, csComment("x"), api.CodeValidationException},
		{"unknown linked case", api.RelatedItemTypeConnectCase, api.RelatedItemInputContent{ConnectCase: &api.ConnectCaseInputContent{CaseId: api.String("nope")}}, api.CodeResourceNotFoundException},
		{"self link", api.RelatedItemTypeConnectCase, api.RelatedItemInputContent{ConnectCase: &api.ConnectCaseInputContent{CaseId: &id}}, api.CodeValidationException},
		{"custom system field", api.RelatedItemTypeCustom, customOf(sv("title", "x")), api.CodeValidationException},
		{"custom unknown field", api.RelatedItemTypeCustom, customOf(sv("nope", "x")), api.CodeValidationException},
		{"custom deleted field", api.RelatedItemTypeCustom, customOf(sv(gone, "x")), api.CodeValidationException},
		{"custom wrong type", api.RelatedItemTypeCustom, customOf(nv(custom, 1)), api.CodeValidationException},
		{"custom duplicate", api.RelatedItemTypeCustom, customOf(sv(custom, "a"), sv(custom, "b")), api.CodeValidationException},
		{"custom too many fields", api.RelatedItemTypeCustom, customOf(sv(custom, "a"), sv(c2, "b"), sv(c3, "c")), api.CodeServiceQuotaExceededException},
		{"sla unknown field", api.RelatedItemTypeSla, csSla("s", "nope", 5, "x"), api.CodeValidationException},
		{"sla bad target option", api.RelatedItemTypeSla, csSla("s", "status", 5, "nope"), api.CodeValidationException},
		{"file ok", api.RelatedItemTypeFile, file, ""},
		{"second file over quota", api.RelatedItemTypeFile, file, api.CodeServiceQuotaExceededException},
		{"sla ok", api.RelatedItemTypeSla, csSla("s", "status", 5, "closed"), ""},
		{"second sla over quota", api.RelatedItemTypeSla, csSla("s2", "status", 5, "closed"), api.CodeServiceQuotaExceededException},
		{"third item", api.RelatedItemTypeComment, csComment("a"), ""},
		{"fourth item", api.RelatedItemTypeComment, csComment("b"), ""},
		{"fifth item over quota", api.RelatedItemTypeComment, csComment("c"), api.CodeServiceQuotaExceededException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.relate(id, tc.typ, tc.c)
			csWant(t, err, tc.want)
		})
	}
	_, err := e.relate("nope", api.RelatedItemTypeComment, csComment("x"))
	csWant(t, err, api.CodeResourceNotFoundException)
}

func TestSlaLifecycle(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	id := e.mustCase()
	met := e.mustRelate(id, api.RelatedItemTypeSla, csSla("fast", "status", 60, "closed"))
	e.mustRelate(id, api.RelatedItemTypeSla, csSla("late", "summary", 1, "done"))
	e.clock.advance(2 * time.Minute)
	status := func() map[string]*api.SlaConfiguration {
		m := map[string]*api.SlaConfiguration{}
		for _, it := range e.items(id) {
			cfg := it.Content.Sla.SlaConfiguration
			m[*cfg.Name] = cfg
		}
		return m
	}
	s := status()
	if *s["fast"].Status != api.SlaStatusActive || *s["late"].Status != api.SlaStatusOverdue {
		t.Fatalf("statuses = %s", csJSON(s))
	}
	e.mustUpdate(id, sv("status", "closed"), sv("summary", "done"))
	s = status()
	if *s["fast"].Status != api.SlaStatusMet || s["fast"].CompletionTime == nil || *s["late"].Status != api.SlaStatusNotMet {
		t.Fatalf("after completion = %s", csJSON(s))
	}
	if got := e.get(id, "next_sla_breach_datetime"); len(got) != 0 {
		t.Errorf("next_sla_breach_datetime = %s with no open SLA", csJSON(got))
	}
	filtered := e.items(id, api.RelatedItemTypeFilter{Sla: &api.SlaFilter{Status: ptr(api.SlaStatusMet)}})
	if len(filtered) != 1 || *filtered[0].RelatedItemId != met {
		t.Errorf("sla status filter = %s", csJSON(filtered))
	}
}

func TestUpdateRelatedItem(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	f1 := e.field("f1", api.FieldTypeText)
	f2 := e.field("f2", api.FieldTypeText)
	id := e.mustCase()
	author := "arn:aws:connect:us-east-1:123456789012:instance/i/user/author"
	editor := "arn:aws:connect:us-east-1:123456789012:instance/i/user/editor"
	cout, err := e.s.CreateRelatedItem(e.ctx, &api.CreateRelatedItemRequest{DomainId: &e.domain, CaseId: &id,
		Type: ptr(api.RelatedItemTypeComment), Content: ptr(csComment("first")), PerformedBy: &api.UserUnion{UserArn: &author}})
	if err != nil {
		t.Fatal(err)
	}
	comment := *cout.RelatedItemId
	custom := e.mustRelate(id, api.RelatedItemTypeCustom, api.RelatedItemInputContent{Custom: &api.CustomInputContent{Fields: []api.FieldValue{sv(f1, "a"), sv(f2, "b")}}})
	contact := e.mustRelate(id, api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: api.String(csContact)}})
	upd := func(itemID string, c api.RelatedItemUpdateContent, by *api.UserUnion) (*api.UpdateRelatedItemResponse, error) {
		return e.s.UpdateRelatedItem(e.ctx, &api.UpdateRelatedItemRequest{DomainId: &e.domain, CaseId: &id, RelatedItemId: &itemID, Content: &c, PerformedBy: by})
	}
	out, err := upd(comment, api.RelatedItemUpdateContent{Comment: &api.CommentUpdateContent{Body: api.String("second"), ContentType: ptr(api.CommentBodyTextTypeTextPlain)}}, &api.UserUnion{UserArn: &editor})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Content.Comment.Body != "second" || *out.CreatedBy.UserArn != author || *out.LastUpdatedUser.UserArn != editor || *out.Type != api.RelatedItemTypeComment || out.Tags == nil {
		t.Errorf("update response = %s", csJSON(out))
	}
	// Custom replaces the whole set: f2 is gone afterwards.
	out, err = upd(custom, api.RelatedItemUpdateContent{Custom: &api.CustomUpdateContent{Fields: []api.FieldValue{sv(f1, "z")}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Content.Custom.Fields) != 1 || *out.Content.Custom.Fields[0].Value.StringValue != "z" {
		t.Errorf("custom after update = %s", csJSON(out.Content))
	}
	_, err = upd(contact, api.RelatedItemUpdateContent{Comment: &api.CommentUpdateContent{Body: api.String("x")}}, nil)
	csWant(t, err, api.CodeValidationException)
	_, err = upd(comment, api.RelatedItemUpdateContent{Custom: &api.CustomUpdateContent{Fields: []api.FieldValue{sv(f1, "z")}}}, nil)
	csWant(t, err, api.CodeValidationException)
	_, err = upd("nope", api.RelatedItemUpdateContent{Comment: &api.CommentUpdateContent{Body: api.String("x")}}, nil)
	csWant(t, err, api.CodeResourceNotFoundException)

	events := e.audit(id)
	if *events[0].Type != api.AuditEventTypeRelatedItemUpdated || *events[0].RelatedItemType != api.RelatedItemTypeCustom {
		t.Fatalf("latest event = %s", csJSON(events[0]))
	}
	fields := map[string]api.AuditEventField{}
	for _, f := range events[0].Fields {
		fields[*f.EventFieldId] = f
	}
	if f := fields[f2]; f.NewValue == nil || f.NewValue.EmptyValue == nil || *f.OldValue.StringValue != "b" {
		t.Errorf("removed custom field audit = %s", csJSON(events[0].Fields))
	}
	if *fields["relatedItemId"].NewValue.StringValue != custom {
		t.Errorf("event does not name the item")
	}
}

func TestDeleteRelatedItem(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	id := e.mustCase()
	c1 := e.mustRelate(id, api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: api.String(csContact)}})
	c2 := e.mustRelate(id, api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: api.String(csContact)}})
	file := e.mustRelate(id, api.RelatedItemTypeFile, api.RelatedItemInputContent{File: &api.FileContent{FileArn: api.String("arn:f")}})
	sla := e.mustRelate(id, api.RelatedItemTypeSla, csSla("s", "status", 30, "closed"))
	del := func(itemID string) error {
		_, err := e.s.DeleteRelatedItem(e.ctx, &api.DeleteRelatedItemRequest{DomainId: &e.domain, CaseId: &id, RelatedItemId: &itemID})
		return err
	}
	linked := func() int {
		out, err := e.s.ListCasesForContact(e.ctx, &api.ListCasesForContactRequest{DomainId: &e.domain, ContactArn: api.String(csContact)})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Cases)
	}
	csWant(t, del(file), api.CodeValidationException)
	csWant(t, del("nope"), api.CodeResourceNotFoundException)
	if err := del(c1); err != nil {
		t.Fatal(err)
	}
	if linked() != 1 {
		t.Error("deleting one of two contact items unlinked the case")
	}
	if err := del(c2); err != nil {
		t.Fatal(err)
	}
	if linked() != 0 {
		t.Error("case still linked after its last contact item went")
	}
	if err := del(sla); err != nil {
		t.Fatal(err)
	}
	if got := e.get(id, "next_sla_breach_datetime"); len(got) != 0 {
		t.Errorf("next_sla_breach_datetime survives its SLA")
	}
	csWant(t, del(c1), api.CodeResourceNotFoundException)
	items := e.items(id)
	if len(items) != 1 || *items[0].RelatedItemId != file {
		t.Errorf("remaining = %s", csJSON(items))
	}
	events := e.audit(id)
	if *events[0].Type != api.AuditEventTypeRelatedItemDeleted || *events[0].RelatedItemType != api.RelatedItemTypeSla {
		t.Errorf("latest event = %s", csJSON(events[0]))
	}
}

func TestSearchRelatedItemsFilters(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	f1 := e.field("f1", api.FieldTypeText)
	n1 := e.field("n1", api.FieldTypeNumber)
	id := e.mustCase()
	other := e.mustCase()
	contact := e.mustRelate(id, api.RelatedItemTypeContact, api.RelatedItemInputContent{Contact: &api.Contact{ContactArn: api.String(csContact)}})
	comment := e.mustRelate(id, api.RelatedItemTypeComment, csComment("c"))
	file := e.mustRelate(id, api.RelatedItemTypeFile, api.RelatedItemInputContent{File: &api.FileContent{FileArn: api.String("arn:f1")}})
	e.mustRelate(id, api.RelatedItemTypeFile, api.RelatedItemInputContent{File: &api.FileContent{FileArn: api.String("arn:f2")}})
	link := e.mustRelate(id, api.RelatedItemTypeConnectCase, api.RelatedItemInputContent{ConnectCase: &api.ConnectCaseInputContent{CaseId: &other}})
	big := e.mustRelate(id, api.RelatedItemTypeCustom, api.RelatedItemInputContent{Custom: &api.CustomInputContent{Fields: []api.FieldValue{sv(f1, "Alpha"), nv(n1, 10)}}})
	small := e.mustRelate(id, api.RelatedItemTypeCustom, api.RelatedItemInputContent{Custom: &api.CustomInputContent{Fields: []api.FieldValue{sv(f1, "beta"), nv(n1, 1)}}})
	ids := func(items []api.SearchRelatedItemsResponseItem) string {
		var out []string
		for _, it := range items {
			out = append(out, *it.RelatedItemId)
		}
		return strings.Join(out, ",")
	}
	gt5 := &api.CustomFieldsFilter{Field: &api.FieldFilter{GreaterThan: &api.FieldValue{Id: &n1, Value: &api.FieldValueUnion{DoubleValue: api.Float64(5)}}}}
	tests := []struct {
		name    string
		filters []api.RelatedItemTypeFilter
		want    []string
	}{
		{"comment", []api.RelatedItemTypeFilter{{Comment: &api.CommentFilter{}}}, []string{comment}},
		{"file by arn", []api.RelatedItemTypeFilter{{File: &api.FileFilter{FileArn: api.String("arn:f1")}}}, []string{file}},
		{"contact channel", []api.RelatedItemTypeFilter{{Contact: &api.ContactFilter{Channel: []string{"VOICE"}, ContactArn: api.String(csContact)}}}, []string{contact}},
		{"contact other channel", []api.RelatedItemTypeFilter{{Contact: &api.ContactFilter{Channel: []string{"CHAT"}}}}, nil},
		{"connect case", []api.RelatedItemTypeFilter{{ConnectCase: &api.ConnectCaseFilter{CaseId: &other}}}, []string{link}},
		{"custom gt", []api.RelatedItemTypeFilter{{Custom: &api.CustomFilter{Fields: gt5}}}, []string{big}},
		{"custom not", []api.RelatedItemTypeFilter{{Custom: &api.CustomFilter{Fields: &api.CustomFieldsFilter{Not: gt5}}}}, []string{small}},
		{"custom contains", []api.RelatedItemTypeFilter{{Custom: &api.CustomFilter{Fields: &api.CustomFieldsFilter{Field: &api.FieldFilter{Contains: &api.FieldValue{Id: &f1, Value: &api.FieldValueUnion{StringValue: api.String("ALP")}}}}}}}, []string{big}},
		{"or of filters", []api.RelatedItemTypeFilter{{Comment: &api.CommentFilter{}}, {ConnectCase: &api.ConnectCaseFilter{}}}, []string{link, comment}},
	}
	for _, tc := range tests {
		if got := ids(e.items(id, tc.filters...)); got != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %s, want %s", tc.name, got, strings.Join(tc.want, ","))
		}
	}
	_, err := e.s.SearchRelatedItems(e.ctx, &api.SearchRelatedItemsRequest{DomainId: &e.domain, CaseId: &id, Filters: []api.RelatedItemTypeFilter{
		{Custom: &api.CustomFilter{Fields: &api.CustomFieldsFilter{Field: &api.FieldFilter{EqualTo: &api.FieldValue{Id: api.String("nope"), Value: &api.FieldValueUnion{StringValue: api.String("x")}}}}}}}})
	csWant(t, err, api.CodeValidationException)
	// A token is bound to its filters.
	out, err := e.s.SearchRelatedItems(e.ctx, &api.SearchRelatedItemsRequest{DomainId: &e.domain, CaseId: &id, MaxResults: api.Int32(1)})
	if err != nil || out.NextToken == nil {
		t.Fatal(err)
	}
	_, err = e.s.SearchRelatedItems(e.ctx, &api.SearchRelatedItemsRequest{DomainId: &e.domain, CaseId: &id, NextToken: out.NextToken,
		Filters: []api.RelatedItemTypeFilter{{Comment: &api.CommentFilter{}}}})
	csWant(t, err, api.CodeValidationException)
}

func TestSearchAllRelatedItems(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	var cases []string
	type item struct{ id, caseID string }
	var made []item
	for range 4 {
		c := e.mustCase()
		cases = append(cases, c)
		for range 3 {
			made = append(made, item{e.mustRelate(c, api.RelatedItemTypeComment, csComment("x")), c})
		}
		e.mustRelate(c, api.RelatedItemTypeFile, api.RelatedItemInputContent{File: &api.FileContent{FileArn: api.String("arn:f")}})
	}
	walk := func(sorts []api.SearchAllRelatedItemsSort) []api.SearchAllRelatedItemsResponseItem {
		var all []api.SearchAllRelatedItemsResponseItem
		var tok *string
		for {
			out, err := e.s.SearchAllRelatedItems(e.ctx, &api.SearchAllRelatedItemsRequest{DomainId: &e.domain, MaxResults: api.Int32(5),
				NextToken: tok, Sorts: sorts, Filters: []api.RelatedItemTypeFilter{{Comment: &api.CommentFilter{}}}})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, out.RelatedItems...)
			if tok = out.NextToken; tok == nil {
				return all
			}
		}
	}
	got := walk(nil)
	if len(got) != len(made) {
		t.Fatalf("%d items, want %d", len(got), len(made))
	}
	for i, it := range got { // newest first
		want := made[len(made)-1-i]
		if *it.RelatedItemId != want.id || *it.CaseId != want.caseID {
			t.Errorf("item %d = %s/%s, want %s/%s", i, *it.CaseId, *it.RelatedItemId, want.caseID, want.id)
		}
	}
	got = walk([]api.SearchAllRelatedItemsSort{
		{SortProperty: ptr(api.SearchAllRelatedItemsSortPropertyCaseId), SortOrder: ptr(api.OrderAsc)},
		{SortProperty: ptr(api.SearchAllRelatedItemsSortPropertyAssociationTime), SortOrder: ptr(api.OrderAsc)},
	})
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if *a.CaseId > *b.CaseId || (*a.CaseId == *b.CaseId && a.AssociationTime.After(b.AssociationTime.Time)) {
			t.Errorf("items %d and %d out of order", i-1, i)
		}
	}
	if len(got) != len(made) {
		t.Errorf("sorted walk returned %d items", len(got))
	}
}
