package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/localcases/localcases/bench"
	"github.com/localcases/localcases/localcasestest"
)

// runBench runs `localcases bench args...` in-process and returns stdout
// and stderr.
func runBench(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	err := m.Run(context.Background(), append([]string{"bench"}, args...))
	return out.String(), errOut.String(), err
}

// checkRun is what every measurement must satisfy whatever the machine's
// speed: the counts add up, nothing failed, and the percentiles are ordered.
func checkRun(t *testing.T, label string, r bench.Measurement, want int64) {
	t.Helper()
	if r.Requests != want {
		t.Errorf("%s: %d requests, want %d", label, r.Requests, want)
	}
	if r.Requests != r.Successes+r.Errors {
		t.Errorf("%s: requests %d != successes %d + errors %d", label, r.Requests, r.Successes, r.Errors)
	}
	if r.Errors != 0 || len(r.ErrorsByType) != 0 {
		t.Errorf("%s: %d errors: %v", label, r.Errors, r.ErrorsByType)
	}
	l := r.Latency
	if !(0 < l.P50Ms && l.P50Ms <= l.P90Ms && l.P90Ms <= l.P99Ms && l.P99Ms <= l.MaxMs) {
		t.Errorf("%s: latencies out of order: %+v", label, l)
	}
	if r.Throughput <= 0 || r.Seconds <= 0 {
		t.Errorf("%s: throughput %v over %v s", label, r.Throughput, r.Seconds)
	}
	var sum int64
	for _, op := range r.Ops {
		sum += op.Requests
	}
	if sum != r.Requests {
		t.Errorf("%s: per-operation requests add up to %d, not %d", label, sum, r.Requests)
	}
}

func TestBenchJSON(t *testing.T) {
	stdout, stderr, err := runBench(t, nil, "--requests", "200", "--concurrency", "4", "--op", "GetDomain", "--json")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	var res bench.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout)
	}
	checkRun(t, "localcases", res.Localcases, 200)
	if res.Ceiling != nil || res.Ratio != nil {
		t.Errorf("ceiling reported without --ceiling")
	}
	if !res.Server.InProcess || res.Server.Store != "memory" || res.Concurrency != 4 || res.Workload != "GetDomain" {
		t.Errorf("settings: %+v, concurrency %d, workload %q", res.Server, res.Concurrency, res.Workload)
	}
	if rss := res.Localcases.RSS; rss.StartBytes <= 0 || rss.PeakBytes < rss.StartBytes || rss.PeakBytes < rss.EndBytes {
		t.Errorf("rss %+v", rss)
	}
}

func TestBenchCeilingText(t *testing.T) {
	stdout, stderr, err := runBench(t, nil, "--requests", "200", "--concurrency", "4", "--op", "ListFields", "--ceiling")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	header := ""
	for line := range strings.Lines(stdout) {
		if strings.Contains(line, "localcases") && strings.Contains(line, "ceiling") {
			header = line
		}
	}
	if !strings.Contains(header, "ratio") {
		t.Errorf("no localcases / ceiling / ratio columns:\n%s", stdout)
	}
	for _, row := range []string{"throughput", "latency p50", "latency p99", "rss peak"} {
		found := false
		for line := range strings.Lines(stdout) {
			if strings.Contains(line, row) && len(strings.Fields(line)) >= 6 {
				found = true
			}
		}
		if !found {
			t.Errorf("row %q lacks a value per column:\n%s", row, stdout)
		}
	}

	stdout, stderr, err = runBench(t, nil, "--requests", "200", "--concurrency", "4", "--op", "ListFields", "--ceiling", "--json")
	if err != nil {
		t.Fatalf("bench --json: %v\n%s", err, stderr)
	}
	var res bench.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	checkRun(t, "localcases", res.Localcases, 200)
	if res.Ceiling == nil || res.Ratio == nil {
		t.Fatalf("no ceiling in JSON:\n%s", stdout)
	}
	checkRun(t, "ceiling", *res.Ceiling, 200)
	if len(res.Ceiling.Uncaptured) != 0 {
		t.Errorf("ceiling did not capture a ListFields answer: %v", res.Ceiling.Uncaptured)
	}
	if res.Ratio.Throughput <= 0 || res.Ratio.P50 <= 0 {
		t.Errorf("ratio %+v", res.Ratio)
	}
}

// TestBenchURLAndMix drives an already running server by URL with a mix set
// through the environment, and reports progress on stderr.
func TestBenchURLAndMix(t *testing.T) {
	srv := localcasestest.New(t)
	env := map[string]string{"LOCALCASES_MIX": "GetDomain=50,ListFields=30,BatchGetField=20"}
	stdout, stderr, err := runBench(t, env, "--url", srv.URL(), "--requests", "300", "--concurrency", "4", "--json")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	var res bench.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	checkRun(t, "localcases", res.Localcases, 300)
	if res.Server.InProcess || res.Server.URL != srv.URL() || len(res.Localcases.Ops) != 3 {
		t.Errorf("server %+v, ops %d", res.Server, len(res.Localcases.Ops))
	}
	// A second run finds the domain and fields the first one seeded.
	stdout, _, err = runBench(t, env, "--url", srv.URL(), "--requests", "50", "--json", "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	var again bench.Result
	json.Unmarshal([]byte(stdout), &again)
	if again.Seed.DomainCreated || again.Seed.Fields != 0 || again.Seed.DomainID != res.Seed.DomainID {
		t.Errorf("second run seeded again: %+v (first %+v)", again.Seed, res.Seed)
	}
}

// TestBenchSQLite runs the in-process server on the durable engine, in the
// directory given, with writes in the workload.
func TestBenchSQLite(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, err := runBench(t, nil, "--store", "sqlite", "--data", dir, "--requests", "100", "--concurrency", "4",
		"--mix", "GetCase=2,UpdateCase=1,CreateCase=1", "--seed-cases", "20", "--json")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr)
	}
	var res bench.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	checkRun(t, "localcases", res.Localcases, 100)
	if res.Server.Store != "sqlite" || res.Seed.Cases != 20 {
		t.Errorf("store %q, seed %+v", res.Server.Store, res.Seed)
	}
	if _, err := os.Stat(filepath.Join(dir, "localcases.db")); err != nil {
		t.Errorf("no database in --data: %v", err)
	}
}

func TestBenchRefuses(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--url", "http://192.0.2.10:4599", "--op", "GetDomain"}, "only drives a server on this machine"},
		{[]string{"--url", "https://cases.us-east-1.amazonaws.com", "--op", "GetDomain"}, "only drives a server on this machine"},
		{[]string{"--op", "GetDomain", "--store", "mysql"}, "want memory, sqlite or a postgres:// URL"},
		{[]string{"--op", "GetDomain", "--data", "/tmp/x"}, "needs --store sqlite"},
		{[]string{"--op", "GetDomain", "--url", "http://127.0.0.1:1", "--store", "sqlite"}, "do not apply with --url"},
		{[]string{"--op", "NoSuchOp"}, "does not drive"},
		{[]string{}, "give --op"},
	} {
		_, _, err := runBench(t, nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("bench %v: err %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
}
