package server_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/internal/servertest"
)

var (
	durabilityRounds  = flag.Int("durability.rounds", 10, "kill -9 rounds in TestDurabilityKill9")
	durabilitySeed    = flag.Uint64("durability.seed", 0, "seed for TestDurabilityKill9's kill moments (0: random, logged)")
	durabilityWorkers = flag.Int("durability.workers", 8, "concurrent clients in TestDurabilityKill9")
)

// TestDurabilityKill9 runs the real binary on a data directory, drives
// concurrent writes through the Go SDK, kills the process with SIGKILL at a
// random moment, restarts it on the same directory, and checks that every
// write the server acknowledged is there and that no write is half applied:
// each domain has all its system fields and each batch of field options is
// present whole or not at all. Acknowledgements accumulate over the rounds,
// so each restart checks all earlier rounds too. It runs on SQLite and,
// when one answers, PostgreSQL (killEngines).
func TestDurabilityKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the server repeatedly; skipped in -short mode")
	}
	bin := buildBinary(t)
	for _, e := range killEngines {
		t.Run(e.name, func(t *testing.T) { durabilityKill9(t, bin, e.store(t)) })
	}
}

func durabilityKill9(t *testing.T, bin string, store []string) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "localcases.yaml")
	// The default quota of 5 domains would cap the load after one round.
	if err := os.WriteFile(cfgPath, []byte("quotas:\n  domainsPerAccount: 100000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--config", cfgPath, "--log-level", "warn"}, store...)
	seed := *durabilitySeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -durability.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))

	acked := newLedger()
	var systemFields []string
	for round := range *durabilityRounds {
		p := startProcess(t, bin, args...)
		client := servertest.Client(p.url)
		systemFields = verify(t, client, acked, systemFields, round)
		if t.Failed() {
			p.kill()
			t.Fatalf("round %d: state after restart is wrong (server output:\n%s)", round, p.output())
		}
		killAfter := 50*time.Millisecond + time.Duration(rng.Int64N(int64(500*time.Millisecond)))
		n := load(t, client, acked, round, *durabilityWorkers, p, killAfter)
		t.Logf("round %d: %d writes acknowledged before kill -9 at %v", round, n, killAfter)
		if n == 0 {
			t.Errorf("round %d: no write was acknowledged before the kill; the test proves nothing (output:\n%s)", round, p.output())
		}
	}
	p := startProcess(t, bin, args...)
	verify(t, servertest.Client(p.url), acked, systemFields, *durabilityRounds)
	if err := p.stop(); err != nil {
		t.Errorf("graceful stop: %v\n%s", err, p.output())
	}
	d, f, o := acked.counts()
	t.Logf("verified %d domains, %d fields, %d option batches acknowledged over %d rounds", d, f, o, *durabilityRounds)
}

// ledger records every acknowledged write.
type ledger struct {
	mu      sync.Mutex
	domains []string
	fields  map[string][]string   // domain → fields
	options map[[2]string][]batch // (domain, field) → batches
}

type batch struct {
	prefix string
	values []string
}

func newLedger() *ledger {
	return &ledger{fields: map[string][]string{}, options: map[[2]string][]batch{}}
}

func (l *ledger) counts() (domains, fields, batches int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, fs := range l.fields {
		fields += len(fs)
	}
	for _, bs := range l.options {
		batches += len(bs)
	}
	return len(l.domains), fields, batches
}

const optionsPerBatch = 6

// load runs workers that each create a domain, two SingleSelect fields in
// it and option batches on them, over and over, until the process dies,
// which it does killAfter from the start. It returns how many writes were
// acknowledged.
func load(t *testing.T, c *connectcases.Client, l *ledger, round, workers int, p *process, killAfter time.Duration) int {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	acks := 0
	// first closes at the first acknowledged write: the kill waits for it,
	// so a slow start on a busy machine cannot leave a round with nothing
	// to check.
	first := make(chan struct{})
	ack := func() {
		mu.Lock()
		if acks == 0 {
			close(first)
		}
		acks++
		mu.Unlock()
	}
	for w := range workers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				d, err := c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String(fmt.Sprintf("r%d-w%d-%d", round, w, i))})
				if err != nil {
					return
				}
				l.mu.Lock()
				l.domains = append(l.domains, *d.DomainId)
				l.mu.Unlock()
				ack()
				for f := range 2 {
					fo, err := c.CreateField(ctx, &connectcases.CreateFieldInput{
						DomainId: d.DomainId, Name: aws.String(fmt.Sprintf("choice %d", f)), Type: types.FieldTypeSingleSelect,
					})
					if err != nil {
						return
					}
					l.mu.Lock()
					l.fields[*d.DomainId] = append(l.fields[*d.DomainId], *fo.FieldId)
					l.mu.Unlock()
					ack()
					for b := range 3 {
						bt := batch{prefix: fmt.Sprintf("b%d-", b)}
						var opts []types.FieldOption
						for j := range optionsPerBatch {
							v := fmt.Sprintf("%s%d", bt.prefix, j)
							bt.values = append(bt.values, v)
							opts = append(opts, types.FieldOption{Name: aws.String("option " + v), Value: aws.String(v), Active: aws.Bool(true)})
						}
						out, err := c.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{DomainId: d.DomainId, FieldId: fo.FieldId, Options: opts})
						if err != nil {
							return
						}
						if len(out.Errors) > 0 {
							t.Errorf("BatchPutFieldOptions reported %d option errors", len(out.Errors))
							return
						}
						k := [2]string{*d.DomainId, *fo.FieldId}
						l.mu.Lock()
						l.options[k] = append(l.options[k], bt)
						l.mu.Unlock()
						ack()
					}
				}
			}
		})
	}
	workersDone := make(chan struct{})
	go func() { wg.Wait(); close(workersDone) }()
	time.Sleep(killAfter)
	select {
	case <-first:
	case <-workersDone: // every worker failed before any write landed
	}
	p.kill()
	<-workersDone
	return acks
}

// verify checks the server holds every acknowledged write and nothing half
// applied. It returns the system fields every domain has, learnt from the
// first domain it sees.
func verify(t *testing.T, c *connectcases.Client, l *ledger, systemFields []string, round int) []string {
	t.Helper()
	ctx := t.Context()
	l.mu.Lock()
	defer l.mu.Unlock()
	present := map[string]bool{}
	pd := connectcases.NewListDomainsPaginator(c, &connectcases.ListDomainsInput{})
	for pd.HasMorePages() {
		page, err := pd.NextPage(ctx)
		if err != nil {
			t.Fatalf("round %d: ListDomains: %v", round, err)
		}
		for _, d := range page.Domains {
			present[*d.DomainId] = true
		}
	}
	for _, id := range l.domains {
		if !present[id] {
			t.Errorf("round %d: acknowledged domain %s is missing", round, id)
		}
	}
	// Every domain, acknowledged or not, must be whole.
	for id := range present {
		var system []string
		custom := map[string]bool{}
		pf := connectcases.NewListFieldsPaginator(c, &connectcases.ListFieldsInput{DomainId: aws.String(id)})
		for pf.HasMorePages() {
			page, err := pf.NextPage(ctx)
			if err != nil {
				t.Fatalf("round %d: ListFields %s: %v", round, id, err)
			}
			for _, f := range page.Fields {
				if f.Namespace == types.FieldNamespaceSystem {
					system = append(system, *f.FieldId)
				} else {
					custom[*f.FieldId] = true
				}
			}
		}
		if systemFields == nil {
			if len(system) == 0 {
				t.Fatalf("round %d: domain %s has no system fields", round, id)
			}
			systemFields = system
		}
		if strings.Join(system, ",") != strings.Join(systemFields, ",") {
			t.Errorf("round %d: domain %s is half created: system fields %q, want %q", round, id, system, systemFields)
		}
		for _, f := range l.fields[id] {
			if !custom[f] {
				t.Errorf("round %d: acknowledged field %s of domain %s is missing", round, f, id)
			}
		}
		for f := range custom {
			verifyOptions(t, c, round, id, f, l.options[[2]string{id, f}])
		}
	}
	return systemFields
}

// verifyOptions checks that each batch of options is all there or not at
// all, and that acknowledged batches are there.
func verifyOptions(t *testing.T, c *connectcases.Client, round int, domain, field string, acked []batch) {
	t.Helper()
	byPrefix := map[string]int{}
	po := connectcases.NewListFieldOptionsPaginator(c, &connectcases.ListFieldOptionsInput{DomainId: aws.String(domain), FieldId: aws.String(field)})
	for po.HasMorePages() {
		page, err := po.NextPage(t.Context())
		if err != nil {
			t.Fatalf("round %d: ListFieldOptions %s/%s: %v", round, domain, field, err)
		}
		for _, o := range page.Options {
			prefix, _, _ := strings.Cut(*o.Value, "-")
			byPrefix[prefix+"-"]++
		}
	}
	for prefix, n := range byPrefix {
		if n != optionsPerBatch {
			t.Errorf("round %d: field %s/%s holds %d of the %d options of batch %s", round, domain, field, n, optionsPerBatch, prefix)
		}
	}
	for _, b := range acked {
		if byPrefix[b.prefix] == 0 {
			t.Errorf("round %d: acknowledged option batch %s of field %s/%s is missing", round, b.prefix, domain, field)
		}
	}
}

// buildBinary compiles cmd/localcases into a temporary directory: the
// test needs a process of its own to kill.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH; it is needed to build the binary under test")
	}
	bin := filepath.Join(t.TempDir(), "localcases")
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/localcases/localcases/cmd/localcases").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// process is a running localcases serve.
type process struct {
	cmd     *exec.Cmd
	url     string
	mu      sync.Mutex
	out     strings.Builder
	done    chan struct{} // closed when the process has exited
	waitErr error
}

var endpointLine = regexp.MustCompile(`Amazon Connect Cases at (http://\S+)`)

// startProcess runs the binary and waits for the endpoint line it prints.
func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), done: make(chan struct{})}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = &lockedWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.write(line + "\n")
			if m := endpointLine.FindStringSubmatch(line); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	select {
	case p.url = <-urls:
		return p
	case <-p.done:
		t.Fatalf("localcases exited before serving: %v\n%s", p.waitErr, p.output())
	case <-time.After(30 * time.Second):
		p.kill()
		t.Fatalf("localcases did not print its endpoint within 30s\n%s", p.output())
	}
	return nil
}

type lockedWriter struct{ p *process }

func (w *lockedWriter) Write(b []byte) (int, error) { w.p.write(string(b)); return len(b), nil }

func (p *process) write(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.WriteString(s)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// kill is kill -9 (Process.Kill sends SIGKILL on Unix): no deferred
// function, shutdown hook or final checkpoint runs. It returns once the
// process is gone.
func (p *process) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

// stop asks for a graceful shutdown and returns the exit status.
func (p *process) stop() error {
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(20 * time.Second):
		p.kill()
		return errors.New("did not stop within 20s of SIGINT")
	}
}
