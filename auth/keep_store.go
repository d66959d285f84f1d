//go:build linux || windows || (darwin && cgo)

package auth

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity/cache"
)

// persistentCache is azidentity's persistent cache; its error says why the
// system cannot keep a sign-in (no keyring, say).
func persistentCache() (azidentity.Cache, error) {
	return cache.New(&cache.Options{Name: keepName()})
}

// forgetCache removes the persistent cache where azidentity's cache module
// keeps it: a file in .IdentityService of the user's cache folder (Linux:
// encrypted with a key in the kernel keyring; Windows: with DPAPI), or an
// item of the login keychain on macOS.
func forgetCache() ([]string, error) {
	if runtime.GOOS == "darwin" {
		err := exec.Command("security", "delete-generic-password", "-s", keepName(), "-a", "MSALCache").Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 44 { // not in the keychain
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return []string{"the keychain item " + keepName()}, nil
	}
	var dir string
	if runtime.GOOS == "windows" {
		dir = os.Getenv("LOCALAPPDATA")
	} else if dir = os.Getenv("XDG_CACHE_HOME"); dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(home, ".cache")
	}
	p := filepath.Join(dir, ".IdentityService", keepName())
	if err := os.Remove(p); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return []string{p}, nil
}
