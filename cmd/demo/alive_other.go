//go:build !unix

package main

import "os"

// alive reports whether a process with this pid exists (Windows: opening
// it fails when it does not).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
