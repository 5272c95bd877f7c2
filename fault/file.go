package fault

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is the content of a fault file: either a rule list or a scenario.
type File struct {
	Rules    []Rule    `json:"rules,omitempty"`
	Scenario *Scenario `json:"scenario,omitempty"`
}

// ParseFile parses a fault file. ext selects the syntax ("json", "yaml",
// "yml", with or without a leading dot); "" sniffs JSON first, then YAML.
// Accepted shapes:
//
//	[ {rule}, ... ]                          rule list (LocalStack chaos body)
//	{"rules": [ {rule}, ... ]}               rule list
//	{"name": ..., "phases": [...], ...}      scenario
//	{"preset": "flapping", "period": "20s"}  preset scenario with ScenarioParams
//
// Rules and scenarios are validated; the result is normalised.
func ParseFile(data []byte, ext string) (File, error) {
	ext = strings.ToLower(strings.TrimPrefix(ext, "."))
	var js []byte
	switch ext {
	case "json":
		js = data
	case "yaml", "yml":
		var err error
		if js, err = yamlToJSON(data); err != nil {
			return File{}, err
		}
	case "":
		if json.Valid(data) {
			js = data
		} else {
			var err error
			if js, err = yamlToJSON(data); err != nil {
				return File{}, err
			}
		}
	default:
		return File{}, fmt.Errorf("fault file: unsupported extension %q (use .json, .yaml or .yml)", ext)
	}
	return parseJSONFile(js)
}

func parseJSONFile(js []byte) (File, error) {
	js = bytes.TrimSpace(js)
	if len(js) == 0 {
		return File{}, errors.New("fault file: empty")
	}
	if js[0] == '[' {
		rules, err := ParseRules(js)
		return File{Rules: rules}, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(js, &probe); err != nil {
		return File{}, fmt.Errorf("fault file: expected a rule list or an object: %w", err)
	}
	switch {
	case probe["preset"] != nil:
		var p struct {
			Preset string `json:"preset"`
			ScenarioParams
		}
		if err := decodeStrict(js, &p); err != nil {
			return File{}, fmt.Errorf("fault file: preset: %w", err)
		}
		sc, err := Preset(p.Preset, p.ScenarioParams)
		if err != nil {
			return File{}, err
		}
		return File{Scenario: &sc}, nil
	case probe["phases"] != nil:
		var sc Scenario
		if err := decodeStrict(js, &sc); err != nil {
			return File{}, fmt.Errorf("fault file: scenario: %w", err)
		}
		n, err := sc.Normalize()
		if err != nil {
			return File{}, err
		}
		return File{Scenario: &n}, nil
	case probe["rules"] != nil:
		var f struct {
			Rules json.RawMessage `json:"rules"`
		}
		if err := decodeStrict(js, &f); err != nil {
			return File{}, fmt.Errorf("fault file: %w", err)
		}
		rules, err := ParseRules(f.Rules)
		return File{Rules: rules}, err
	}
	return File{}, errors.New("fault file: object must have \"rules\", \"phases\" or \"preset\"")
}

// yamlToJSON lets YAML and JSON share one decoder, so both get the same
// custom field types, strictness and error messages.
func yamlToJSON(data []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("fault file: yaml: %w", err)
	}
	v, err := jsonable(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func jsonable(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			t[k] = c
		}
		return t, nil
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = c
		}
		return m, nil
	case []any:
		for i, e := range t {
			c, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			t[i] = c
		}
		return t, nil
	case float64, int, int64, uint64, string, bool, nil:
		return t, nil
	default:
		// Timestamps and other YAML-only types: keep their text form.
		return fmt.Sprint(t), nil
	}
}
