package server_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

var strictAuth = auth.Config{Mode: auth.Strict, Credentials: []auth.Credential{
	{AccessKeyID: "AKIDADMIN", SecretAccessKey: "admin-secret", Policy: []auth.Statement{
		{Effect: "Allow", Action: auth.Strings{"cases:*"}, Resource: auth.Strings{"*"}},
	}},
	{AccessKeyID: "AKIDREADER", SecretAccessKey: "reader-secret", Policy: []auth.Statement{
		{Effect: "Allow", Action: auth.Strings{"cases:Get*", "cases:List*"}, Resource: auth.Strings{"*"}},
	}},
}}

func keyed(key, secret string, more ...func(*connectcases.Options)) func(*connectcases.Options) {
	return func(o *connectcases.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "")
		for _, m := range more {
			m(o)
		}
	}
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestStrictAuthWithTheGoSDK(t *testing.T) {
	ctx := context.Background()
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.Auth = strictAuth }))
	admin := servertest.Client(srv.URL(), keyed("AKIDADMIN", "admin-secret"))
	d := must[*connectcases.CreateDomainOutput](t)(admin.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("strict")}))

	reader := servertest.Client(srv.URL(), keyed("AKIDREADER", "reader-secret"))
	if _, err := reader.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: d.DomainId}); err != nil {
		t.Errorf("reader GetDomain: %v", err)
	}
	_, err := reader.DeleteDomain(ctx, &connectcases.DeleteDomainInput{DomainId: d.DomainId})
	var denied *types.AccessDeniedException
	if !errors.As(err, &denied) || !strings.Contains(aws.ToString(denied.Message), "cases:DeleteDomain") {
		t.Errorf("reader DeleteDomain: %v, want AccessDeniedException naming cases:DeleteDomain", err)
	}

	tests := []struct {
		name   string
		client *connectcases.Client
		code   string
		status int
	}{
		{"unknown key", servertest.Client(srv.URL(), keyed("AKIDNOBODY", "x")), "UnrecognizedClientException", 403},
		{"wrong secret", servertest.Client(srv.URL(), keyed("AKIDADMIN", "guess")), "InvalidSignatureException", 403},
		{"wrong region", servertest.Client(srv.URL(), keyed("AKIDADMIN", "admin-secret", func(o *connectcases.Options) { o.Region = "eu-west-1" })), "InvalidSignatureException", 403},
		{"anonymous", servertest.Client(srv.URL(), func(o *connectcases.Options) { o.Credentials = aws.AnonymousCredentials{} }), "MissingAuthenticationTokenException", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.ListDomains(ctx, &connectcases.ListDomainsInput{})
			if errCode(err) != tt.code || httpStatus(err) != tt.status {
				t.Errorf("err = %v, want %s %d", err, tt.code, tt.status)
			}
		})
	}
	// Nothing ran for the refused calls: the domain is still there.
	if _, err := admin.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: d.DomainId}); err != nil {
		t.Errorf("GetDomain after refused calls: %v", err)
	}
}

func TestAuthReloadSwapsCredentials(t *testing.T) {
	ctx := context.Background()
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.Auth = strictAuth }))
	c := servertest.Client(srv.URL(), keyed("AKIDNEW", "new-secret"))
	if _, err := c.ListDomains(ctx, &connectcases.ListDomainsInput{}); errCode(err) != "UnrecognizedClientException" {
		t.Fatalf("before reload: %v", err)
	}
	next := strictAuth
	next.Credentials = append([]auth.Credential{{AccessKeyID: "AKIDNEW", SecretAccessKey: "new-secret",
		Policy: []auth.Statement{{Effect: "Allow", Action: auth.Strings{"cases:ListDomains"}}}}}, strictAuth.Credentials...)
	if err := srv.SetAuth(next); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListDomains(ctx, &connectcases.ListDomainsInput{}); err != nil {
		t.Fatalf("after reload: %v", err)
	}
}

// TestStrictAuthWithBoto3AndTheCLI: the Python SDK and the AWS CLI sign
// requests the server accepts with the right key and refuses with a wrong
// one.
func TestStrictAuthWithBoto3AndTheCLI(t *testing.T) {
	srv := servertest.MustOpen(t, servertest.WithConfig(func(c *server.Config) { c.Auth = strictAuth }))
	t.Run("aws-cli", func(t *testing.T) {
		if _, err := exec.LookPath("aws"); err != nil {
			t.Skip("the AWS CLI is not on PATH")
		}
		run := func(key, secret string) (string, error) {
			cmd := exec.Command("aws", "connectcases", "list-domains", "--endpoint-url", srv.URL())
			cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+key, "AWS_SECRET_ACCESS_KEY="+secret,
				"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1")
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		if out, err := run("AKIDADMIN", "admin-secret"); err != nil {
			t.Errorf("right key: %v\n%s", err, out)
		}
		if out, err := run("AKIDADMIN", "wrong"); err == nil || !strings.Contains(out, "InvalidSignatureException") {
			t.Errorf("wrong secret: %v\n%s", err, out)
		}
	})
	t.Run("boto3", func(t *testing.T) {
		if exec.Command("python3", "-c", "import boto3").Run() != nil {
			t.Skip("python3 with boto3 is not available")
		}
		script := `
import sys, boto3
from botocore.exceptions import ClientError
def client(key, secret):
    return boto3.client("connectcases", endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)
client("AKIDADMIN", "admin-secret").create_domain(name="boto3-strict")
for key, secret, code in [("AKIDADMIN", "wrong", "InvalidSignatureException"), ("AKIDX", "x", "UnrecognizedClientException")]:
    try:
        client(key, secret).list_domains()
        sys.exit("no error for " + key)
    except ClientError as e:
        assert e.response["Error"]["Code"] == code, e.response
try:
    client("AKIDREADER", "reader-secret").create_domain(name="nope")
    sys.exit("reader created a domain")
except ClientError as e:
    assert e.response["Error"]["Code"] == "AccessDeniedException", e.response
`
		out, err := exec.Command("python3", "-c", script, srv.URL()).CombinedOutput()
		if err != nil {
			t.Errorf("boto3: %v\n%s", err, out)
		}
	})
}
