//go:build !linux

package main

// takeTerminal does nothing: the terminal handling (and the collector's
// parent-death signal) are Linux-only.
func takeTerminal() (restore func()) { return func() {} }
