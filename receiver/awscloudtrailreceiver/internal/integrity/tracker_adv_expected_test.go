package integrity

import (
	"fmt"
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

// TestAdvExpectedFileOverdue: a file a verified digest lists is not read
// while the reader reads the files of the next hours: it is checked once
// the reader is past the digest's end plus the grace period (long before
// the window ends), once, and only it. Deleted, it is missing; still
// there, it is verified when it is read at last, and checked again only
// when it expires. A failed check is made again at the next sweep.
func TestAdvExpectedFileOverdue(t *testing.T) {
	for _, tt := range []struct {
		name    string
		deleted bool
		fail    int
	}{{"deleted", true, 0}, {"still there, read late", false, 0}, {"deleted, first check fails", true, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			tr := &advTrail{t: t, name: "t", files: 2}
			e := newAdvEnv(t)
			e.digest(tr.sign(0, nil))
			e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
			e.deleted[tr.fileKey(0, 1)] = tt.deleted
			e.failChecks = tt.fail
			for h := 1; h < 5; h++ {
				for i := range 2 {
					e.read(tr.fileKey(h, i), tr.fileTime(h, i), tr.content(h, i))
				}
				e.digest(tr.sign(h, nil), tr.ds...)
			}
			want := []string{tr.fileKey(0, 1)}
			for range tt.fail {
				want = append(want, tr.fileKey(0, 1))
			}
			if fmt.Sprint(e.checks) != fmt.Sprint(want) {
				t.Fatalf("checked %q, want %q", e.checks, want)
			}
			if tt.deleted {
				e.want(9, "missing "+tr.fileKey(0, 1))
				return
			}
			e.read(tr.fileKey(0, 1), tr.fileTime(0, 1), tr.content(0, 1))
			e.want(10)
		})
	}
}

// TestAdvExpectedFileNeverReadExists: a listed file that is never read but
// exists (before start_time, or read by another collector) raises nothing,
// across restarts, until and after its expectation expires.
func TestAdvExpectedFileNeverReadExists(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 2}
	e := newAdvEnv(t)
	e.digest(tr.sign(0, nil))
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	for h := 1; h < 60; h++ {
		e.read(tr.fileKey(h, 0), tr.fileTime(h, 0), tr.content(h, 0))
		e.digest(tr.sign(h, [][2]int{{h, 0}}), tr.ds...)
	}
	e.want(60)
	// Checked when overdue, then when it expired.
	if want := []string{tr.fileKey(0, 1), tr.fileKey(0, 1)}; fmt.Sprint(e.checks) != fmt.Sprint(want) {
		t.Fatalf("checked %q, want %q", e.checks, want)
	}
	if len(e.s.Expected) != 0 {
		t.Fatalf("expected %v", e.s.Expected)
	}
}
