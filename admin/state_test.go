package admin

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestUTF8Reader(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"plain", true},
		{"été 😀 done", true},
		{"bad \xff byte", false},
		{"cut at the end \xe2\x82", false},
		{"overlong \xc0\xaf", false},
	} {
		for name, rd := range map[string]io.Reader{
			"whole":    strings.NewReader(tc.in),
			"one byte": iotest.OneByteReader(strings.NewReader(tc.in)),
		} {
			got, err := io.ReadAll(&utf8Reader{r: rd})
			if tc.ok && (err != nil || string(got) != tc.in) {
				t.Errorf("%q read %s: %q %v", tc.in, name, got, err)
			}
			if !tc.ok && !errors.Is(err, errNotUTF8) {
				t.Errorf("%q read %s: err = %v, want errNotUTF8", tc.in, name, err)
			}
		}
	}
}
