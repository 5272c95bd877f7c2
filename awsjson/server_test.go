package awsjson_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/localcases/localcases/awsjson"
	"github.com/localcases/localcases/health"
	"github.com/localcases/localcases/healthapi"
	"github.com/localcases/localcases/internal/servertest"
)

func newServer(t *testing.T) (*httptest.Server, *health.Service) {
	t.Helper()
	svc := health.New(health.Config{Region: "us-east-1", Account: "111122223333"})
	srv := httptest.NewServer(awsjson.NewHandler(svc, nil))
	t.Cleanup(srv.Close)
	return srv, svc
}

func call(t *testing.T, url, target, body string) (int, http.Header, map[string]any) {
	t.Helper()
	return servertest.HealthCall(t, url, strings.TrimPrefix(target, "AWSHealth_20160804."), body)
}

// TestErrorShape holds every error to the awsJson1_1 shape: status, the
// code in x-amzn-ErrorType and __type, a message, a request ID.
func TestErrorShape(t *testing.T) {
	srv, svc := newServer(t)
	tests := []struct {
		name, target, body string
		status             int
		code               healthapi.ErrorCode
		msg                string
	}{
		{"unknown operation", "AWSHealth_20160804.DescribeWeather", `{}`, 400, healthapi.CodeUnknownOperationException, "DescribeWeather"},
		{"malformed json", "AWSHealth_20160804.DescribeEvents", `{"filter":`, 400, healthapi.CodeSerializationException, "not valid JSON"},
		{"wrong type", "AWSHealth_20160804.DescribeEvents", `{"maxResults":"ten"}`, 400, healthapi.CodeSerializationException,
			"Expected an integer for member 'maxResults', got JSON string."},
		{"wrong element type", "AWSHealth_20160804.DescribeEvents", `{"filter":{"regions":[1]}}`, 400, healthapi.CodeSerializationException,
			"Expected a string for member 'filter.regions', got JSON number."},
		{"trailing data", "AWSHealth_20160804.DescribeEvents", `{} {}`, 400, healthapi.CodeSerializationException, "after the JSON value"},
		{"below minimum", "AWSHealth_20160804.DescribeEvents", `{"maxResults":0}`, 400, healthapi.CodeValidationException,
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"missing required", "AWSHealth_20160804.DescribeEventDetails", `{}`, 400, healthapi.CodeValidationException,
			"Value null at 'eventArns' failed to satisfy constraint: Member must not be null"},
		{"list too long", "AWSHealth_20160804.DescribeEvents", `{"filter":{"regions":["a1","a2","a3","a4","a5","a6","a7","a8","a9","b1","b2"]}}`, 400,
			healthapi.CodeValidationException, "Value with 11 elements at 'filter.regions' failed to satisfy constraint: Member must have length less than or equal to 10"},
		{"enum", "AWSHealth_20160804.DescribeEvents", `{"filter":{"eventStatusCodes":["OPEN"]}}`, 400, healthapi.CodeValidationException,
			"Member must satisfy enum value set: [open, closed, upcoming]"},
		{"pattern", "AWSHealth_20160804.DescribeAffectedEntities", `{"filter":{"eventArns":["arn:aws:health:us-east-1::event/X"]}}`, 400,
			healthapi.CodeValidationException, "at 'filter.eventArns[0]' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"token pattern", "AWSHealth_20160804.DescribeEvents", `{"nextToken":"a b"}`, 400, healthapi.CodeValidationException, "nextToken"},
		{"bad token", "AWSHealth_20160804.DescribeEvents", `{"nextToken":"QUJDRA=="}`, 400, healthapi.CodeInvalidPaginationToken, "Invalid pagination token"},
		{"locale", "AWSHealth_20160804.DescribeEventTypes", `{"locale":"de"}`, 400, healthapi.CodeUnsupportedLocale, "locale de"},
		{"organization view", "AWSHealth_20160804.DescribeEventsForOrganization", `{}`, 501, healthapi.CodeNotImplemented, "not implemented"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := call(t, srv.URL, tc.target, tc.body)
			if status != tc.status || h.Get("x-amzn-ErrorType") != string(tc.code) || body["__type"] != string(tc.code) {
				t.Fatalf("got %d %s %v, want %d %s", status, h.Get("x-amzn-ErrorType"), body, tc.status, tc.code)
			}
			if msg, _ := body["message"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q lacks %q", msg, tc.msg)
			}
			if h.Get("x-amzn-RequestId") == "" || h.Get("Content-Type") != awsjson.ContentType {
				t.Errorf("headers %v", h)
			}
		})
	}
	t.Run("subscription required", func(t *testing.T) {
		svc.SetSubscriptionRequired(true)
		defer svc.SetSubscriptionRequired(false)
		status, _, body := call(t, srv.URL, "AWSHealth_20160804.DescribeEvents", `{}`)
		if status != 400 || body["__type"] != "SubscriptionRequiredException" {
			t.Fatalf("%d %v", status, body)
		}
	})
}

// TestTimestampsAreEpochSeconds: awsJson1_1 sends timestamps as numbers.
func TestTimestampsAreEpochSeconds(t *testing.T) {
	srv, svc := newServer(t)
	if _, err := svc.Post(context.Background(), health.Notice{Description: "d"}); err != nil {
		t.Fatal(err)
	}
	// An empty body is an empty input.
	status, _, body := call(t, srv.URL, "AWSHealth_20160804.DescribeEvents", ``)
	if status != 200 {
		t.Fatalf("%d %v", status, body)
	}
	ev := body["events"].([]any)[0].(map[string]any)
	if _, ok := ev["startTime"].(float64); !ok {
		t.Errorf("startTime %#v is not a number", ev["startTime"])
	}
	if _, ok := ev["endTime"]; ok {
		t.Errorf("an open event has an endTime: %v", ev)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		method, path, target string
		want                 bool
	}{
		{"POST", "/", "AWSHealth_20160804.DescribeEvents", true},
		{"POST", "/", "AWSHealth_20160804.Anything", true},
		{"GET", "/", "AWSHealth_20160804.DescribeEvents", false},
		{"POST", "/domains", "AWSHealth_20160804.DescribeEvents", false},
		{"POST", "/", "", false},
		{"POST", "/", "DynamoDB_20120810.ListTables", false},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		if tc.target != "" {
			r.Header.Set("X-Amz-Target", tc.target)
		}
		if got := awsjson.Match(r); got != tc.want {
			t.Errorf("%s %s %q: got %v", tc.method, tc.path, tc.target, got)
		}
	}
}

// FuzzDecode: no body makes the handler panic or answer anything but 200
// or a 4xx in the protocol's shape.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{`{}`, `{"filter":{"startTimes":[{"from":1.5e9}]}}`, `{"maxResults":1e99}`,
		`{"filter":{"tags":[{"k":"v"}]}}`, `{"nextToken":"QUJDRA=="}`, `[`, `{"eventArns":[null]}`} {
		f.Add("DescribeEvents", seed)
		f.Add("DescribeEventDetails", seed)
		f.Add("DescribeAffectedEntities", seed)
	}
	svc := health.New(health.Config{Region: "us-east-1", Account: "111122223333"})
	svc.Post(context.Background(), health.Notice{Description: "d", Entities: []string{"e"}})
	h := awsjson.NewHandler(svc, nil)
	f.Fuzz(func(t *testing.T, op, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "AWSHealth_20160804."+op)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 && (w.Code < 400 || w.Code > 501) {
			t.Fatalf("status %d for %s %q", w.Code, op, body)
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer %q is not JSON", w.Body.String())
		}
		if w.Code != 200 && out["__type"] == "InternalFailure" {
			t.Fatalf("internal failure for %s %q: %v", op, body, out)
		}
	})
}
