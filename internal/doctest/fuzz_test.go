package doctest

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestFuzzTargetsRunInCI holds .ci/run and docs/SECURITY.md to the fuzz
// targets the code has: a target CI does not run finds nothing, and a count
// in a doc drifts (it once said seven while CI ran eight).
func TestFuzzTargetsRunInCI(t *testing.T) {
	root := repoRoot(t)
	funcRE := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)
	var inCode []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, m := range funcRE.FindAllStringSubmatch(string(src), -1) {
			inCode = append(inCode, "./"+filepath.ToSlash(rel)+" "+m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	var inCI []string
	for _, m := range regexp.MustCompile(`(?m)^fuzz (\S+) (\w+)`).FindAllStringSubmatch(string(ci), -1) {
		inCI = append(inCI, m[1]+" "+m[2])
	}
	sort.Strings(inCode)
	sort.Strings(inCI)
	if strings.Join(inCode, "\n") != strings.Join(inCI, "\n") {
		t.Errorf(".ci/run runs the fuzz targets\n\t%s\nthe code has\n\t%s", strings.Join(inCI, "\n\t"), strings.Join(inCode, "\n\t"))
	}
	security, err := os.ReadFile(filepath.Join(root, "docs", "SECURITY.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range inCode {
		_, name, _ := strings.Cut(target, " ")
		if !strings.Contains(string(security), "`"+name+"`") {
			t.Errorf("docs/SECURITY.md (Fuzzing) does not name %s (%s)", name, target)
		}
	}
}
