package cli

import (
	"archive/zip"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/graph/sim"
)

func TestPlainHTTPGraphURLIsRefused(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url  string
		want int
	}{
		{"http://graph.microsoft.com/beta", 2},
		{"http://10.1.2.3:8080/beta", 2},
		{"ftp://graph.microsoft.com/beta", 2},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", c.url, "--input", "samples/profiles.csv", "--out", t.TempDir())
			if code != c.want || !strings.Contains(stderr, "use https") && !strings.Contains(stderr, "use an https URL") {
				t.Fatalf("exit %d, want %d saying to use https:\n%s", code, c.want, stderr)
			}
		})
	}
}

// zipText returns the text of every part of an xlsx file.
func zipText(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var b strings.Builder
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		b.Write(data)
	}
	return b.String()
}

// TestEchoedSecretsAndEscapesReachNoOutput runs the binary against a
// service that refuses every create with a message repeating the request
// body, terminal escapes included, and checks what a person and the files
// get.
func TestEchoedSecretsAndEscapesReachNoOutput(t *testing.T) {
	t.Parallel()
	const secret = `Wifi"Pa<ss>w0rd-1`
	s := sim.New(sim.Options{OmitImage: true})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			s.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		inner, _ := json.Marshal(map[string]any{"_version": 3, "Message": "Invalid body: " + string(body) + " \x1b]0;owned\x07\x1b[2J\u202e"})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("request-id", "req\u009b2J-1")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "BadRequest\x1b[31m", "message": string(inner)}})
	}))
	t.Cleanup(hs.Close)
	in := filepath.Join(t.TempDir(), "wifi.csv")
	csv := "displayName,enrollmentMode,configureWifi,wifiSsid,wifiSecurityType,wifiPassword\n" +
		`Kiosk 1,corporateOwnedAOSPUserlessDevice,true,Shop,wpa,"Wifi""Pa<ss>w0rd-1"` + "\n"
	if err := os.WriteFile(in, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			code, stdout, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", hs.URL+"/beta", "--input", in, "--out", out,
				"--rate", "0", "--results-csv", "--log-format", format, "--verbose")
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, stderr)
			}
			csvText, err := os.ReadFile(filepath.Join(out, "results.csv"))
			if err != nil {
				t.Fatal(err)
			}
			outputs := map[string]string{"stdout": stdout, "stderr": stderr, "results.csv": string(csvText), "results.xlsx": zipText(t, filepath.Join(out, "results.xlsx"))}
			for name, text := range outputs {
				for _, bad := range []string{"Pa<ss>", "Pa&lt;ss&gt;", `Pa\u003css`, "\x1b", "\a", "\u009b", "\u202e", "_x001B_", "_x0007_"} {
					if strings.Contains(text, bad) {
						t.Errorf("%s holds %q", name, bad)
					}
				}
			}
			if !strings.Contains(string(csvText), "[redacted]") || !strings.Contains(string(csvText), "Invalid body") {
				t.Errorf("results.csv does not keep the redacted message:\n%s", csvText)
			}
		})
	}
	_ = secret
}

func TestWrongGraphURLSaysWhatAnswered(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<!DOCTYPE html><html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>")
	}))
	t.Cleanup(hs.Close)
	code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--graph-url", hs.URL+"/v1.0", "--input", "samples/profiles.csv", "--out", t.TempDir(), "--rate", "0")
	want := "HTTP 404 from " + strings.TrimPrefix(hs.URL, "http://") + ": is this the Graph URL"
	if code != 1 || !strings.Contains(stderr, want) || strings.Contains(stderr, "<") {
		t.Fatalf("exit %d, want 1 saying %q without the page:\n%s", code, want, stderr)
	}
}

// failingAuthority is a TLS server that answers like Microsoft Entra ID's
// discovery documents but fails every token request with status and body.
func failingAuthority(t *testing.T, status int, body map[string]any) (url, ca string) {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/v2.0/.well-known/openid-configuration"):
			base := srv.URL + "/contoso"
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": base + "/v2.0", "token_endpoint": base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
			})
		case strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token"):
			w.WriteHeader(status)
			json.NewEncoder(w).Encode(body)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	ca = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL + "/", ca
}

func TestSignInFailuresThatAreNotRefusals(t *testing.T) {
	t.Parallel()
	_, graphURL := simServer(t, sim.Options{OmitImage: true})
	failing, ca := failingAuthority(t, http.StatusInternalServerError, map[string]any{
		"error": "server_error", "error_description": "AADSTS50000: There was an error issuing a token.\r\nTrace ID: 1\r\nCorrelation ID: 2\x1b]0;t\x07",
		"error_codes": []int{50000},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String() + "/"
	ln.Close() // nothing listens there any more: connection refused
	cases := []struct {
		name, authority string
		within          time.Duration
		says            []string
	}{
		{"500 from the authority", failing, 30 * time.Second, []string{"the sign-in authority answered HTTP 500", "AADSTS50000", "try again later"}},
		{"connection refused", closed, 5 * time.Second, []string{"cannot reach the sign-in authority", "connection refused"}},
		{"name does not resolve", "https://authority.invalid/", 10 * time.Second, []string{"cannot reach the sign-in authority", "does not resolve"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := []string{"SSL_CERT_FILE=" + ca, "AZURE_TENANT_ID=contoso", "AZURE_CLIENT_ID=00000000-0000-0000-0000-00000000abcd",
				"AZURE_CLIENT_SECRET=the-secret", "AZURE_AUTHORITY_HOST=" + c.authority}
			out := t.TempDir()
			began := time.Now()
			code, _, stderr := run(t, env, "run", "--graph-url", graphURL, "--input", "samples/profiles.csv", "--out", out, "--rate", "0")
			took := time.Since(began)
			if code != 1 || strings.Contains(stderr, "aborted") {
				t.Fatalf("exit %d, want 1 and not aborted:\n%s", code, stderr)
			}
			for _, s := range c.says {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr)
				}
			}
			if strings.Contains(stderr, "\x1b") || strings.Contains(stderr, "Trace ID") || strings.Contains(stderr, "the-secret") {
				t.Errorf("stderr holds escapes, trace ids or the secret:\n%q", stderr)
			}
			if took > c.within {
				t.Errorf("took %v, want under %v", took, c.within)
			}
			if rs := readResults(t, filepath.Join(out, "results.xlsx")); statuses(rs)["not_attempted"] != len(rs) {
				t.Errorf("statuses %v, want every row not_attempted", statuses(rs))
			}
		})
	}
}
