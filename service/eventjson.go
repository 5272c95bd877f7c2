package service

import (
	"encoding/json"
	"sort"
	"unicode/utf8"
)

// appendEnvelope appends env as json.Marshal encodes it, byte for byte
// (TestAppendEnvelope holds the two together). The members of every case
// event are appended in place; the rarer parts (a user, a related item's
// content, a double value) go through json.Marshal. A case change's event
// is built in the store's transaction, in SQLite's one writer, so what it
// costs there is taken from every other change.
func appendEnvelope(b []byte, env *eventEnvelope) ([]byte, error) {
	b = append(b, `{"version":`...)
	b = appendJSONString(b, env.Version)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, env.ID)
	b = append(b, `,"detail-type":`...)
	b = appendJSONString(b, env.DetailType)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, env.Source)
	b = append(b, `,"account":`...)
	b = appendJSONString(b, env.Account)
	b = append(b, `,"time":`...)
	b = appendJSONString(b, env.Time)
	b = append(b, `,"region":`...)
	b = appendJSONString(b, env.Region)
	b = append(b, `,"resources":`...)
	b = appendJSONStrings(b, env.Resources)
	d := &env.Detail
	b = append(b, `,"detail":{"version":`...)
	b = appendJSONString(b, d.Version)
	b = append(b, `,"eventType":`...)
	b = appendJSONString(b, d.EventType)
	b = append(b, `,"approximateChangeTime":`...)
	b = appendJSONString(b, d.ApproximateChangeTime)
	if d.ChangedFieldIDs != nil {
		b = append(b, `,"changedFieldIds":`...)
		b = appendJSONStrings(b, d.ChangedFieldIDs)
	}
	b = append(b, `,"performedBy":{`...)
	if d.PerformedBy.User != nil {
		b = append(b, `"user":`...)
		u, err := json.Marshal(d.PerformedBy.User)
		if err != nil {
			return nil, err
		}
		b = append(append(b, u...), ',')
	}
	b = append(b, `"iamPrincipalArn":`...)
	b = appendJSONString(b, d.PerformedBy.IAMPrincipalARN)
	b = append(b, '}')
	if d.ChangedAttributes != nil {
		b = append(b, `,"changedAttributes":`...)
		b = appendJSONStrings(b, d.ChangedAttributes)
	}
	if c := d.Case; c != nil {
		var err error
		if b, err = appendEventCase(append(b, `,"case":`...), c); err != nil {
			return nil, err
		}
	}
	if d.RelatedItem != nil {
		ri, err := json.Marshal(d.RelatedItem)
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"relatedItem":`...), ri...)
	}
	return append(b, "}}"...), nil
}

func appendEventCase(b []byte, c *eventCase) ([]byte, error) {
	b = append(b, `{"caseId":`...)
	b = appendJSONString(b, c.CaseID)
	b = append(b, `,"templateId":`...)
	b = appendJSONString(b, c.TemplateID)
	b = append(b, `,"createdDateTime":`...)
	b = appendJSONString(b, c.CreatedDateTime)
	if c.CaseARN != "" {
		b = append(b, `,"caseArn":`...)
		b = appendJSONString(b, c.CaseARN)
	}
	if c.Fields != nil {
		b = append(b, `,"fields":{`...)
		ids := make([]string, 0, len(c.Fields))
		for id := range c.Fields {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendJSONString(b, id), ':')
			v := c.Fields[id]
			switch u := v.Value; {
			case u != nil && u.StringValue != nil && u.BooleanValue == nil && u.DoubleValue == nil && u.EmptyValue == nil && u.UserArnValue == nil:
				b = append(b, `{"value":{"stringValue":`...)
				b = append(appendJSONString(b, *u.StringValue), "}}"...)
			default:
				fv, err := json.Marshal(v)
				if err != nil {
					return nil, err
				}
				b = append(b, fv...)
			}
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s quoted. The strings of an event are nearly
// always printable ASCII with nothing to escape; any other goes through
// json.Marshal, so the escaping is encoding/json's own.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
