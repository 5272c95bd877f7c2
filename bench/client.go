package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// emptyHash is the SigV4 payload hash of an empty body.
var emptyHash = hashOf(nil)

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// request is one API call ready to sign. Bodies built ahead of time carry
// their hash so the hot loop does not rehash identical bytes.
type request struct {
	op     string
	method string
	path   string // escaped, as it goes on the wire
	body   []byte
	hash   string
}

// client sends signed requests the way an SDK would, minus the SDK: the
// point is to spend as little of the machine's CPU as possible on the load
// generator, since it usually shares the machine with the server.
type client struct {
	base   *url.URL
	hc     *http.Client
	tr     *http.Transport
	signer *v4.Signer
	creds  aws.Credentials
	region string
	ua     string
}

func newClient(base string, cfg *Config) (*client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy: nil, // a proxy would measure the proxy
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		// One idle connection per worker, so keep-alive holds under closed
		// loop and no request pays a dial; the default (2) would make most
		// workers reconnect and run the machine out of ephemeral ports.
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		WriteBufferSize:     16 << 10,
		ReadBufferSize:      16 << 10,
	}
	return &client{
		base: u,
		hc:   &http.Client{Transport: tr, Timeout: cfg.Timeout},
		tr:   tr,
		// The SDKs escape the path a second time when signing (only S3
		// does not); doing the same keeps the signature valid for a server
		// that checks it.
		signer: v4.NewSigner(),
		creds:  aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey, Source: "localcases-bench"},
		region: cfg.Region,
		ua:     "localcases-bench/1",
	}, nil
}

func (c *client) close() { c.tr.CloseIdleConnections() }

// build makes the signed *http.Request for r.
func (c *client) build(ctx context.Context, r *request) (*http.Request, error) {
	u := *c.base
	path, query, _ := strings.Cut(r.path, "?")
	u.RawPath, u.RawQuery = path, query
	u.Path, _ = url.PathUnescape(path)
	req := &http.Request{
		Method:     r.method,
		URL:        &u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header, 6),
		Host:       u.Host,
	}
	req = req.WithContext(ctx)
	req.Header["User-Agent"] = []string{c.ua}
	if r.body != nil {
		req.Header["Content-Type"] = []string{"application/json"}
		req.ContentLength = int64(len(r.body))
		body := r.body
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	} else {
		req.Body = http.NoBody
	}
	hash := r.hash
	if hash == "" {
		hash = hashOf(r.body)
	}
	if err := c.signer.SignHTTP(ctx, c.creds, req, hash, "cases", c.region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

// outcome is what one request produced.
type outcome struct {
	status  int
	errType string // "" on success
	body    []byte // only when asked for
}

// do sends r and drains the response. keepBody asks for the body (seeding
// and response capture); the measured loop discards it.
func (c *client) do(ctx context.Context, r *request, keepBody bool) outcome {
	req, err := c.build(ctx, r)
	if err != nil {
		return outcome{errType: "client: " + err.Error()}
	}
	return c.send(req, keepBody)
}

// send is do for a request already built, so the measured loop can leave
// signing out of the latency.
func (c *client) send(req *http.Request, keepBody bool) outcome {
	resp, err := c.hc.Do(req)
	if err != nil {
		return outcome{errType: transportErrorType(err)}
	}
	var o outcome
	o.status = resp.StatusCode
	if keepBody {
		o.body, err = io.ReadAll(resp.Body)
	} else {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	resp.Body.Close()
	if err != nil {
		o.errType = transportErrorType(err)
		return o
	}
	if resp.StatusCode/100 != 2 {
		o.errType = resp.Header.Get("X-Amzn-ErrorType")
		// Some AWS services append ":http://internal.amazon.com/..." to
		// the type; keep the code only.
		if i := strings.IndexByte(o.errType, ':'); i >= 0 {
			o.errType = o.errType[:i]
		}
		if o.errType == "" {
			o.errType = "HTTP " + strconv.Itoa(resp.StatusCode)
		}
	}
	return o
}

// transportErrorType names a failure below HTTP in a few stable words, so
// the error table groups them instead of listing one row per local port.
func transportErrorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "transport: timeout"
	case errors.Is(err, context.Canceled):
		return "transport: canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "transport: connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "transport: connection reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "transport: no free local port"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection closed"
	}
	for {
		u := errors.Unwrap(err)
		if u == nil {
			break
		}
		err = u
	}
	msg := err.Error()
	if len(msg) > 60 {
		msg = msg[:60]
	}
	return "transport: " + msg
}

// checkLoopback refuses a target that is not this machine: the tool sends
// tens of thousands of requests a second and must never point at AWS or a
// shared host by mistake.
func checkLoopback(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--url %q: want http://host:port", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("--url %q: no host", raw)
	}
	if strings.EqualFold(host, "localhost") {
		return u, nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--url %q: bench only drives a server on this machine (localhost, 127.0.0.0/8 or ::1), not %s", raw, host)
	}
	return u, nil
}
