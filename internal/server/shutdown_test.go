package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/internal/servertest"
)

// TestSIGTERMUnderWriteLoad: SIGTERM stops accepting, drains the requests in
// flight, closes the store and exits 0; after a restart every acknowledged
// write is there and none is half applied.
func TestSIGTERMUnderWriteLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops the server; skipped in -short mode")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgPath := filepath.Join(dir, "localcases.yaml")
	os.WriteFile(cfgPath, []byte("quotas:\n  domainsPerAccount: 100000\n"), 0o644)
	acked := newLedger()
	var systemFields []string
	for round := range 3 {
		p := startProcess(t, bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfgPath, "--log-level", "warn")
		client := servertest.Client(p.url)
		systemFields = verify(t, client, acked, systemFields, round)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var mu sync.Mutex
		n := 0
		for w := range 8 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					d, err := client.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String(fmt.Sprintf("term-r%d-w%d-%d", round, w, i))})
					if err != nil {
						return
					}
					acked.mu.Lock()
					acked.domains = append(acked.domains, *d.DomainId)
					acked.mu.Unlock()
					f, err := client.CreateField(ctx, &connectcases.CreateFieldInput{DomainId: d.DomainId, Name: aws.String("f"), Type: types.FieldTypeText})
					if err != nil {
						return
					}
					acked.mu.Lock()
					acked.fields[*d.DomainId] = append(acked.fields[*d.DomainId], *f.FieldId)
					acked.mu.Unlock()
					mu.Lock()
					n += 2
					mu.Unlock()
				}
			})
		}
		time.Sleep(300 * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: no exit within 30s of SIGTERM\n%s", round, p.output())
		}
		cancel()
		wg.Wait()
		if p.waitErr != nil {
			t.Fatalf("round %d: exit after SIGTERM: %v\n%s", round, p.waitErr, p.output())
		}
		if n == 0 {
			t.Fatalf("round %d: nothing acknowledged before SIGTERM; the test proves nothing", round)
		}
		t.Logf("round %d: %d writes acknowledged, clean exit", round, n)
	}
	p := startProcess(t, bin, "serve", "--addr", "127.0.0.1:0", "--data", data, "--config", cfgPath, "--log-level", "warn")
	verify(t, servertest.Client(p.url), acked, systemFields, 3)
	p.stop()
}
