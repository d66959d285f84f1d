//go:build windows

package lock

// removeOnRelease: on Windows a file open in another process may be deleted
// while that process goes on holding a lock on it, out of sight of the next
// run, so lock files stay in place after a run; their content is rewritten
// by each holder.
const removeOnRelease = false
