// Package servertest starts a real localcases server for tests and gives
// them the clients users have: the aws-sdk-go-v2 Connect Cases client and a
// raw HTTP client for requests no SDK would send.
package servertest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/internal/server"
	"github.com/localcases/localcases/store/storetest"
)

// Option changes the server configuration before it starts.
type Option func(*server.Config)

// WithConfig lets a test change any setting.
func WithConfig(fn func(*server.Config)) Option { return Option(fn) }

// StoreEnv selects the engine MustOpen's servers run on: memory (default),
// sqlite (a temporary data directory) or postgres (a throwaway schema in the
// database storetest.PostgresURL finds). CI runs the API suites on each.
const StoreEnv = "LOCALCASES_TEST_STORE"

// MustOpen starts a server on a free loopback port and closes it when the
// test ends.
func MustOpen(tb testing.TB, opts ...Option) *server.Server {
	tb.Helper()
	cfg := server.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	switch engine := os.Getenv(StoreEnv); engine {
	case "", "memory":
		cfg.Memory = true
	case "sqlite":
		cfg.DataDir = tb.TempDir()
	case "postgres":
		db := storetest.PostgresURL(tb)
		cfg.StoreURL = storetest.WithSchema(db, storetest.PostgresSchema(tb, db))
	default:
		tb.Fatalf("%s=%q: want memory, sqlite or postgres", StoreEnv, engine)
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("new server: %v", err)
	}
	if err := srv.Open(); err != nil {
		tb.Fatalf("open server: %v", err)
	}
	tb.Cleanup(func() {
		closeIdle(srv.URL())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			tb.Errorf("close server: %v", err)
		}
	})
	return srv
}

// Client returns an SDK client for url with static credentials and the
// SDK's retries off, so a test sees each error as the server sent it.
// Options passed in run last and may turn retries back on.
func Client(url string, optFns ...func(*connectcases.Options)) *connectcases.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	transports.Lock()
	transports.byURL[url] = append(transports.byURL[url], tr)
	transports.Unlock()
	o := connectcases.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCALCASES", "secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   bodyWrapper{&http.Client{Transport: tr}},
	}
	return connectcases.New(o, optFns...)
}

// transports remembers each client's transport so MustOpen can close their
// idle connections before shutting the server down: under concurrency a
// transport dials connections it never uses, and http.Server.Shutdown waits
// five seconds for such never-used connections.
var transports = struct {
	sync.Mutex
	byURL map[string][]*http.Transport
}{byURL: map[string][]*http.Transport{}}

func closeIdle(url string) {
	transports.Lock()
	defer transports.Unlock()
	for _, tr := range transports.byURL[url] {
		tr.CloseIdleConnections()
	}
	delete(transports.byURL, url)
}

// bodyWrapper hides the request body's WriteTo from net/http. smithy-go
// closes the request body once response headers arrive, and its WriteTo
// then returns io.EOF, which net/http takes for a failed request write and
// closes the connection mid-response. A local server answers fast enough to
// hit that window (about one call in ten under -race); AWS almost never does.
type bodyWrapper struct{ c *http.Client }

func (b bodyWrapper) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = struct{ io.ReadCloser }{r.Body}
	}
	return b.c.Do(r)
}

// RawClient is an HTTP client for hand-made requests.
func RawClient() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

// HealthCall makes one AWS Health call to the server at url as the SDKs
// send it (awsJson1_1) and returns the status, headers and decoded body.
func HealthCall(tb testing.TB, url, op, body string) (int, http.Header, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSHealth_20160804."+op)
	resp, err := RawClient().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		tb.Fatalf("%s: answer %q is not a JSON object: %v", op, data, err)
	}
	return resp.StatusCode, resp.Header, out
}
