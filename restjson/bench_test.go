package restjson

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/localcases/localcases/api"
)

// The hot path of every call, piece by piece, with allocation counts so a
// regression shows in review: go test ./restjson -run '^$' -bench . -benchmem

const createCaseBody = `{"templateId":"t-1","clientToken":"tok-1","fields":[
{"id":"title","value":{"stringValue":"Printer on fire"}},
{"id":"summary","value":{"stringValue":"Customer reports the device does not power on after the update."}},
{"id":"priority","value":{"stringValue":"high"}},
{"id":"amount","value":{"doubleValue":42.5}},
{"id":"vip","value":{"booleanValue":true}}],
"tags":{"team":"support"}}`

func BenchmarkDecodeValidateCreateCase(b *testing.B) {
	body := []byte(createCaseBody)
	b.ReportAllocs()
	for b.Loop() {
		in := new(api.CreateCaseRequest)
		if err := decodeJSON(body, in); err != nil {
			b.Fatal(err)
		}
		in.DomainId = api.String("d-1")
		if err := in.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func getCaseOutput() *api.GetCaseResponse {
	out := &api.GetCaseResponse{TemplateId: api.String("t-1"), Tags: map[string]*string{"team": api.String("support")}}
	for _, id := range []string{"title", "summary", "status", "priority", "created_datetime", "last_updated_datetime"} {
		out.Fields = append(out.Fields, api.FieldValue{Id: api.String(id), Value: &api.FieldValueUnion{StringValue: api.String("value of " + id)}})
	}
	return out
}

func BenchmarkEncodeGetCase(b *testing.B) {
	out := getCaseOutput()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(out); err != nil {
			b.Fatal(err)
		}
	}
}

type fixedService struct {
	api.NotImplemented
	out *api.GetCaseResponse
}

func (f fixedService) GetCase(context.Context, *api.GetCaseRequest) (*api.GetCaseResponse, error) {
	return f.out, nil
}

// BenchmarkServeGetCase is the whole protocol layer around a service that
// answers at once: routing, binding, decoding, validation, encoding, the
// request ID and the response headers.
func BenchmarkServeGetCase(b *testing.B) {
	h := NewHandler(fixedService{out: getCaseOutput()}, Options{})
	body := `{"fields":[{"id":"title"},{"id":"summary"},{"id":"status"},{"id":"priority"}]}`
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/domains/d-1/cases/c-1", strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkRouteUnknown is the cost of answering a request no operation
// matches, which a scanner or a misconfigured client sends in bulk.
func BenchmarkRouteUnknown(b *testing.B) {
	h := NewHandler(fixedService{}, Options{})
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/no/such/path", nil))
	}
}
