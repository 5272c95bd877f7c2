package localcasestest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/localcases/localcases"
	"github.com/localcases/localcases/admin"
	"github.com/localcases/localcases/fault"
)

// Faults returns the server's fault rules.
func (s *Server) Faults() *Faults { return &Faults{c: s.admin} }

// Faults controls a server's fault rules, as `localcases fault` does.
type Faults struct{ c *admin.Client }

// Add appends rules to those in force. A rule the server refuses (an
// unknown operation or error code, a bad probability) is an error, and then
// none of rules is added.
func (f *Faults) Add(rules ...fault.Rule) error {
	_, err := f.c.AddRules(context.Background(), rules)
	return err
}

// Set replaces the rules in force with rules.
func (f *Faults) Set(rules ...fault.Rule) error {
	if rules == nil {
		rules = []fault.Rule{}
	}
	_, err := f.c.SetRules(context.Background(), rules)
	return err
}

// List returns the rules in force.
func (f *Faults) List() ([]fault.Rule, error) { return f.c.Rules(context.Background()) }

// Clear removes every rule. A running scenario goes on; StopScenario ends
// it.
func (f *Faults) Clear() error { return f.c.ClearRules(context.Background()) }

// Scenario starts a preset scenario ("outage", "brownout", "flapping",
// "latency-spike", "throttle-storm"; fault.Presets lists them), replacing
// any running one. Zero fields of p take the preset's defaults.
func (s *Server) Scenario(preset string, p fault.ScenarioParams) (*fault.ScenarioStatus, error) {
	return s.admin.StartScenario(context.Background(), preset, p)
}

// StopScenario ends the running scenario, if any.
func (s *Server) StopScenario() error { return s.admin.StopScenario(context.Background()) }

// SetThrottling turns throttling with the documented Connect Cases quotas
// on or off.
func (s *Server) SetThrottling(on bool) error {
	_, err := s.admin.SetThrottle(context.Background(), admin.Throttle{Enabled: on})
	return err
}

// Import replaces the server's state with a snapshot, atomically: a
// snapshot the server refuses changes nothing.
func (s *Server) Import(snap *localcases.Snapshot) error {
	return s.admin.Import(context.Background(), snap)
}

// ImportFile imports the snapshot in a file written by `localcases export`
// or by Export: a team's fixture.
func (s *Server) ImportFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var snap localcases.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return s.Import(&snap)
}

// Export returns the server's whole state as a snapshot.
func (s *Server) Export() (*localcases.Snapshot, error) {
	return s.admin.Export(context.Background())
}

// Reset returns the server to how it started: no domains (and so nothing
// they hold), no fault rules or scenario, no recorded requests, and
// throttling as the options set it. Tests sharing one server call it
// between cases.
func (s *Server) Reset() error {
	ctx := context.Background()
	if err := s.admin.ResetState(ctx); err != nil {
		return err
	}
	if err := s.admin.Reset(ctx); err != nil {
		return err
	}
	_, err := s.admin.SetThrottle(ctx, admin.Throttle{Enabled: s.set.throttle})
	return err
}
