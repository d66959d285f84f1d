package cli

import (
	"bufio"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/enrollbatch/enrollbatch/auth"
	"github.com/enrollbatch/enrollbatch/graph/sim"
	"github.com/enrollbatch/enrollbatch/lock"
	"github.com/enrollbatch/enrollbatch/output"
	"github.com/enrollbatch/enrollbatch/profile"
	"github.com/enrollbatch/enrollbatch/results"
)

// The three customers of the tests: two that consented to the app, one
// that never did.
const (
	contoso   = "contoso.onmicrosoft.com"
	fabrikam  = "fabrikam.onmicrosoft.com"
	northwind = "northwind.onmicrosoft.com"
	tailspin  = "tailspin.onmicrosoft.com"
)

// tenantSheet writes a sheet whose rows go to tenants: rows[tenant] are
// the names, in order; the rows of the tenants alternate, so that no
// tenant's rows are next to each other. It returns the path and, for each
// tenant, the line of each of its rows.
func tenantSheet(t *testing.T, rows map[string][]string) (string, map[string][]int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("displayName,tenant,Site\n")
	lines := map[string][]int{}
	var tenants []string
	for tn := range rows {
		tenants = append(tenants, tn)
	}
	sort.Strings(tenants)
	line := 1
	for i := 0; ; i++ {
		wrote := false
		for _, tn := range tenants {
			if i < len(rows[tn]) {
				line++
				fmt.Fprintf(&b, "%s,%s,Site of %s\n", rows[tn][i], strings.ToUpper(tn[:1])+tn[1:], tn)
				lines[tn] = append(lines[tn], line)
				wrote = true
			}
		}
		if !wrote {
			break
		}
	}
	p := filepath.Join(t.TempDir(), "fleet.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, lines
}

// writeTenants writes a --sim-tenants file.
func writeTenants(t *testing.T, specs ...sim.TenantSpec) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"tenants": specs})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "tenants.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// keptNames are the names of the profiles a simulated tenant's folder
// keeps between runs: what the run created in that tenant.
func keptNames(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, simTenantFile))
	if err != nil {
		t.Fatal(err)
	}
	var ps []profile.Profile
	if err := json.Unmarshal(b, &ps); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.DisplayName)
	}
	sort.Strings(names)
	return names
}

// A sheet over three tenants: each tenant gets exactly its rows, its
// results and its sheet, named in its header; the tenant that never
// consented fails alone, its rows saying where to consent; the summary
// holds one row per tenant, and every JSON event of a tenant names it.
func TestTenantsEachGetTheirRows(t *testing.T) {
	t.Parallel()
	rows := map[string][]string{
		contoso:   {"Till 1", "Till 2", "Scanner 1"},
		fabrikam:  {"Till 1", "Kiosk 1"}, // a name of Contoso's too: names are per tenant
		northwind: {"Till 9"},
		tailspin:  {"Till 1"},
	}
	in, lines := tenantSheet(t, rows)
	simTenants := writeTenants(t,
		sim.TenantSpec{Domain: contoso, Organization: "Contoso"},
		sim.TenantSpec{Domain: fabrikam, Organization: "Fabrikam"},
		sim.TenantSpec{Domain: northwind, Organization: "Northwind Traders", NotConsented: true},
		sim.TenantSpec{Domain: tailspin, Granted: []string{}}) // consented without the Intune permission: 403
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, nil, "run", "--input", in, "--simulate", "--sim-tenants", simTenants, "--out", out, "--log-format", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a tenant failed)\n%s", code, stderr)
	}
	for tn, names := range rows {
		dir := filepath.Join(out, tn)
		rs := readResults(t, filepath.Join(dir, output.ResultsFile))
		var got []int
		for _, r := range rs {
			got = append(got, r.Row)
			want := results.Created
			if tn == northwind || tn == tailspin {
				want = results.Failed
				if !strings.Contains(r.ErrorMessage, tn) || !strings.Contains(r.ErrorMessage, "/"+tn+"/adminconsent?client_id=") {
					t.Errorf("%s row %d: %q does not name the tenant and its consent page", tn, r.Row, r.ErrorMessage)
				}
			}
			if tn == tailspin && !strings.Contains(r.ErrorMessage, "refused access") {
				t.Errorf("%s row %d: %q does not say the tenant refused access", tn, r.Row, r.ErrorMessage)
			}
			if r.Status != want {
				t.Errorf("%s row %d: %s (%s); want %s", tn, r.Row, r.Status, r.ErrorMessage, want)
			}
		}
		if !slices.Equal(got, lines[tn]) {
			t.Errorf("%s's results hold rows %v; want its rows %v", tn, got, lines[tn])
		}
		if tn == northwind || tn == tailspin {
			if _, err := os.Stat(filepath.Join(dir, output.SheetFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s has a QR sheet: %v", tn, err)
			}
			continue
		}
		want := slices.Clone(names)
		sort.Strings(want)
		if got := keptNames(t, dir); !slices.Equal(got, want) {
			t.Errorf("tenant %s holds %q; want exactly its rows %q", tn, got, want)
		}
		for _, f := range []string{output.ResultsFile, output.SheetFile} {
			if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s/%s: %v, mode %v; want 0600", tn, f, err, fi.Mode().Perm())
			}
		}
		if text, err := tool("pdftotext", filepath.Join(dir, output.SheetFile), "-"); err == nil {
			org := map[string]string{contoso: "Contoso", fabrikam: "Fabrikam"}[tn]
			if flat := strings.Join(strings.Fields(string(text)), " "); !strings.Contains(flat, org+" ("+tn+")") {
				t.Errorf("%s's sheet does not name %q in its header:\n%s", tn, org+" ("+tn+")", flat)
			}
		} else if os.Getenv("ENROLLBATCH_REQUIRE_TOOLS") != "" {
			t.Fatalf("pdftotext: %v", err)
		}
	}
	sum, err := output.ReadSummary(filepath.Join(out, output.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, s := range sum {
		states[s.Tenant] = s.State
		if s.Tenant != northwind && s.Tenant != tailspin && (s.Counts[results.Created] != len(rows[s.Tenant]) || s.Sheet == "") {
			t.Errorf("summary of %s: %+v", s.Tenant, s)
		}
	}
	if fmt.Sprint(states) != fmt.Sprintf("map[%s:done %s:done %s:failed %s:failed]", contoso, fabrikam, northwind, tailspin) {
		t.Errorf("summary states %v", states)
	}
	// The tenants' rows were put aside for the run only.
	if left, _ := filepath.Glob(filepath.Join(out, ".enrollbatch-rows-*")); len(left) != 0 {
		t.Errorf("the run left its rows put aside: %v", left)
	}
	if strings.Contains(stderr, "each tenant reads the whole sheet") {
		t.Errorf("the rows were not put aside:\n%s", stderr)
	}
	// Every event of a tenant's job names the tenant.
	rowTenant := map[int]string{}
	for tn, ls := range lines {
		for _, l := range ls {
			rowTenant[l] = tn
		}
	}
	sc := bufio.NewScanner(strings.NewReader(stderr))
	events := 0
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		if ev["msg"] == "row" {
			events++
			if row := int(ev["row"].(float64)); ev["tenant"] != rowTenant[row] {
				t.Errorf("row %d's event names tenant %v; want %s", row, ev["tenant"], rowTenant[row])
			}
		}
		if m, _ := ev["msg"].(string); strings.HasPrefix(m, "wrote ") && ev["tenant"] == nil {
			t.Errorf("a tenant's notice does not name it: %s", sc.Text())
		}
	}
	if events != 5 { // the rows of northwind and tailspin were never sent
		t.Errorf("%d row events; want 5", events)
	}
}

// --shard K/N takes every N-th tenant of the sheet in sorted order, and
// --tenant one tenant, of a sheet with a tenant column or (for every row)
// without one.
func TestTenantsShardAndTenantFlag(t *testing.T) {
	t.Parallel()
	in, _ := tenantSheet(t, map[string][]string{contoso: {"A"}, fabrikam: {"B"}, northwind: {"C"}})
	folders := func(out string) []string {
		es, _ := os.ReadDir(out)
		var ds []string
		for _, e := range es {
			if e.IsDir() {
				ds = append(ds, e.Name())
			}
		}
		return ds
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--shard", "0/2"}, []string{contoso, northwind}},
		{[]string{"--shard", "1/2"}, []string{fabrikam}},
		{[]string{"--tenant", "Fabrikam.onmicrosoft.com"}, []string{fabrikam}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		args := append([]string{"run", "--input", in, "--simulate", "--out", out}, tc.args...)
		if code, _, stderr := run(t, nil, args...); code != 0 {
			t.Fatalf("%v: exit %d\n%s", tc.args, code, stderr)
		}
		if got := folders(out); !slices.Equal(got, tc.want) {
			t.Errorf("%v: folders %v; want %v", tc.args, got, tc.want)
		}
	}
	// --tenant for a sheet without the column: every row goes there.
	plain := writeNames(t, 2, "Till %d")
	out := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := run(t, nil, "run", "--input", plain, "--simulate", "--tenant", contoso, "--out", out); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if rs := readResults(t, filepath.Join(out, contoso, output.ResultsFile)); len(rs) != 2 || statuses(rs)[results.Created] != 2 {
		t.Errorf("--tenant without a column: %v", statuses(rs))
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--shard", "2/2"}, "K counts from 0 to 1"},
		{[]string{"--tenant", "contoso"}, "neither a tenant id"},
		{[]string{"--tenant", "tailspin.onmicrosoft.com"}, "no row of"},
	} {
		args := append([]string{"run", "--input", in, "--simulate", "--out", filepath.Join(t.TempDir(), "out")}, tc.args...)
		if code, _, stderr := run(t, nil, args...); code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d; want 2 and %q\n%s", tc.args, code, tc.want, stderr)
		}
	}
}

// A row whose tenant cell names no tenant stops the run before anything
// is sent, naming the file, the rows and the column.
func TestTenantsRowWithoutTenant(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "fleet.csv")
	os.WriteFile(in, []byte("displayName,tenant\nA,contoso.onmicrosoft.com\nB,\nC,contoso\n"), 0o600)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, nil, "run", "--input", in, "--simulate", "--out", out)
	if code != 2 || !strings.Contains(stderr, in+": row(s) 3, 4 in column \"tenant\" name no tenant") {
		t.Errorf("exit %d; want 2 naming the file, rows and column\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, contoso)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a tenant's folder was made: %v", err)
	}
}

// A throttled tenant does not slow the others: each tenant has its own
// pacer, and a Retry-After from one tenant pauses only that tenant.
func TestTenantsThrottledTenantAlone(t *testing.T) {
	t.Parallel()
	slow := "adatum.onmicrosoft.com"
	rows := map[string][]string{contoso: {"A1", "A2", "A3", "A4"}, fabrikam: {"B1", "B2", "B3", "B4"}, slow: {"S1", "S2", "S3", "S4", "S5", "S6"}}
	in, _ := tenantSheet(t, rows)
	simTenants := writeTenants(t, sim.TenantSpec{Domain: contoso}, sim.TenantSpec{Domain: fabrikam},
		sim.TenantSpec{Domain: slow, WriteLimit: 2, WriteWindow: 2 * time.Second})
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, nil, "run", "--input", in, "--simulate", "--sim-tenants", simTenants, "--out", out, "--log-format", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var first time.Time
	ended := map[string]time.Duration{}
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		var ev struct {
			Time   time.Time `json:"time"`
			Msg    string    `json:"msg"`
			Tenant string    `json:"tenant"`
			State  string    `json:"state"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not JSON: %s", sc.Text())
		}
		if first.IsZero() {
			first = ev.Time
		}
		if ev.Msg == "tenant" {
			ended[ev.Tenant] = ev.Time.Sub(first)
			if ev.State != "done" {
				t.Errorf("%s ended %s", ev.Tenant, ev.State)
			}
		}
	}
	// 6 creates at 2 per 2 s take at least 4 s in the slow tenant.
	if ended[slow] < 3500*time.Millisecond {
		t.Fatalf("the throttled tenant ended after %v; the test needs it throttled", ended[slow])
	}
	for _, tn := range []string{contoso, fabrikam} {
		if ended[tn] > ended[slow]/2 {
			t.Errorf("%s ended after %v, the throttled tenant after %v: it was held back", tn, ended[tn], ended[slow])
		}
	}
	if rs := readResults(t, filepath.Join(out, slow, output.ResultsFile)); statuses(rs)[results.Created] != 6 {
		t.Errorf("the throttled tenant: %v", statuses(rs))
	}
}

// Signed in as an app consented in each customer tenant, a run asks each
// tenant's authority for that tenant's token, and sends each token only
// to its own tenant: every tenant of the service saw only tokens whose
// tid is its own, and holds exactly its rows.
func TestTenantsTokensNeverCross(t *testing.T) {
	t.Parallel()
	cloud := sim.NewCloud(sim.Options{OmitImage: true},
		sim.TenantSpec{Domain: contoso}, sim.TenantSpec{Domain: fabrikam}, sim.TenantSpec{Domain: northwind, NotConsented: true})
	graphSrv := httptest.NewServer(cloud)
	t.Cleanup(graphSrv.Close)
	entra := sim.NewAuthority(cloud)
	entraSrv := httptest.NewTLSServer(entra)
	t.Cleanup(entraSrv.Close)
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: entraSrv.Certificate().Raw}), 0o600)
	rows := map[string][]string{contoso: {"C1", "C2", "Shared"}, fabrikam: {"F1", "Shared"}, northwind: {"N1"}}
	in, _ := tenantSheet(t, rows)
	out := filepath.Join(t.TempDir(), "out")
	env := []string{auth.EnvClientID + "=" + sim.SimulatedAppID, auth.EnvClientSecret + "=s3cret",
		auth.EnvAuthorityHost + "=" + entraSrv.URL + "/", "SSL_CERT_FILE=" + certFile}
	code, _, stderr := run(t, env, "run", "--input", in, "--auth", "env", "--graph-url", graphSrv.URL+"/beta", "--out", out)
	if code != 1 {
		t.Fatalf("exit %d; want 1 (northwind never consented)\n%s", code, stderr)
	}
	for _, spec := range cloud.Tenants() {
		srv, _ := cloud.Tenant(spec.ID)
		for _, tok := range srv.Tokens() {
			if tid := auth.TokenTenant(tok); tid != spec.ID {
				t.Errorf("tenant %s (%s) received a token of tenant %q", spec.Domain, spec.ID, tid)
			}
		}
		var names []string
		for _, p := range srv.Profiles() {
			names = append(names, p.DisplayName)
		}
		sort.Strings(names)
		want := slices.Clone(rows[spec.Domain])
		sort.Strings(want)
		if spec.NotConsented {
			want = nil
		}
		if !slices.Equal(names, want) {
			t.Errorf("tenant %s holds %q; want %q", spec.Domain, names, want)
		}
	}
	asked := entra.Asked()
	sort.Strings(asked)
	asked = slices.Compact(asked)
	if fmt.Sprint(asked) != fmt.Sprint([]string{contoso, fabrikam, northwind}) {
		t.Errorf("token requests went to the authorities of %v", asked)
	}
	rs := readResults(t, filepath.Join(out, northwind, output.ResultsFile))
	if len(rs) != 1 || rs[0].Status != results.Failed || !strings.Contains(rs[0].ErrorMessage, "adminconsent") {
		t.Errorf("northwind: %+v", rs)
	}
}

// Every command speaks tenants: after a run over three tenants, export
// writes one sheet of two tenants that validates as it is; doctor shows one
// row per tenant; qr --from-tenant prints one sheet per tenant; delete
// plans in every tenant, asks once, and deletes in each tenant only what
// the prefix selects there; the unconsented tenant fails alone each time.
func TestTenantsEveryCommand(t *testing.T) {
	t.Parallel()
	rows := map[string][]string{contoso: {"Site 1 Till", "Site 1 Panel", "Keep"}, fabrikam: {"Site 1 Till", "Other"}, northwind: {"Site 1 Till"}}
	in, _ := tenantSheet(t, rows)
	simTenants := writeTenants(t, sim.TenantSpec{Domain: contoso, Organization: "Contoso"}, sim.TenantSpec{Domain: fabrikam},
		sim.TenantSpec{Domain: northwind, NotConsented: true})
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	simArgs := []string{"--simulate", "--sim-tenants", simTenants}
	if code, _, stderr := run(t, nil, append([]string{"run", "--input", in, "--out", out}, simArgs...)...); code != 1 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	// The other commands meet the simulated tenants the run kept in out.
	simArgs = append(simArgs, "--sim-tenant", out)
	both := contoso + "," + fabrikam
	exported := filepath.Join(dir, "fleet.csv")
	code, _, stderr := run(t, nil, append([]string{"export", "--tenant", both, "--out", exported}, simArgs...)...)
	if code != 0 {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	b, _ := os.ReadFile(exported)
	if head := strings.SplitN(strings.TrimPrefix(string(b), "\ufeff"), ",", 2)[0]; head != "tenant" {
		t.Errorf("the exported sheet starts with %q, not the tenant column", head)
	}
	if code, stdout, _ := run(t, nil, "validate", exported); code != 0 {
		t.Errorf("the exported sheet does not validate: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := run(t, nil, append([]string{"export", "--tenant", northwind, "--out", filepath.Join(dir, "n.csv")}, simArgs...)...); code == 0 ||
		!strings.Contains(stderr, "adminconsent") || fileExists(filepath.Join(dir, "n.csv")) {
		t.Errorf("export of the unconsented tenant: exit %d, wrote a file: %v\n%s", code, fileExists(filepath.Join(dir, "n.csv")), stderr)
	}

	// doctor: one row per tenant of the sheet.
	code, stdout, _ := run(t, nil, append([]string{"doctor", "--input", in}, simArgs...)...)
	if code != 1 {
		t.Errorf("doctor: exit %d; want 1 (one tenant not ready)\n%s", code, stdout)
	}
	for tn, ready := range map[string]string{contoso: "yes", fabrikam: "yes", northwind: "no"} {
		found := false
		for _, l := range strings.Split(stdout, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] == tn {
				found = f[len(f)-1] == ready
			}
		}
		if !found {
			t.Errorf("doctor's row of %s does not end %q:\n%s", tn, ready, stdout)
		}
	}

	// delete over the three tenants: planned everywhere, one question.
	code, stdout, stderr = run(t, nil, append([]string{"delete", "--tenant", contoso + "," + fabrikam + "," + northwind, "--name-prefix", "Site 1 ", "--out", out, "--yes"}, simArgs...)...)
	if code != 1 {
		t.Fatalf("delete: exit %d; want 1 (northwind)\n%s\n%s", code, stdout, stderr)
	}
	for tn, want := range map[string][]string{contoso: {"Keep"}, fabrikam: {"Other"}} {
		if got := keptNames(t, filepath.Join(out, tn)); !slices.Equal(got, want) {
			t.Errorf("after delete, %s holds %q; want %q", tn, got, want)
		}
		rs := readResults(t, filepath.Join(out, tn, output.ResultsFile))
		if n := statuses(rs)[results.Deleted]; n != len(rows[tn])-1 {
			t.Errorf("%s's delete results: %v", tn, statuses(rs))
		}
	}
	sum, err := output.ReadSummary(filepath.Join(out, output.SummaryFile))
	if err != nil || len(sum) != 3 || sum[2].Tenant != northwind || sum[2].State != output.TenantFailed {
		t.Errorf("delete's summary: %+v, %v", sum, err)
	}

	// qr --from-tenant: one sheet per tenant, in a folder of its own.
	pdf := filepath.Join(dir, "sheets", "keep.pdf")
	code, _, stderr = run(t, nil, append([]string{"qr", "--from-tenant", "--tenant", both, "--out", pdf}, simArgs...)...)
	if code != 0 {
		t.Fatalf("qr: exit %d\n%s", code, stderr)
	}
	for _, tn := range []string{contoso, fabrikam} {
		if !fileExists(filepath.Join(dir, "sheets", tn, "keep.pdf")) {
			t.Errorf("no sheet for %s", tn)
		}
	}
}

// --prune and --on-exists update act per tenant, never across: a profile
// that a row names in one tenant does not keep its namesake in another,
// and one no row names is pruned only in its own tenant. revoke over
// tenants revokes in each only what the prefix selects there.
func TestTenantsPruneUpdateRevokePerTenant(t *testing.T) {
	t.Parallel()
	seed := func(names ...string) []profile.Profile {
		var ps []profile.Profile
		for _, n := range names {
			ps = append(ps, profile.Profile{DisplayName: n, EnrollmentMode: "corporateOwnedDedicatedDevice", Description: "old"})
		}
		return ps
	}
	simTenants := writeTenants(t,
		sim.TenantSpec{Domain: contoso, Profiles: seed("Site 1 Till", "Site 1 Gone")},
		sim.TenantSpec{Domain: fabrikam, Profiles: seed("Site 1 Till", "Site 1 Gone")})
	in := filepath.Join(t.TempDir(), "fleet.csv")
	// Contoso's sheet names "Site 1 Gone"; Fabrikam's does not.
	os.WriteFile(in, []byte("tenant,displayName,description\n"+
		contoso+",Site 1 Till,new\n"+contoso+",Site 1 Gone,new\n"+fabrikam+",Site 1 Till,new\n"), 0o600)
	out := filepath.Join(t.TempDir(), "out")
	sims := []string{"--simulate", "--sim-tenants", simTenants}
	code, _, stderr := run(t, nil, append([]string{"run", "--input", in, "--out", out, "--on-exists", "update",
		"--prune", "--name-prefix", "Site 1 ", "--yes"}, sims...)...)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	for tn, want := range map[string][]string{contoso: {"Site 1 Gone", "Site 1 Till"}, fabrikam: {"Site 1 Till"}} {
		if got := keptNames(t, filepath.Join(out, tn)); !slices.Equal(got, want) {
			t.Errorf("%s holds %q after the prune; want %q", tn, got, want)
		}
		rs := readResults(t, filepath.Join(out, tn, output.ResultsFile))
		c := statuses(rs)
		wantUpdated, wantDeleted := len(want), 0
		if tn == fabrikam {
			wantDeleted = 1
		}
		if c[results.Updated] != wantUpdated || c[results.Deleted] != wantDeleted {
			t.Errorf("%s: %v; want %d updated, %d deleted", tn, c, wantUpdated, wantDeleted)
		}
	}
	// revoke over both tenants, from the simulated tenants the run kept.
	code, stdout, stderr := run(t, nil, append([]string{"revoke", "--tenant", contoso + "," + fabrikam, "--name-prefix", "Site 1 Gone",
		"--out", out, "--yes", "--sim-tenant", out}, sims...)...)
	if code != 0 {
		t.Fatalf("revoke: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if c := statuses(readResults(t, filepath.Join(out, contoso, output.ResultsFile))); c[results.Revoked] != 1 {
		t.Errorf("contoso's revoke: %v", c)
	}
	if c := statuses(readResults(t, filepath.Join(out, fabrikam, output.ResultsFile))); c[results.Revoked] != 0 {
		t.Errorf("fabrikam's revoke: %v", c)
	}
}

// --strict holds the whole sheet back when any row is invalid, whichever
// tenant's: no tenant gets anything, and every row says why.
func TestTenantsStrictHoldsEveryTenant(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "fleet.csv")
	os.WriteFile(in, []byte("tenant,displayName,enrollmentMode\n"+contoso+",Till 1,\n"+fabrikam+",Till 2,corporateOwnedSomething\n"), 0o600)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, nil, "run", "--input", in, "--simulate", "--out", out, "--strict")
	if code != 1 {
		t.Fatalf("exit %d; want 1\n%s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, contoso, output.ResultsFile))
	if len(rs) != 1 || rs[0].Status != results.NotAttempted || !strings.Contains(rs[0].ErrorMessage, "row 3 is") {
		t.Errorf("contoso's valid row under --strict: %+v", rs)
	}
	if names := keptNames(t, filepath.Join(out, contoso)); len(names) != 0 {
		t.Errorf("contoso got %q", names)
	}
}

// A sign-in that serves one tenant (GRAPH_ACCESS_TOKEN) is refused for a
// run over several, once, before anything is sent, saying what to use.
func TestTenantsRefuseAOneTenantSignIn(t *testing.T) {
	t.Parallel()
	s, url := simServer(t, sim.Options{OmitImage: true})
	in, _ := tenantSheet(t, map[string][]string{contoso: {"A"}, fabrikam: {"B"}})
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, []string{"GRAPH_ACCESS_TOKEN=t"}, "run", "--input", in, "--graph-url", url, "--out", out)
	if code != 2 || !strings.Contains(stderr, "one tenant") || strings.Count(stderr, "GRAPH_ACCESS_TOKEN") == 0 {
		t.Errorf("exit %d; want 2, saying GRAPH_ACCESS_TOKEN serves one tenant\n%s", code, stderr)
	}
	if n := s.Stats().Requests; n != 0 {
		t.Errorf("%d request(s) reached Graph", n)
	}
}

// A tenant another run holds is left alone: its rows, in this run's
// folder for it, are failed and say which run holds it; the other tenants
// run.
func TestTenantsLockedTenantFailsAlone(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	dir := filepath.Join(cache, "enrollbatch", "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	held, err := lock.Acquire(filepath.Join(dir, "simulator_"+sim.DomainTenantID(contoso)+".lock"), "a run of the test")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	in, _ := tenantSheet(t, map[string][]string{contoso: {"A"}, fabrikam: {"B"}})
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := run(t, []string{"XDG_CACHE_HOME=" + cache}, "run", "--input", in, "--simulate", "--out", out)
	if code != 1 {
		t.Fatalf("exit %d; want 1\n%s", code, stderr)
	}
	rs := readResults(t, filepath.Join(out, contoso, output.ResultsFile))
	if len(rs) != 1 || rs[0].Status != results.Failed || !strings.Contains(rs[0].ErrorMessage, "another run") {
		t.Errorf("the locked tenant's row: %+v", rs)
	}
	if c := statuses(readResults(t, filepath.Join(out, fabrikam, output.ResultsFile))); c[results.Created] != 1 {
		t.Errorf("fabrikam: %v", c)
	}
}

// fileExists reports whether path names a file.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
