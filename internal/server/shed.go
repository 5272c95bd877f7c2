package server

import (
	"sync/atomic"
	"time"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/metrics"
	"github.com/localcases/localcases/restjson"
)

// DefaultMaxInFlight bounds the API calls served at once. Past it, a call
// waits up to shedWait for a slot and is then refused with
// ThrottlingException, which every client already retries with backoff: an
// overloaded server answers fast and keeps its memory flat instead of
// queueing without bound until clients time out.
const DefaultMaxInFlight = 1024

const shedWait = 100 * time.Millisecond

// shedder is a counting semaphore over API calls.
type shedder struct {
	slots chan struct{}
	// reading counts calls still receiving their bodies, which hold no
	// slot.
	reading atomic.Int64
	metrics *metrics.Metrics
}

func newShedder(n int, m *metrics.Metrics) *shedder {
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	return &shedder{slots: make(chan struct{}, n), metrics: m}
}

// readFirst receives the whole body before the call asks for a slot, so a
// client that uploads slowly (or stalls) holds a goroutine and its
// connection, bounded by the server's read timeout, but never a slot that a
// fast call needs. The body's size is bounded by MaxBodyBytes either way.
func (sh *shedder) readFirst(next restjson.Invoker) restjson.Invoker {
	return func(c *restjson.Call) (any, error) {
		sh.reading.Add(1)
		_, err := c.Body()
		sh.reading.Add(-1)
		if err != nil {
			return nil, err
		}
		return next(c)
	}
}

func (sh *shedder) middleware(next restjson.Invoker) restjson.Invoker {
	return func(c *restjson.Call) (any, error) {
		select {
		case sh.slots <- struct{}{}:
		default:
			t := time.NewTimer(shedWait)
			select {
			case sh.slots <- struct{}{}:
				t.Stop()
			case <-t.C:
				sh.metrics.Throttled(c.Op.Name, metrics.ThrottleCapacity)
				return nil, api.Errorf(api.CodeThrottlingException, "Rate exceeded: the server is at capacity (%d calls in flight).", cap(sh.slots))
			case <-c.Request.Context().Done():
				t.Stop()
				return nil, restjson.ErrDropped
			}
		}
		defer func() { <-sh.slots }()
		return next(c)
	}
}
