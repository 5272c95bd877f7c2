// Package redislimit keeps fault.Throttler's token buckets in Redis, so
// that every localcases server on one Redis enforces each quota in sum, as
// the real service enforces it per account and Region whichever host
// answers.
//
// The buckets are GCRA (generic cell rate algorithm) limiters from
// github.com/go-redis/redis_rate over github.com/redis/go-redis: one Lua
// script per call reads and moves one timestamp per operation, on Redis's
// own clock, so the servers' clocks do not matter. GCRA with a rate and a
// burst admits exactly what a token bucket of that rate and capacity does.
//
// When Redis cannot be reached, Take returns an error and the throttler
// allows the call (fails open): an emulator whose quota check is down
// should not invent an outage. Each such call is counted
// (fault.Throttler.FailedOpen); the first failure is logged at warn and the
// recovery at info, not every call. After a failure, Redis is not asked
// again for Backoff, so a dead Redis costs the calls nothing.
//
// go-redis's package-level logger (redis.SetLogger) is left alone: it is
// global to the process, and replacing it would reroute the logs of every
// other go-redis client in a program that embeds the server. go-redis
// writes its own rare messages (pool trouble) there, to standard error.
package redislimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/localcases/localcases/fault"
)

var _ fault.Buckets = (*Buckets)(nil)

// Defaults, each documented on its Options field.
const (
	// DefaultTimeout is long for a local Redis on purpose: a busy machine
	// (a CI runner under -race) can take a second to answer, and a call
	// that gave up would be let through unthrottled. A Redis that is down
	// refuses the connection at once instead, and is then skipped.
	DefaultTimeout = 5 * time.Second
	DefaultBackoff = time.Second
)

// ErrDown is returned by Take while Redis is skipped after a failure.
var ErrDown = errors.New("redislimit: Redis was unreachable moments ago; not asking again yet")

// Options tune Buckets. The zero value is the documented default.
type Options struct {
	// Prefix starts every key; servers with one prefix share their
	// quotas. The server uses "localcases:ACCOUNT:REGION:", since the real
	// quotas are per account and Region. Default "localcases:".
	Prefix string
	// Timeout bounds one call to Redis. Default DefaultTimeout.
	Timeout time.Duration
	// Backoff is how long Redis is skipped after a failure. Default
	// DefaultBackoff.
	Backoff time.Duration
	// Logger reports Redis going and coming back. Default: discard.
	Logger *slog.Logger
}

// Buckets is a fault.Buckets in Redis.
type Buckets struct {
	client  *redis.Client
	limiter *redis_rate.Limiter
	opts    Options
	where   string

	mu        sync.Mutex
	downUntil time.Time
	down      bool
}

// Open connects to the Redis at rawURL (redis://[user:password@]host:port[/db]
// or rediss:// for TLS; go-redis's query options such as dial_timeout
// apply). A URL that does not parse is an error; a Redis that does not
// answer is logged and failed open like any later outage, so a server
// starts whatever the state of its Redis.
func Open(ctx context.Context, rawURL string, opts Options) (*Buckets, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redislimit: %w", err)
	}
	u, _ := url.Parse(rawURL)
	if !u.Query().Has("max_retries") {
		// A retry costs the call it throttles; failing open at once is
		// the policy anyway.
		o.MaxRetries = -1
	}
	// CLIENT MAINT_NOTIFICATIONS is for managed clusters' hand-overs; the
	// limiter needs none, and older servers answer it with an error.
	o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	if opts.Prefix == "" {
		opts.Prefix = "localcases:"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := redis.NewClient(o)
	b := &Buckets{client: c, limiter: redis_rate.NewLimiter(c), opts: opts, where: redact(u)}
	pctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		b.failed(err)
	}
	return b, nil
}

// redact drops the password from a URL about to be logged.
func redact(u *url.URL) string {
	c := *u
	if _, ok := c.User.Password(); ok {
		c.User = url.UserPassword(c.User.Username(), "xxxxx")
	}
	c.RawQuery = ""
	return c.String()
}

// Where is Redis's URL, without a password.
func (b *Buckets) Where() string { return b.where }

// Close closes the connections.
func (b *Buckets) Close() error { return b.client.Close() }

// Take implements fault.Buckets.
func (b *Buckets) Take(op string, l fault.Limit) (bool, error) {
	b.mu.Lock()
	skip := b.down && time.Now().Before(b.downUntil)
	b.mu.Unlock()
	if skip {
		return false, ErrDown
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.Timeout)
	defer cancel()
	res, err := b.limiter.Allow(ctx, b.opts.Prefix+op, gcra(l))
	if err != nil {
		b.failed(err)
		return false, err
	}
	b.recovered()
	return res.Allowed > 0, nil
}

// gcra expresses a token bucket as redis_rate's integer rate per period:
// the emission interval (period/rate) is what counts, so a fractional rate
// becomes thousandths per thousand seconds.
func gcra(l fault.Limit) redis_rate.Limit {
	if l.Rate == math.Trunc(l.Rate) && l.Rate >= 1 {
		return redis_rate.Limit{Rate: int(l.Rate), Burst: l.Burst, Period: time.Second}
	}
	return redis_rate.Limit{Rate: max(1, int(math.Round(l.Rate*1000))), Burst: l.Burst, Period: 1000 * time.Second}
}

func (b *Buckets) failed(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.downUntil = time.Now().Add(b.opts.Backoff)
	if !b.down {
		b.down = true
		b.opts.Logger.Warn("throttling: Redis unreachable; allowing calls unthrottled (failing open) until it answers",
			"redis", b.where, "err", err)
	}
}

func (b *Buckets) recovered() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.down {
		b.down = false
		b.opts.Logger.Info("throttling: Redis answers again; quotas are enforced", "redis", b.where)
	}
}
