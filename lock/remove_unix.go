//go:build !windows

package lock

// removeOnRelease: on Unix a lock file can be removed while it is held, and
// a run that opened it meanwhile notices (its path no longer names the file
// it locked), so the file a run created goes with it.
const removeOnRelease = true
