package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/localcasestest"
)

func event(t *testing.T, js string) Event {
	t.Helper()
	var ev Event
	if err := json.Unmarshal([]byte(js), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestApplyIsIdempotentAndOrdered(t *testing.T) {
	c := NewConsumer()
	created := event(t, `{"id":"1","detail":{"eventType":"CASE.CREATED","approximateChangeTime":"2026-12-04T10:00:00.001Z","case":{"caseId":"c","fields":{"status":{"value":{"stringValue":"open"}},"title":{"value":{"stringValue":"a"}}}}}}`)
	closed := event(t, `{"id":"2","detail":{"eventType":"CASE.UPDATED","approximateChangeTime":"2026-12-04T10:00:00.002Z","case":{"caseId":"c","fields":{"status":{"value":{"stringValue":"closed"}},"title":{"value":{"stringValue":"a"}}}}}}`)
	comment := event(t, `{"id":"3","detail":{"eventType":"RELATED_ITEM.CREATED","approximateChangeTime":"2026-12-04T10:00:00.003Z","relatedItem":{"caseId":"c","relatedItemId":"r1","relatedItemType":"Comment"}}}`)
	// The update arrives first, the creation late and twice, the comment twice.
	for _, ev := range []Event{closed, comment, created, created, comment} {
		c.Apply(ev)
	}
	st := c.State()
	want := Case{CaseID: "c", Status: "closed", Title: "a", Changed: closed.Detail.ApproximateChangeTime, RelatedItems: []string{"r1"}}
	if !reflect.DeepEqual(st.Cases["c"], want) {
		t.Errorf("case %+v, want %+v", st.Cases["c"], want)
	}
	if st.Applied != 2 || st.Duplicates != 2 || st.Stale != 1 {
		t.Errorf("applied %d, duplicates %d, stale %d; want 2, 2, 1", st.Applied, st.Duplicates, st.Stale)
	}
}

// TestUnderDuplicateAndReorderFaults runs the consumer as the webhook of a
// real localcases server whose event rules duplicate and reorder a third
// of the events each, drives cases with the Go SDK, and checks that the
// projection matches the server's own state.
func TestUnderDuplicateAndReorderFaults(t *testing.T) {
	ctx := context.Background()
	consumer := NewConsumer()
	hook := httptest.NewServer(consumer)
	defer hook.Close()
	srv := localcasestest.New(t, localcasestest.WithSeed(7), localcasestest.WithEventSink("consumer", hook.URL+"/events", ""))
	p := 0.3
	err := srv.Faults().Add(
		fault.Rule{ID: "dup", Sink: "consumer", Action: fault.ActionDuplicate, Probability: &p},
		fault.Rule{ID: "swap", Sink: "consumer", Action: fault.ActionReorder, Probability: &p},
	)
	if err != nil {
		t.Fatal(err)
	}

	cc := srv.Client()
	domain := ok[*connectcases.CreateDomainOutput](t)(cc.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("consumer")})).DomainId
	tpl := ok[*connectcases.CreateTemplateOutput](t)(cc.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: domain, Name: aws.String("t")})).TemplateId
	ok[*connectcases.PutCaseEventConfigurationOutput](t)(cc.PutCaseEventConfiguration(ctx, &connectcases.PutCaseEventConfigurationInput{
		DomainId: domain, EventBridge: &types.EventBridgeConfiguration{
			Enabled: aws.Bool(true),
			IncludedData: &types.EventIncludedData{CaseData: &types.CaseEventIncludedData{
				Fields: []types.FieldIdentifier{{Id: aws.String("status")}, {Id: aws.String("title")}},
			}},
		},
	}))
	str := func(id, v string) types.FieldValue {
		return types.FieldValue{Id: aws.String(id), Value: &types.FieldValueUnionMemberStringValue{Value: v}}
	}
	// A case's changes must carry distinct approximateChangeTimes for
	// their order to be known (AWS gives milliseconds): a pause between
	// calls, not a bound on anything.
	pause := func() { time.Sleep(2 * time.Millisecond) }
	want := map[string]Case{}
	for i := range 8 {
		id := *ok[*connectcases.CreateCaseOutput](t)(cc.CreateCase(ctx, &connectcases.CreateCaseInput{
			DomainId: domain, TemplateId: tpl, Fields: []types.FieldValue{str("title", fmt.Sprint("case ", i))},
		})).CaseId
		pause()
		c := Case{CaseID: id, Status: "open", Title: fmt.Sprint("case ", i)}
		if i%2 == 0 {
			ok[*connectcases.UpdateCaseOutput](t)(cc.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: domain, CaseId: &id, Fields: []types.FieldValue{str("status", "closed")}}))
			c.Status = "closed"
			pause()
		}
		ok[*connectcases.UpdateCaseOutput](t)(cc.UpdateCase(ctx, &connectcases.UpdateCaseInput{DomainId: domain, CaseId: &id, Fields: []types.FieldValue{str("title", fmt.Sprint("renamed ", i))}}))
		c.Title = fmt.Sprint("renamed ", i)
		pause()
		item := ok[*connectcases.CreateRelatedItemOutput](t)(cc.CreateRelatedItem(ctx, &connectcases.CreateRelatedItemInput{
			DomainId: domain, CaseId: &id, Type: types.RelatedItemTypeComment,
			Content: &types.RelatedItemInputContentMemberComment{Value: types.CommentContent{Body: aws.String("hi"), ContentType: types.CommentBodyTextTypePlaintext}},
		}))
		c.RelatedItems = []string{*item.RelatedItemId}
		pause()
		if i%3 == 0 {
			ok[*connectcases.DeleteCaseOutput](t)(cc.DeleteCase(ctx, &connectcases.DeleteCaseInput{DomainId: domain, CaseId: &id}))
			c.Deleted = true
			pause()
		}
		want[id] = c
	}

	// Every event is done once the sink's cursor reaches the end of the
	// outbox: reordered ones are held back until delivered.
	deadline := time.Now().Add(60 * time.Second)
	for {
		sinks, err := srv.Admin().Sinks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sinks[0].Lag == 0 && sinks[0].Cursor > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sink did not catch up: %+v", sinks[0])
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The truth, from the server itself.
	for id, c := range want {
		out, err := cc.GetCase(ctx, &connectcases.GetCaseInput{DomainId: domain, CaseId: aws.String(id),
			Fields: []types.FieldIdentifier{{Id: aws.String("status")}, {Id: aws.String("title")}}})
		var nf *types.ResourceNotFoundException
		switch {
		case c.Deleted && errors.As(err, &nf):
		case err != nil:
			t.Fatalf("GetCase %s: %v", id, err)
		default:
			got := map[string]string{}
			for _, f := range out.Fields {
				got[*f.Id] = f.Value.(*types.FieldValueUnionMemberStringValue).Value
			}
			if got["status"] != c.Status || got["title"] != c.Title {
				t.Fatalf("the test's own record of case %s is %+v, the server has %v", id, c, got)
			}
		}
	}
	st := consumer.State()
	for id, c := range want {
		got := st.Cases[id]
		got.Changed = time.Time{}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("case %s: the consumer has %+v, want %+v", id, got, c)
		}
	}
	rep, err := srv.Admin().Report(ctx)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[fault.Action]int{}
	for _, c := range rep.EventFaults {
		actions[c.Action] += c.Events
	}
	if actions[fault.ActionDuplicate] == 0 || actions[fault.ActionReorder] == 0 || st.Duplicates != actions[fault.ActionDuplicate] {
		t.Errorf("faults %v, consumer duplicates %d: want both faults to have fired, each duplicate seen", actions, st.Duplicates)
	}
	t.Logf("applied %d events, ignored %d duplicates and %d late ones; faults %v", st.Applied, st.Duplicates, st.Stale, actions)
}

// ok returns v, failing the test on err.
func ok[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
