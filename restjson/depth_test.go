package restjson

import (
	"errors"
	"strings"
	"testing"

	"github.com/localcases/localcases/api"
)

func TestJSONDepthLimit(t *testing.T) {
	deep := strings.Repeat(`{"not":`, MaxJSONDepth) + `{}` + strings.Repeat(`}`, MaxJSONDepth)
	err := decodeJSON([]byte(`{"filter":`+deep+`}`), new(api.SearchCasesRequest))
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeSerializationException || !strings.Contains(ae.Message, "levels deep") {
		t.Fatalf("err = %v, want SerializationException about depth", err)
	}
	// Brackets inside strings do not count.
	ok := `{"searchTerm":"` + strings.Repeat("[", 200) + `"}`
	if err := decodeJSON([]byte(ok), new(api.SearchCasesRequest)); err != nil {
		t.Fatalf("brackets in a string: %v", err)
	}
	if d := jsonDepth([]byte(`{"a":[{"b":"\"{["}]}`)); d != 3 {
		t.Errorf("depth = %d, want 3", d)
	}
}
