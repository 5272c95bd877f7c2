package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGeneratedUpToDate regenerates every generated package into a temp dir
// and compares it with the committed files, so a model or generator change
// that was not followed by `go generate` fails CI instead of shipping stale
// types.
func TestGeneratedUpToDate(t *testing.T) {
	packages := []struct{ dir, pkg, model string }{
		{"../../api", "api", "../../spec/connectcases-2022-10-03.service.json"},
		{"../../healthapi", "healthapi", "../../spec/health-2016-08-04.service.json"},
	}
	for _, p := range packages {
		t.Run(p.pkg, func(t *testing.T) {
			tmp := t.TempDir()
			if err := generate(p.model, tmp, p.pkg); err != nil {
				t.Fatal(err)
			}
			generated, committed := genFiles(t, tmp), genFiles(t, p.dir)
			if len(generated) == 0 {
				t.Fatal("the generator wrote no *_gen.go files")
			}
			for _, name := range generated {
				want, err := os.ReadFile(filepath.Join(tmp, name))
				if err != nil {
					t.Fatal(err)
				}
				got, err := os.ReadFile(filepath.Join(p.dir, name))
				if os.IsNotExist(err) {
					t.Errorf("%s/%s is generated but not committed; run `go generate ./%s`", p.pkg, name, p.pkg)
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s/%s differs from the generator's output (first difference at line %d); run `go generate ./%s`",
						p.pkg, name, firstDiffLine(got, want), p.pkg)
				}
			}
			for _, name := range committed {
				if !slices.Contains(generated, name) {
					t.Errorf("%s/%s is no longer generated; delete it and run `go generate ./%s`", p.pkg, name, p.pkg)
				}
			}
		})
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
