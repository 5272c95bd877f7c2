package doctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// docs are the files the doc test reads, relative to the repository root.
func docs(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(root, "README.md")}, files...)
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDocs runs every sh block and compiles every go block of README.md and
// docs/*.md; see the package comment for the conventions.
func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the doc test builds localcases and runs servers")
	}
	root := repoRoot(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "localcases"), "./cmd/localcases")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/localcases: %v\n%s", err, out)
	}
	var goBlocks []docBlock
	for _, path := range docs(t, root) {
		name, _ := filepath.Rel(root, path)
		blocks, err := ParseFile(path)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, b := range blocks {
			if b.Lang == "go" && b.Runs() {
				goBlocks = append(goBlocks, docBlock{name, b})
			}
		}
		// Files share nothing (each has its own directory, ports and
		// servers), and much of a file's time is spent waiting on them.
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			runShell(t, root, bin, name, blocks)
		})
	}
	t.Run("go", func(t *testing.T) {
		t.Parallel()
		compileGo(t, root, goBlocks)
	})
}

type docBlock struct {
	doc string
	Block
}

var (
	addrRE    = regexp.MustCompile(`\b(127\.0\.0\.1|localhost|0\.0\.0\.0):(\d{2,5})\b`)
	urlRE     = regexp.MustCompile(`http://(127\.0\.0\.1|localhost):\d+`)
	toolsUsed = map[string]*regexp.Regexp{
		"aws":     regexp.MustCompile(`(^|[\s;&|(])aws\s`),
		"curl":    regexp.MustCompile(`(^|[\s;&|(])curl\s`),
		"jq":      regexp.MustCompile(`(^|[\s;&|(])jq\s`),
		"openssl": regexp.MustCompile(`(^|[\s;&|(])openssl\s`),
	}
)

// shellFile is the state of one Markdown file's shell run.
type shellFile struct {
	t       *testing.T
	root    string
	dir     string // working directory
	env     []string
	state   string            // file of the variables carried between blocks
	ports   map[string]string // port in the doc -> port used
	groups  []*exec.Cmd       // every block's process group, stopped at the end
	nblock  int
	defURL  string // where 127.0.0.1:4599 went
	logsDir string
}

func runShell(t *testing.T, root, bin, name string, blocks []Block) {
	var run []Block
	for _, b := range blocks {
		if b.Lang == "sh" && b.Runs() {
			run = append(run, b)
		} else if b.Lang == "sh" {
			t.Logf("%s:%d: skipped: %s", name, b.Line, b.Skip)
		}
	}
	if len(run) == 0 {
		t.Skip("no sh blocks to run")
	}
	f := &shellFile{t: t, root: root, dir: t.TempDir(), ports: map[string]string{}, logsDir: t.TempDir()}
	f.state = filepath.Join(f.logsDir, "state.sh")
	defer f.stopAll()
	// One free port per port the file names.
	texts := make([]string, len(run))
	for i, b := range run {
		text, err := b.Source()
		if err != nil {
			t.Fatalf("%s:%d: %v", name, b.Line, err)
		}
		texts[i] = text
		for _, m := range addrRE.FindAllStringSubmatch(text, -1) {
			if _, ok := f.ports[m[2]]; !ok {
				f.ports[m[2]] = freePort(t)
			}
		}
	}
	if _, ok := f.ports["4599"]; !ok {
		f.ports["4599"] = freePort(t)
	}
	f.defURL = "http://127.0.0.1:" + f.ports["4599"]
	serverCfg := filepath.Join(f.logsDir, "server.yaml")
	if err := os.WriteFile(serverCfg, []byte("addr: 127.0.0.1:"+f.ports["4599"]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.env = freshEnv(bin, serverCfg, f.logsDir)
	for i, b := range run {
		text := addrRE.ReplaceAllStringFunc(texts[i], func(s string) string {
			m := addrRE.FindStringSubmatch(s)
			return m[1] + ":" + f.ports[m[2]]
		})
		for tool, re := range toolsUsed {
			if re.MatchString(text) {
				if _, err := exec.LookPath(tool); err != nil {
					t.Skipf("%s:%d uses %s, which is not installed: this block and the rest of the file not run", name, b.Line, tool)
				}
			}
		}
		where := fmt.Sprintf("%s:%d", name, b.Line)
		if b.Server {
			f.background(where+" (doctest: server)", "localcases serve --memory\n", f.defURL)
		}
		switch {
		case b.Background:
			u := f.defURL
			if m := urlRE.FindString(text); m != "" {
				u = m
			}
			f.background(where, text, u)
		case strings.HasPrefix(strings.TrimSpace(text), "$ "):
			f.transcript(where, text, b.Checkout)
		default:
			f.foreground(where, text, b.Checkout)
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// freshEnv is the environment of a new machine with localcases installed:
// the test's own, less LOCALCASES_ and AWS_ settings and AWS files.
func freshEnv(bin, serverCfg, dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "LOCALCASES_") || strings.HasPrefix(k, "AWS_") || k == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"LOCALCASES_CONFIG="+serverCfg,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
}

// script wraps a block so that the variables it sets reach the next block.
func (f *shellFile) script(body string) string {
	return `set -euo pipefail
__doctest_before=" $(compgen -v | tr '\n' ' ') "
if [ -f ` + shq(f.state) + ` ]; then source ` + shq(f.state) + `; fi
__doctest_save() {
  { export -p
    for v in $(compgen -v); do
      case "$v" in _*|BASH*|FUNCNAME|PIPESTATUS|GROUPS|DIRSTACK|RANDOM|SECONDS|LINENO|SRANDOM|EPOCH*) continue;; esac
      case "$__doctest_before" in *" $v "*) ;; *) declare -p "$v" 2>/dev/null || true;; esac
    done
  } > ` + shq(f.state+".new") + ` && mv ` + shq(f.state+".new") + ` ` + shq(f.state) + `
}
trap __doctest_save EXIT
` + body + "\n"
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// start runs a script in a process group of its own, with its output in a
// log file (not a pipe: a server it leaves running must not hold Wait).
func (f *shellFile) start(where, script string, checkout bool) (*exec.Cmd, string) {
	f.nblock++
	base := filepath.Join(f.logsDir, fmt.Sprintf("block%d", f.nblock))
	if err := os.WriteFile(base+".sh", []byte(script), 0o644); err != nil {
		f.t.Fatal(err)
	}
	logf, err := os.Create(base + ".log")
	if err != nil {
		f.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("bash", base+".sh")
	cmd.Dir = f.dir
	if checkout {
		cmd.Dir = f.root
	}
	cmd.Env = f.env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.t.Fatalf("%s: %v", where, err)
	}
	f.groups = append(f.groups, cmd)
	return cmd, base + ".log"
}

// blockTimeout bounds one block; a figures command that needs longer is
// shortened with a replace directive or skipped.
const blockTimeout = 5 * time.Minute

func (f *shellFile) wait(where string, cmd *exec.Cmd, logPath string) {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(blockTimeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = fmt.Errorf("still running after %v", blockTimeout)
		<-done
	}
	out, _ := os.ReadFile(logPath)
	if err != nil {
		f.t.Fatalf("%s: %v\n%s", where, err, tail(out, 80))
	}
	if testing.Verbose() && len(out) > 0 {
		f.t.Logf("%s:\n%s", where, tail(out, 40))
	}
}

func (f *shellFile) foreground(where, text string, checkout bool) {
	cmd, logPath := f.start(where, f.script(text), checkout)
	f.wait(where, cmd, logPath)
}

// background starts a block and waits until url answers HTTP (any status:
// a server with an admin token answers 403).
func (f *shellFile) background(where, text, url string) {
	cmd, logPath := f.start(where, f.script(text), false)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := client.Get(url + "/_localcases/ready")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logPath)
			f.t.Fatalf("%s: background block ended (%v) before %s answered:\n%s", where, err, url, tail(out, 80))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			f.t.Fatalf("%s: %s did not answer within 2 minutes:\n%s", where, url, tail(out, 80))
		}
	}
}

// stopAll ends every process the file's blocks left running.
func (f *shellFile) stopAll() {
	for _, c := range f.groups {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, c := range f.groups {
		for syscall.Kill(-c.Process.Pid, 0) == nil {
			if time.Now().After(deadline) {
				_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// transcript runs a block of "$ command" lines and compares what each
// prints with the lines that follow it.
func (f *shellFile) transcript(where, text string, checkout bool) {
	cmds, wants := parseTranscript(text)
	var body strings.Builder
	outs := make([]string, len(cmds))
	for i, c := range cmds {
		outs[i] = filepath.Join(f.logsDir, fmt.Sprintf("t%d-%d.out", f.nblock+1, i))
		fmt.Fprintf(&body, "{\n%s\n} > %s\n", c, shq(outs[i]))
	}
	cmd, logPath := f.start(where, f.script(body.String()), checkout)
	f.wait(where, cmd, logPath)
	for i, c := range cmds {
		got, _ := os.ReadFile(outs[i])
		if !matchLines(wants[i], splitLines(string(got))) {
			f.t.Errorf("%s: $ %s\nprinted:\n%s\nthe doc says:\n%s", where, c, got, strings.Join(wants[i], "\n"))
		}
	}
}

func parseTranscript(text string) (cmds []string, wants [][]string) {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if !strings.HasPrefix(l, "$ ") {
			if len(wants) > 0 {
				wants[len(wants)-1] = append(wants[len(wants)-1], l)
			}
			continue
		}
		c := strings.TrimPrefix(l, "$ ")
		for strings.HasSuffix(c, `\`) && i+1 < len(lines) {
			i++
			c += "\n" + lines[i]
		}
		cmds = append(cmds, c)
		wants = append(wants, nil)
	}
	for i := range wants {
		wants[i] = splitLines(strings.Join(wants[i], "\n"))
	}
	return cmds, wants
}

// splitLines splits output into lines without trailing spaces, leading or
// trailing blank lines.
func splitLines(s string) []string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimRight(lines[i], " \t\r")
	}
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines
}

// matchLines compares output with a doc's expected lines: "…" in a line
// matches any text, a line that is only "…" any number of lines.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if strings.TrimSpace(want[0]) == "…" {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	if len(got) == 0 || !matchLine(want[0], got[0]) {
		return false
	}
	return matchLines(want[1:], got[1:])
}

func matchLine(want, got string) bool {
	parts := strings.Split(want, "…")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$").MatchString(got)
}

func tail(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = append([][]byte{[]byte(fmt.Sprintf("[… %d lines]", len(lines)-n))}, lines[len(lines)-n:]...)
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// compileGo vets every go block, each as a package of its own, in a
// directory of this module that `./...` does not match (it starts with _).
func compileGo(t *testing.T, root string, blocks []docBlock) {
	if len(blocks) == 0 {
		t.Skip("no go blocks")
	}
	dir, err := os.MkdirTemp(filepath.Join(root, "internal", "doctest"), "_snippets")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var pkgs []string
	for i, b := range blocks {
		src, err := GoFile("snippet", filepath.Join(root, b.doc), b.Block)
		if err != nil {
			t.Errorf("%s:%d: %v", b.doc, b.Line, err)
			continue
		}
		pkg := filepath.Join(dir, fmt.Sprintf("b%d", i))
		if err := os.Mkdir(pkg, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pkg, "snippet.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, pkg)
		pkgs = append(pkgs, "./"+filepath.ToSlash(rel))
	}
	if len(pkgs) == 0 {
		return
	}
	vet := exec.Command("go", append([]string{"vet"}, pkgs...)...)
	vet.Dir = root
	if out, err := vet.CombinedOutput(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		t.Errorf("go vet of the docs' go blocks:\n%s", out)
	}
}
