package server

import (
	"time"

	"github.com/localcases/localcases/api"
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
type shedder struct{ slots chan struct{} }

func newShedder(n int) *shedder {
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	return &shedder{slots: make(chan struct{}, n)}
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
