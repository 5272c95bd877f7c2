// Command quickstart shows the resilience kit against localcases faults in
// about ten seconds:
//
//	go run ./examples/quickstart                                  # starts its own server
//	go run ./examples/quickstart -endpoint http://127.0.0.1:4599  # or uses yours
//
// It injects faults through the admin API, builds a Connect Cases client
// with resilience.WithDefaults in one line, creates a domain, a template and
// cases while the faults strike (the kit's log lines carry each request ID),
// prints what an end user should read when a call fails for good, and
// watches a HealthChecker go operational → outage → operational.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/localcasestest"
	"github.com/localcases/localcases/resilience"
)

func main() {
	endpoint := flag.String("endpoint", "", "URL of a running localcases server (default: start one in-process)")
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()

	if *endpoint == "" {
		url, stop := startServer()
		defer stop()
		*endpoint = url
	}
	fmt.Println("localcases endpoint:", *endpoint)
	faults := admin.NewClient(*endpoint)
	defer cleanUp(faults)

	step("1. Inject faults: CreateCase fails twice (InternalServerException, Retry-After: 1); GetCase is in a 30% brownout")
	rules, err := fault.ParseRules([]byte(`[{
		"id": "create-fails-twice", "operation": "CreateCase", "attempts": "1-2", "count": 2,
		"error": {"code": "InternalServerException", "retryAfterSeconds": 1}
	}]`))
	check(err)
	_, err = faults.SetRules(ctx, rules)
	check(err)
	_, err = faults.StartScenario(ctx, "brownout", fault.ScenarioParams{
		Percent: 30, Operations: []string{"GetCase"}, Duration: fault.Duration(time.Minute),
	})
	check(err)

	step("2. Build the client: one line")
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: noTime}))
	cfg := aws.Config{ // in an application: config.LoadDefaultConfig(ctx)
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDQUICKSTART", "secret", ""),
		BaseEndpoint: aws.String(*endpoint),
	}
	client := connectcases.NewFromConfig(cfg, resilience.WithDefaults(resilience.WithLogger(logger)))
	fmt.Println("   connectcases.NewFromConfig(cfg, resilience.WithDefaults(resilience.WithLogger(logger)))")

	step("3. Create a domain, a template and three cases (the first CreateCase is retried twice)")
	domain, err := client.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String(fmt.Sprintf("quickstart-%d", time.Now().Unix()))})
	check(err)
	tpl, err := client.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: domain.DomainId, Name: aws.String("support")})
	check(err)
	var caseIDs []string
	for i := 1; i <= 3; i++ {
		c, err := client.CreateCase(ctx, &connectcases.CreateCaseInput{
			DomainId: domain.DomainId, TemplateId: tpl.TemplateId,
			Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: fmt.Sprintf("Printer on fire #%d", i)}}},
		})
		check(err)
		caseIDs = append(caseIDs, *c.CaseId)
	}

	step("4. Read the cases eight times during the brownout")
	for i := range 8 {
		_, err := client.GetCase(ctx, &connectcases.GetCaseInput{
			DomainId: domain.DomainId, CaseId: aws.String(caseIDs[i%len(caseIDs)]),
			Fields: []types.FieldIdentifier{{Id: aws.String("title")}},
		})
		check(err)
	}

	step("5. A call that fails for good: every UpdateCase attempt fails")
	rules, err = fault.ParseRules([]byte(`[{"id": "update-down", "operation": "UpdateCase",
		"error": {"code": "InternalServerException", "retryAfterSeconds": 1}}]`))
	check(err)
	_, err = faults.SetRules(ctx, rules)
	check(err)
	_, err = client.UpdateCase(ctx, &connectcases.UpdateCaseInput{
		DomainId: domain.DomainId, CaseId: aws.String(caseIDs[0]),
		Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: "Printer extinguished"}}},
	})
	fmt.Println("   error:          ", err)
	fmt.Println("   tell the user:  ", resilience.UserMessage(err))
	fmt.Println("   tell operators: ", resilience.Explain(err).OperatorAction)
	check(faults.ClearRules(ctx))

	step("6. Health: a 3-second outage scenario, watched by a HealthChecker")
	// Probing only the API (no HealthConfig.Endpoint): three failed probes in
	// a row make an outage, one success ends it.
	hc := resilience.NewHealthChecker(client, resilience.HealthConfig{Interval: 250 * time.Millisecond})
	changes := make(chan resilience.HealthStatus, 16)
	hc.Subscribe(func(s resilience.HealthStatus) { changes <- s })
	hctx, stopHealth := context.WithCancel(ctx)
	defer stopHealth()
	go hc.Run(hctx)
	start := time.Now()
	wantState(changes, start, resilience.HealthOperational)
	_, err = faults.StartScenario(ctx, "outage", fault.ScenarioParams{Duration: fault.Duration(3 * time.Second)})
	check(err)
	wantState(changes, start, resilience.HealthOutage)
	wantState(changes, start, resilience.HealthOperational)
	stopHealth()

	step("7. Clean up")
	_, err = client.DeleteDomain(ctx, &connectcases.DeleteDomainInput{DomainId: domain.DomainId})
	check(err)
}

// wantState prints health changes until it sees want (or gives up after 15s).
func wantState(changes <-chan resilience.HealthStatus, start time.Time, want resilience.HealthState) {
	timeout := time.After(15 * time.Second)
	for {
		select {
		case s := <-changes:
			fmt.Printf("   t=%4.1fs  health: %-11s (probe error: %s)\n", time.Since(start).Seconds(), s.State, errCode(s.Err))
			if s.State == want {
				return
			}
		case <-timeout:
			log.Fatalf("health never became %s", want)
		}
	}
}

func errCode(err error) string {
	if err == nil {
		return "none"
	}
	return resilience.Explain(err).Code
}

func startServer() (url string, stop func()) {
	srv, err := localcasestest.Start()
	check(err)
	return srv.URL(), func() { _ = srv.Close() }
}

// cleanUp leaves a shared server as it found it: no rules, no scenario.
func cleanUp(faults *admin.Client) {
	ctx := context.Background()
	_ = faults.ClearRules(ctx)
	_ = faults.StopScenario(ctx)
}

func step(s string) { fmt.Println("\n" + s) }

func noTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
