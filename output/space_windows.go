//go:build windows

package output

import "golang.org/x/sys/windows"

// FreeSpace is the number of bytes the user may still write on the volume
// holding dir (GetDiskFreeSpaceEx, which counts quotas).
func FreeSpace(dir string) (uint64, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, err
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return 0, err
	}
	return avail, nil
}
