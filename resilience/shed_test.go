package resilience

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestShedderProbability(t *testing.T) {
	tests := []struct {
		name              string
		requests, accepts int
		want              float64
	}{
		{"nothing seen", 0, 0, 0},
		{"all accepted", 100, 100, 0},
		{"half accepted, k=2: at the edge", 100, 50, 0},
		{"a third accepted", 90, 30, 30.0 / 91},
		{"none accepted", 30, 0, 30.0 / 31},
		{"too few to judge", 19, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			s := newShedder(2, 30*time.Second, rndMax) // rndMax: never reject, so counts stay exact
			for i := range tt.requests {
				s.admit(clk.Now())
				s.done(clk.Now(), i < tt.accepts)
			}
			if got := s.probability(clk.Now()); math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("p = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestShedderWindowSlides(t *testing.T) {
	clk := newFakeClock()
	s := newShedder(2, 10*time.Second, rndMax)
	for range 30 {
		s.done(clk.Now(), false)
	}
	if p := s.probability(clk.Now()); p == 0 {
		t.Fatal("failures not counted")
	}
	clk.Advance(10 * time.Second)
	if p := s.probability(clk.Now()); p != 0 {
		t.Fatalf("after the window: p = %v", p)
	}
}

func TestShedderRejectsLocally(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{}
	k := New(WithClock(clk), WithClientThrottling(2, 0), withRnd(rndZero), WithEvents(rec.events()), WithAttemptTimeout(-1))
	// Failed attempts raise the probability; rndZero rejects whenever it is > 0.
	for i := range shedMinRequests {
		if _, sent := attempt(t, k, "GetCase", errISE); !sent {
			t.Fatalf("attempt %d shed below the minimum volume", i+1)
		}
	}
	err, sent := attempt(t, k, "GetCase", nil)
	var se *ShedError
	if sent || !errors.As(err, &se) || !errors.Is(err, ErrShed) || se.Probability != 20.0/21 {
		t.Fatalf("sent=%v err=%v", sent, err)
	}
	if k.retryer.IsErrorRetryable(err) {
		t.Fatal("a shed attempt must end the retry loop")
	}
	if e := Explain(err); e.Code != codeShed || e.Stopped != StopShed {
		t.Fatalf("Explain = %+v", e)
	}
	if got := UserMessage(err); got != "The service is having trouble right now, so this request was not sent. Please try again in a few seconds." {
		t.Fatal(got)
	}
}
