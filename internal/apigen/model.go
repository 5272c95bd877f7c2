package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/localcases/localcases/internal/modelcheck"
)

// Model is the subset of the AWS JSON service model (botocore "2.0" format) the
// generator reads. Unknown keys are ignored so newer model files still load.
type Model struct {
	Metadata   map[string]any        `json:"metadata"`
	Operations map[string]*Operation `json:"operations"`
	Shapes     map[string]*Shape     `json:"shapes"`
}

type Operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input      *ShapeRef  `json:"input"`
	Output     *ShapeRef  `json:"output"`
	Errors     []ShapeRef `json:"errors"`
	Idempotent bool       `json:"idempotent"`
}

type ShapeRef struct {
	Shape            string `json:"shape"`
	Location         string `json:"location"`
	LocationName     string `json:"locationName"`
	IdempotencyToken bool   `json:"idempotencyToken"`
	Documentation    string `json:"documentation"`
}

type Shape struct {
	Name          string               `json:"-"`
	Type          string               `json:"type"`
	Members       map[string]*ShapeRef `json:"members"`
	Required      []string             `json:"required"`
	Member        *ShapeRef            `json:"member"`
	Key           *ShapeRef            `json:"key"`
	Value         *ShapeRef            `json:"value"`
	Min           *float64             `json:"min"`
	Max           *float64             `json:"max"`
	Pattern       string               `json:"pattern"`
	Enum          []string             `json:"enum"`
	Union         bool                 `json:"union"`
	Box           bool                 `json:"box"`
	Sparse        bool                 `json:"sparse"`
	Exception     bool                 `json:"exception"`
	Fault         bool                 `json:"fault"`
	Documentation string               `json:"documentation"`
	Error         *struct {
		HTTPStatusCode int  `json:"httpStatusCode"`
		SenderFault    bool `json:"senderFault"`
	} `json:"error"`
	Retryable *struct {
		Throttling bool `json:"throttling"`
	} `json:"retryable"`
}

func loadModel(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	boxed := false
	for name, s := range m.Shapes {
		s.Name = name
		boxed = boxed || s.Box
	}
	// Models converted from Smithy mark the primitives that may be absent
	// with "box" and leave the rest with a zero default. Older models (AWS
	// Health) carry no box trait at all, and there every member is
	// optional: maxResults left out must not read as 0.
	if !boxed {
		for _, s := range m.Shapes {
			switch s.Type {
			case "integer", "long", "double", "boolean":
				s.Box = true
			}
		}
	}
	for name, op := range m.Operations {
		if op.Name == "" {
			op.Name = name
		}
		// An operation with no input (AWS Health's organization switches)
		// still gets an input shape, so that every operation has the same
		// signature and one dispatch path.
		if op.Input == nil {
			in := name + "Request"
			if _, taken := m.Shapes[in]; taken {
				return nil, fmt.Errorf("operation %s has no input and shape %s exists", name, in)
			}
			m.Shapes[in] = &Shape{Name: in, Type: "structure", Documentation: "The " + name + " input, which has no members."}
			op.Input = &ShapeRef{Shape: in}
		}
	}
	return &m, nil
}

// memberNames returns a structure's member names in a stable order: the
// model's JSON object order is lost by encoding/json, so sort them.
func (s *Shape) memberNames() []string {
	names := make([]string, 0, len(s.Members))
	for n := range s.Members {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (s *Shape) isRequired(member string) bool {
	for _, r := range s.Required {
		if r == member {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string { return modelcheck.SortedKeys(m) }
