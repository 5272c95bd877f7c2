package server_test

import (
	"testing"
	"time"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/internal/servertest"
)

// TestSinkSurvivesKill9 runs the real binary with a webhook sink
// (--event-sink), drives case changes through the Go SDK, kills the
// process with SIGKILL at a random moment, twice, and restarts it on the
// same store: in the end the webhook has received every event the outbox
// holds, at least once, each an exact copy. Delivery is at least once, so
// events around a kill may come twice; none may be missing.
func TestSinkSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the server repeatedly; skipped in -short mode")
	}
	bin := buildBinary(t)
	for _, e := range killEngines {
		t.Run(e.name, func(t *testing.T) {
			hook := skNewHook(t)
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn", "--events.retain-count", "-1",
				"--event-sink", hook.URL + "/events name=hook"}, e.store(t)...)
			l := &eventLedger{cases: map[string]*caseLedger{}}
			var domain, tpl string
			const rounds = 2
			for round := range rounds + 1 {
				p := startProcess(t, bin, args...)
				c := servertest.Client(p.url)
				if round == 0 {
					domain, tpl = evKillSetup(t, c)
				}
				if round < rounds {
					n := evKillLoad(t, c, domain, tpl, l, round, p, time.Duration(100+150*round)*time.Millisecond)
					t.Logf("round %d: %d changes acknowledged before kill -9", round, n)
					continue
				}
				// The last start: the sink catches up, then the webhook must
				// hold every event of the outbox.
				ac := admin.NewClient(p.url)
				skWait(t, "the sink to catch up", func() bool {
					sinks, err := ac.Sinks(t.Context())
					return err == nil && len(sinks) == 1 && sinks[0].Lag == 0
				})
				want, _ := evPollClient(t, ac, domain, "")
				got := map[string]string{}
				for _, ev := range hook.got() {
					got[ev["id"].(string)] = evJSON(ev)
				}
				for _, ev := range want {
					if g, ok := got[ev["id"].(string)]; !ok || g != evJSON(ev) {
						t.Errorf("event %s of the outbox: the webhook got %q", ev["id"], g)
					}
				}
				dups := len(hook.got()) - len(got)
				t.Logf("%d events in the outbox, all delivered; %d delivered twice", len(want), dups)
				if err := p.stop(); err != nil {
					t.Errorf("graceful stop: %v", err)
				}
			}
		})
	}
}

// skPollAll reads every event of domain the server keeps.
