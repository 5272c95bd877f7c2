package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/localcases/localcases/fault"
)

// Client drives a running server's admin namespace over HTTP: the CLI and
// tests use it to change faults and read health without touching the
// server's internals.
type Client struct {
	// URL is the server's endpoint, e.g. http://127.0.0.1:4599.
	URL  string
	HTTP *http.Client
	// Token is the server's admin token (serve --admin-token), sent as
	// Authorization: Bearer; empty for a server without one.
	Token string
}

// TokenEnv is the environment variable NewClient reads the admin token from,
// the one the CLI reads too.
const TokenEnv = "LOCALCASES_ADMIN_TOKEN"

// NewClient returns a Client for the server at url, with Token taken from
// $LOCALCASES_ADMIN_TOKEN (empty when unset); set Token to override it.
func NewClient(url string) *Client {
	return &Client{URL: strings.TrimRight(url, "/"), HTTP: &http.Client{Timeout: 30 * time.Second}, Token: os.Getenv(TokenEnv)}
}

func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	return c.doWith(ctx, c.HTTP, method, path, body, out)
}

// maxResponse bounds what the client decodes: the largest answer is an
// export, whose size follows the server's state.
const maxResponse = maxSnapshotBody

func (c *Client) doWith(ctx context.Context, hc *http.Client, method, path string, body any, out any) error {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+Prefix+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 && !(path == "health" && resp.StatusCode == http.StatusServiceUnavailable) {
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if resp.StatusCode == http.StatusForbidden {
			msg += forbiddenHint(c.Token != "")
		}
		return fmt.Errorf("%s %s: %s", method, path, msg)
	}
	if out == nil {
		return nil
	}
	// Decoded as it arrives, so an export is not held twice; a body over
	// the limit fails as truncated JSON, which the error below names.
	lr := &io.LimitedReader{R: resp.Body, N: maxResponse + 1}
	if err := json.NewDecoder(lr).Decode(out); err != nil {
		if lr.N <= 0 {
			return fmt.Errorf("%s %s: answer larger than %d bytes", method, path, maxResponse)
		}
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// forbiddenHint says what to do about a refused admin call.
func forbiddenHint(sentToken bool) string {
	if sentToken {
		return " (the admin token sent is not the server's --admin-token)"
	}
	return " (the server admits admin calls from loopback only, or with its admin token: " +
		"pass the server's token with --admin-token, LOCALCASES_ADMIN_TOKEN or the adminToken of a --config file; " +
		"in Go, admin.Client.Token)"
}

// untimed is c.HTTP without its overall timeout, for the state tools: an
// export or import takes as long as the state is large, and the caller's
// context still bounds it.
func (c *Client) untimed() *http.Client {
	hc := *c.HTTP
	hc.Timeout = 0
	return &hc
}

// Rules lists the fault rules.
func (c *Client) Rules(ctx context.Context) ([]fault.Rule, error) {
	var out []fault.Rule
	return out, c.do(ctx, http.MethodGet, "faults", nil, &out)
}

// SetRules replaces the rules.
func (c *Client) SetRules(ctx context.Context, rules []fault.Rule) ([]fault.Rule, error) {
	var out []fault.Rule
	return out, c.do(ctx, http.MethodPost, "faults", rules, &out)
}

// AddRules appends rules.
func (c *Client) AddRules(ctx context.Context, rules []fault.Rule) ([]fault.Rule, error) {
	var out []fault.Rule
	return out, c.do(ctx, http.MethodPatch, "faults", rules, &out)
}

// ClearRules removes every rule.
func (c *Client) ClearRules(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "faults", nil, nil)
}

// Load sends a fault file: rules replace the current ones; a scenario starts.
func (c *Client) Load(ctx context.Context, data []byte, ext string) (fault.File, error) {
	file, err := fault.ParseFile(data, ext)
	if err != nil {
		return file, err
	}
	if _, err := c.SetRules(ctx, file.Rules); err != nil {
		return file, err
	}
	if file.Scenario != nil {
		err = c.do(ctx, http.MethodPost, "scenario", file.Scenario, nil)
	}
	return file, err
}

// StartScenario starts a preset with its parameters.
func (c *Client) StartScenario(ctx context.Context, preset string, p fault.ScenarioParams) (*fault.ScenarioStatus, error) {
	body := map[string]any{"preset": preset}
	data, _ := json.Marshal(p)
	json.Unmarshal(data, &body)
	body["preset"] = preset
	var out struct{ Scenario *fault.ScenarioStatus }
	return out.Scenario, c.do(ctx, http.MethodPost, "scenario", body, &out)
}

// StopScenario ends the active scenario.
func (c *Client) StopScenario(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "scenario", nil, nil)
}

// Reset clears rules, scenario, observations and records.
func (c *Client) Reset(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "faults/reset", nil, nil)
}

// Health reads the service-health page.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var out Health
	return out, c.do(ctx, http.MethodGet, "health", nil, &out)
}

// Report reads the traffic report.
func (c *Client) Report(ctx context.Context) (fault.TrafficReport, error) {
	var out fault.TrafficReport
	return out, c.do(ctx, http.MethodGet, "faults/report", nil, &out)
}

// Requests reads the most recent requests (0: all kept).
func (c *Client) Requests(ctx context.Context, limit int) ([]fault.Record, error) {
	var out struct{ Requests []fault.Record }
	return out.Requests, c.do(ctx, http.MethodGet, "requests?limit="+strconv.Itoa(limit), nil, &out)
}

// WaitReady polls the server's readiness until it answers 200, ctx ends or
// timeout passes; a server that is not listening yet counts as not ready.
func (c *Client) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+Prefix+"ready", nil)
		if err != nil {
			return err
		}
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		resp, err := c.HTTP.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				return nil
			case http.StatusForbidden, http.StatusUnauthorized:
				return fmt.Errorf("GET ready: HTTP %d%s", resp.StatusCode, forbiddenHint(c.Token != ""))
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not become ready within %s: %v", c.URL, timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
