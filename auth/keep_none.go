//go:build !(linux || windows || (darwin && cgo))

package auth

import (
	"errors"
	"runtime"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// persistentCache is not available in this build: on macOS the keychain
// needs a build with cgo (go install on a Mac makes one).
func persistentCache() (azidentity.Cache, error) {
	if runtime.GOOS == "darwin" {
		return azidentity.Cache{}, errors.New("this build cannot use the keychain (it was built without cgo; go install on a Mac builds one that can)")
	}
	return azidentity.Cache{}, errors.New("this system has no store enrollbatch can keep a sign-in in safely")
}

func forgetCache() ([]string, error) { return nil, nil }
