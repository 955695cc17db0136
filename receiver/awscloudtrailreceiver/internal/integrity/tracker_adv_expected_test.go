package integrity

import (
	"testing"
)

// TestAdvExpectedFileDeletedBeforeListed: a digest is processed while its
// files exist (they are expected), then a file is deleted before the
// reader lists it (it is behind: a backfill, or a slow consumer). The
// reader never sees it, so nothing calls FileGone; the expectation must
// not expire silently.
func TestAdvExpectedFileDeletedBeforeListed(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 2}
	d0 := tr.sign(0, nil)
	e := newAdvEnv(t)
	e.digest(d0)
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	e.deleted[tr.fileKey(0, 1)] = true
	for h := 1; h < 60; h++ {
		e.digest(tr.sign(h, [][2]int{}), tr.ds...)
	}
	e.want(1, "missing "+tr.fileKey(0, 1))
}
