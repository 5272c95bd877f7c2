package server_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/aws-sdk-go-v2/service/connectcases/types"
	"github.com/aws/smithy-go"

	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

func newClient(t *testing.T, opts ...servertest.Option) *connectcases.Client {
	t.Helper()
	srv := servertest.MustOpen(t, opts...)
	return servertest.Client(srv.URL())
}

// errCode returns the API error code of err, or "" if it is not one.
func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func mustCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := errCode(err); got != want {
		t.Fatalf("error = %v (code %q), want %s", err, got, want)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestSDKDomains(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, servertest.WithConfig(func(c *server.Config) { c.Quotas.DomainsPerAccount = 2 }))
	d := must[*connectcases.CreateDomainOutput](t)(c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("one")}))
	if d.DomainStatus != types.DomainStatusActive || *d.DomainArn != "arn:aws:cases:us-east-1:000000000000:domain/"+*d.DomainId {
		t.Errorf("CreateDomain = %+v", d)
	}
	_, err := c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("one")})
	mustCode(t, err, "ConflictException")
	must[*connectcases.CreateDomainOutput](t)(c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("two")}))
	_, err = c.CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("three")})
	var quota *types.ServiceQuotaExceededException
	if !errors.As(err, &quota) {
		t.Fatalf("third domain: %v, want ServiceQuotaExceededException", err)
	}

	g := must[*connectcases.GetDomainOutput](t)(c.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: d.DomainId}))
	if *g.Name != "one" || g.CreatedTime == nil || g.CreatedTime.IsZero() {
		t.Errorf("GetDomain = %+v", g)
	}
	_, err = c.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: aws.String("missing")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || *nf.ResourceId != "missing" || *nf.ResourceType != "Domain" {
		t.Fatalf("GetDomain(missing) = %v", err)
	}

	// Pagination: one domain per page, then the token runs out.
	var ids []string
	p := connectcases.ListDomainsInput{MaxResults: aws.Int32(1)}
	for {
		out := must[*connectcases.ListDomainsOutput](t)(c.ListDomains(ctx, &p))
		for _, d := range out.Domains {
			ids = append(ids, *d.DomainId)
		}
		if out.NextToken == nil {
			break
		}
		p.NextToken = out.NextToken
	}
	if len(ids) != 2 {
		t.Errorf("listed %d domains, want 2", len(ids))
	}
	_, err = c.ListDomains(ctx, &connectcases.ListDomainsInput{MaxResults: aws.Int32(11)})
	mustCode(t, err, "ValidationException")

	must[*connectcases.DeleteDomainOutput](t)(c.DeleteDomain(ctx, &connectcases.DeleteDomainInput{DomainId: d.DomainId}))
	_, err = c.GetDomain(ctx, &connectcases.GetDomainInput{DomainId: d.DomainId})
	mustCode(t, err, "ResourceNotFoundException")
}

func newDomain(t *testing.T, c *connectcases.Client) string {
	t.Helper()
	d := must[*connectcases.CreateDomainOutput](t)(c.CreateDomain(context.Background(), &connectcases.CreateDomainInput{Name: aws.String(t.Name())}))
	return *d.DomainId
}

func TestSDKFieldsAndOptions(t *testing.T) {
	ctx := context.Background()
	c := newClient(t)
	domain := aws.String(newDomain(t, c))

	fields := must[*connectcases.ListFieldsOutput](t)(c.ListFields(ctx, &connectcases.ListFieldsInput{DomainId: domain}))
	system := map[string]types.FieldType{}
	for _, f := range fields.Fields {
		if f.Namespace == types.FieldNamespaceSystem {
			system[*f.FieldId] = f.Type
		}
	}
	for id, typ := range map[string]types.FieldType{"title": "Text", "status": "SingleSelect", "created_datetime": "DateTime", "created_by": "User", "customer_id": "Text"} {
		if system[id] != typ {
			t.Errorf("system field %s has type %q, want %s", id, system[id], typ)
		}
	}

	f := must[*connectcases.CreateFieldOutput](t)(c.CreateField(ctx, &connectcases.CreateFieldInput{
		DomainId: domain, Name: aws.String("Priority"), Type: types.FieldTypeSingleSelect,
	}))
	_, err := c.CreateField(ctx, &connectcases.CreateFieldInput{DomainId: domain, Name: aws.String("Priority"), Type: types.FieldTypeText})
	mustCode(t, err, "ConflictException")
	_, err = c.CreateField(ctx, &connectcases.CreateFieldInput{DomainId: domain, Name: aws.String("Bad"), Type: types.FieldTypeNumber,
		Attributes: &types.FieldAttributesMemberText{Value: types.TextAttributes{IsMultiline: aws.Bool(true)}}})
	mustCode(t, err, "ValidationException")
	_, err = c.UpdateField(ctx, &connectcases.UpdateFieldInput{DomainId: domain, FieldId: aws.String("title"), Name: aws.String("Heading")})
	mustCode(t, err, "ValidationException")

	opts := must[*connectcases.BatchPutFieldOptionsOutput](t)(c.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{
		DomainId: domain, FieldId: f.FieldId, Options: []types.FieldOption{
			{Name: aws.String("High"), Value: aws.String("high"), Active: aws.Bool(true)},
			{Name: aws.String("Low"), Value: aws.String("low"), Active: aws.Bool(true)},
		},
	}))
	if len(opts.Errors) != 0 {
		t.Errorf("BatchPutFieldOptions errors = %+v", opts.Errors)
	}
	// The status field's built-in options cannot be deactivated.
	st := must[*connectcases.BatchPutFieldOptionsOutput](t)(c.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{
		DomainId: domain, FieldId: aws.String("status"), Options: []types.FieldOption{
			{Name: aws.String("Open"), Value: aws.String("open"), Active: aws.Bool(false)},
			{Name: aws.String("Pending"), Value: aws.String("pending"), Active: aws.Bool(true)},
		},
	}))
	if len(st.Errors) != 1 || *st.Errors[0].Value != "open" {
		t.Errorf("status option errors = %+v", st.Errors)
	}
	var values []string
	in := connectcases.ListFieldOptionsInput{DomainId: domain, FieldId: aws.String("status"), MaxResults: aws.Int32(1)}
	for {
		out := must[*connectcases.ListFieldOptionsOutput](t)(c.ListFieldOptions(ctx, &in))
		for _, o := range out.Options {
			values = append(values, *o.Value)
		}
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	if fmt.Sprint(values) != "[open closed pending]" {
		t.Errorf("status options = %v", values)
	}

	must[*connectcases.DeleteFieldOutput](t)(c.DeleteField(ctx, &connectcases.DeleteFieldInput{DomainId: domain, FieldId: f.FieldId}))
	got := must[*connectcases.BatchGetFieldOutput](t)(c.BatchGetField(ctx, &connectcases.BatchGetFieldInput{
		DomainId: domain, Fields: []types.FieldIdentifier{{Id: f.FieldId}, {Id: aws.String("nope")}},
	}))
	if len(got.Fields) != 1 || !got.Fields[0].Deleted || len(got.Errors) != 1 || *got.Errors[0].Id != "nope" {
		t.Errorf("BatchGetField = %+v", got)
	}
	_, err = c.BatchPutFieldOptions(ctx, &connectcases.BatchPutFieldOptionsInput{DomainId: domain, FieldId: f.FieldId,
		Options: []types.FieldOption{{Name: aws.String("X"), Value: aws.String("x"), Active: aws.Bool(true)}}})
	mustCode(t, err, "ValidationException")
	_, err = c.DeleteField(ctx, &connectcases.DeleteFieldInput{DomainId: domain, FieldId: aws.String("title")})
	mustCode(t, err, "ValidationException")
}
