#!/usr/bin/env bash
# Builds a fresh Go module outside the checkout that uses only
# localcasestest (a replace points it at this checkout, as `go get` would
# point it at a release), runs its tests, and times them: the test binary
# alone, and `go test` with its build and link. Usage:
# scripts/localcasestest-fresh.sh [runs]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
cat >go.mod <<MOD
module example.com/myapp

go $(sed -n 's/^go //p' "$repo/go.mod")

replace github.com/localcases/localcases => $repo

// Until the kit is released on its own, its module comes from the checkout too.
replace github.com/localcases/localcases/resilience => $repo/resilience
MOD
cat >app_test.go <<'GO'
package myapp

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"
	"github.com/aws/smithy-go"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/localcasestest"
)

func TestCreateDomain(t *testing.T) {
	t.Parallel()
	srv := localcasestest.New(t)
	out, err := srv.Client().CreateDomain(t.Context(), &connectcases.CreateDomainInput{Name: aws.String("mine")})
	if err != nil || aws.ToString(out.DomainId) == "" {
		t.Fatalf("CreateDomain = %v, %v", out, err)
	}
}

func TestThrottled(t *testing.T) {
	t.Parallel()
	srv := localcasestest.New(t, localcasestest.WithSQLite())
	rule := fault.Rule{Operation: fault.StringList{"ListDomains"}, Error: &fault.ErrorSpec{Code: "ThrottlingException"}}
	if err := srv.Faults().Add(rule); err != nil {
		t.Fatal(err)
	}
	noRetries := func(o *connectcases.Options) { o.Retryer = aws.NopRetryer{} }
	_, err := srv.Client(noRetries).ListDomains(t.Context(), &connectcases.ListDomainsInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ThrottlingException" {
		t.Fatalf("ListDomains = %v, want ThrottlingException", err)
	}
}
GO
go mod tidy
go test -count=1 -v ./... | grep -E '^(--- |ok|FAIL)'
go test -c -o myapp.test .
for _ in $(seq "${1:-3}"); do
  s=$(date +%s%N); ./myapp.test >/dev/null; e=$(date +%s%N)
  echo "test binary: $(( (e - s) / 1000000 )) ms"
done
for _ in $(seq "${1:-3}"); do
  s=$(date +%s%N); go test -count=1 ./... >/dev/null; e=$(date +%s%N)
  echo "go test -count=1 (build cached, link and run): $(( (e - s) / 1000000 )) ms"
done
