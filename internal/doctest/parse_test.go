package doctest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	doc := strings.Join([]string{
		"# Title",
		"",
		"<!-- doctest: skip: takes an hour -->",
		"```sh",
		"slow",
		"```",
		"<!-- doctest: background -->",
		"```sh",
		"localcases serve",
		"```",
		"```yaml",
		"a: 1",
		"```",
		"1. a list",
		"   ```sh",
		"   indented",
		"   ```",
		"<!-- doctest: checkout -->",
		"<!-- doctest: replace 10s => 1s -->",
		"<!-- doctest: server -->",
		"```sh",
		"bench --duration 10s",
		"```",
		"<!-- doctest: var in *connectcases.CreateCaseInput -->",
		"```go",
		"_ = in",
		"```",
	}, "\n")
	got, err := Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{
		{Lang: "sh", Text: "slow", Line: 5, Skip: "takes an hour"},
		{Lang: "sh", Text: "localcases serve", Line: 9, Background: true},
		{Lang: "yaml", Text: "a: 1", Line: 12},
		{Lang: "sh", Text: "indented", Line: 16},
		{Lang: "sh", Text: "bench --duration 10s", Line: 22, Checkout: true, Server: true, Replace: [][2]string{{"10s", "1s"}}},
		{Lang: "go", Text: "_ = in", Line: 26, Vars: [][2]string{{"in", "*connectcases.CreateCaseInput"}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parse:\n got %+v\nwant %+v", got, want)
	}
	if src, _ := got[4].Source(); src != "bench --duration 1s" {
		t.Errorf("Source with replace = %q", src)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"skip without reason", "<!-- doctest: skip -->\n```sh\nx\n```", "needs a reason"},
		{"empty reason", "<!-- doctest: skip:   -->\n```sh\nx\n```", "needs a reason"},
		{"unknown", "<!-- doctest: skipp: x -->\n```sh\nx\n```", "unknown doctest directive"},
		{"no block after", "text\n<!-- doctest: background -->\n", "followed by no code block"},
		{"before yaml", "<!-- doctest: background -->\n```yaml\na: 1\n```", "does not run"},
		{"background on go", "<!-- doctest: background -->\n```go\nx()\n```", "apply to sh blocks"},
		{"var on sh", "<!-- doctest: var x int -->\n```sh\nx\n```", "var before a sh block"},
		{"bad replace", "<!-- doctest: replace 10s -->\n```sh\nx\n```", "OLD => NEW"},
		{"unclosed", "```sh\nx\n", "never closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want an error with %q", err, tt.want)
			}
		})
	}
	b := Block{Lang: "sh", Text: "a", Replace: [][2]string{{"b", "c"}}}
	if _, err := b.Source(); err == nil {
		t.Error("a replace whose OLD is not in the block must fail")
	}
}

func TestMatchLines(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		match     bool
	}{
		{"same", "a\nb", "a\nb", true},
		{"differs", "a\nb", "a\nc", false},
		{"trailing spaces and blank lines", "a\nb", "\na  \nb\n\n", true},
		{"ellipsis in a line", "id: …-x", "id: 123-x", true},
		{"ellipsis keeps the rest", "id: …-x", "id: 123-y", false},
		{"two ellipses", "[… UTC] between … and …", "[17:53 UTC] between 1 and 2", true},
		{"ellipsis line matches lines", "{\n…\n}", "{\n1\n2\n}", true},
		{"ellipsis line matches none", "{\n…\n}", "{\n}", true},
		{"missing line", "a\nb", "a", false},
		{"extra line", "a", "a\nb", false},
		{"regexp characters are literal", "a.b (c)", "axb (c)", false},
		{"nothing printed, nothing said", "", "", true},
		{"printed, nothing said", "", "x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchLines(splitLines(tt.want), splitLines(tt.got)); got != tt.match {
				t.Errorf("matchLines(%q, %q) = %v", tt.want, tt.got, got)
			}
		})
	}
}

func TestParseTranscript(t *testing.T) {
	cmds, wants := parseTranscript("$ echo a \\\n  b\na b\n$ true\n$ printf 'x\\n\\ny'\nx\n\ny")
	if want := []string{"echo a \\\n  b", "true", `printf 'x\n\ny'`}; !reflect.DeepEqual(cmds, want) {
		t.Errorf("commands = %q, want %q", cmds, want)
	}
	if want := [][]string{{"a b"}, nil, {"x", "", "y"}}; !reflect.DeepEqual(wants, want) {
		t.Errorf("outputs = %q, want %q", wants, want)
	}
}

func TestGoFile(t *testing.T) {
	tests := []struct {
		name   string
		block  Block
		want   []string // substrings of the file
		not    []string // and what it must not hold
		errHas string
	}{
		{
			name:  "fragment gets imports, parameters and an error result",
			block: Block{Lang: "go", Line: 7, Text: "out, err := client.ListDomains(ctx, &connectcases.ListDomainsInput{})\nif err != nil {\n\treturn err\n}"},
			want: []string{
				`"github.com/aws/aws-sdk-go-v2/service/connectcases"`,
				`"context"`,
				"func snippet7(client *connectcases.Client, ctx context.Context) error {",
				"//line DOC.md:7\n",
				"ListDomainsInput{}); _ = out\n",
				"}\nreturn nil\n}",
			},
		},
		{
			name:  "err is not marked used",
			block: Block{Lang: "go", Line: 1, Text: "x, err := os.Open(url)"},
			want:  []string{"_ = x"},
			not:   []string{"_ = err"},
		},
		{
			name:   "unknown names are refused",
			block:  Block{Lang: "go", Line: 1, Text: "x := f()"},
			errHas: "uses f without declaring it",
		},
		{
			name:  "declarations stay at the top level",
			block: Block{Lang: "go", Line: 3, Text: "func TestX(t *testing.T) {\n\tt.Log(time.Now())\n}"},
			want:  []string{`"testing"`, `"time"`, "//line DOC.md:3\nfunc TestX"},
		},
		{
			name:   "declarations may not use free names",
			block:  Block{Lang: "go", Line: 3, Text: "func X() { _ = ctx }"},
			errHas: "declarations use ctx",
		},
		{
			name:  "a var directive gives a name its type",
			block: Block{Lang: "go", Line: 1, Text: "_ = in.Title", Vars: [][2]string{{"in", "*connectcases.CreateCaseInput"}}},
			want:  []string{"func snippet1(in *connectcases.CreateCaseInput) {", `"github.com/aws/aws-sdk-go-v2/service/connectcases"`},
		},
		{
			name:  "aliased import",
			block: Block{Lang: "go", Line: 1, Text: "_ = smithyhttp.AddHeaderValue"},
			want:  []string{`smithyhttp "github.com/aws/smithy-go/transport/http"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := GoFile("snippet", "DOC.md", tt.block)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("GoFile = %v, want an error with %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(src, w) {
					t.Errorf("file lacks %q:\n%s", w, src)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(src, w) {
					t.Errorf("file holds %q:\n%s", w, src)
				}
			}
		})
	}
}
