package restjson_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/localcasestest"
	"github.com/localcases/localcases/restjson"
)

// sdkClient talks to url with the SDK's retries off, so each test sees the
// error exactly as the server sent it, quickly.
func sdkClient(url string) *connectcases.Client {
	return connectcases.New(connectcases.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{},
	})
}

func TestSDKInternalServerRetryAfter(t *testing.T) {
	seven := 7
	s := newStub()
	s.setHook(func(string) error {
		return &api.Error{Code: api.CodeInternalServerException, Message: "try again", RetryAfterSeconds: &seven}
	})
	srv := newServer(t, s, restjson.Options{})
	_, err := sdkClient(srv.URL).GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("d1")})
	var ise *types.InternalServerException
	if !errors.As(err, &ise) {
		t.Fatalf("err = %T %v, want *types.InternalServerException", err, err)
	}
	if ise.RetryAfterSeconds == nil || *ise.RetryAfterSeconds != 7 {
		t.Errorf("RetryAfterSeconds = %v, want 7", ise.RetryAfterSeconds)
	}
	if ise.ErrorMessage() != "try again" {
		t.Errorf("message = %q", ise.ErrorMessage())
	}
	if ise.ErrorFault() != smithy.FaultServer {
		t.Errorf("fault = %v, want server", ise.ErrorFault())
	}
}

func TestSDKResourceNotFound(t *testing.T) {
	s := newStub()
	s.setHook(func(string) error { return api.NotFound("Domain", "d-404") })
	srv := newServer(t, s, restjson.Options{})
	_, err := sdkClient(srv.URL).GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: aws.String("d-404")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("err = %T %v, want *types.ResourceNotFoundException", err, err)
	}
	if aws.ToString(nf.ResourceId) != "d-404" || aws.ToString(nf.ResourceType) != "Domain" {
		t.Errorf("ResourceId/ResourceType = %q/%q", aws.ToString(nf.ResourceId), aws.ToString(nf.ResourceType))
	}
	if nf.ErrorMessage() != "Domain d-404 not found." {
		t.Errorf("message = %q", nf.ErrorMessage())
	}
}

func TestSDKValidationException(t *testing.T) {
	srv := newServer(t, newStub(), restjson.Options{})
	// The SDK does not check patterns client-side; the server must.
	_, err := sdkClient(srv.URL).CreateDomain(context.Background(), &connectcases.CreateDomainInput{Name: aws.String("trailing ")})
	var ve *types.ValidationException
	if !errors.As(err, &ve) {
		t.Fatalf("err = %T %v, want *types.ValidationException", err, err)
	}
	if want := "1 validation error detected: Value 'trailing ' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: .*[\\S]"; ve.ErrorMessage() != want {
		t.Errorf("message = %q, want %q", ve.ErrorMessage(), want)
	}
}

func TestSDKRoutesSpecialPaths(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})
	c := sdkClient(srv.URL)
	ctx := context.Background()

	const arn = "arn:aws:cases:us-east-1:123456789012:domain/abc/case/def"
	out, err := c.ListTagsForResource(ctx, &connectcases.ListTagsForResourceInput{Arn: aws.String(arn)})
	if err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}
	if got := aws.ToString(out.Tags["arn"]); got != arn {
		t.Errorf("server saw arn %q, want %q", got, arn)
	}

	if _, err := c.UntagResource(ctx, &connectcases.UntagResourceInput{Arn: aws.String(arn), TagKeys: []string{"a", "b.c"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	if got := input[*api.UntagResourceRequest](t, s, "UntagResource").TagKeys; len(got) != 2 || got[1] != "b.c" {
		t.Errorf("tagKeys = %q", got)
	}

	if _, err := c.ListCaseRules(ctx, &connectcases.ListCaseRulesInput{DomainId: aws.String("d1")}); err != nil {
		t.Fatalf("ListCaseRules: %v", err)
	}
	if _, err := c.ListTemplates(ctx, &connectcases.ListTemplatesInput{DomainId: aws.String("d1"), Status: []types.TemplateStatus{"Active", "Inactive"}}); err != nil {
		t.Fatalf("ListTemplates: %v", err)
	}
	if got := input[*api.ListTemplatesRequest](t, s, "ListTemplates").Status; len(got) != 2 {
		t.Errorf("status = %q", got)
	}

	// An empty-output operation.
	if _, err := c.DeleteDomain(ctx, &connectcases.DeleteDomainInput{DomainId: aws.String("d1")}); err != nil {
		t.Fatalf("DeleteDomain: %v", err)
	}
}

// The SDK does not escape "." in a path label and follows 307 redirects, so
// a router that cleans dot segments would send DeleteCase(caseId "..") to
// DeleteDomain.
func TestSDKDotDotCaseIDDoesNotReachDomain(t *testing.T) {
	s := newStub()
	srv := newServer(t, s, restjson.Options{})
	_, err := sdkClient(srv.URL).DeleteCase(context.Background(), &connectcases.DeleteCaseInput{DomainId: aws.String("d1"), CaseId: aws.String("..")})
	if s.called("DeleteDomain") {
		t.Fatal("DeleteCase with caseId \"..\" deleted the domain")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != string(api.CodeNotImplementedException) {
		t.Errorf("err = %v, want the stub's DeleteCase answer", err)
	}
}

// The same hazard through the assembled server, whose top-level handler
// must not clean paths either before they reach the API handler.
func TestFullServerDotDotCaseID(t *testing.T) {
	srv := localcasestest.New(t)
	c := srv.Client(func(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} })
	ctx := context.Background()
	d, err := c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("dots")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteCase(ctx, &connectcases.DeleteCaseInput{DomainId: d.DomainId, CaseId: aws.String("..")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ResourceId) != ".." {
		t.Errorf("DeleteCase(caseId \"..\") = %v, want ResourceNotFoundException for ..", err)
	}
	if _, err := c.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: d.DomainId}); err != nil {
		t.Fatalf("the domain is gone after DeleteCase(caseId \"..\"): %v", err)
	}
}
