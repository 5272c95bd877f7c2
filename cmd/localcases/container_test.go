package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"fmt"
	goversion "go/version"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connectcases"

	"github.com/localcases/localcases/internal/servertest"
)

// containerfile is what the tests read from the Containerfile.
type containerfile struct {
	from, user        string
	env               map[string]string
	expose, volumes   []string
	entrypoint, cmd   []string
	healthcheck       []string // the CMD of HEALTHCHECK
	healthcheckOption []string
}

// parseContainerfile reads the instructions the image's behaviour depends
// on; exec-form (JSON) arguments only, as the file uses.
func parseContainerfile(t *testing.T, path string) containerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cf := containerfile{env: map[string]string{}}
	jsonArgs := func(s string) []string {
		var args []string
		if err := json.Unmarshal([]byte(s), &args); err != nil {
			t.Fatalf("%s: %q is not exec form: %v", path, s, err)
		}
		return args
	}
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(string(data), "\\\n", " ")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(word) {
		case "FROM":
			cf.from = rest
		case "USER":
			cf.user = rest
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("%s: ENV %q: want KEY=VALUE", path, kv)
				}
				cf.env[k] = v
			}
		case "EXPOSE":
			cf.expose = append(cf.expose, strings.Fields(rest)...)
		case "VOLUME":
			cf.volumes = append(cf.volumes, jsonArgs(rest)...)
		case "ENTRYPOINT":
			cf.entrypoint = jsonArgs(rest)
		case "CMD":
			cf.cmd = jsonArgs(rest)
		case "HEALTHCHECK":
			opts, cmd, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("%s: HEALTHCHECK without CMD", path)
			}
			cf.healthcheckOption = strings.Fields(opts)
			cf.healthcheck = jsonArgs(cmd)
		}
	}
	return cf
}

// TestContainerfile holds the image to what the README promises: a scratch
// image of the static binary, listening on 0.0.0.0:4599, SQLite in a volume
// at /data, a non-root user, and a health check by the binary itself.
func TestContainerfile(t *testing.T) {
	cf := parseContainerfile(t, "../../Containerfile")
	checks := []struct {
		what      string
		got, want string
	}{
		{"FROM", cf.from, "scratch"},
		{"LOCALCASES_ADDR", cf.env["LOCALCASES_ADDR"], "0.0.0.0:4599"},
		{"LOCALCASES_DATA", cf.env["LOCALCASES_DATA"], "/data"},
		{"VOLUME", strings.Join(cf.volumes, " "), "/data"},
		{"EXPOSE", strings.Join(cf.expose, " "), "4599"},
		{"ENTRYPOINT", strings.Join(cf.entrypoint, " "), "/localcases"},
		{"CMD", strings.Join(cf.cmd, " "), "serve"},
		{"HEALTHCHECK program", firstOf(cf.healthcheck), "/localcases"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	uid, _, _ := strings.Cut(cf.user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q: want a numeric non-root user (scratch has no user names to look up)", cf.user)
	}
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// buildContext assembles the image's build context with the script the
// image is built with, and returns its directory: the static binary the
// image holds is dir/localcases. The directory is readable by every user,
// so the binary can run as the image's user.
func buildContext(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "localcases-image-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "context")
	cmd := exec.Command("scripts/container-build.sh", "--context", dir)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("container-build.sh --context: %v\n%s", err, out)
	}
	return dir
}

// TestContainerBinary runs the binary the image holds, outside any
// container, as the image runs it: the image's environment and user, its
// entrypoint and command, a directory standing in for the /data volume, and
// the image's health check command, whose exit code says whether the server
// is up. Running containers is not possible on every machine that builds
// them; this is the part of the image that can be run anywhere.
func TestContainerBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the static binary")
	}
	cf := parseContainerfile(t, "../../Containerfile")
	dir := buildContext(t)
	bin := filepath.Join(dir, "localcases")
	assertStatic(t, bin)
	assertToolchain(t, bin)

	uid, gid := imageUser(t, cf.user)
	port := freePort(t)
	// The image's environment, with the port moved off 4599 (another
	// server may hold it here) and the volume's stand-in for /data.
	env := func(data string, extra ...string) []string {
		var out []string
		for k, v := range cf.env {
			switch k {
			case "LOCALCASES_ADDR":
				v = strings.Replace(v, ":4599", ":"+port, 1)
			case "LOCALCASES_DATA":
				v = data
			case "TMPDIR":
				v = dir
			}
			out = append(out, k+"="+v)
		}
		return append(out, extra...)
	}
	if !strings.HasPrefix(cf.env["LOCALCASES_ADDR"], "0.0.0.0:") {
		t.Fatalf("LOCALCASES_ADDR = %q", cf.env["LOCALCASES_ADDR"])
	}
	url := "http://127.0.0.1:" + port
	// Inside the container the health check reaches the server at the
	// default 127.0.0.1:4599; here the port moved, so it is told.
	healthy := func(extra ...string) (int, string) {
		cmd := exec.Command(bin, cf.healthcheck[1:]...)
		cmd.Env = env("", append(extra, "LOCALCASES_URL="+url)...)
		cmd.SysProcAttr = asUser(uid, gid)
		out, err := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), fmt.Sprint(err, "\n", string(out))
	}
	serve := func(t *testing.T, data string, extra ...string) (stop func()) {
		t.Helper()
		cmd := exec.Command(bin, append(cf.entrypoint[1:], cf.cmd...)...)
		cmd.Env = env(data, extra...)
		cmd.SysProcAttr = asUser(uid, gid)
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			code, msg := healthy(extra...) // the container's environment reaches its health check too
			if code == 0 {
				break
			}
			select {
			case err := <-exited:
				t.Fatalf("serve exited: %v\n%s", err, out)
			default:
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("the health check never passed: exit %d: %s\nserve:\n%s", code, msg, out)
			}
		}
		return func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("serve after SIGTERM: %v\n%s", err, out)
				}
			case <-time.After(time.Minute):
				cmd.Process.Kill()
				t.Errorf("serve did not stop on SIGTERM\n%s", out)
			}
		}
	}

	if code, msg := healthy(); code == 0 {
		t.Fatalf("the health check passed with no server: %s", msg)
	}

	t.Run("volume", func(t *testing.T) {
		data := userDir(t, dir, "volume", uid, gid)
		stop := serve(t, data)
		if !listensOnAll(t, port) {
			t.Errorf("the server does not listen on 0.0.0.0:%s", port)
		}
		ctx := context.Background()
		if _, err := servertest.Client(url).CreateDomain(ctx, &connectcases.CreateDomainInput{Name: aws.String("image")}); err != nil {
			t.Fatal(err)
		}
		// A client on another address of this machine is served too.
		if ip := nonLoopbackIP(); ip != "" {
			if _, err := servertest.Client("http://"+net.JoinHostPort(ip, port)).ListDomains(ctx, &connectcases.ListDomainsInput{}); err != nil {
				t.Errorf("ListDomains through %s: %v", ip, err)
			}
		}
		stop()
		if code, msg := healthy(); code == 0 {
			t.Errorf("the health check passed after the server stopped: %s", msg)
		}
		if entries, _ := os.ReadDir(data); len(entries) == 0 {
			t.Fatal("the data directory is empty after a write")
		}
		stop = serve(t, data)
		defer stop()
		out, err := servertest.Client(url).ListDomains(ctx, &connectcases.ListDomainsInput{})
		if err != nil || len(out.Domains) != 1 || aws.ToString(out.Domains[0].Name) != "image" {
			t.Errorf("after a restart on the same volume: %v, %+v", err, out)
		}
	})

	// With an admin token, as the README's compose file sets: the health
	// check passes with the container's environment, and /metrics answers
	// a client outside the container's loopback only with the token.
	t.Run("admin token", func(t *testing.T) {
		token := "LOCALCASES_ADMIN_TOKEN=s3cret"
		stop := serve(t, userDir(t, dir, "volume-token", uid, gid), token, "LOCALCASES_MEMORY=true")
		defer stop()
		if code, msg := healthy(); code == 0 {
			t.Errorf("the health check passed without the token: %s", msg)
		}
		ip := nonLoopbackIP()
		if ip == "" {
			t.Skip("no non-loopback address to reach the server from")
		}
		for _, tt := range []struct {
			auth string
			want int
		}{{"", http.StatusForbidden}, {"Bearer s3cret", http.StatusOK}} {
			req, _ := http.NewRequest(http.MethodGet, "http://"+net.JoinHostPort(ip, port)+"/metrics", nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET /metrics from %s with %q: %d, want %d", ip, tt.auth, resp.StatusCode, tt.want)
			}
		}
	})

	t.Run("memory", func(t *testing.T) {
		data := userDir(t, dir, "volume-memory", uid, gid)
		stop := serve(t, data, "LOCALCASES_MEMORY=true")
		defer stop()
		if _, err := servertest.Client(url).CreateDomain(context.Background(), &connectcases.CreateDomainInput{Name: aws.String("memory")}); err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(data); len(entries) != 0 {
			t.Errorf("LOCALCASES_MEMORY=true wrote %d entries into the volume", len(entries))
		}
	})
}

// assertStatic fails unless bin is a statically linked ELF executable: no
// interpreter and no shared libraries, since scratch has neither.
func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s asks for a dynamic loader", bin)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) != 0 {
		t.Errorf("%s needs shared libraries %v", bin, libs)
	}
}

// assertToolchain fails unless bin was built with at least the toolchain
// go.mod names, which carries the standard library's security fixes.
func assertToolchain(t *testing.T, bin string) {
	t.Helper()
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	for _, line := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "toolchain "); ok {
			want = strings.TrimSpace(v)
		}
	}
	if want == "" {
		t.Fatal("go.mod names no toolchain")
	}
	if goversion.Compare(info.GoVersion, want) < 0 {
		t.Errorf("the image's binary was built with %s, older than go.mod's %s", info.GoVersion, want)
	}
}

// imageUser returns the image's user, or the current one when this process
// cannot switch users (not root).
func imageUser(t *testing.T, user string) (uid, gid int) {
	u, g, _ := strings.Cut(user, ":")
	uid, err1 := strconv.Atoi(u)
	gid, err2 := strconv.Atoi(g)
	if err1 != nil || err2 != nil {
		t.Fatalf("USER %q: want UID:GID", user)
	}
	if os.Geteuid() != 0 {
		t.Logf("not root: running as UID %d instead of the image's %d", os.Geteuid(), uid)
		return -1, -1
	}
	return uid, gid
}

func asUser(uid, gid int) *syscall.SysProcAttr {
	if uid < 0 {
		return nil
	}
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}

// userDir makes a directory owned by the image's user, as /data is.
func userDir(t *testing.T, parent, name string, uid, gid int) string {
	t.Helper()
	d := filepath.Join(parent, name)
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if uid >= 0 {
		if err := os.Chown(d, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// listensOnAll reports whether a socket listens on port on every IPv4 or
// IPv6 interface, from /proc/net/tcp{,6}.
func listensOnAll(t *testing.T, port string) bool {
	t.Helper()
	p, _ := strconv.Atoi(port)
	want := fmt.Sprintf(":%04X", p)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Skipf("cannot read %s: %v", f, err)
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 4 || fields[3] != "0A" || !strings.HasSuffix(fields[1], want) {
				continue
			}
			addr := strings.TrimSuffix(fields[1], want)
			if strings.Trim(addr, "0") == "" {
				return true
			}
		}
	}
	return false
}

func nonLoopbackIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

// containerTool returns podman, or docker when its daemon answers, or "".
func containerTool() string {
	if _, err := exec.LookPath("podman"); err == nil {
		return "podman"
	}
	if _, err := exec.LookPath("docker"); err == nil && exec.Command("docker", "info").Run() == nil {
		return "docker"
	}
	return ""
}

// TestContainerImageBuild builds the image with podman or docker, where
// one is installed, and reads back what the build made of the
// Containerfile: the user, environment, port, volume, entrypoint, command
// and health check, and the image's files (/data owned by the user).
func TestContainerImageBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds a container image")
	}
	tool := containerTool()
	if tool == "" {
		t.Skip("neither podman nor a docker daemon is available; TestContainerBinary still runs the image's binary")
	}
	cf := parseContainerfile(t, "../../Containerfile")
	tag := fmt.Sprintf("localhost/localcases-test:%d", os.Getpid())
	build := exec.Command("scripts/container-build.sh", "--tag", tag)
	build.Dir = "../.."
	build.Env = append(os.Environ(), "LOCALCASES_CONTAINER_TOOL="+tool)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("container-build.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command(tool, "rmi", "-f", tag).Run() })

	out, err := exec.Command(tool, "image", "inspect", tag).Output()
	if err != nil {
		t.Fatalf("%s image inspect: %v", tool, err)
	}
	var images []struct {
		Config struct {
			User         string
			Env          []string
			ExposedPorts map[string]any
			Volumes      map[string]any
			Entrypoint   []string
			Cmd          []string
			Healthcheck  *struct{ Test []string } // docker's place
		}
		Healthcheck *struct{ Test []string } // podman's
	}
	if err := json.Unmarshal(out, &images); err != nil || len(images) != 1 {
		t.Fatalf("image inspect: %v\n%s", err, out)
	}
	c := images[0].Config
	if c.Healthcheck == nil {
		c.Healthcheck = images[0].Healthcheck
	}
	if c.User != cf.user {
		t.Errorf("User = %q, want %q", c.User, cf.user)
	}
	for k, v := range cf.env {
		if !containsString(c.Env, k+"="+v) {
			t.Errorf("Env %v lacks %s=%s", c.Env, k, v)
		}
	}
	if _, ok := c.ExposedPorts["4599/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("Volumes = %v", c.Volumes)
	}
	if strings.Join(c.Entrypoint, " ") != strings.Join(cf.entrypoint, " ") || strings.Join(c.Cmd, " ") != strings.Join(cf.cmd, " ") {
		t.Errorf("Entrypoint %v Cmd %v, want %v %v", c.Entrypoint, c.Cmd, cf.entrypoint, cf.cmd)
	}
	if c.Healthcheck == nil || strings.Join(c.Healthcheck.Test, " ") != "CMD "+strings.Join(cf.healthcheck, " ") {
		t.Errorf("Healthcheck = %+v, want CMD %v (podman needs --format docker to keep it)", c.Healthcheck, cf.healthcheck)
	}

	files := imageFiles(t, tool, tag)
	uid, _, _ := strings.Cut(cf.user, ":")
	for _, want := range []struct {
		path string
		uid  string
	}{{"data", uid}, {"tmp", uid}, {"localcases", "0"}, {"etc/passwd", "0"}, {"etc/ssl/certs/ca-certificates.crt", "0"}} {
		got, ok := files[want.path]
		if !ok {
			t.Errorf("the image has no /%s", want.path)
		} else if strconv.Itoa(got) != want.uid {
			t.Errorf("/%s is owned by UID %d, want %s", want.path, got, want.uid)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// imageFiles saves the image as a docker archive and returns the owner UID
// of every path in its layers.
func imageFiles(t *testing.T, tool, tag string) map[string]int {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	args := []string{"save", "-o", archive, tag}
	if tool == "podman" {
		args = []string{"save", "--format", "docker-archive", "-o", archive, tag}
	}
	if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s save: %v\n%s", tool, err, out)
	}
	layers := map[string][]byte{}
	var manifest []struct{ Layers []string }
	walkTar(t, archive, func(name string, hdr *tar.Header, r io.Reader) {
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if name == "manifest.json" {
			if err := json.Unmarshal(data, &manifest); err != nil {
				t.Fatalf("manifest.json: %v", err)
			}
			return
		}
		layers[name] = data
	})
	if len(manifest) != 1 {
		t.Fatalf("the archive holds %d images", len(manifest))
	}
	owners := map[string]int{}
	for _, l := range manifest[0].Layers {
		tr := tar.NewReader(bytes.NewReader(layers[l]))
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("layer %s: %v", l, err)
			}
			owners[strings.Trim(strings.TrimPrefix(hdr.Name, "./"), "/")] = hdr.Uid
		}
	}
	return owners
}

func walkTar(t *testing.T, path string, fn func(name string, hdr *tar.Header, r io.Reader)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		fn(hdr.Name, hdr, tr)
	}
}
