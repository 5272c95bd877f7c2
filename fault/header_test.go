package fault

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestFromHeader(t *testing.T) {
	ra := func(n int) *int { return &n }
	tests := []struct {
		in   string
		want Decision
	}{
		{"InternalServerException", Decision{Action: ActionError, Error: &ErrorSpec{CodeInternalServer, 500, DefaultMessage(CodeInternalServer), ra(1)}}},
		{"InternalServerException;retryAfter=3", Decision{Action: ActionError, Error: &ErrorSpec{CodeInternalServer, 500, DefaultMessage(CodeInternalServer), ra(3)}}},
		{"InternalServerException; retryAfter=0", Decision{Action: ActionError, Error: &ErrorSpec{CodeInternalServer, 500, DefaultMessage(CodeInternalServer), nil}}},
		{"ThrottlingException", Decision{Action: ActionError, Error: &ErrorSpec{CodeThrottling, 429, DefaultMessage(CodeThrottling), nil}}},
		{" throttlingexception ", Decision{Action: ActionError, Error: &ErrorSpec{CodeThrottling, 429, DefaultMessage(CodeThrottling), nil}}},
		{"error=ConflictException;status=410;message=gone away", Decision{Action: ActionError, Error: &ErrorSpec{CodeConflict, 410, "gone away", nil}}},
		{"ThrottlingException;latency=150ms", Decision{Action: ActionError, Latency: 150 * time.Millisecond, Error: &ErrorSpec{CodeThrottling, 429, DefaultMessage(CodeThrottling), nil}}},
		{"http=503", Decision{Action: ActionHTTP, HTTPStatus: 503}},
		{"HTTP=502", Decision{Action: ActionHTTP, HTTPStatus: 502}},
		{"drop", Decision{Action: ActionDrop, Drop: true}},
		{"latency=200ms", Decision{Action: ActionLatency, Latency: 200 * time.Millisecond}},
		{"hang=10s", Decision{Action: ActionHang, Hang: 10 * time.Second}},
		{"hang", Decision{Action: ActionHang, Hang: DefaultHang}},
		{"commit-then-fail=InternalServerException", Decision{Action: ActionCommitThenFail, CommitFirst: true, Error: &ErrorSpec{CodeInternalServer, 500, DefaultMessage(CodeInternalServer), ra(1)}}},
		{"commit-then-fail", Decision{Action: ActionCommitThenFail, CommitFirst: true, Error: &ErrorSpec{CodeInternalServer, 500, DefaultMessage(CodeInternalServer), ra(1)}}},
		{"commit-then-fail=drop", Decision{Action: ActionCommitThenFail, CommitFirst: true, Drop: true}},
		{"none", Decision{Action: ActionNone}},
	}
	for _, tt := range tests {
		got, err := FromHeader(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		tt.want.Source = SourceHeader
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v %+v\nwant %+v %+v", tt.in, got, got.Error, tt.want, tt.want.Error)
		}
	}
}

func TestFromHeaderErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"Boom", "unknown fault"},
		{"http=404", "status must be one of"},
		{"http=abc", "status must be one of"},
		{"latency=soon", "duration"},
		{"latency", "needs a duration"},
		{"latency=-1s", "non-negative"},
		{"hang=0s", "> 0"},
		{"drop=1", "takes no value"},
		{"ThrottlingException=1", "takes no value"},
		{"error=Nope", "unknown error code"},
		{"commit-then-fail=Nope", "unknown error code"},
		{"InternalServerException;retryAfter=-1", "retryAfter"},
		{"InternalServerException;retryAfter=x", "retryAfter"},
		{"InternalServerException;status=200", "status"},
		{"InternalServerException;color=red", "unknown parameter"},
		{"InternalServerException;retryAfter", "needs a value"},
		{"InternalServerException;retryAfter=1;retryAfter=2", "duplicate"},
		{"drop;retryAfter=1", "only applies to error faults"},
		{"latency=1s;latency=2s", "twice"},
		{"InternalServerException;attempts=0", "attempts"},
	}
	for _, tt := range tests {
		_, err := FromHeader(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want it to mention %q", tt.in, err, tt.want)
		}
	}
}

func TestHeaderAttempts(t *testing.T) {
	h, err := ParseHeader("ThrottlingException;attempts=1-2")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]bool{0: true, 1: true, 2: true, 3: false} {
		if h.Applies(n) != want {
			t.Errorf("attempt %d: applies=%v", n, !want)
		}
	}
}

func TestHeaderStringRoundTrip(t *testing.T) {
	for _, in := range []string{
		"InternalServerException", "InternalServerException;retryAfter=0", "ThrottlingException;retryAfter=2;attempts=1,3-",
		"http=504;latency=1s", "drop", "hang=3s", "latency=5ms", "commit-then-fail=drop",
		"commit-then-fail=ConflictException;status=499;message=x y", "none",
	} {
		h, err := ParseHeader(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		h2, err := ParseHeader(h.String())
		if err != nil || !reflect.DeepEqual(h, h2) {
			t.Errorf("%q -> %q -> %+v (%v)", in, h.String(), h2, err)
		}
	}
}

func FuzzFromHeader(f *testing.F) {
	for _, s := range []string{
		"InternalServerException", "InternalServerException;retryAfter=3", "ThrottlingException",
		"http=503", "drop", "latency=200ms", "hang=10s", "commit-then-fail=InternalServerException",
		"commit-then-fail=drop", "error=ValidationException;status=422;message=bad;attempts=1-2,4-",
		"none", ";;", "=", "latency=1h;attempts=2-",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHeader(s)
		if err != nil {
			return
		}
		d := h.Decision
		if d.Source != SourceHeader || (d.Action != ActionNone && !validActions[d.Action]) {
			t.Fatalf("%q: bad decision %+v", s, d)
		}
		if d.Error != nil && (d.Error.StatusCode < 400 || d.Error.StatusCode > 599 || DefaultStatus(d.Error.Code) == 0) {
			t.Fatalf("%q: unresolved error %+v", s, *d.Error)
		}
		if d.Latency < 0 || d.Hang < 0 {
			t.Fatalf("%q: negative duration", s)
		}
		// What we print must parse back to the same thing.
		h2, err := ParseHeader(h.String())
		if err != nil || !reflect.DeepEqual(h, h2) {
			t.Fatalf("%q -> %q -> %+v, %v", s, h.String(), h2, err)
		}
	})
}
