package safetext

import (
	"strings"
	"testing"
	"unicode"
)

func TestClean(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"plain", "Invalid property 'wifiSsid'", "Invalid property 'wifiSsid'"},
		{"keeps line feed and tab", "a\nb\tc", "a\nb\tc"},
		{"title change with BEL", "x\x1b]0;pwned\x07y", "xy"},
		{"title change with ST", "x\x1b]2;pwned\x1b\\y", "xy"},
		{"clear screen", "\x1b[2Jreal", "real"},
		{"colour", "\x1b[1;31mred\x1b[0m", "red"},
		{"bell and backspace", "ding\a\b\b\b\bdone", "dingdone"},
		{"carriage return overwrite", "ok\rFAIL", "okFAIL"},
		{"8-bit CSI", "a\u009b2Jb", "ab"},
		{"8-bit OSC", "a\u009d0;t\u009cb", "ab"},
		{"other C1", "a\u0085b", "ab"},
		{"DEL and NUL", "a\x7f\x00b", "ab"},
		{"charset designation", "a\x1b(Bb", "ab"},
		{"lone ESC at the end", "abc\x1b", "abc"},
		{"unterminated OSC", "a\x1b]0;never ends", "a"},
		{"OSC cut by a new sequence", "a\x1b]0;t\x1b[2Jb", "ab"},
		{"bidi override", "Site \u202egnp.exe", "Site gnp.exe"},
		{"bidi isolates", "\u2066x\u2069", "x"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"non-Latin text stays", "東京 倉庫 — Hà Nội", "東京 倉庫 — Hà Nội"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Clean(c.in); got != c.want {
				t.Errorf("Clean(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	secrets := []string{"hunter2-wifi", `p"a\ss<&>`, ""}
	cases := []struct{ name, in, want string }{
		{"none", "nothing secret", "nothing secret"},
		{"plain echo", "wifiPassword hunter2-wifi is too short", "wifiPassword [redacted] is too short"},
		{"twice", "hunter2-wifi/hunter2-wifi", "[redacted]/[redacted]"},
		{"JSON escaped", `{"wifiPassword":"p\"a\\ss<&>"}`, `{"wifiPassword":"[redacted]"}`},
		{"JSON escaped with HTML escapes", `{"wifiPassword":"p\"a\\ss\u003c\u0026\u003e"}`, `{"wifiPassword":"[redacted]"}`},
		{"escaped twice", `{"Message":"{\"wifiPassword\":\"p\\\"a\\\\ss<&>\"}"}`, `{"Message":"{\"wifiPassword\":\"[redacted]\"}"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Redact(c.in, secrets); got != c.want {
				t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]0;t\x07", "\x1b[2J", "\u009b1m", "a\u202eb", "\xff\xfe", "\x1b", "\x1b]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		for _, r := range got {
			if r != '\n' && r != '\t' && (unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, got, r)
			}
		}
		if Clean(got) != got {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
		if !strings.Contains(s, "\x1b") && !strings.ContainsAny(s, "\u0090\u0098\u009b\u009d\u009e\u009f") && len(got) > len(s)*3 {
			t.Fatalf("Clean grew %q to %q", s, got)
		}
	})
}
