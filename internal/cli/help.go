package cli

import (
	"flag"

	"github.com/enrollbatch/enrollbatch/cliflag"
)

// flagGroups orders every command's flags in its help by what a person
// wants to set: a flag means the same in every command that has it, so one
// table serves them all.
var flagGroups = []cliflag.Group{
	{Title: "Input", Flags: []string{"input", "sheet", "results", "from-tenant", "name-prefix", "only", "strict"}},
	{Title: "What to change", Flags: []string{"dry-run", "on-exists", "update-secrets", "renew-within", "token-validity",
		"qr-existing", "prune", "yes", "force", "no-check"}},
	{Title: "Outputs", Flags: []string{"out", "delimiter", "results-csv", "progress", "lock"}},
	{Title: "QR sheet", Flags: []string{"title", "paper", "labels-per-page", "label-columns", "split-by", "font", "pages-per-file"}},
	{Title: "Tenants", Flags: []string{"tenant", "tenant-concurrency", "shard"}},
	{Title: "Signing in", Flags: []string{"auth", "keep-sign-in", "cloud", "graph-url", "simulate", "sim-content", "sim-tenant", "sim-tenants"}},
	{Title: "Pacing", Flags: []string{"concurrency", "rate", "write-budget", "request-budget", "adaptive", "max-retries",
		"request-timeout", "deadline"}},
	{Title: "Simulator", Flags: []string{"listen", "latency", "limit", "window", "write-limit", "retry-after", "fail-503",
		"fail-504-after-create", "drop-after-create", "omit-token", "content", "forbidden", "existing", "existing-mode", "tenants"}},
	{Title: "Logging and debugging", Flags: []string{"log-format", "verbose", "cpuprofile", "memprofile"}},
}

// examples are the first lines of each command's help after its synopsis.
var examples = map[string][]string{
	"run": {
		"enrollbatch run profiles.xlsx --simulate                      # try it without a tenant",
		"enrollbatch run profiles.xlsx --auth device-code --dry-run    # what would change, changing nothing",
		"enrollbatch run profiles.xlsx --auth device-code              # create the profiles, print the codes",
		"enrollbatch run profiles.xlsx --on-exists update --prune --name-prefix \"Site 12 \" --yes",
		"enrollbatch run fleet.xlsx --auth env --out out        # a tenant column: one folder per tenant, out/summary.xlsx",
	},
	"validate": {"enrollbatch validate profiles.xlsx"},
	"template": {"enrollbatch template --out profiles.xlsx"},
	"qr": {
		"enrollbatch qr --results out/results.xlsx --out sheet.pdf --label-columns Site",
		"enrollbatch qr --from-tenant --name-prefix \"Site 12 \" --out site12.pdf",
		"enrollbatch qr --from-tenant --tenant contoso.onmicrosoft.com,fabrikam.onmicrosoft.com --out sheets/all.pdf   # sheets/<tenant>/all.pdf",
	},
	"export": {"enrollbatch export --out profiles.xlsx --name-prefix \"Site 12 \"",
		"enrollbatch export --out fleet.xlsx --tenant contoso.onmicrosoft.com,fabrikam.onmicrosoft.com   # one sheet, a tenant column"},
	"delete": {
		"enrollbatch delete --name-prefix \"Site 12 \" --dry-run",
		"enrollbatch delete --input retired.xlsx --yes",
		"enrollbatch delete --tenant contoso.onmicrosoft.com,fabrikam.onmicrosoft.com --name-prefix \"Pilot \" --dry-run",
	},
	"revoke": {"enrollbatch revoke --input lost-sheet.xlsx --dry-run"},
	"doctor": {"enrollbatch doctor --auth device-code",
		"enrollbatch doctor --input fleet.xlsx --auth env   # one row per tenant of the sheet"},
	"signout": {"enrollbatch signout"},
	"sim":     {"enrollbatch sim --listen 127.0.0.1:8080 --write-limit 100"},
}

// newFlagSet returns a flag set that reports errors instead of exiting,
// and whose help shows examples and the flags by group.
func (m *Main) newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		cliflag.Usage(fs.Output(), fs, synopsis, examples[name], flagGroups)
	}
	return fs
}
