package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/enrollbatch/enrollbatch/atomicfile"
)

// A person's sign-in (--auth device-code or browser) is kept between
// commands, as Connect-MgGraph and az login keep theirs, where the system
// keeps it safe: the tokens go to azidentity's persistent cache, encrypted
// with a key in the kernel keyring on Linux, with DPAPI on Windows, and in
// the keychain on macOS (builds with cgo); the account the cache is for
// goes to a small file, its AuthenticationRecord (no secret: the user
// name, tenant and app). The next command signs in from them without a
// prompt, until the refresh token expires or SignOut forgets them. Where
// the system cannot keep it (a macOS build without cgo, a container
// without a keyring), each command signs in again, as before.

// keepName names enrollbatch's cache among the system's: "enrollbatch-"
// and a hash of the folder of the records, so that the cache and its key
// (on Linux a key of the user's keyring, named by it) belong to one set of
// records: two homes of one user, as tests make, never share a key.
func keepName() string {
	dir, err := keepFolder()
	if err != nil {
		return "enrollbatch"
	}
	sum := sha256.Sum256([]byte(dir))
	return "enrollbatch-" + hex.EncodeToString(sum[:4])
}

// keepFolder is the folder of the sign-in records, in the user's
// configuration folder.
func keepFolder() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "enrollbatch", "signin"), nil
}

// recordPath is where the record of a sign-in to tenant with client at
// authority is kept: one per combination, so that another tenant or app
// never finds this one's account.
func recordPath(authority, tenant, client string) (string, error) {
	dir, err := keepFolder()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(strings.ToLower(authority + "\x00" + tenant + "\x00" + client)))
	return filepath.Join(dir, hex.EncodeToString(sum[:8])+".json"), nil
}

// kept is a sign-in kept between commands: its cache, the record's file,
// and the record when an earlier command saved one.
type kept struct {
	cache azidentity.Cache
	path  string
	rec   azidentity.AuthenticationRecord
	have  bool
}

// keep opens the kept sign-in for tenant and client, or returns nil and
// why it cannot be kept here.
func (c *config) keep(tenant, client string) (*kept, error) {
	if !c.keepSignIn {
		return nil, nil
	}
	path, err := recordPath(c.authority, tenant, client)
	if err != nil {
		return nil, err
	}
	ca, err := persistentCache()
	if err != nil {
		return nil, err
	}
	k := &kept{cache: ca, path: path}
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &k.rec) == nil && k.rec.HomeAccountID != "" {
		k.have = true
	}
	return k, nil
}

// options are the credential options of a kept sign-in: its cache, and
// the record of the account when one was kept (zero values for none).
func (k *kept) options() (azidentity.Cache, azidentity.AuthenticationRecord) {
	if k == nil {
		return azidentity.Cache{}, azidentity.AuthenticationRecord{}
	}
	if !k.have {
		return k.cache, azidentity.AuthenticationRecord{}
	}
	return k.cache, k.rec
}

// wrap makes a new delegated credential sign the person in explicitly the
// first time, so that the record of the sign-in can be kept for the next
// command; without a kept sign-in it is the credential itself.
func wrap[C authenticator](k *kept, cred C, err error) (azcore.TokenCredential, error) {
	if err != nil || k == nil {
		return cred, err
	}
	return &keptCred{k: k, cred: cred}, nil
}

// keptCred is a delegated credential whose first sign-in is recorded.
type keptCred struct {
	k    *kept
	cred authenticator
	mu   sync.Mutex
}

func (kc *keptCred) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	kc.mu.Lock()
	if !kc.k.have {
		rec, err := kc.cred.Authenticate(ctx, &policy.TokenRequestOptions{Scopes: opts.Scopes, TenantID: opts.TenantID})
		if err != nil {
			kc.mu.Unlock()
			return azcore.AccessToken{}, err
		}
		kc.k.rec, kc.k.have = rec, true
		kc.k.save() // a record that cannot be kept means a prompt next time, nothing worse
	}
	kc.mu.Unlock()
	return kc.cred.GetToken(ctx, opts)
}

// save writes the record, mode 0600.
func (k *kept) save() error {
	b, err := json.Marshal(k.rec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(k.path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(k.path, b)
}

// SignOut forgets every sign-in kept between commands: the records of the
// accounts, and the tokens in the system's store. It returns what it
// removed; nothing kept is not an error.
func SignOut() ([]string, error) {
	var removed []string
	var errs []error
	if dir, err := keepFolder(); err == nil {
		if _, err := os.Stat(dir); err == nil {
			removed = append(removed, dir)
			errs = append(errs, os.RemoveAll(dir))
		}
	}
	what, err := forgetCache()
	removed = append(removed, what...)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("sign out: %w", err)
	}
	return removed, nil
}
