// Package redistest finds the Redis that tests of the shared throttling run
// against, and gives each test keys of its own.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Env names the Redis to test against: a redis:// URL, or "off". Unset,
// the tests try DefaultURL and skip, saying so, when nothing answers.
const Env = "LOCALCASES_TEST_REDIS"

// DefaultURL is where the tests look for Redis when Env is unset.
const DefaultURL = "redis://127.0.0.1:6379/0"

var probe struct {
	once sync.Once
	url  string
	err  error
}

// URL returns the Redis URL to test against, or skips the test (fails it
// when Env names a Redis that does not answer).
func URL(tb testing.TB) string {
	tb.Helper()
	probe.once.Do(func() {
		probe.url = os.Getenv(Env)
		if probe.url == "" {
			probe.url = DefaultURL
		}
		if probe.url == "off" {
			return
		}
		o, err := redis.ParseURL(probe.url)
		if err != nil {
			probe.err = err
			return
		}
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		c := redis.NewClient(o)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		probe.err = c.Ping(ctx).Err()
	})
	switch {
	case probe.url == "off":
		tb.Skipf("Redis tests are off (%s=off)", Env)
	case probe.err != nil && os.Getenv(Env) == "":
		tb.Skipf("skipping: no Redis at %s (%v); set %s=redis://host:6379/0 to run the shared-throttling tests", DefaultURL, probe.err, Env)
	case probe.err != nil:
		tb.Fatalf("%s=%s: %v", Env, probe.url, probe.err)
	}
	return probe.url
}

// Token returns a random hex string: a key prefix, or an account number's
// worth of digits, no other test uses.
func Token(tb testing.TB, n int) string {
	tb.Helper()
	b := make([]byte, (n+1)/2)
	rand.Read(b)
	return hex.EncodeToString(b)[:n]
}
