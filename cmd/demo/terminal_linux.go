package main

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// takeTerminal makes the demo the terminal's foreground process group, as a
// shell does for the job it runs, so that Ctrl-C reaches the demo alone:
// not make or `go run` above it (make, interrupted, would end with an error
// whatever the demo does), nor the collector below it, which the demo stops
// in order. It returns the function that gives the terminal back. Without a
// terminal, or when the demo runs in the background, it does nothing.
func takeTerminal() (restore func()) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return func() {}
	}
	fd := int(tty.Fd())
	fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || fg != syscall.Getpgrp() {
		tty.Close()
		return func() {}
	}
	// A background process group that changes the foreground gets SIGTTOU.
	signal.Ignore(syscall.SIGTTOU)
	if syscall.Setpgid(0, 0) != nil || unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, syscall.Getpgrp()) != nil {
		tty.Close()
		return func() {}
	}
	return func() {
		_ = unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, fg)
		tty.Close()
	}
}
