package localcasestest_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/smithy-go"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/localcasestest"
	"github.com/localcases/localcases/store/storetest"
)

func noRetries(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} }

func createDomain(t *testing.T, c *connectcases.Client, name string) string {
	t.Helper()
	out, err := c.CreateDomain(t.Context(), &connectcases.CreateDomainInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateDomain: %v", err)
	}
	return aws.ToString(out.DomainId)
}

func domainNames(t *testing.T, c *connectcases.Client) []string {
	t.Helper()
	out, err := c.ListDomains(t.Context(), &connectcases.ListDomainsInput{})
	if err != nil {
		t.Fatalf("ListDomains: %v", err)
	}
	var names []string
	for _, d := range out.Domains {
		names = append(names, aws.ToString(d.Name))
	}
	return names
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// Each engine serves the SDK, keeps its state to itself, and survives the
// state tools.
func TestEngines(t *testing.T) {
	engines := map[string]func(t *testing.T) []localcasestest.Option{
		"memory": func(*testing.T) []localcasestest.Option { return nil },
		"sqlite": func(*testing.T) []localcasestest.Option { return []localcasestest.Option{localcasestest.WithSQLite()} },
		"postgres": func(t *testing.T) []localcasestest.Option {
			return []localcasestest.Option{localcasestest.WithPostgres(storetest.PostgresURL(t))}
		},
	}
	for name, opts := range engines {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := localcasestest.New(t, opts(t)...)
			c := srv.Client()
			id := createDomain(t, c, "engine-"+name)
			if got := domainNames(t, c); len(got) != 1 || got[0] != "engine-"+name {
				t.Fatalf("domains = %v, want only engine-%s", got, name)
			}
			snap, err := srv.Export()
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Reset(); err != nil {
				t.Fatal(err)
			}
			if got := domainNames(t, c); len(got) != 0 {
				t.Fatalf("after Reset, domains = %v", got)
			}
			if err := srv.Import(snap); err != nil {
				t.Fatal(err)
			}
			got, err := c.GetDomain(t.Context(), &connectcases.GetDomainInput{DomainId: aws.String(id)})
			if err != nil {
				t.Fatalf("GetDomain after Import: %v", err)
			}
			if want := "arn:aws:cases:us-east-1:000000000000:domain/" + id; aws.ToString(got.DomainArn) != want {
				t.Errorf("DomainArn = %s, want %s", aws.ToString(got.DomainArn), want)
			}
		})
	}
}

// Servers started side by side share nothing.
func TestParallelServersAreIsolated(t *testing.T) {
	for i := range 4 {
		t.Run(string(rune('a'+i)), func(t *testing.T) {
			t.Parallel()
			srv := localcasestest.New(t)
			name := "isolated-" + string(rune('a'+i))
			createDomain(t, srv.Client(), name)
			if err := srv.Faults().Add(fault.Rule{Operation: fault.StringList{"ListDomains"}, Count: aws.Int(1)}); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.Client(noRetries).ListDomains(t.Context(), &connectcases.ListDomainsInput{}); errorCode(err) != "InternalServerException" {
				t.Fatalf("first ListDomains: err = %v, want the injected InternalServerException", err)
			}
			if got := domainNames(t, srv.Client()); len(got) != 1 || got[0] != name {
				t.Fatalf("domains = %v, want only %s", got, name)
			}
		})
	}
}

func TestFaultsAndThrottling(t *testing.T) {
	t.Parallel()
	srv := localcasestest.New(t)
	c := srv.Client(noRetries)
	id := createDomain(t, c, "faults")

	rule := fault.Rule{ID: "get-fails", Operation: fault.StringList{"GetDomain"}, Error: &fault.ErrorSpec{Code: "ResourceNotFoundException"}}
	if err := srv.Faults().Add(rule); err != nil {
		t.Fatal(err)
	}
	rules, err := srv.Faults().List()
	if err != nil || len(rules) != 1 || rules[0].ID != "get-fails" {
		t.Fatalf("List = %v, %v; want the rule get-fails", rules, err)
	}
	get := func() error {
		_, err := c.GetDomain(t.Context(), &connectcases.GetDomainInput{DomainId: aws.String(id)})
		return err
	}
	if code := errorCode(get()); code != "ResourceNotFoundException" {
		t.Fatalf("GetDomain with the rule: code %q, want ResourceNotFoundException", code)
	}
	if err := srv.Faults().Clear(); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("GetDomain after Clear: %v", err)
	}

	bad := fault.Rule{Operation: fault.StringList{"NoSuchOperation"}}
	if err := srv.Faults().Add(bad); err == nil || !strings.Contains(err.Error(), "NoSuchOperation") {
		t.Fatalf("Add(unknown operation) = %v, want an error naming it", err)
	}

	if _, err := srv.Scenario("outage", fault.ScenarioParams{Operations: []string{"GetDomain"}, Duration: fault.Duration(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if code := errorCode(get()); code != "InternalServerException" {
		t.Fatalf("GetDomain in an outage: code %q, want InternalServerException", code)
	}
	if err := srv.StopScenario(); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("GetDomain after StopScenario: %v", err)
	}

	// GetDomain's quota is a few calls a second: a burst past it throttles.
	if err := srv.SetThrottling(true); err != nil {
		t.Fatal(err)
	}
	throttled := false
	for range 200 {
		if errorCode(get()) == "ThrottlingException" {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Fatal("200 GetDomain calls with throttling on: none throttled")
	}
	if err := srv.Reset(); err != nil {
		t.Fatal(err)
	}
	th, err := srv.Admin().Throttle(t.Context())
	if err != nil || th.Enabled {
		t.Fatalf("after Reset throttle = %+v, %v; want off, as the server started", th, err)
	}
}

func TestImportFile(t *testing.T) {
	t.Parallel()
	src := localcasestest.New(t)
	createDomain(t, src.Client(), "fixture")
	snap, err := src.Export()
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fixture.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := localcasestest.New(t, localcasestest.WithSQLite())
	if err := dst.ImportFile(path); err != nil {
		t.Fatal(err)
	}
	if got := domainNames(t, dst.Client()); len(got) != 1 || got[0] != "fixture" {
		t.Fatalf("domains = %v, want [fixture]", got)
	}
	if err := dst.ImportFile(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("ImportFile(missing file) = nil")
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	srv := localcasestest.New(t, localcasestest.WithRegion("eu-west-2"), localcasestest.WithAccount("123456789012"), localcasestest.WithThrottling())
	if srv.Config().Region != "eu-west-2" {
		t.Errorf("Config().Region = %q", srv.Config().Region)
	}
	out, err := srv.Client().CreateDomain(t.Context(), &connectcases.CreateDomainInput{Name: aws.String("arn")})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(out.DomainArn); !strings.HasPrefix(arn, "arn:aws:cases:eu-west-2:123456789012:domain/") {
		t.Errorf("DomainArn = %s", arn)
	}
	th, err := srv.Admin().Throttle(t.Context())
	if err != nil || !th.Enabled {
		t.Errorf("WithThrottling: throttle = %+v, %v; want on", th, err)
	}
	if _, err := localcasestest.Start(localcasestest.WithAccount("12")); err == nil {
		t.Error("Start with a bad account = nil error")
	}
}

func TestStartClose(t *testing.T) {
	srv, err := localcasestest.Start(localcasestest.WithSQLite())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client().CreateDomain(t.Context(), &connectcases.CreateDomainInput{Name: aws.String("started")}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	_, err = srv.Client().ListDomains(t.Context(), &connectcases.ListDomainsInput{}, noRetries)
	if err == nil {
		t.Fatal("ListDomains after Close succeeded")
	}
}
