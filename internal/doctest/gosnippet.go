package doctest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"sort"
	"strings"
)

// knownPackages are the import paths of the package names snippets use
// without an import line.
var knownPackages = map[string]string{
	"admin":          "github.com/localcases/localcases/admin",
	"aws":            "github.com/aws/aws-sdk-go-v2/aws",
	"bench":          "github.com/localcases/localcases/bench",
	"connectcases":   "github.com/aws/aws-sdk-go-v2/service/connectcases",
	"context":        "context",
	"credentials":    "github.com/aws/aws-sdk-go-v2/credentials",
	"errors":         "errors",
	"eventpattern":   "github.com/localcases/localcases/eventpattern",
	"fault":          "github.com/localcases/localcases/fault",
	"fmt":            "fmt",
	"health":         "github.com/aws/aws-sdk-go-v2/service/health",
	"http":           "net/http",
	"json":           "encoding/json",
	"localcasestest": "github.com/localcases/localcases/localcasestest",
	"log":            "log",
	"os":             "os",
	"resilience":     "github.com/localcases/localcases/resilience",
	"slog":           "log/slog",
	"smithy":         "github.com/aws/smithy-go",
	"smithyhttp":     "github.com/aws/smithy-go/transport/http",
	"strings":        "strings",
	"testing":        "testing",
	"time":           "time",
	"types":          "github.com/aws/aws-sdk-go-v2/service/connectcases/types",
}

// knownVars are the names the prose gives a fragment (the context, the
// aws.Config, the client of the section before), with their types. A
// `<!-- doctest: var NAME TYPE -->` directive adds or overrides one.
var knownVars = map[string]string{
	"ctx":      "context.Context",
	"cfg":      "aws.Config",
	"client":   "*connectcases.Client",
	"in":       "*connectcases.GetCaseInput",
	"url":      "string",
	"logger":   "*slog.Logger",
	"t":        "*testing.T",
	"showUser": "func(string)",
}

// GoFile turns a go block into a compilable file of package pkg, with
// //line comments so that errors name the doc's file and line.
func GoFile(pkg, docName string, b Block) (string, error) {
	text, err := b.Source()
	if err != nil {
		return "", err
	}
	lineDir := fmt.Sprintf("//line %s:%d\n", docName, b.Line)
	if strings.HasPrefix(strings.TrimSpace(text), "package ") {
		return lineDir + text + "\n", nil
	}
	fset := token.NewFileSet()
	// Declarations: a file as it stands, plus imports.
	if f, err := parser.ParseFile(fset, "", "package "+pkg+"\n"+text, 0); err == nil {
		imports, params, err := resolve(f.Unresolved, b.Vars)
		if err != nil {
			return "", err
		}
		if len(params) > 0 {
			return "", fmt.Errorf("declarations use %s, which they do not declare", strings.Join(names(params), ", "))
		}
		return "package " + pkg + "\n\n" + importBlock(imports) + lineDir + text + "\n", nil
	}
	// A fragment: the body of a function.
	const head = "package p\nfunc _() {\n"
	src := head + text + "\n}\n"
	f, err := parser.ParseFile(fset, "", src, 0)
	if err != nil {
		return "", fmt.Errorf("neither declarations nor statements: %v", err)
	}
	imports, params, err := resolve(f.Unresolved, b.Vars)
	if err != nil {
		return "", err
	}
	body := f.Decls[0].(*ast.FuncDecl).Body
	returnsErr := false
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			if len(n.Results) == 1 {
				returnsErr = true
			}
		}
		return true
	})
	// A reader goes on to use what the fragment declares; only err must be
	// used within it. Mark the others used right after their declaration, so
	// that lines keep their numbers.
	type insert struct {
		at   int
		text string
	}
	var inserts []insert
	tf := fset.File(f.Pos())
	for _, st := range body.List {
		var declared []*ast.Ident
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, e := range st.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						declared = append(declared, id)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := st.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, s := range g.Specs {
					declared = append(declared, s.(*ast.ValueSpec).Names...)
				}
			}
		}
		var uses []string
		for _, id := range declared {
			if id.Name != "_" && id.Name != "err" {
				uses = append(uses, "_ = "+id.Name)
			}
		}
		if len(uses) > 0 {
			inserts = append(inserts, insert{tf.Offset(st.End()) - len(head), "; " + strings.Join(uses, "; ")})
		}
	}
	sort.Slice(inserts, func(i, j int) bool { return inserts[i].at > inserts[j].at })
	for _, in := range inserts {
		text = text[:in.at] + in.text + text[in.at:]
	}
	var sig strings.Builder
	for i, p := range params {
		if i > 0 {
			sig.WriteString(", ")
		}
		sig.WriteString(p[0] + " " + p[1])
		for _, id := range typeIdents(p[1]) {
			if path, ok := knownPackages[id]; ok {
				imports[id] = path
			}
		}
	}
	result, tail := "", ""
	if returnsErr {
		result = " error"
		if _, ok := body.List[len(body.List)-1].(*ast.ReturnStmt); !ok {
			tail = "return nil\n"
		}
	}
	name := "snippet" + fmt.Sprint(b.Line)
	return "package " + pkg + "\n\n" + importBlock(imports) +
		"func " + name + "(" + sig.String() + ")" + result + " {\n" +
		lineDir + text + "\n" + tail + "}\n", nil
}

// resolve sorts a block's undeclared names into imports and parameters.
func resolve(unresolved []*ast.Ident, given [][2]string) (map[string]string, [][2]string, error) {
	vars := map[string]string{}
	for k, v := range knownVars {
		vars[k] = v
	}
	for _, v := range given {
		vars[v[0]] = v[1]
	}
	imports := map[string]string{}
	var params [][2]string
	var unknown []string
	seen := map[string]bool{}
	for _, id := range unresolved {
		if seen[id.Name] {
			continue
		}
		seen[id.Name] = true
		if types.Universe.Lookup(id.Name) != nil {
			continue
		}
		if path, ok := knownPackages[id.Name]; ok {
			imports[id.Name] = path
			continue
		}
		if typ, ok := vars[id.Name]; ok {
			params = append(params, [2]string{id.Name, typ})
			continue
		}
		unknown = append(unknown, id.Name)
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("uses %s without declaring it: declare it in the snippet, or give it with <!-- doctest: var NAME TYPE -->", strings.Join(unknown, ", "))
	}
	sort.Slice(params, func(i, j int) bool { return params[i][0] < params[j][0] })
	return imports, params, nil
}

func names(params [][2]string) []string {
	var out []string
	for _, p := range params {
		out = append(out, p[0])
	}
	return out
}

// typeIdents returns the package names a type expression mentions.
func typeIdents(typ string) []string {
	e, err := parser.ParseExpr(typ)
	if err != nil {
		return nil
	}
	var out []string
	ast.Inspect(e, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok {
				out = append(out, id.Name)
			}
		}
		return true
	})
	return out
}

func importBlock(imports map[string]string) string {
	if len(imports) == 0 {
		return ""
	}
	var paths []string
	for name, path := range imports {
		if strings.HasSuffix(path, "/"+name) || path == name {
			paths = append(paths, fmt.Sprintf("%q", path))
		} else {
			paths = append(paths, fmt.Sprintf("%s %q", name, path))
		}
	}
	sort.Strings(paths)
	return "import (\n\t" + strings.Join(paths, "\n\t") + "\n)\n\n"
}
