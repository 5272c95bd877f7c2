package console

import (
	"io/fs"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestWhatIsTheConsole(t *testing.T) {
	tests := []struct {
		method, path, accept  string
		root, handles, public bool
	}{
		{"GET", "/", "text/html,application/xhtml+xml,*/*;q=0.8", true, true, true},
		{"HEAD", "/", "text/html", true, true, true},
		{"GET", "/", "application/json", false, false, false},
		{"GET", "/", "", false, false, false},
		{"POST", "/", "text/html", false, false, false}, // the AWS Health API
		{"GET", "/domains", "text/html", false, false, false},
		{"GET", Prefix, "", false, true, true},
		{"GET", Prefix + "app.js", "", false, true, true},
		{"GET", Prefix + "session", "", false, true, true},
		{"POST", Prefix + "login", "", false, true, true},
		{"POST", Prefix + "logout", "", false, true, true},
		{"POST", Prefix + "app.js", "", false, true, false},
		{"DELETE", Prefix + "login", "", false, true, false},
		{"GET", "/_localcases/health", "text/html", false, false, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if tt.accept != "" {
			r.Header.Set("Accept", tt.accept)
		}
		if got := IsRoot(r); got != tt.root {
			t.Errorf("IsRoot(%s %s, %q) = %v", tt.method, tt.path, tt.accept, got)
		}
		if got := Handles(r); got != tt.handles {
			t.Errorf("Handles(%s %s, %q) = %v", tt.method, tt.path, tt.accept, got)
		}
		if got := Public(r); got != tt.public {
			t.Errorf("Public(%s %s, %q) = %v", tt.method, tt.path, tt.accept, got)
		}
	}
}

// TestOffline: the console's files name no other origin, so it works with
// no network and its Content-Security-Policy ('self' only) holds.
func TestOffline(t *testing.T) {
	external := regexp.MustCompile(`(?i)(src|href|action)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import|fetch\(\s*["'](https?:)?//|EventSource\(\s*["'](https?:)?//`)
	err := fs.WalkDir(files, "ui", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		if m := external.Find(data); m != nil {
			t.Errorf("%s loads from another origin: %q", path, m)
		}
		if strings.HasSuffix(path, ".html") && strings.Contains(string(data), "<script>") {
			t.Errorf("%s has an inline script, which the policy forbids", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFilesAreExact(t *testing.T) {
	h := New(Options{})
	for _, tt := range []struct {
		path string
		code int
		ct   string
	}{
		{Prefix, 200, "text/html"},
		{Prefix + "app.js", 200, "text/javascript"},
		{Prefix + "app.css", 200, "text/css"},
		{Prefix + "missing.js", 404, "application/json"},
		{Prefix + ".hidden", 404, "application/json"},
		{Prefix + "ui/app.js", 404, "application/json"},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
		if w.Code != tt.code || !strings.HasPrefix(w.Header().Get("Content-Type"), tt.ct) {
			t.Errorf("GET %s: %d %s, want %d %s", tt.path, w.Code, w.Header().Get("Content-Type"), tt.code, tt.ct)
		}
		if w.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: no Content-Security-Policy", tt.path)
		}
	}
}
