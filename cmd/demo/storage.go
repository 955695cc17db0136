package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// storagePrefix names the demo's storage directories: the pid of the demo
// that made one tells whether its owner still runs.
const storagePrefix = "otelcol-cloudtrail-demo-"

// makeStorage creates the demo's storage directory for the collector's
// file_storage. It first removes the directories left by demos that ended
// without cleaning up (killed by SIGKILL: the only exit no code runs on),
// so that none outlives the next run.
func makeStorage() (string, error) {
	sweepStorage(os.TempDir())
	return os.MkdirTemp("", fmt.Sprintf("%s%d-", storagePrefix, os.Getpid()))
}

// sweepStorage removes the demo storage directories in dir whose demo
// process no longer exists.
func sweepStorage(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, storagePrefix+"*"))
	for _, m := range matches {
		pidText, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(m), storagePrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		_ = os.RemoveAll(m)
	}
}
