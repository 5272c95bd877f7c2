package healthapi_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/localcases/localcases/healthapi"
)

// TestTimeWire: awsJson1_1 timestamps are epoch seconds with milliseconds,
// as in AWS's own samples ("startTime": 1589077890.53).
func TestTimeWire(t *testing.T) {
	tm := healthapi.NewTime(time.Date(2020, 5, 10, 2, 31, 30, 530_400_000, time.UTC))
	b, err := json.Marshal(tm)
	if err != nil || string(b) != "1589077890.53" {
		t.Fatalf("marshal: %s %v", b, err)
	}
	for _, in := range []string{"1589077890.53", "1589077890.530", "1.58907789053e9"} {
		var got healthapi.Time
		if err := json.Unmarshal([]byte(in), &got); err != nil || !got.Equal(tm.Time) {
			t.Errorf("unmarshal %s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{`"2020-05-10T02:31:30Z"`, "1e300", "NaN", "true"} {
		var got healthapi.Time
		if err := json.Unmarshal([]byte(in), &got); err == nil {
			t.Errorf("unmarshal %s: accepted as %v", in, got)
		}
	}
}

func TestValidateOptionalMembers(t *testing.T) {
	// maxResults left out is absent, not 0: the model gives no default.
	if err := (&healthapi.DescribeEventTypesRequest{}).Validate(); err != nil {
		t.Fatal(err)
	}
	err := (&healthapi.DescribeEventTypesRequest{MaxResults: healthapi.Int32(5)}).Validate()
	want := "ValidationException: 1 validation error detected: Value '5' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 10"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}
