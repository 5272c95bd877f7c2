package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/localcases/localcases/api"
	"github.com/localcases/localcases/auth"
	"github.com/localcases/localcases/fault"
	"github.com/localcases/localcases/metrics"
	"github.com/localcases/localcases/restjson"
)

// injectFaults returns the middleware that carries out the fault engine's
// decisions. The engine decides (pure logic, seeded); this middleware acts,
// and an injected error leaves through the same error writer as a real one,
// so a client cannot tell them apart. It lives where the server is
// assembled so that the wire package speaks only the protocol.
//
// What was carried out is counted in m once the call returns, so a
// commit-then-fail whose real error went out instead counts as nothing.
// The token buckets' refusals count as throttling, not as faults.
func injectFaults(e *fault.Engine, m *metrics.Metrics) restjson.Middleware {
	return func(next restjson.Invoker) restjson.Invoker {
		return func(c *restjson.Call) (any, error) {
			r := c.Request
			d, ok := e.Decide(faultRequest(c))
			if !ok {
				return next(c)
			}
			c.Injected = injectedLabel(d)
			c.Rule = d.RuleID
			defer func() {
				switch {
				case c.Injected == "":
				case d.Source == fault.SourceThrottle:
					m.Throttled(c.Op.Name, metrics.ThrottleQuota)
				default:
					m.FaultInjected(c.Op.Name, string(d.Action))
				}
			}()
			ctx := r.Context()
			if d.Latency > 0 {
				if err := sleep(ctx, d.Latency); err != nil {
					return nil, restjson.ErrDropped // the client gave up while we waited
				}
			}
			switch d.Action {
			case fault.ActionLatency, fault.ActionNone:
				return next(c)
			case fault.ActionError:
				return nil, decisionError(d)
			case fault.ActionHTTP:
				// A load balancer's page: no JSON, no x-amzn-ErrorType.
				body := fault.HTTPBody(d.HTTPStatus)
				w := c.Writer
				w.Header().Del("x-amzn-RequestId")
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.WriteHeader(d.HTTPStatus)
				w.Write([]byte(body))
				return nil, &restjson.StatusError{Status: d.HTTPStatus}
			case fault.ActionDrop:
				return nil, drop(c)
			case fault.ActionHang:
				// Hold the request past the client's timeout, then close it
				// unanswered, as an overloaded backend behind a proxy does.
				sleep(ctx, d.Hang)
				return nil, drop(c)
			case fault.ActionCommitThenFail:
				out, err := next(c)
				if err != nil {
					c.Injected = "" // the real error went out; nothing was injected
					return nil, err
				}
				_ = out
				if d.Drop {
					return nil, drop(c)
				}
				return nil, decisionError(d)
			}
			return next(c)
		}
	}
}

// faultRequest describes a call to the fault engine: the operation, the
// domain in its path, and what the SDK says about the attempt.
func faultRequest(c *restjson.Call) fault.Request {
	r := c.Request
	_, region, _ := auth.Scope(r)
	return fault.Request{
		Operation:    c.Op.Name,
		DomainID:     r.PathValue("domainId"),
		InvocationID: r.Header.Get("amz-sdk-invocation-id"),
		ClientID:     clientID(r),
		Attempt:      attempt(r),
		Region:       region,
		Header:       r.Header.Get,
		Time:         c.Start,
	}
}

func injectedLabel(d fault.Decision) string {
	label := string(d.Action)
	if d.Error != nil && d.Action != fault.ActionHTTP {
		label += ":" + d.Error.Code
	}
	if d.HTTPStatus != 0 {
		label += ":" + strconv.Itoa(d.HTTPStatus)
	}
	if d.RuleID != "" {
		label += " rule=" + d.RuleID
	}
	return label
}

func decisionError(d fault.Decision) error {
	spec := d.Error
	if spec == nil {
		s := fault.ErrorSpec{Code: string(api.CodeInternalServerException)}.Resolve()
		spec = &s
	}
	e := &api.Error{Code: api.ErrorCode(spec.Code), Message: spec.Message, StatusCode: spec.StatusCode}
	if spec.RetryAfterSeconds != nil && *spec.RetryAfterSeconds > 0 {
		e.RetryAfterSeconds = spec.RetryAfterSeconds
	}
	return e
}

// drop closes the client's connection without a response.
func drop(c *restjson.Call) error {
	conn, _, err := http.NewResponseController(c.Writer).Hijack()
	if err != nil {
		// HTTP/2 cannot hijack; aborting the handler resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
	return restjson.ErrDropped
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// attempt returns the SDK attempt number from amz-sdk-request
// ("attempt=2; max=3"), or 0 when the client does not send it.
func attempt(r *http.Request) int {
	for _, part := range strings.Split(r.Header.Get("amz-sdk-request"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// clientID identifies the caller for traffic reports: the access key of the
// SigV4 credential, or the remote host when the request is unsigned.
func clientID(r *http.Request) string {
	if key, _, ok := auth.Scope(r); ok {
		return key
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}
