package doctest

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// A Block is one fenced code block of a Markdown file, with the directives
// written before it.
type Block struct {
	Lang string // the fence's tag: "sh", "go", "yaml", ""
	Text string // the content, without the fences and their indentation
	Line int    // the line of the content's first line, from 1

	Skip       string      // why the block does not run; empty runs it
	Background bool        // run in the background and wait for its server
	Checkout   bool        // run at the repository root
	Server     bool        // start a server on the file's 4599 port first
	Replace    [][2]string // OLD, NEW pairs applied before running
	Vars       [][2]string // NAME, TYPE of a go fragment's given names
}

// Runs reports whether the runner executes or compiles the block.
func (b Block) Runs() bool {
	return b.Skip == "" && (b.Lang == "sh" || b.Lang == "go")
}

// Source is the block's text with its replace directives applied.
func (b Block) Source() (string, error) {
	text := b.Text
	for _, r := range b.Replace {
		if !strings.Contains(text, r[0]) {
			return "", fmt.Errorf("replace %q: not in the block", r[0])
		}
		text = strings.ReplaceAll(text, r[0], r[1])
	}
	return text, nil
}

var (
	directiveRE = regexp.MustCompile(`^\s*<!--\s*doctest:\s*(.*?)\s*-->\s*$`)
	fenceRE     = regexp.MustCompile("^(\\s*)(```+)\\s*([A-Za-z0-9_+-]*)")
)

// ParseFile reads a Markdown file's blocks.
func ParseFile(path string) ([]Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(string(data))
}

// Parse returns the fenced blocks of a Markdown text with their directives.
// A directive that is unknown, malformed, or followed by no block is an
// error, so that a typo cannot quietly turn a check off.
func Parse(text string) ([]Block, error) {
	lines := strings.Split(text, "\n")
	var (
		blocks  []Block
		pending Block
		pendAt  int // line of the first pending directive, 0 if none
	)
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := directiveRE.FindStringSubmatch(line); m != nil {
			if err := applyDirective(&pending, m[1]); err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			if pendAt == 0 {
				pendAt = i + 1
			}
			continue
		}
		m := fenceRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		indent, fence := m[1], m[2]
		b := pending
		b.Lang = m[3]
		b.Line = i + 2
		var body []string
		closed := false
		for i++; i < len(lines); i++ {
			l := lines[i]
			if t := strings.TrimSpace(l); strings.HasPrefix(t, fence) && strings.Trim(t, "`") == "" {
				closed = true
				break
			}
			body = append(body, strings.TrimPrefix(l, indent))
		}
		if !closed {
			return nil, fmt.Errorf("line %d: code block never closed", b.Line-1)
		}
		// skip is harmless before any block; other directives before a
		// block that never runs are a mistake.
		if pendAt != 0 && b.Lang != "sh" && b.Lang != "go" && (b.Background || b.Checkout || b.Server || len(b.Replace) > 0 || len(b.Vars) > 0) {
			return nil, fmt.Errorf("line %d: doctest directive before a %q block, which does not run", pendAt, b.Lang)
		}
		if b.Lang != "go" && len(b.Vars) > 0 {
			return nil, fmt.Errorf("line %d: doctest var before a %s block", pendAt, b.Lang)
		}
		if b.Lang != "sh" && (b.Background || b.Checkout || b.Server) {
			return nil, fmt.Errorf("line %d: background, checkout and server apply to sh blocks", pendAt)
		}
		b.Text = strings.Join(body, "\n")
		blocks = append(blocks, b)
		pending, pendAt = Block{}, 0
	}
	if pendAt != 0 {
		return nil, fmt.Errorf("line %d: doctest directive followed by no code block", pendAt)
	}
	return blocks, nil
}

func applyDirective(b *Block, d string) error {
	word, rest, _ := strings.Cut(d, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.HasPrefix(d, "skip:"):
		reason := strings.TrimSpace(strings.TrimPrefix(d, "skip:"))
		if reason == "" {
			return fmt.Errorf("doctest skip needs a reason: <!-- doctest: skip: why -->")
		}
		b.Skip = reason
	case d == "skip":
		return fmt.Errorf("doctest skip needs a reason: <!-- doctest: skip: why -->")
	case d == "background":
		b.Background = true
	case d == "checkout":
		b.Checkout = true
	case d == "server":
		b.Server = true
	case word == "replace":
		old, repl, ok := strings.Cut(rest, " => ")
		if !ok || old == "" {
			return fmt.Errorf("doctest replace wants OLD => NEW, got %q", rest)
		}
		b.Replace = append(b.Replace, [2]string{old, repl})
	case word == "var":
		name, typ, ok := strings.Cut(rest, " ")
		if !ok || name == "" || strings.TrimSpace(typ) == "" {
			return fmt.Errorf("doctest var wants NAME TYPE, got %q", rest)
		}
		b.Vars = append(b.Vars, [2]string{name, strings.TrimSpace(typ)})
	default:
		return fmt.Errorf("unknown doctest directive %q (skip: REASON, background, checkout, server, replace OLD => NEW, var NAME TYPE)", d)
	}
	return nil
}
