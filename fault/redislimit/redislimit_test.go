package redislimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/fault/redislimit"
	"github.com/localcases/localcases/fault/redislimit/redistest"
)

func mustOpen(t *testing.T, url, prefix string) *redislimit.Buckets {
	t.Helper()
	b, err := redislimit.Open(context.Background(), url, redislimit.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestQuotaHoldsInSum: three throttlers on one Redis, taking calls at
// once, admit one burst between them. The rate is so slow that no token
// comes back during the test, so the count is exact.
func TestQuotaHoldsInSum(t *testing.T) {
	url := redistest.URL(t)
	prefix := "lctest:" + redistest.Token(t, 12) + ":"
	var throttlers []*fault.Throttler
	for range 3 {
		th := fault.NewThrottler(fault.ThrottleConfig{Enabled: true, Operations: map[string]fault.Limit{"CreateCase": {Rate: 0.001, Burst: 7}}})
		th.SetBuckets(mustOpen(t, url, prefix))
		throttlers = append(throttlers, th)
	}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			if throttlers[i%3].Allow("CreateCase", time.Now()) {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	for i, th := range throttlers {
		if n := th.FailedOpen(); n != 0 {
			t.Fatalf("throttler %d failed open %d times with Redis up (allowed %d)", i, n, allowed.Load())
		}
	}
	if allowed.Load() != 7 {
		t.Fatalf("%d of 60 calls allowed over three throttlers, want the burst of 7", allowed.Load())
	}
	// Another operation has a bucket of its own.
	if !throttlers[0].Allow("GetCase", time.Now()) {
		t.Error("GetCase was throttled by CreateCase's bucket")
	}
}

// TestRateRefills checks the rate, not only the burst: at 1000/s a token
// is back within a millisecond, so after a pause the bucket admits again.
func TestRateRefills(t *testing.T) {
	b := mustOpen(t, redistest.URL(t), "lctest:"+redistest.Token(t, 12)+":")
	l := fault.Limit{Rate: 1000, Burst: 1}
	if ok, err := b.Take("GetCase", l); !ok || err != nil {
		t.Fatalf("first take: %v %v", ok, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := b.Take("GetCase", l)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bucket never refilled")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestFailsOpen: with Redis unreachable every call is allowed and
// counted, and Redis is not asked again at once.
func TestFailsOpen(t *testing.T) {
	b, err := redislimit.Open(context.Background(), "redis://127.0.0.1:1/0", redislimit.Options{Backoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	th := fault.NewThrottler(fault.ThrottleConfig{Enabled: true, Operations: map[string]fault.Limit{"CreateCase": {Rate: 0.001, Burst: 1}}})
	th.SetBuckets(b)
	for range 5 {
		if !th.Allow("CreateCase", time.Now()) {
			t.Fatal("a call was throttled with Redis down")
		}
	}
	if n := th.FailedOpen(); n != 5 {
		t.Errorf("FailedOpen = %d, want 5", n)
	}
	if _, err := b.Take("CreateCase", fault.Limit{Rate: 1, Burst: 1}); !errors.Is(err, redislimit.ErrDown) {
		t.Errorf("within the backoff: %v, want ErrDown", err)
	}
}

func TestOpenRefusesABadURL(t *testing.T) {
	if _, err := redislimit.Open(context.Background(), "http://127.0.0.1:6379", redislimit.Options{}); err == nil {
		t.Fatal("an http:// URL was accepted")
	}
}

// BenchmarkTake is the cost a throttled call pays for its token in Redis
// (docs/FAULTS.md, "Several servers as one service").
func BenchmarkTake(b *testing.B) {
	url := redistest.URL(b)
	bk, err := redislimit.Open(context.Background(), url, redislimit.Options{Prefix: "lcbench:" + redistest.Token(b, 12) + ":"})
	if err != nil {
		b.Fatal(err)
	}
	defer bk.Close()
	l := fault.Limit{Rate: 1e6, Burst: 1e6}
	for b.Loop() {
		if _, err := bk.Take("GetCase", l); err != nil {
			b.Fatal(err)
		}
	}
}
