package cliflag

import (
	"errors"
	"flag"
	"reflect"
	"testing"
	"time"
)

type parsed struct {
	input    string
	adaptive bool
	rate     float64
	timeout  time.Duration
}

func newSet(p *parsed) *flag.FlagSet {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&p.input, "input", "", "profile definitions")
	fs.StringVar(&p.input, "in", "", "short form") // a short name, to test the tighter limit
	fs.BoolVar(&p.adaptive, "adaptive", true, "adapt the rate")
	fs.Float64Var(&p.rate, "rate", 4, "requests per second")
	fs.DurationVar(&p.timeout, "request-timeout", time.Second, "time limit")
	return fs
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantPos  []string
		want     parsed
		wantErr  string // the *Error's text
		wantHelp bool
	}{
		{name: "flags only", args: []string{"--input", "p.csv", "--rate=2"},
			want: parsed{input: "p.csv", adaptive: true, rate: 2, timeout: time.Second}},
		{name: "file first, flags after", args: []string{"p.xlsx", "--adaptive=false", "-rate", "0"},
			wantPos: []string{"p.xlsx"}, want: parsed{rate: 0, timeout: time.Second}},
		{name: "double dash ends flags", args: []string{"--rate", "1", "--", "--input"},
			wantPos: []string{"--input"}, want: parsed{adaptive: true, rate: 1, timeout: time.Second}},
		{name: "typo named as typed", args: []string{"--inptu", "p.csv"},
			wantErr: "--inptu: unknown flag; did you mean --input?"},
		{name: "typo with value", args: []string{"--rat=3"},
			wantErr: "--rat: unknown flag; did you mean --rate?"},
		{name: "no suggestion", args: []string{"--colour"},
			wantErr: "--colour: unknown flag (see --help for the flags)"},
		{name: "prefix suggests", args: []string{"--request"},
			wantErr: "--request: unknown flag; did you mean --request-timeout?"},
		{name: "bool with separate value", args: []string{"--adaptive", "false"},
			wantErr: `--adaptive false: a true/false flag takes its value after "=": use --adaptive=false`},
		{name: "missing value", args: []string{"--input"},
			wantErr: "--input: needs a value (profile definitions)"},
		{name: "bad value named with two dashes", args: []string{"--rate", "fast"},
			wantErr: `--rate: invalid value "fast": parse error`},
		{name: "help", args: []string{"--rate", "1", "--help"}, wantHelp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p parsed
			pos, err := Parse(newSet(&p), tt.args)
			if tt.wantHelp {
				if !errors.Is(err, ErrHelp) {
					t.Fatalf("err = %v, want ErrHelp", err)
				}
				return
			}
			if tt.wantErr != "" {
				var e *Error
				if !errors.As(err, &e) || e.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tt.wantPos) {
				t.Errorf("positional %q, want %q", pos, tt.wantPos)
			}
			if p != tt.want {
				t.Errorf("parsed %+v, want %+v", p, tt.want)
			}
		})
	}
}

func TestChoice(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"A4", "a4", true}, {" Letter ", "letter", true}, {"a5", "a5", false},
	} {
		got, ok := Choice(tt.in, "a4", "letter")
		if got != tt.want || ok != tt.ok {
			t.Errorf("Choice(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
