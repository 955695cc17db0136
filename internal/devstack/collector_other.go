//go:build !linux

package devstack

import "syscall"

// childAttr: only Linux has a parent-death signal; elsewhere the collector
// is stopped by the program that started it on every exit it can handle.
func childAttr() *syscall.SysProcAttr { return nil }
