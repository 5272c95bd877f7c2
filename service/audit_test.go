package service

import (
	"fmt"
	"testing"

	"github.com/localcases/localcases/api"
)

func TestGetCaseAuditEventsPaging(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	n := e.field("n", api.FieldTypeNumber)
	id := e.mustCase()
	for i := 1; i <= 6; i++ {
		e.mustUpdate(id, nv(n, float64(i)))
	}
	page := func(tok *string, max int32) *api.GetCaseAuditEventsResponse {
		out, err := e.s.GetCaseAuditEvents(e.ctx, &api.GetCaseAuditEventsRequest{DomainId: &e.domain, CaseId: &id, NextToken: tok, MaxResults: &max})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	newValue := func(ev api.AuditEvent) string {
		for _, f := range ev.Fields {
			if *f.EventFieldId == n {
				return fmt.Sprint(*f.NewValue.DoubleValue)
			}
		}
		return string(*ev.Type)
	}
	p1 := page(nil, 3)
	if len(p1.AuditEvents) != 3 || p1.NextToken == nil {
		t.Fatalf("page 1 = %s", csJSON(p1))
	}
	// Events appended mid-walk belong before page 1 and must not shift
	// the pages still to come.
	e.mustUpdate(id, nv(n, 7))
	p2 := page(p1.NextToken, 3)
	p3 := page(p2.NextToken, 3)
	var got []string
	for _, p := range []*api.GetCaseAuditEventsResponse{p1, p2, p3} {
		for _, ev := range p.AuditEvents {
			got = append(got, newValue(ev))
		}
	}
	if fmt.Sprint(got) != "[6 5 4 3 2 1 Case.Created]" || p3.NextToken != nil {
		t.Errorf("walk = %v, last token %v", got, p3.NextToken)
	}
	for i := 1; i < len(p1.AuditEvents); i++ {
		if p1.AuditEvents[i].PerformedTime.After(p1.AuditEvents[i-1].PerformedTime.Time) {
			t.Errorf("events not newest first")
		}
	}
	if all := e.audit(id); len(all) != 8 || newValue(all[0]) != "7" {
		t.Errorf("full history = %d events, newest %s", len(all), newValue(all[0]))
	}
	// Exactly a page's worth leaves no token behind.
	if out := page(nil, 8); out.NextToken != nil {
		t.Error("token after the last event")
	}

	// Tokens are bound to their case and must be ours.
	other := e.mustCase()
	_, err := e.s.GetCaseAuditEvents(e.ctx, &api.GetCaseAuditEventsRequest{DomainId: &e.domain, CaseId: &other, NextToken: p1.NextToken})
	csWant(t, err, api.CodeValidationException)
	bad := *p1.NextToken + "x"
	_, err = e.s.GetCaseAuditEvents(e.ctx, &api.GetCaseAuditEventsRequest{DomainId: &e.domain, CaseId: &id, NextToken: &bad})
	csWant(t, err, api.CodeValidationException)
	_, err = e.s.GetCaseAuditEvents(e.ctx, &api.GetCaseAuditEventsRequest{DomainId: &e.domain, CaseId: api.String("nope")})
	csWant(t, err, api.CodeResourceNotFoundException)
}

func TestAuditEventPerformedBy(t *testing.T) {
	e := csNewEnv(t, Quotas{})
	id := e.mustCase()
	ctx := WithPrincipal(e.ctx, "arn:aws:iam::123456789012:user/alice")
	_, err := e.s.UpdateCase(ctx, &api.UpdateCaseRequest{DomainId: &e.domain, CaseId: &id,
		Fields: []api.FieldValue{sv("summary", "x")}, PerformedBy: &api.UserUnion{CustomEntity: api.String("bot-7")}})
	if err != nil {
		t.Fatal(err)
	}
	events := e.audit(id)
	pb := events[0].PerformedBy
	if *pb.IamPrincipalArn != "arn:aws:iam::123456789012:user/alice" || *pb.User.CustomEntity != "bot-7" {
		t.Errorf("performedBy = %s", csJSON(pb))
	}
	// A custom entity is not a user ARN: last_updated_user is left empty.
	if got := e.get(id, "last_updated_user"); len(got) != 0 {
		t.Errorf("last_updated_user = %s", csJSON(got))
	}
	for _, ev := range events {
		if ev.EventId == nil || ev.PerformedTime == nil || ev.Fields == nil {
			t.Errorf("incomplete event %s", csJSON(ev))
		}
	}
}
