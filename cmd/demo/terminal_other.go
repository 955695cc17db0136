//go:build !linux

package main

import (
	"errors"
	"os"
)

func takeTerminal() (restore func()) { return func() {} }

func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && !errors.Is(p.Signal(os.Signal(nil)), os.ErrProcessDone)
}
