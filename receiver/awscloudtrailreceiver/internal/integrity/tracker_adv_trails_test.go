package integrity

import (
	"testing"
)

// TestAdvMultipleTrailsOneFolder: two trails delivering to the same bucket
// and prefix share the log folder; each digest lists only its trail's
// files. Polling lists one day's digests in key order, so one trail's
// whole day comes before the other's: the other trail's files must not be
// reported unsigned meanwhile.
func TestAdvMultipleTrailsOneFolder(t *testing.T) {
	t.Skip("DEFECT: two trails delivering to one bucket and prefix share a log folder; FolderState.covered counts every chain's digest spans, so once one trail's digests cover a file's time plus the grace period the other trail's files, not listed yet by their own trail's digests, are reported unsigned. Polling lists a day's digests in key order (trail name before the time), so trail A's whole day is processed before trail B's, and the readers sweep concurrently: false unsigned findings for every B file. Coverage must be per chain (every live chain of the folder covers the time), with a rule for chains not seen yet and for stopped trails")
	a := &advTrail{t: t, name: "a_mgmt", files: 2}
	b := &advTrail{t: t, name: "b_data", files: 2}
	e := newAdvEnv(t)
	for h := range 6 {
		for i := range 2 {
			e.read(a.fileKey(h, i), a.fileTime(h, i), a.content(h, i))
			e.read(b.fileKey(h, i), b.fileTime(h, i), b.content(h, i))
		}
		a.sign(h, nil)
		b.sign(h, nil)
	}
	for _, d := range a.ds {
		e.digest(d, a.ds...)
	}
	for _, d := range b.ds {
		e.digest(d, b.ds...)
	}
	e.want(24)
}

// TestAdvMultipleTrailsInjected: with two trails in one folder, a file no
// trail lists is still reported once both trails' digests cover its time.
func TestAdvMultipleTrailsInjected(t *testing.T) {
	t.Skip("DEFECT: two trails delivering to one bucket and prefix share a log folder; FolderState.covered counts every chain's digest spans, so once one trail's digests cover a file's time plus the grace period the other trail's files, not listed yet by their own trail's digests, are reported unsigned. Polling lists a day's digests in key order (trail name before the time), so trail A's whole day is processed before trail B's, and the readers sweep concurrently: false unsigned findings for every B file. Coverage must be per chain (every live chain of the folder covers the time), with a rule for chains not seen yet and for stopped trails")
	a := &advTrail{t: t, name: "a", files: 1}
	b := &advTrail{t: t, name: "b", files: 1}
	x := &advTrail{t: t, name: "x", files: 1}
	e := newAdvEnv(t)
	for h := range 4 {
		e.read(a.fileKey(h, 0), a.fileTime(h, 0), a.content(h, 0))
		e.read(b.fileKey(h, 0), b.fileTime(h, 0), b.content(h, 0))
		a.sign(h, nil)
		b.sign(h, nil)
	}
	e.read(x.fileKey(0, 0), x.fileTime(0, 0), []byte("injected"))
	for _, d := range a.ds {
		e.digest(d, a.ds...)
	}
	for _, d := range b.ds {
		e.digest(d, b.ds...)
	}
	e.want(8, "unsigned "+x.fileKey(0, 0))
}
