//go:build windows

package main

import (
	"os"
	"time"
)

// maxRSS is not measured on Windows: the benchmark reports 0.
func maxRSS(*os.ProcessState) int64 { return 0 }

// selfCPU is not measured on Windows: the benchmark reports 0.
func selfCPU() time.Duration { return 0 }
