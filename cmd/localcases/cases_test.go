package main

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// TestBoto3Cases drives every cases-plane operation with boto3
// (testdata/boto3-cases.py).
func TestBoto3Cases(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not on PATH; install it with boto3 to run this test")
	}
	if err := exec.Command(python, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 is not installed; pip install boto3 to run this test")
	}
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "testdata/boto3-cases.py", srv.URL()).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3-cases.py: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestAWSCLICases runs a short cases journey with the real AWS CLI
// (testdata/cli-cases.sh).
func TestAWSCLICases(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI is not on PATH; install it (pip install awscli) to run this test")
	}
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", "testdata/cli-cases.sh", srv.URL()).CombinedOutput()
	if err != nil {
		t.Fatalf("cli-cases.sh: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
