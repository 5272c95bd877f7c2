package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/internal/servertest"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// MustRunMain runs `localcases serve` in-process on a free port and stops it
// when the test ends.
func MustRunMain(tb testing.TB, env map[string]string, args ...string) (*server.Server, *syncBuffer) {
	tb.Helper()
	out := &syncBuffer{}
	started := make(chan *server.Server, 1)
	m := &Main{Stdout: out, Stderr: out, Getenv: func(k string) string { return env[k] }, started: func(s *server.Server) { started <- s }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, append([]string{"serve"}, args...)) }()
	select {
	case srv := <-started:
		tb.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("serve: %v", err)
			}
		})
		return srv, out
	case err := <-done:
		cancel()
		tb.Fatalf("serve exited: %v\n%s", err, out.String())
	case <-time.After(10 * time.Second):
		cancel()
		tb.Fatalf("serve did not start\n%s", out.String())
	}
	return nil, nil
}

func TestServePrintsEndpointAndCLILine(t *testing.T) {
	srv, out := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	text := out.String()
	for _, want := range []string{srv.URL(), "aws connectcases list-domains --endpoint-url " + srv.URL(), "console: " + srv.URL() + "/"} {
		if !strings.Contains(text, want) {
			t.Errorf("start-up output lacks %q:\n%s", want, text)
		}
	}
	resp, err := http.Get(srv.URL() + "/_localcases/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Status, Version, Store string
		Ready                  bool
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !h.Ready || h.Status != "operational" || h.Store != "memory" {
		t.Errorf("health = %d %+v", resp.StatusCode, h)
	}
}

// The try line works pasted into a new shell that has no AWS settings at
// all: the AWS CLI refuses to send a request without credentials, so the
// line carries them.
func TestTryLineWorksInANewShell(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("AWS CLI not installed")
	}
	_, out := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	var line string
	for l := range strings.Lines(out.String()) {
		if rest, ok := strings.CutPrefix(l, "try:"); ok {
			line = strings.TrimSpace(rest)
		}
	}
	if line == "" {
		t.Fatalf("no try: line in\n%s", out.String())
	}
	cmd := exec.Command("sh", "-c", line)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), "domains") {
		t.Fatalf("%s: %v\n%s", line, err, got)
	}
}

// A server on every interface (":0") is named by its loopback URL, which
// this machine's clients can reach, not by "[::]".
func TestWildcardAddrPrintsLoopbackURL(t *testing.T) {
	srv, out := MustRunMain(t, nil, "--addr", ":0", "--memory")
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || strings.Contains(out.String(), "at http://[::]") {
		t.Fatalf("URL %s, output:\n%s", srv.URL(), out.String())
	}
	if !strings.Contains(out.String(), "beyond loopback") {
		t.Errorf("no warning about listening beyond loopback:\n%s", out.String())
	}
}

func TestServeReadsEnvironment(t *testing.T) {
	env := map[string]string{"LOCALCASES_ADDR": "127.0.0.1:0", "LOCALCASES_REGION": "eu-west-2", "LOCALCASES_ACCOUNT": "123456789012"}
	srv, _ := MustRunMain(t, env, "--memory")
	if c := srv.Config(); c.Region != "eu-west-2" || c.Account != "123456789012" {
		t.Errorf("config from environment = %s/%s", c.Region, c.Account)
	}
}

// TestServeThrottleRedis: --throttle-redis, its variable or the config
// file's throttleRedis put the buckets in Redis and turn throttling on.
func TestServeThrottleRedis(t *testing.T) {
	// Nothing listens on port 1: the server starts anyway, failing open.
	const url = "redis://127.0.0.1:1/0"
	cfgPath := t.TempDir() + "/localcases.yaml"
	os.WriteFile(cfgPath, []byte("throttleRedis: "+url+"\n"), 0o644)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"flag", nil, []string{"--throttle-redis", url}},
		{"environment", map[string]string{"LOCALCASES_THROTTLE_REDIS": url}, nil},
		{"config file", nil, []string{"--config", cfgPath}},
	} {
		srv, _ := MustRunMain(t, tc.env, append([]string{"--addr", "127.0.0.1:0", "--memory"}, tc.args...)...)
		th := srv.Faults().Throttler()
		if srv.Config().ThrottleRedis != url || !th.Enabled() || th.Buckets() == nil {
			t.Errorf("%s: throttleRedis %q, enabled %v, buckets %v", tc.name, srv.Config().ThrottleRedis, th.Enabled(), th.Buckets())
		}
	}
}

// TestServeAllowHost: names from --allow-host, its variable or the config
// file's allowedHosts pass the DNS-rebinding guard; others do not.
func TestServeAllowHost(t *testing.T) {
	dir := t.TempDir()
	cfgPath := dir + "/localcases.yaml"
	os.WriteFile(cfgPath, []byte("allowedHosts: [from-file.test]\n"), 0o644)
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		host string
	}{
		{"flag", nil, []string{"--allow-host", "cases.test,*.ci.test"}, "runner.ci.test"},
		{"environment", map[string]string{"LOCALCASES_ALLOW_HOST": "cases.test"}, nil, "cases.test"},
		{"config file", nil, []string{"--config", cfgPath}, "from-file.test"},
	} {
		srv, _ := MustRunMain(t, tc.env, append([]string{"--addr", "127.0.0.1:0", "--memory"}, tc.args...)...)
		for host, want := range map[string]int{tc.host: 200, "rebind.evil.example": 403} {
			req, _ := http.NewRequest("GET", srv.URL()+"/_localcases/health", nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("%s: Host %s: %d, want %d", tc.name, host, resp.StatusCode, want)
			}
		}
	}
}

func TestServeFlagBeatsEnvironmentAndConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfgPath := dir + "/localcases.yaml"
	os.WriteFile(cfgPath, []byte("region: ap-south-1\naccount: \"111111111111\"\nquotas:\n  domainsPerAccount: 7\n"), 0o644)
	env := map[string]string{"LOCALCASES_ACCOUNT": "222222222222"}
	srv, _ := MustRunMain(t, env, "--addr", "127.0.0.1:0", "--memory", "--config", cfgPath, "--region", "ca-central-1")
	c := srv.Config()
	if c.Region != "ca-central-1" || c.Account != "222222222222" || c.Quotas.DomainsPerAccount != 7 {
		t.Errorf("got region %s account %s domains quota %d", c.Region, c.Account, c.Quotas.DomainsPerAccount)
	}
}

func TestServeRejectsBadConfiguration(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"short account", []string{"--account", "123"}, "12 digits"},
		{"bad log level", []string{"--log-level", "loud"}, "log level"},
		{"missing config file", []string{"--config", "/nonexistent/localcases.yaml"}, "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
			err := m.Run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, tt.args...))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	if err := m.Run(context.Background(), []string{"version"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "localcases ") {
		t.Errorf("version output %q", out.String())
	}
}

// TestRealClientScripts drives the server with clients no one here wrote:
// the AWS CLI and boto3 run journeys through every operation, of Cases and
// of AWS Health (testdata/*.sh, testdata/*.py), unchanged but for the
// endpoint. Each is
// skipped, saying why, where its client is not installed.
func TestRealClientScripts(t *testing.T) {
	scripts := []struct {
		name, interpreter, file string
		needs                   func() error
	}{
		{"aws-cli configuration plane", "bash", "testdata/cli-smoke.sh", hasAWSCLI},
		{"aws-cli cases plane", "bash", "testdata/cli-cases.sh", hasAWSCLI},
		{"boto3 configuration plane", "python3", "testdata/boto3-smoke.py", hasBoto3},
		{"boto3 cases plane", "python3", "testdata/boto3-cases.py", hasBoto3},
		{"aws-cli health", "bash", "testdata/cli-health.sh", hasAWSCLI},
		{"boto3 health", "python3", "testdata/boto3-health.py", hasBoto3},
		{"aws-cli events", "bash", "testdata/cli-events.sh", hasAWSCLI},
		{"boto3 events", "python3", "testdata/boto3-events.py", hasBoto3},
	}
	for _, sc := range scripts {
		t.Run(sc.name, func(t *testing.T) {
			if err := sc.needs(); err != nil {
				t.Skip(err)
			}
			srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
			// A hung script ends with the test binary's deadline, not a fixed
			// bound: each AWS CLI call starts a Python interpreter, and on a
			// loaded machine a journey of a hundred calls takes minutes.
			deadline, ok := t.Deadline()
			if !ok {
				deadline = time.Now().Add(time.Hour)
			}
			ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-30*time.Second))
			defer cancel()
			out, err := exec.CommandContext(ctx, sc.interpreter, sc.file, srv.URL()).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", sc.file, err, out)
			}
			t.Logf("%s", out)
		})
	}
}

func hasAWSCLI() error {
	if _, err := exec.LookPath("aws"); err != nil {
		return errors.New("the AWS CLI is not on PATH; install it (pip install awscli) to run this test")
	}
	return nil
}

func hasBoto3() error {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		return errors.New("python3 with boto3 is not available; pip install boto3 to run this test")
	}
	return nil
}

func TestExplain(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"InternalServerException"}, []string{"InternalServerException", "Retry"}},
		{[]string{"429"}, []string{"ThrottlingException"}},
		{[]string{"api error ValidationException: 1 validation error detected"}, []string{"ValidationException"}},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
		if err := m.Run(context.Background(), append([]string{"explain"}, tt.args...)); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("explain %v: output lacks %q:\n%s", tt.args, w, out.String())
			}
		}
	}
}

// TestRealClientsSeeInjectedFaults: boto3 and the AWS CLI report injected
// errors by name, as they would the real service's.
func TestRealClientsSeeInjectedFaults(t *testing.T) {
	dir := t.TempDir()
	rules := dir + "/faults.yaml"
	os.WriteFile(rules, []byte("- operation: ListDomains\n  error:\n    code: InternalServerException\n    retryAfterSeconds: 2\n"), 0o644)
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory", "--faults", rules)
	t.Run("aws-cli", func(t *testing.T) {
		if err := hasAWSCLI(); err != nil {
			t.Skip(err)
		}
		cmd := exec.Command("aws", "connectcases", "list-domains", "--endpoint-url", srv.URL())
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDCLI", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "(InternalServerException)") {
			t.Errorf("aws: err %v, output:\n%s", err, out)
		}
	})
	t.Run("boto3", func(t *testing.T) {
		if err := hasBoto3(); err != nil {
			t.Skip(err)
		}
		out, err := exec.Command("python3", "testdata/boto3-faults.py", srv.URL()).CombinedOutput()
		if err != nil {
			t.Errorf("boto3-faults.py: %v\n%s", err, out)
		}
	})
}

// TestSIGHUPReloadsCredentials: in strict mode, a key added to the config
// file works after SIGHUP, without a restart.
func TestSIGHUPReloadsCredentials(t *testing.T) {
	dir := t.TempDir()
	cfgPath := dir + "/localcases.yaml"
	write := func(keys ...string) {
		var b strings.Builder
		b.WriteString("auth:\n  mode: strict\n  credentials:\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "    - accessKeyId: %s\n      secretAccessKey: secret-%s\n      policy:\n        - effect: Allow\n          action: \"cases:*\"\n          resource: \"*\"\n", k, k)
		}
		if err := os.WriteFile(cfgPath, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("AKIDFIRST")
	srv, out := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory", "--config", cfgPath)
	call := func(key string) error {
		c := servertest.Client(srv.URL(), func(o *connectcases.Options) {
			o.Credentials = credentials.NewStaticCredentialsProvider(key, "secret-"+key, "")
		})
		_, err := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{})
		return err
	}
	if err := call("AKIDFIRST"); err != nil {
		t.Fatalf("configured key: %v", err)
	}
	if err := call("AKIDSECOND"); err == nil {
		t.Fatal("an unconfigured key was accepted")
	}
	write("AKIDFIRST", "AKIDSECOND")
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for call("AKIDSECOND") != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the new key was not accepted after SIGHUP\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestExportImportReset: export a running server's state, load it into
// another at start with serve --import, and wipe the first with reset.
func TestExportImportReset(t *testing.T) {
	first, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	c := servertest.Client(first.URL())
	d, err := c.CreateDomain(context.Background(), &connectcases.CreateDomainInput{Name: aws.String("fixture")})
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
		if err := m.Run(context.Background(), args); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	file := t.TempDir() + "/fixture.json"
	run("export", "--url", first.URL(), "--out", file)

	second, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory", "--import", file)
	got, err := servertest.Client(second.URL()).GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: d.DomainId})
	if err != nil || *got.Name != "fixture" {
		t.Fatalf("imported domain: %+v %v", got, err)
	}

	run("reset", "--url", first.URL())
	if _, err := c.GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: d.DomainId}); err == nil {
		t.Fatal("the domain survived reset")
	}
	if out := run("import", "--url", first.URL(), file); !strings.Contains(out, "imported") {
		t.Fatalf("import output %q", out)
	}
	if _, err := c.GetDomain(context.Background(), &connectcases.GetDomainInput{DomainId: d.DomainId}); err != nil {
		t.Fatalf("after import into the running server: %v", err)
	}
}

// A server started with --admin-token refuses the CLI without it, with a
// message that says what to pass, and serves it with the flag or the
// environment variable.
func TestCLIAdminToken(t *testing.T) {
	srv, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory", "--admin-token", "s3cret")
	run := func(env map[string]string, args ...string) (string, error) {
		var out bytes.Buffer
		m := &Main{Stdout: &out, Stderr: &out, Getenv: func(k string) string { return env[k] }}
		err := m.Run(context.Background(), append(args, "--url", srv.URL()))
		return out.String(), err
	}
	_, err := run(nil, "faults", "list")
	if err == nil || !strings.Contains(err.Error(), "--admin-token, LOCALCASES_ADMIN_TOKEN or the adminToken of a --config file") {
		t.Fatalf("without the token: %v", err)
	}
	if _, err := run(nil, "faults", "list", "--admin-token", "wrong"); err == nil || !strings.Contains(err.Error(), "not the server's --admin-token") {
		t.Fatalf("with a wrong token: %v", err)
	}
	if _, err := run(nil, "faults", "list", "--admin-token", "s3cret"); err != nil {
		t.Fatalf("with --admin-token: %v", err)
	}
	if _, err := run(map[string]string{"LOCALCASES_ADMIN_TOKEN": "s3cret"}, "faults", "list"); err != nil {
		t.Fatalf("with LOCALCASES_ADMIN_TOKEN: %v", err)
	}
	if _, err := run(map[string]string{"LOCALCASES_ADMIN_TOKEN": "s3cret"}, "export", "--out", t.TempDir()+"/x.json"); err != nil {
		t.Fatalf("export with LOCALCASES_ADMIN_TOKEN: %v", err)
	}

	// The server's own config file gives the token and, without --url, the
	// address; a flag still wins over the file.
	cfg := t.TempDir() + "/localcases.yaml"
	addr := strings.TrimPrefix(srv.URL(), "http://")
	if err := os.WriteFile(cfg, []byte("addr: "+addr+"\nadminToken: s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	if err := m.Run(context.Background(), []string{"faults", "list", "--config", cfg}); err != nil {
		t.Fatalf("with --config: %v", err)
	}
	if _, err := run(nil, "health", "--config", cfg, "--admin-token", "wrong"); err == nil {
		t.Fatal("--admin-token did not win over the config file")
	}
}

// What a person sees: commands that change state say so; reset asks on a
// terminal (and --yes skips the question); the server log records each
// change of the fault rules, and the rules loaded at start.
func TestCLIConfirmsAndServerLogsChanges(t *testing.T) {
	faults := t.TempDir() + "/faults.yaml"
	if err := os.WriteFile(faults, []byte("- operation: GetCase\n  error: {code: ThrottlingException}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, log := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory", "--faults", faults)
	run := func(stdin string, interactive bool, args ...string) (string, error) {
		var out bytes.Buffer
		m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" },
			Interactive: func() bool { return interactive }}
		err := m.Run(context.Background(), append(args, "--url", srv.URL()))
		return out.String(), err
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"faults", "add", "--op", "CreateCase", "--error", "InternalServerException"}, "added rule"},
		{[]string{"faults", "scenario", "outage", "--duration", "1m"}, "scenario outage: running"},
		{[]string{"faults", "stop"}, "stopped"},
		{[]string{"faults", "clear"}, "cleared"},
		{[]string{"export", "-o", t.TempDir() + "/snap.json"}, "exported"},
	} {
		out, err := run("", false, tt.args...)
		if err != nil || !strings.Contains(out, tt.want) {
			t.Errorf("%v: %v, output %q; want it to say %q", tt.args, err, out, tt.want)
		}
	}
	c := servertest.Client(srv.URL())
	if _, err := c.CreateDomain(context.Background(), &connectcases.CreateDomainInput{Name: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	if out, err := run("n\n", true, "reset"); err == nil || !strings.Contains(out, "[y/N]") {
		t.Fatalf("reset answered no: %v, %q", err, out)
	}
	if l, _ := c.ListDomains(context.Background(), &connectcases.ListDomainsInput{}); len(l.Domains) != 1 {
		t.Fatal("reset deleted after the answer no")
	}
	if out, err := run("", true, "reset", "--yes"); err != nil || strings.Contains(out, "[y/N]") || !strings.Contains(out, "no domains") {
		t.Fatalf("reset --yes: %v, %q", err, out)
	}
	if out, err := run("", false, "reset"); err != nil || strings.Contains(out, "[y/N]") {
		t.Fatalf("reset from a script asked: %v, %q", err, out)
	}
	for _, want := range []string{
		`msg="fault rules loaded"`, "GetCase: ThrottlingException",
		`msg="fault rules added"`, "CreateCase: InternalServerException",
		`msg="fault scenario started" name=outage`, `msg="fault scenario stopped"`, `msg="fault rules cleared"`,
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("server log lacks %q:\n%s", want, log.String())
		}
	}
}

// TestFaultsReportAlso: --also reports over the records of several
// servers, as behind one load balancer.
func TestFaultsReportAlso(t *testing.T) {
	a, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	b, _ := MustRunMain(t, nil, "--addr", "127.0.0.1:0", "--memory")
	for _, url := range []string{a.URL(), a.URL(), b.URL()} {
		if _, err := servertest.Client(url).ListDomains(context.Background(), &connectcases.ListDomainsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	var one, both fault.TrafficReport
	if err := json.Unmarshal([]byte(runCLI(t, a.URL(), "faults", "report", "--json")), &one); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(runCLI(t, a.URL(), "faults", "report", "--json", "--also", b.URL())), &both); err != nil {
		t.Fatal(err)
	}
	if one.Records != 2 || both.Records != 3 || len(both.ByOperation) != 1 || both.ByOperation[0].Invocations != 3 {
		t.Errorf("one server: %d records; with --also: %+v", one.Records, both)
	}
}
