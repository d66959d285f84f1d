// Package cliflag parses a command's arguments with the standard flag
// package, the way people type them: flags and the input file in any order,
// mistakes named as typed with a suggestion ("--inptu: did you mean
// --input?"), and the usual slip of a boolean flag given a separate value
// ("--adaptive false") explained instead of silently taken as a file name.
package cliflag

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/enrollbatch/enrollbatch/suggest"
)

// Error is a mistake in the arguments. Its text names the argument as the
// person typed it.
type Error struct {
	Arg string // the argument as typed, e.g. "--inptu"
	Msg string // what is wrong and what to do
}

func (e *Error) Error() string { return e.Arg + ": " + e.Msg }

// ErrHelp is returned when -h, -help or --help was given.
var ErrHelp = flag.ErrHelp

// boolFlag is how the flag package tells boolean flags apart.
type boolFlag interface{ IsBoolFlag() bool }

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(boolFlag)
	return ok && b.IsBoolFlag()
}

// Parse parses args into fs and returns the arguments that are not flags,
// in order. Flags may come before, between or after them; "--" ends the
// flags. Unknown flags, a missing value and a boolean flag followed by a
// separate true/false are reported as an *Error naming the argument as
// typed.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			return nil, ErrHelp
		}
		f := fs.Lookup(name)
		if f == nil || strings.HasPrefix(a, "---") {
			return nil, &Error{Arg: typedName(a), Msg: unknownMsg(fs, name)}
		}
		flags = append(flags, a)
		switch {
		case isBool(f):
			if !hasValue && i+1 < len(args) && isBoolWord(args[i+1]) {
				return nil, &Error{Arg: a + " " + args[i+1],
					Msg: fmt.Sprintf("a true/false flag takes its value after \"=\": use --%s=%s", name, strings.ToLower(args[i+1]))}
			}
		case !hasValue:
			if i+1 >= len(args) {
				return nil, &Error{Arg: a, Msg: "needs a value (" + usageOf(f) + ")"}
			}
			i++
			flags = append(flags, args[i])
		default:
			_ = value
		}
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrHelp
		}
		return nil, rephrase(err)
	}
	return positional, nil
}

// typedName is the flag part of an argument as typed: "--inptu=x" → "--inptu".
func typedName(a string) string {
	name, _, _ := strings.Cut(a, "=")
	return name
}

func isBoolWord(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off":
		return true
	}
	return false
}

func usageOf(f *flag.Flag) string {
	u := f.Usage
	if u == "" {
		return "see --help"
	}
	return u
}

// unknownMsg says a flag is not known, with the closest known names.
func unknownMsg(fs *flag.FlagSet, name string) string {
	if s := Suggest(fs, name); len(s) > 0 {
		return "unknown flag; did you mean --" + strings.Join(s, " or --") + "?"
	}
	return "unknown flag (see --help for the flags)"
}

// Suggest returns the names of fs's flags that are close to name: at most
// two edits away, or that start with it. Closest first.
func Suggest(fs *flag.FlagSet, name string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	lname := strings.ToLower(name)
	fs.VisitAll(func(f *flag.Flag) {
		d := suggest.Distance(lname, f.Name)
		limit := 2
		if len(f.Name) <= 4 {
			limit = 1
		}
		switch {
		case d <= limit:
			cs = append(cs, cand{f.Name, d})
		case len(lname) >= 3 && strings.HasPrefix(f.Name, lname):
			cs = append(cs, cand{f.Name, limit + 1})
		}
	})
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].name < cs[j].name
	})
	var out []string
	for i, c := range cs {
		if i == 2 {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// rephrase turns the flag package's messages, which spell every flag with
// one dash, into ones that name the flag as people type it.
func rephrase(err error) error {
	msg := err.Error()
	// invalid value "x" for flag -name: reason
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			val := rest[:i]
			tail := rest[i+len(" for flag -"):]
			name, reason, _ := strings.Cut(tail, ": ")
			return &Error{Arg: "--" + name, Msg: "invalid value " + val + ": " + reason}
		}
	}
	if rest, ok := strings.CutPrefix(msg, "invalid boolean value "); ok {
		if i := strings.Index(rest, " for -"); i >= 0 {
			val := rest[:i]
			name, reason, _ := strings.Cut(rest[i+len(" for -"):], ": ")
			return &Error{Arg: "--" + name, Msg: "invalid value " + val + " (use true or false): " + reason}
		}
	}
	return err
}

// Choice returns the member of choices that s names, ignoring case and
// surrounding space, and whether there is one.
func Choice(s string, choices ...string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, c := range choices {
		if strings.EqualFold(s, c) {
			return c, true
		}
	}
	return s, false
}

// OneOf is a flag value that is one of a fixed set of words, as people
// type them (A4, JSON, Skip): Set takes any case and surrounding space and
// keeps the word as the set spells it, and refuses anything else with the
// words to use and, for a near miss, the one meant.
type OneOf struct {
	p       *string
	choices []string
}

// ChoiceVar defines a flag that takes one of choices, with value as its
// default, stored in p.
func ChoiceVar(fs *flag.FlagSet, p *string, name, value, usage string, choices ...string) {
	*p = value
	fs.Var(&OneOf{p: p, choices: choices}, name, usage)
}

func (o *OneOf) String() string {
	if o == nil || o.p == nil {
		return ""
	}
	return *o.p
}

// Set takes s when it names one of the choices.
func (o *OneOf) Set(s string) error {
	c, ok := Choice(s, o.choices...)
	if !ok {
		return errors.New(o.Use(s))
	}
	*o.p = c
	return nil
}

// Use is the sentence that says which words to use instead of s.
func (o *OneOf) Use(s string) string {
	use := "use " + orList(o.choices)
	best, bestD := "", 3
	for _, c := range o.choices {
		if d := suggest.Distance(strings.ToLower(strings.TrimSpace(s)), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best != "" {
		return use + "; did you mean " + best + "?"
	}
	return use
}

// orList words a list as "a, b or c".
func orList(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// Group is a titled set of flags in a command's help.
type Group struct {
	Title string
	Flags []string
}

// Usage prints a command's help: its synopsis, examples, and its flags by
// group in the order groups give (flags in no group come last, under
// "Other"), each spelled with two dashes as people type them.
func Usage(w io.Writer, fs *flag.FlagSet, synopsis string, examples []string, groups []Group) {
	fmt.Fprintf(w, "Usage: enrollbatch %s\n", synopsis)
	if len(examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, e := range examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	placed := map[string]bool{}
	printGroup := func(title string, names []string) {
		var fl []*flag.Flag
		for _, n := range names {
			if f := fs.Lookup(n); f != nil && !placed[n] {
				fl = append(fl, f)
				placed[n] = true
			}
		}
		if len(fl) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s:\n", title)
		for _, f := range fl {
			printFlag(w, f)
		}
	}
	for _, g := range groups {
		printGroup(g.Title, g.Flags)
	}
	var rest []string
	fs.VisitAll(func(f *flag.Flag) {
		if !placed[f.Name] {
			rest = append(rest, f.Name)
		}
	})
	printGroup("Other", rest)
}

// printFlag prints one flag as flag.PrintDefaults does, with two dashes.
func printFlag(w io.Writer, f *flag.Flag) {
	name, usage := flag.UnquoteUsage(f)
	line := "  --" + f.Name
	if name != "" {
		line += " " + name
	}
	line += "\n    \t" + strings.ReplaceAll(usage, "\n", "\n    \t")
	switch d := f.DefValue; {
	case d == "" || d == "false" || d == "0" || d == "0s":
	case name == "string":
		line += fmt.Sprintf(" (default %q)", d)
	default:
		line += fmt.Sprintf(" (default %s)", d)
	}
	fmt.Fprintln(w, line)
}
