package cli

// The documentation's tests: README.md and the manual in docs/ link only to
// files and headings that exist, docs/commands.md is what the commands'
// --help prints, and every --flag the docs show in code belongs to a
// command.
//
// After adding, renaming or changing a flag, write docs/commands.md again:
//
//	ENROLLBATCH_UPDATE_DOCS=1 go test -run TestDocsCommands ./internal/cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

const (
	docsUpdateEnv   = "ENROLLBATCH_UPDATE_DOCS"
	commandsDocPath = "docs/commands.md"
	docsUpdateHint  = "ENROLLBATCH_UPDATE_DOCS=1 go test -run TestDocsCommands ./internal/cli"
)

// notOurFlags are the --flags the docs show in code that belong to other
// programs, or that are written wrong on purpose. Every other --flag in a
// code span or code block must be a flag of some enrollbatch command.
var notOurFlags = map[string]string{
	"--ignore-missing": "sha256sum, checking a release's checksums",
	"--build-arg":      "docker and podman build, for the container image",
	"--rm":             "docker run",
	"--clean":          "goreleaser release",
	"--pid":            "unshare, in the lock test's description",
	"--fork":           "unshare",
	"--mount-proc":     "unshare",
	"--inptu":          "the mistyped flag in the example of a mistake's message",
}

// globalFlags are taken by every command, or by enrollbatch itself, but are
// in no flag set.
var globalFlags = []string{"--help", "--version"}

// docFiles returns README.md and the manual's pages.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no pages in docs/")
	}
	sort.Strings(pages)
	return append([]string{"README.md"}, pages...)
}

// mdDoc is what the tests need of one Markdown file.
type mdDoc struct {
	path    string
	prose   string   // the text outside code blocks, code spans blanked
	code    []string // code spans, and the lines of code blocks
	anchors map[string]bool
}

var (
	fenceRE      = regexp.MustCompile("^ {0,3}(?:[-*] +| *)(```+|~~~+)")
	headingRE    = regexp.MustCompile(`^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$`)
	htmlAnchorRE = regexp.MustCompile(`<a\s+(?:id|name)="([^"]+)"`)
	inlineLinkRE = regexp.MustCompile(`\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	refLinkRE    = regexp.MustCompile(`(?m)^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)`)
	htmlSrcRE    = regexp.MustCompile(`<(?:img|a)\s[^>]*?(?:src|href)="([^"]+)"`)
	schemeRE     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	htmlTagRE    = regexp.MustCompile(`<[^>]+>`)
)

// parseMarkdown reads a Markdown file: its headings' anchors, its code and
// the prose that holds its links.
func parseMarkdown(path string) (*mdDoc, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	d := &mdDoc{path: path, anchors: map[string]bool{}}
	seen := map[string]int{}
	var prose strings.Builder
	fence := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if fence != "" {
			if m := fenceRE.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[1], fence) &&
				strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "`~")) == "" {
				fence = ""
			} else {
				d.code = append(d.code, line)
			}
			prose.WriteString("\n")
			continue
		}
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			fence = m[1]
			prose.WriteString("\n")
			continue
		}
		if m := headingRE.FindStringSubmatch(line); m != nil {
			slug := githubSlug(m[2])
			if n := seen[slug]; n > 0 {
				d.anchors[fmt.Sprintf("%s-%d", slug, n)] = true
			} else {
				d.anchors[slug] = true
			}
			seen[slug]++
		}
		for _, m := range htmlAnchorRE.FindAllStringSubmatch(line, -1) {
			d.anchors[m[1]] = true
		}
		prose.WriteString(line)
		prose.WriteString("\n")
	}
	d.prose, d.code = cutCodeSpans(prose.String(), d.code)
	return d, nil
}

// cutCodeSpans returns text with its code spans blanked, and the spans
// appended to code. A span may run over lines, as in Markdown.
func cutCodeSpans(text string, code []string) (string, []string) {
	var b strings.Builder
	for i := 0; i < len(text); {
		if text[i] != '`' {
			b.WriteByte(text[i])
			i++
			continue
		}
		n := 0
		for i+n < len(text) && text[i+n] == '`' {
			n++
		}
		// The span ends at the next run of exactly n backticks.
		end := -1
		for j := i + n; j < len(text); {
			if text[j] != '`' {
				j++
				continue
			}
			k := 0
			for j+k < len(text) && text[j+k] == '`' {
				k++
			}
			if k == n {
				end = j
				break
			}
			j += k
		}
		if end < 0 {
			b.WriteString(text[i : i+n])
			i += n
			continue
		}
		code = append(code, text[i+n:end])
		b.WriteString(strings.Repeat(" ", end+n-i))
		i = end + n
	}
	return b.String(), code
}

// githubSlug is the anchor GitHub gives a heading: its text as shown,
// lowercase, with punctuation dropped and each space turned into '-'.
func githubSlug(heading string) string {
	heading = inlineLinkRE.ReplaceAllString(heading, "$1")
	heading = htmlTagRE.ReplaceAllString(heading, "")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDocsLinks checks that every relative link in README.md and docs/*.md
// points to a file that exists and, where it names an #anchor, to a
// heading of that file.
func TestDocsLinks(t *testing.T) {
	t.Parallel()
	docs := map[string]*mdDoc{}
	load := func(path string) (*mdDoc, error) {
		path = filepath.Clean(path)
		if d, ok := docs[path]; ok {
			return d, nil
		}
		d, err := parseMarkdown(path)
		if err == nil {
			docs[path] = d
		}
		return d, err
	}
	checked := 0
	for _, path := range docFiles(t) {
		d, err := load(path)
		if err != nil {
			t.Fatal(err)
		}
		var targets []string
		for _, m := range inlineLinkRE.FindAllStringSubmatch(d.prose, -1) {
			targets = append(targets, m[2])
		}
		for _, re := range []*regexp.Regexp{refLinkRE, htmlSrcRE} {
			for _, m := range re.FindAllStringSubmatch(d.prose, -1) {
				targets = append(targets, m[1])
			}
		}
		for _, target := range targets {
			if target == "" || schemeRE.MatchString(target) || strings.HasPrefix(target, "//") {
				continue
			}
			checked++
			file, anchor, _ := strings.Cut(target, "#")
			dest := path
			if file != "" {
				dest = filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s: link %q: %s does not exist", path, target, dest)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(dest, ".md") {
				t.Errorf("%s: link %q: an anchor in a file that is not Markdown", path, target)
				continue
			}
			dd, err := load(dest)
			if err != nil {
				t.Errorf("%s: link %q: %v", path, target, err)
				continue
			}
			if !dd.anchors[anchor] {
				t.Errorf("%s: link %q: %s has no heading with the anchor #%s (it has %s)",
					path, target, dest, anchor, strings.Join(sortedKeys(dd.anchors), ", "))
			}
		}
	}
	if checked == 0 {
		t.Error("no relative links found; is the link pattern right?")
	}
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// commandHelp is what a command's --help says.
type commandHelp struct {
	name     string
	synopsis string     // "run [--input] FILE [flags]"
	text     []string   // lines of a help without flags
	flags    []helpFlag // in the order printed
}

// helpFlag is one flag as the help prints it, with the group it is under.
type helpFlag struct {
	group, name, typ, def, usage string
}

var (
	commandLineRE = regexp.MustCompile(`(?m)^  enrollbatch ([a-z][a-z-]*)`)
	flagLineRE    = regexp.MustCompile(`^  --([A-Za-z0-9][A-Za-z0-9-]*)(?: ([^\t]+?))?(?:\t(.*))?$`)
	groupLineRE   = regexp.MustCompile(`^([A-Z][A-Za-z -]*):$`)
	defaultRE     = regexp.MustCompile(` \(default (.*)\)$`)
)

// commandNames lists the commands the usage text names, in its order.
func commandNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, m := range commandLineRE.FindAllStringSubmatch(usage, -1) {
		if !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	if len(names) < 5 {
		t.Fatalf("found only %q in the usage text", names)
	}
	return names
}

// helpOf runs "enrollbatch NAME --help" in-process and parses what it prints.
func helpOf(t *testing.T, name string) commandHelp {
	t.Helper()
	var stdout, stderr bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
		Stdin: strings.NewReader(""), StdinTerminal: func() bool { return false }}
	if code := m.Execute(context.Background(), []string{name, "--help"}); code != 0 {
		t.Fatalf("%s --help: exit %d\n%s%s", name, code, stdout.String(), stderr.String())
	}
	h := commandHelp{name: name}
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	first, ok := strings.CutPrefix(lines[0], "Usage: enrollbatch ")
	if !ok {
		t.Fatalf("%s --help: first line %q is not \"Usage: enrollbatch ...\"", name, lines[0])
	}
	h.synopsis = strings.TrimSpace(first)
	rest := lines[1:]
	for len(rest) > 0 && strings.TrimSpace(rest[0]) == "" {
		rest = rest[1:]
	}
	group := ""
	for _, line := range rest {
		if cont, ok := strings.CutPrefix(line, "    \t"); ok && len(h.flags) > 0 {
			f := &h.flags[len(h.flags)-1]
			f.usage = strings.TrimSpace(f.usage + " " + cont)
			continue
		}
		if m := groupLineRE.FindStringSubmatch(line); m != nil {
			group = m[1]
			continue
		}
		if group == "" || group == "Examples" || strings.TrimSpace(line) == "" {
			continue // the examples, and a help without flags
		}
		m := flagLineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s --help: cannot read the line %q", name, line)
		}
		h.flags = append(h.flags, helpFlag{group: group, name: m[1], typ: m[2], usage: m[3]})
	}
	if len(h.flags) == 0 {
		h.text = rest
	}
	for i := range h.flags {
		f := &h.flags[i]
		if m := defaultRE.FindStringSubmatchIndex(f.usage); m != nil {
			f.def = f.usage[m[2]:m[3]]
			f.usage = f.usage[:m[0]]
		}
	}
	return h
}

// commandsDoc renders docs/commands.md from the commands' help.
func commandsDoc(helps []commandHelp) string {
	var b strings.Builder
	b.WriteString("# Command reference\n\n")
	b.WriteString("<!-- Generated from each command's --help by docs_test.go; do not edit.\n")
	b.WriteString("     After changing a flag: " + docsUpdateHint + " -->\n\n")
	b.WriteString("Every flag of every command, as `enrollbatch COMMAND --help` prints it.\n")
	b.WriteString("A flag takes one dash or two (`-out` is `--out`). What the flags do, with\n")
	b.WriteString("examples, is in the [manual](README.md).\n\n")
	for _, h := range helps {
		fmt.Fprintf(&b, "- [%s](#%s)\n", h.name, githubSlug(h.name))
	}
	for _, h := range helps {
		fmt.Fprintf(&b, "\n## %s\n\n```text\nenrollbatch %s\n```\n\n", h.name, h.synopsis)
		if len(h.flags) == 0 {
			for _, l := range h.text {
				if l = strings.TrimSpace(l); l != "" {
					b.WriteString(mdCell(l) + "\n")
				}
			}
			b.WriteString("\nNo flags.\n")
			continue
		}
		b.WriteString("| flag | value | default | meaning |\n|---|---|---|---|\n")
		group := ""
		for _, f := range h.flags {
			if f.group != group {
				group = f.group
				fmt.Fprintf(&b, "| **%s** | | | |\n", mdCell(group))
			}
			fmt.Fprintf(&b, "| `--%s` | %s | %s | %s |\n", f.name, mdCell(f.typ), mdDefault(f.def), mdCell(f.usage))
		}
	}
	return b.String()
}

// mdCell makes text safe in a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(s)
}

// mdDefault shows a default value: quoted strings and single words as code.
func mdDefault(s string) string {
	if u, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		if u == "" {
			return ""
		}
		return "`" + u + "`"
	}
	if s != "" && !strings.ContainsAny(s, " `|") {
		return "`" + s + "`"
	}
	return mdCell(s)
}

func allHelp(t *testing.T) []commandHelp {
	t.Helper()
	var helps []commandHelp
	for _, name := range commandNames(t) {
		helps = append(helps, helpOf(t, name))
	}
	return helps
}

// TestDocsCommands checks that docs/commands.md is what the commands'
// --help prints. With ENROLLBATCH_UPDATE_DOCS=1 it writes the file instead.
func TestDocsCommands(t *testing.T) {
	for _, want := range []string{"run", "validate", "qr", "template", "revoke", "export", "delete", "sim", "doctor", "version"} {
		if !slices.Contains(commandNames(t), want) {
			t.Errorf("the usage text does not name the command %q", want)
		}
	}
	want := commandsDoc(allHelp(t))
	if os.Getenv(docsUpdateEnv) == "1" {
		if err := os.WriteFile(commandsDocPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", commandsDocPath)
		return
	}
	got, err := os.ReadFile(commandsDocPath)
	if err != nil {
		t.Fatalf("%v: write it with %s", err, docsUpdateHint)
	}
	if string(got) == want {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(want, "\n")
	i := 0
	for i < len(gl) && i < len(wl) && gl[i] == wl[i] {
		i++
	}
	line := func(ls []string) string {
		if i < len(ls) {
			return ls[i]
		}
		return "(end of file)"
	}
	t.Errorf("%s is not what the commands' --help prints; run\n\t%s\nto write it again.\nline %d is\n\t%s\nand should be\n\t%s",
		commandsDocPath, docsUpdateHint, i+1, line(gl), line(wl))
}

var (
	codeFlagRE   = regexp.MustCompile(`(?:^|[\s\[(,'"=])(--[a-zA-Z][a-zA-Z0-9-]*)`)
	codeInvokeRE = regexp.MustCompile(`(?:\benrollbatch(?:\.exe)?'?|\bgo run \.)[ \t]+([a-z][a-z-]*)\b`)
	segmentEndRE = regexp.MustCompile(`&&|\|\||;|(?:^|[^\\])\||\s#`)
)

// TestDocsFlags checks that every --flag README.md and docs/*.md show in a
// code span or code block is a flag of some command, and where the code
// names the command ("enrollbatch run --input ..."), a flag of that one.
// The flags of other programs are listed in notOurFlags.
func TestDocsFlags(t *testing.T) {
	t.Parallel()
	byCommand := map[string]map[string]bool{}
	known := map[string]bool{}
	for _, f := range globalFlags {
		known[f] = true
	}
	for _, h := range allHelp(t) {
		byCommand[h.name] = map[string]bool{}
		for _, f := range h.flags {
			byCommand[h.name]["--"+f.name] = true
			known["--"+f.name] = true
		}
	}
	for _, path := range docFiles(t) {
		d, err := parseMarkdown(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range d.code {
			for _, m := range codeFlagRE.FindAllStringSubmatch(code, -1) {
				if f := m[1]; !known[f] && notOurFlags[f] == "" {
					t.Errorf("%s: %s in %q is no flag of any command", path, f, strings.TrimSpace(code))
				}
			}
			for _, line := range strings.Split(code, "\n") {
				for _, loc := range codeInvokeRE.FindAllStringSubmatchIndex(line, -1) {
					cmd := line[loc[2]:loc[3]]
					flags, ok := byCommand[cmd]
					if !ok {
						continue
					}
					seg := line[loc[1]:]
					if e := segmentEndRE.FindStringIndex(seg); e != nil {
						seg = seg[:e[0]]
					}
					for _, m := range codeFlagRE.FindAllStringSubmatch(seg, -1) {
						if f := m[1]; !flags[f] && !slices.Contains(globalFlags, f) && notOurFlags[f] == "" {
							t.Errorf("%s: %s is no flag of %s, in %q", path, f, cmd, strings.TrimSpace(line))
						}
					}
				}
			}
		}
	}
}
