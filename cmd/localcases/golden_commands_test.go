package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/internal/servertest"
)

// TestGoldenCommands runs the commands that change a server's state against
// a real one, in order, and holds what each prints (standard output, then
// standard error), for people and with --json, to testdata/golden/cmd-*.
// The server's URL and the temporary directory are written as URL and DIR.
func TestGoldenCommands(t *testing.T) {
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	if _, err := servertest.Client(srv.URL()).CreateDomain(context.Background(),
		&connectcases.CreateDomainInput{Name: aws.String("golden")}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(rules, []byte("- id: slow-search\n  operation: SearchCases\n  latency: 200ms\n"+
		"- operation: GetCase\n  error: {code: ThrottlingException}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "snap.json")

	for _, step := range []struct {
		name string
		args []string // "ARN" is an event posted for the step
	}{
		{"faults-add", []string{"faults", "add", "--op", "CreateCase", "--error", "InternalServerException", "--retry-after", "2", "--attempts", "1-2"}},
		{"faults-add-json", []string{"faults", "add", "--rule", `{"id":"lb","operation":"SearchCases","action":"http","httpStatus":503}`, "--json"}},
		{"faults-load", []string{"faults", "load", rules}},
		{"faults-load-json", []string{"faults", "load", rules, "--json"}},
		{"faults-clear", []string{"faults", "clear"}},
		{"faults-clear-json", []string{"faults", "clear", "--json"}},
		{"faults-stop", []string{"faults", "stop"}},
		{"faults-stop-json", []string{"faults", "stop", "--json"}},
		{"export-o", []string{"export", "-o", snap}},
		{"export-o-json", []string{"export", "-o", snap, "--json"}},
		{"import", []string{"import", snap}},
		{"import-json", []string{"import", snap, "--json"}},
		{"reset", []string{"reset"}},
		{"reset-json", []string{"reset", "--json"}},
		{"health-subscription", []string{"health", "subscription", "required"}},
		{"health-subscription-json", []string{"health", "subscription", "available", "--json"}},
		{"health-close", []string{"health", "close", "ARN"}},
		{"health-close-json", []string{"health", "close", "ARN", "--json"}},
	} {
		t.Run(step.name, func(t *testing.T) {
			args := append([]string(nil), step.args...)
			arn := ""
			for i, a := range args {
				if a == "ARN" {
					posted := runCLI(t, srv.URL(), "health", "post", "maintenance", "--in", "1h", "--json")
					if arn = between(posted, `"arn": "`, `"`); arn == "" {
						t.Fatalf("health post printed no ARN:\n%s", posted)
					}
					args[i] = arn
				}
			}
			out := runCLI(t, srv.URL(), args...)
			if arn != "" {
				out = strings.ReplaceAll(out, arn, "ARN")
			}
			out = strings.ReplaceAll(out, srv.URL(), "URL")
			out = strings.ReplaceAll(out, dir, "DIR")
			golden(t, "cmd-"+step.name+".txt", []byte(out))
		})
	}
}

// runCLI runs one command against url as a script would (no terminal), and
// returns its standard output followed by its standard error.
func runCLI(t *testing.T, url string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
		Interactive: func() bool { return false }}
	if err := m.Run(context.Background(), append(args, "--url", url)); err != nil {
		t.Fatalf("%v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		return stdout.String() + "--- stderr\n" + stderr.String()
	}
	return stdout.String()
}

func between(s, from, to string) string {
	_, after, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, to)
	return v
}
