// Command healthbatch is the health-check path of docs/HEALTH.md, end to
// end against an in-process localcases server: an application checks
// Connect's health (AWS Health plus its own probe) before each CreateCase
// of a batch; an outage scenario starts, AWS Health shows an open issue, the
// application shows its maintenance message and holds the batch; the
// scenario ends, the event closes, and the batch resumes, with no case
// missing and none twice.
//
//	go run ./examples/healthbatch
//
// The same code runs against AWS: build the Cases and Health clients from
// config.LoadDefaultConfig instead of pointing them at the server.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/aws-sdk-go-v2/service/health"
	healthtypes "github.com/aws/aws-sdk-go-v2/service/health/types"

	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/localcasestest"
	"github.com/localcases/localcases/resilience"
)

const batch = 10

func main() {
	log.SetFlags(0)
	ctx := context.Background()
	srv, err := localcasestest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	url := srv.URL()

	// What an application builds; only the endpoint says localcases.
	awsCfg := aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}
	kit := resilience.New()
	cases := connectcases.NewFromConfig(awsCfg, kit.ClientOptions())
	awsHealth := health.NewFromConfig(awsCfg)
	checker := resilience.NewHealthChecker(cases, resilience.HealthConfig{
		AWSHealth: awsHealth, Region: "us-east-1", Kit: kit, Timeout: 2 * time.Second,
	})

	d, err := cases.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("healthbatch")})
	if err != nil {
		log.Fatal(err)
	}
	t, err := cases.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("batch")})
	if err != nil {
		log.Fatal(err)
	}

	start := time.Now()
	say := func(format string, args ...any) {
		fmt.Printf("t=%4.1fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	for i := range batch {
		if i == 4 {
			// An outage of CreateCase begins (in production: AWS has one).
			_, err := admin.NewClient(url).StartScenario(ctx, "outage", fault.ScenarioParams{
				Duration: fault.Duration(3 * time.Second), Operations: []string{"CreateCase"},
			})
			if err != nil {
				log.Fatal(err)
			}
			say("an outage of CreateCase begins (scenario outage, 3 s)")
			printOpenEvents(ctx, awsHealth, say)
		}
		// Hold the batch while AWS Health announces an issue or the
		// service is down; the user sees why.
		for held := false; ; held = true {
			s := checker.Check(ctx)
			if s.State != resilience.HealthOutage && s.Announcement == nil {
				if held {
					say("health %s again: the batch resumes", s.State)
				}
				break
			}
			if !held {
				msg := "Amazon Connect Cases is unavailable."
				if s.Announcement != nil {
					msg = s.Announcement.Message()
				}
				say("health %s: %s New cases are queued and will be created when it is resolved.", s.State, msg)
			}
			time.Sleep(500 * time.Millisecond)
		}
		in := &connectcases.CreateCaseInput{
			DomainId: d.DomainId, TemplateId: t.TemplateId,
			Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: fmt.Sprintf("batch-%d", i)}}},
		}
		if _, err := cases.CreateCase(ctx, in); err != nil {
			log.Fatalf("case %d: %s (%v)", i, checker.UserMessage(err), err)
		}
		say("case batch-%d created", i)
	}
	printClosedEvents(ctx, awsHealth, say)

	titles := map[string]int{}
	pages := connectcases.NewSearchCasesPaginator(cases, &connectcases.SearchCasesInput{
		DomainId: d.DomainId, Fields: []types.FieldIdentifier{{Id: aws.String("title")}},
	})
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, c := range p.Cases {
			for _, f := range c.Fields {
				if v, ok := f.Value.(*types.FieldValueUnionMemberStringValue); ok {
					titles[v.Value]++
				}
			}
		}
	}
	dups := 0
	for _, n := range titles {
		dups += n - 1
	}
	say("%d cases in the domain for a batch of %d, %d duplicates", len(titles), batch, dups)
}

func printOpenEvents(ctx context.Context, h *health.Client, say func(string, ...any)) {
	out, err := h.DescribeEvents(ctx, &health.DescribeEventsInput{Filter: &healthtypes.EventFilter{
		Services: []string{"CONNECT"}, EventStatusCodes: []healthtypes.EventStatusCode{healthtypes.EventStatusCodeOpen},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range out.Events {
		say("AWS Health: %s %s in %s, %s since %s", aws.ToString(e.Service), aws.ToString(e.EventTypeCode),
			aws.ToString(e.Region), e.StatusCode, aws.ToTime(e.StartTime).UTC().Format("15:04:05 UTC"))
	}
}

func printClosedEvents(ctx context.Context, h *health.Client, say func(string, ...any)) {
	out, err := h.DescribeEvents(ctx, &health.DescribeEventsInput{Filter: &healthtypes.EventFilter{
		Services: []string{"CONNECT"}, EventStatusCodes: []healthtypes.EventStatusCode{healthtypes.EventStatusCodeClosed},
	}})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range out.Events {
		say("AWS Health: %s %s %s at %s", aws.ToString(e.Service), aws.ToString(e.EventTypeCode),
			e.StatusCode, aws.ToTime(e.EndTime).UTC().Format("15:04:05 UTC"))
	}
}
