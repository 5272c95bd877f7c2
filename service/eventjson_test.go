package service

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/localcases/localcases/api"
)

// TestAppendEnvelope holds appendEnvelope to json.Marshal's encoding of
// the same envelope, byte for byte.
func TestAppendEnvelope(t *testing.T) {
	base := func(d eventDetail) eventEnvelope {
		return eventEnvelope{Version: "0", ID: "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", DetailType: EventDetailType,
			Source: EventSource, Account: "000000000000", Time: "2026-12-04T16:00:01Z", Region: "us-east-1",
			Resources: []string{"arn:aws:cases:us-east-1:000000000000:domain/d", "arn:aws:cases:us-east-1:000000000000:domain/d/case/c"},
			Detail:    d}
	}
	created := "2026-12-04T16:00:00.123Z"
	user := &api.UserUnion{UserArn: api.String("arn:aws:connect:us-east-1:000000000000:instance/i/agent/a")}
	custom := &api.UserUnion{CustomEntity: api.String(`a "custom" <entity> & co`)}
	cases := map[string]eventDetail{
		"created, no case data": {Version: "0", EventType: EventCaseCreated, ApproximateChangeTime: created,
			ChangedFieldIDs: []string{}, Case: &eventCase{CaseID: "c", TemplateID: "t", CreatedDateTime: created}},
		"empty fields": {Version: "0", EventType: EventCaseCreated, ApproximateChangeTime: created,
			ChangedFieldIDs: []string{"status", "title"}, PerformedBy: eventPerformedBy{User: user, IAMPrincipalARN: "arn:aws:iam::000000000000:root"},
			Case: &eventCase{CaseID: "c", TemplateID: "t", CreatedDateTime: created, CaseARN: "arn:c", Fields: map[string]eventFieldValue{}}},
		"every kind of value": {Version: "0", EventType: EventCaseUpdated, ApproximateChangeTime: created,
			ChangedFieldIDs: []string{"z", "a"}, PerformedBy: eventPerformedBy{User: custom},
			Case: &eventCase{CaseID: "c", TemplateID: "t", CreatedDateTime: created, Fields: map[string]eventFieldValue{
				"title":  {Value: &api.FieldValueUnion{StringValue: api.String("plain")}},
				"html":   {Value: &api.FieldValueUnion{StringValue: api.String("<b>a & b</b>")}},
				"ctl":    {Value: &api.FieldValueUnion{StringValue: api.String("line\nnext\ttab\x01\x7f\"q\" \\")}},
				"utf8":   {Value: &api.FieldValueUnion{StringValue: api.String("café \u2028 ☃ \xff")}},
				"empty":  {Value: &api.FieldValueUnion{StringValue: api.String("")}},
				"double": {Value: &api.FieldValueUnion{DoubleValue: ptr(1e21)}},
				"small":  {Value: &api.FieldValueUnion{DoubleValue: ptr(1.5e-7)}},
				"bool":   {Value: &api.FieldValueUnion{BooleanValue: ptr(false)}},
				"user":   {Value: &api.FieldValueUnion{UserArnValue: api.String("arn:u")}},
				"blank":  {Value: &api.FieldValueUnion{EmptyValue: &api.EmptyFieldValue{}}},
			}}},
		"related item": {Version: "0", EventType: EventRelatedItemCreated, ApproximateChangeTime: created,
			ChangedAttributes: []string{"comment.commentText"},
			RelatedItem: &eventRelatedItem{RelatedItemType: "Comment", RelatedItemID: "r", CaseID: "c", CreatedDateTime: created,
				RelatedItemContent: &api.RelatedItemContent{Comment: &api.CommentContent{Body: api.String("hi <there>")}}}},
		"related item, no content": {Version: "0", EventType: EventRelatedItemDeleted, ApproximateChangeTime: created,
			ChangedAttributes: []string{}, RelatedItem: &eventRelatedItem{RelatedItemType: "Contact", RelatedItemID: "r", CaseID: "c", CreatedDateTime: created}},
	}
	for name, d := range cases {
		env := base(d)
		want, err := json.Marshal(&env)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendEnvelope(nil, &env)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}
