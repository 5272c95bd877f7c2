package api_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGeneratedUpToDate regenerates the package into a temp dir and compares
// it with the committed files, so a model or generator change that was not
// followed by `go generate ./api` fails CI instead of shipping stale types.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with go run; skipped in -short mode")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go tool not on PATH: %v", err)
	}
	tmp := t.TempDir()
	cmd := exec.Command(goTool, "run", "../internal/apigen",
		"-model", "../spec/connectcases-2022-10-03.service.json", "-out", tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator failed: %v\n%s", err, out)
	}

	generated := genFiles(t, tmp)
	committed := genFiles(t, ".")
	if len(generated) == 0 {
		t.Fatal("the generator wrote no *_gen.go files")
	}
	for _, name := range generated {
		want, err := os.ReadFile(filepath.Join(tmp, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if os.IsNotExist(err) {
			t.Errorf("api/%s is generated but not committed; run `go generate ./api`", name)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("api/%s differs from the generator's output (first difference at line %d); run `go generate ./api`",
				name, firstDiffLine(got, want))
		}
	}
	for _, name := range committed {
		if !slices.Contains(generated, name) {
			t.Errorf("api/%s is no longer generated; delete it and run `go generate ./api`", name)
		}
	}
}

func genFiles(t *testing.T, dir string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "*_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(matches))
	for i, m := range matches {
		names[i] = filepath.Base(m)
	}
	slices.Sort(names)
	return names
}

func firstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}
