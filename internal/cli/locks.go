package cli

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"strings"

	"github.com/enrollbatch/enrollbatch/auth"
	"github.com/enrollbatch/enrollbatch/lock"
	"github.com/enrollbatch/enrollbatch/ratelimit"
)

// runLocks are the two locks a run holds from before its first request to
// after its outputs are written: one for its output folder, one for its
// tenant. While the tenant's is held, the run keeps the record of what it
// sent in the last 20 s beside it, for the next run of the tenant.
type runLocks struct {
	folder, tenant *lock.Lock
	saveRecord     func()
}

func (l *runLocks) release() {
	l.saveRecord()
	l.tenant.Release()
	l.folder.Release()
}

// takeLocks takes the output folder's lock (lockPath) and the tenant's lock,
// so that neither two runs on one folder nor two runs against one tenant
// (whatever their folders) overlap. Either refusal is a usage error (exit 2)
// naming the holder.
func (m *Main) takeLocks(ctx context.Context, lockPath, out string, c *conn, cf *connFlags) (*runLocks, error) {
	folder, err := lock.Acquire(lockPath, "the output folder "+out)
	if err != nil {
		return nil, &usageError{err}
	}
	host, tenant := m.tenantOf(ctx, c, cf)
	what := "tenant " + tenant + " at " + host
	if tenant == "" {
		what = "every tenant at " + host + " (the tenant is not known before signing in: set " + auth.EnvTenantID + ")"
	}
	if cf.simulate {
		what = "the simulator"
	}
	tl, save, err := lockTenant(c, cf, host, tenant, what)
	if err != nil {
		folder.Release()
		return nil, &usageError{err}
	}
	return &runLocks{folder: folder, tenant: tl, saveRecord: save}, nil
}

// lockTenant takes the lock of tenant at host, which what names for the
// person another run finds it held by, and makes the pacer count what
// earlier runs of the tenant sent in the last window (not for the
// simulator, which starts with an empty window). save keeps this run's
// record; call it before the lock is released.
func lockTenant(c *conn, cf *connFlags, host, tenant, what string) (l *lock.Lock, save func(), err error) {
	path, err := lock.TenantPath(host, tenant)
	if err != nil {
		return nil, nil, err
	}
	l, err = lock.Acquire(path, what+"; two runs against one tenant could create profiles twice")
	if err != nil {
		return nil, nil, err
	}
	save = func() {}
	if !cf.simulate {
		save = c.pacer.Remember(ratelimit.RecordPath(path))
	}
	return l, save, nil
}

// tenantOf names the Graph host and tenant a run works on: the tenant from
// the access token's tid claim, else AZURE_TENANT_ID, else "" (unknown). The
// built-in simulator has a fixed name.
func (m *Main) tenantOf(ctx context.Context, c *conn, cf *connFlags) (host, tenant string) {
	if cf.simulate {
		return "simulator", ""
	}
	host = lockHost(c.url)
	if c.client.Tokens != nil {
		if tok, err := c.client.Tokens.Token(ctx, false); err == nil {
			if tid := auth.TokenTenant(tok); tid != "" {
				return host, tid
			}
		}
	}
	return host, strings.TrimSpace(m.Getenv(auth.EnvTenantID))
}

// lockHost is the part of a Graph URL that names the service in a tenant
// lock: its host and port, in lower case, with every name of this machine's
// loopback (localhost, 127.0.0.1, ::1) written one way, so that two spellings
// of one service share one lock.
func lockHost(graphURL string) string {
	u, err := url.Parse(graphURL)
	if err != nil || u.Host == "" {
		return graphURL
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if ip := net.ParseIP(host); host == "localhost" || strings.HasSuffix(host, ".localhost") || ip != nil && ip.IsLoopback() {
		host = "loopback"
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return host + ":" + port
}

// tenantName names the tenant for the QR sheet's header: the organization's
// name from Microsoft Entra ID, else (without the permission to read it)
// the tenant's id, else nothing.
func (m *Main) tenantName(ctx context.Context, c *conn, cf *connFlags, log *slog.Logger) string {
	name, err := c.client.OrganizationName(ctx)
	if err == nil {
		return name
	}
	log.Debug("tenant name", "error", err.Error())
	if _, tenant := m.tenantOf(ctx, c, cf); tenant != "" {
		return "tenant " + tenant
	}
	return ""
}
