package localcasestest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/localcasestest"
)

// Start and Close run a server outside a test.
func ExampleStart() {
	srv, err := localcasestest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	client := srv.Client()
	if _, err := client.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("support")}); err != nil {
		log.Fatal(err)
	}
	out, err := client.ListDomains(ctx, &connectcases.ListDomainsInput{})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range out.Domains {
		fmt.Println(aws.ToString(d.Name))
	}
	// Output: support
}

// A fault rule makes the next calls fail as the real service can fail,
// here twice, so a client's retries can be tested.
func ExampleFaults_Add() {
	srv, err := localcasestest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	err = srv.Faults().Add(fault.Rule{
		Operation: fault.StringList{"CreateDomain"},
		Count:     aws.Int(2),
		Error:     &fault.ErrorSpec{Code: "ThrottlingException"},
	})
	if err != nil {
		log.Fatal(err)
	}
	noRetries := func(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} }
	client := srv.Client(noRetries)
	for range 3 {
		_, err := client.CreateDomain(context.Background(), &connectcases.CreateDomainInput{Name: aws.String("support")})
		var ae smithy.APIError
		if errors.As(err, &ae) {
			fmt.Println(ae.ErrorCode())
		} else {
			fmt.Println(err)
		}
	}
	// Output:
	// ThrottlingException
	// ThrottlingException
	// <nil>
}

// A preset scenario runs for its duration or until StopScenario.
func ExampleServer_Scenario() {
	srv, err := localcasestest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	if _, err := srv.Scenario("outage", fault.ScenarioParams{Operations: []string{"ListDomains"}}); err != nil {
		log.Fatal(err)
	}
	client := srv.Client(func(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} })
	_, err = client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	fmt.Println(err != nil)
	if err := srv.StopScenario(); err != nil {
		log.Fatal(err)
	}
	_, err = client.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
	fmt.Println(err)
	// Output:
	// true
	// <nil>
}

// Export and Import carry state from one server (or `localcases export`)
// to another: a fixture.
func ExampleServer_Import() {
	src, err := localcasestest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	if _, err := src.Client().CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("fixture")}); err != nil {
		log.Fatal(err)
	}
	snap, err := src.Export()
	if err != nil {
		log.Fatal(err)
	}

	dst, err := localcasestest.Start(localcasestest.WithSQLite())
	if err != nil {
		log.Fatal(err)
	}
	defer dst.Close()
	if err := dst.Import(snap); err != nil {
		log.Fatal(err)
	}
	out, err := dst.Client().ListDomains(ctx, &connectcases.ListDomainsInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(out.Domains), aws.ToString(out.Domains[0].Name))
	// Output: 1 fixture
}

// With events enabled on a domain, WaitEvents returns what the server
// published for EventBridge: here the creation of a case and a comment.
func ExampleServer_WaitEvents() {
	srv, err := localcasestest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	client := srv.Client()
	d, err := client.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("support")})
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.PutCaseEventConfiguration(ctx, &connectcases.PutCaseEventConfigurationInput{
		DomainId: d.DomainId, EventBridge: &types.EventBridgeConfiguration{Enabled: aws.Bool(true)},
	})
	if err != nil {
		log.Fatal(err)
	}
	tpl, err := client.CreateTemplate(ctx, &connectcases.CreateTemplateInput{DomainId: d.DomainId, Name: aws.String("Support")})
	if err != nil {
		log.Fatal(err)
	}
	c, err := client.CreateCase(ctx, &connectcases.CreateCaseInput{DomainId: d.DomainId, TemplateId: tpl.TemplateId,
		Fields: []types.FieldValue{{Id: aws.String("title"), Value: &types.FieldValueUnionMemberStringValue{Value: "Lost parcel"}}}})
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.CreateRelatedItem(ctx, &connectcases.CreateRelatedItemInput{DomainId: d.DomainId, CaseId: c.CaseId,
		Type:    types.RelatedItemTypeComment,
		Content: &types.RelatedItemInputContentMemberComment{Value: types.CommentContent{Body: aws.String("Called back"), ContentType: types.CommentBodyTextTypePlaintext}}})
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	evs, _, err := srv.WaitEvents(ctx, localcasestest.EventQuery{DomainID: *d.DomainId}, 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range evs {
		fmt.Println(ev.Type, ev.CaseID == *c.CaseId)
	}
	// Output:
	// CASE.CREATED true
	// RELATED_ITEM.CREATED true
}
