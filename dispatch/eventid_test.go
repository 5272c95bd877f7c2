package dispatch

import "testing"

func TestEventID(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"service envelope", `{"version":"0","id":"5f1c","detail-type":"x"}`, "5f1c"},
		{"other order", `{"id":"5f1c","version":"0"}`, "5f1c"},
		{"spaces", `{ "version": "0", "id": "5f1c" }`, "5f1c"},
		{"escaped id", `{"version":"0","id":"a\"b"}`, `a"b`},
		{"unicode escape", `{"version":"0","id":"a\u0062"}`, "ab"},
		{"no id", `{"version":"0"}`, ""},
		{"truncated", `{"version":"0","id":"5f1c`, ""},
	} {
		if got := eventID([]byte(c.data)); got != c.want {
			t.Errorf("%s: eventID(%s) = %q, want %q", c.name, c.data, got, c.want)
		}
	}
}
