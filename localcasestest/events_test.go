package localcasestest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/localcasestest"
)

func TestWaitEvents(t *testing.T) {
	srv := localcasestest.New(t)
	ctx := context.Background()
	c := srv.Client(noRetries)
	domain := createDomain(t, c, "events")
	if _, err := c.PutCaseEventConfiguration(ctx, &connectcases.PutCaseEventConfigurationInput{
		DomainId: &domain, EventBridge: &types.EventBridgeConfiguration{Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	tpl, err := c.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: &domain, Name: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	// A waiter started before the changes sees them as they commit; its
	// pattern keeps only the updates.
	type result struct {
		evs []localcasestest.Event
		err error
	}
	got := make(chan result, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		evs, _, err := srv.WaitEvents(wctx, localcasestest.EventQuery{DomainID: domain, Pattern: `{"detail":{"eventType":["CASE.UPDATED"]}}`}, 2)
		got <- result{evs, err}
	}()
	var ids []string
	for i := range 2 {
		out, err := c.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: &domain, TemplateId: tpl.TemplateId,
			Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: "t"}}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, *out.CaseId)
		if _, err := c.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: &domain, CaseId: out.CaseId,
			Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: strings.Repeat("u", i+1)}}}}); err != nil {
			t.Fatal(err)
		}
	}
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.evs) != 2 || r.evs[0].Type != "CASE.UPDATED" || r.evs[0].CaseID != ids[0] || r.evs[1].CaseID != ids[1] {
		t.Fatalf("WaitEvents = %+v", r.evs)
	}
	all, cursor, err := srv.Events(ctx, localcasestest.EventQuery{DomainID: domain})
	if err != nil || len(all) != 4 || all[0].Type != "CASE.CREATED" || all[0].ChangeTime.IsZero() || len(all[0].Resources) != 2 {
		t.Fatalf("Events = %+v, %v", all, err)
	}
	if rest, _, err := srv.Events(ctx, localcasestest.EventQuery{After: cursor}); err != nil || len(rest) != 0 {
		t.Errorf("after the cursor: %v, %v", rest, err)
	}
	// A wait that cannot be met ends with its context and says so.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if evs, _, err := srv.WaitEvents(short, localcasestest.EventQuery{After: cursor}, 1); err == nil || len(evs) != 0 {
		t.Errorf("an unmet wait = %v, %v", evs, err)
	}
	if _, _, err := srv.Events(ctx, localcasestest.EventQuery{Pattern: `{"detail":"x"}`}); err == nil || !strings.Contains(err.Error(), "event pattern") {
		t.Errorf("a bad pattern gave %v", err)
	}
}
