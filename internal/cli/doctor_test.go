package cli

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/profile"
)

// fakeJWT makes an unsigned token with the given claims: doctor reads the
// claims, the simulator accepts any bearer token.
func fakeJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2ln"
}

// doctorReport is the JSON report, as far as the tests read it.
type doctorReport struct {
	Ready, AuthFailed bool
	Identity          struct{ Kind, AppID, AppName, User, TenantID string }
	Permission        struct{ HasReadWrite *bool }
	List              struct {
		OK       bool
		Profiles int
	}
	ReadBack struct {
		Tried, OK   bool
		DisplayName string
		ContentForm string
		QRCodeImage bool
	}
	Checks []struct{ Name, Result, Detail string }
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	app := fakeJWT(map[string]any{"appid": "1b730954-1685-4b74-9bfd-dac224a7b894", "app_displayname": "Contoso Enroll",
		"tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "idtyp": "app", "roles": []string{"DeviceManagementConfiguration.ReadWrite.All"}})
	user := fakeJWT(map[string]any{"appid": "14d82eec-204b-4c2f-b7e8-296a70dab67e", "upn": "admin@contoso.example",
		"tid": "72f988bf-86f1-41af-91ab-2d7cd011db47", "scp": "openid DeviceManagementConfiguration.ReadWrite.All profile"})
	readOnly := fakeJWT(map[string]any{"appid": "1b730954-1685-4b74-9bfd-dac224a7b894", "idtyp": "app", "roles": []string{"DeviceManagementConfiguration.Read.All"}})
	aosp := profile.Profile{DisplayName: "Glasses 1", EnrollmentMode: "corporateOwnedAOSPUserlessDevice"}
	kiosk := profile.Profile{DisplayName: "Kiosk 1", EnrollmentMode: "corporateOwnedDedicatedDevice"}

	tests := []struct {
		name     string
		opts     sim.Options
		seed     []profile.Profile
		fault    *sim.Fault
		token    string
		code     int
		kind     string
		form     string
		inStdout []string
		inStderr []string
	}{
		{name: "ready app, json content", seed: []profile.Profile{kiosk}, token: app, code: 0, kind: "app", form: "json",
			inStdout: []string{`"Contoso Enroll"`, "72f988bf-86f1-41af-91ab-2d7cd011db47", "provisioning JSON", "roles): DeviceManagementConfiguration.ReadWrite.All", "ready:"}},
		{name: "ready user, base64 tenant", opts: sim.Options{Content: sim.ContentBase64}, seed: []profile.Profile{aosp}, token: user, code: 0, kind: "user", form: "base64",
			inStdout: []string{"user admin@contoso.example", "base64 of the provisioning JSON", "scp): openid, DeviceManagementConfiguration.ReadWrite.All"}},
		{name: "ready, empty tenant, opaque token", token: "opaque", code: 0, kind: "unknown",
			inStdout: []string{"no profile yet", "not a JWT"}},
		{name: "forbidden", opts: sim.Options{Authorize: func(string) int { return http.StatusForbidden }}, seed: []profile.Profile{kiosk}, token: app, code: 3, kind: "app",
			inStdout: []string{"list        fail", "not ready", "DeviceManagementConfiguration.ReadWrite.All"}, inStderr: []string{"DeviceManagementConfiguration.ReadWrite.All"}},
		{name: "token without the permission", seed: []profile.Profile{kiosk}, token: readOnly, code: 3, kind: "app", form: "json",
			inStdout: []string{"permission  fail", "DeviceManagementConfiguration.Read.All"}, inStderr: []string{"DeviceManagementConfiguration.ReadWrite.All"}},
		{name: "listing fails otherwise", fault: &sim.Fault{Op: sim.OpList, Status: http.StatusInternalServerError, Count: -1}, token: app, code: 1, kind: "app",
			inStdout: []string{"list        fail", "500", "not ready"}, inStderr: []string{"list failed"}},
		{name: "reading back fails", seed: []profile.Profile{kiosk}, fault: &sim.Fault{Op: sim.OpGet, Status: http.StatusBadGateway, Count: -1}, token: app, code: 1, kind: "app",
			inStdout: []string{"read back   fail", "502"}, inStderr: []string{"read back failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, url := simServer(t, tt.opts)
			s.SeedProfiles(tt.seed...)
			if tt.fault != nil {
				s.Inject(*tt.fault)
			}
			env := []string{"GRAPH_ACCESS_TOKEN=" + tt.token}
			code, stdout, stderr := run(t, env, "doctor", "--graph-url", url, "--max-retries", "0")
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, w := range tt.inStdout {
				if !strings.Contains(stdout, w) {
					t.Errorf("report lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.inStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			code2, js, _ := run(t, env, "doctor", "--graph-url", url, "--max-retries", "0", "--log-format", "json")
			var rep doctorReport
			if err := json.Unmarshal([]byte(js), &rep); err != nil || strings.Count(strings.TrimSpace(js), "\n") != 0 {
				t.Fatalf("--log-format json is not one JSON object: %v\n%s", err, js)
			}
			if code2 != tt.code || rep.Ready != (tt.code == 0) || rep.AuthFailed != (tt.code == 3) || rep.Identity.Kind != tt.kind || rep.ReadBack.ContentForm != tt.form {
				t.Errorf("json: exit %d ready %v authFailed %v kind %q form %q; want exit %d kind %q form %q\n%s",
					code2, rep.Ready, rep.AuthFailed, rep.Identity.Kind, rep.ReadBack.ContentForm, tt.code, tt.kind, tt.form, js)
			}
			if len(rep.Checks) != 6 {
				t.Errorf("%d checks in the JSON report, want 6", len(rep.Checks))
			}
			if st := s.Stats(); st.Requests != st.Lists+st.Gets || st.Posts != 0 || st.Deletes != 0 {
				t.Errorf("doctor sent something other than GETs: %+v", st)
			}
		})
	}
}

// TestDoctorSimulateAndSimCommand runs doctor with --simulate, and against
// enrollbatch sim served by the binary, plain and with --forbidden.
func TestDoctorSimulateAndSimCommand(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run(t, nil, "doctor", "--simulate")
	if code != 0 || !strings.Contains(stdout, "ready:") || !strings.Contains(stdout, "simulator") {
		t.Fatalf("doctor --simulate: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--existing", "1"}, 0, `"Existing 1"`},
		{[]string{"--forbidden"}, 3, "DeviceManagementConfiguration.ReadWrite.All"},
		{[]string{"--existing", "1", "--existing-mode", "corporateOwnedAOSPUserlessDevice", "--content", "base64"}, 0, "base64 of the provisioning JSON"},
	} {
		url, stop := serveSim(t, tt.args...)
		code, stdout, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "doctor", "--graph-url", url)
		stop()
		if code != tt.code || !strings.Contains(stdout, tt.want) {
			t.Errorf("doctor against sim %v: exit %d, want %d with %q\n%s%s", tt.args, code, tt.code, tt.want, stdout, stderr)
		}
	}
}

// serveSim starts enrollbatch sim on a free loopback port and returns its
// Graph URL and a func that stops it.
func serveSim(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	url := ""
	for sc.Scan() {
		if _, rest, ok := strings.Cut(sc.Text(), "Graph simulator on "); ok {
			url, _, _ = strings.Cut(rest, ";")
			break
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		cmd.Process.Kill()
		t.Fatalf("no address announced (got %q)", url)
	}
	go io.Copy(io.Discard, stderr)
	return url, func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}
}
