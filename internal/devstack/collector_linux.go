package devstack

import "syscall"

// childAttr makes the collector a process group of its own, so that a
// Ctrl-C in the terminal reaches only the program that started it (which
// stops it in order), and sends it SIGTERM when that program dies, even by
// SIGKILL, so that no collector is left running as an orphan.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
