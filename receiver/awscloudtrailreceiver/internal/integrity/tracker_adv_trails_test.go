package integrity

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestAdvMultipleTrailsOneFolder: two trails delivering to the same bucket
// and prefix share the log folder; each digest lists only its trail's
// files. Polling lists a day of digests before processing them: even when
// one trail's whole day is processed before the other's, the other
// trail's files must not be reported unsigned meanwhile.
func TestAdvMultipleTrailsOneFolder(t *testing.T) {
	a := &advTrail{t: t, name: "a_mgmt", files: 2}
	b := &advTrail{t: t, name: "b_data", files: 2}
	e := newAdvEnv(t)
	e.deliver(6, a, b)
	e.list(append(append([]trailgen.SignedDigest(nil), a.ds...), b.ds...)...)
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
	a := &advTrail{t: t, name: "a", files: 1}
	b := &advTrail{t: t, name: "b", files: 1}
	x := &advTrail{t: t, name: "x", files: 1}
	e := newAdvEnv(t)
	e.deliver(4, a, b)
	e.read(x.fileKey(0, 0), x.fileTime(0, 0), []byte("injected"))
	e.list(append(append([]trailgen.SignedDigest(nil), a.ds...), b.ds...)...)
	for _, d := range a.ds {
		e.digest(d, a.ds...)
	}
	e.want(4) // b's digests are listed, not processed yet: x waits
	for _, d := range b.ds {
		e.digest(d, b.ds...)
	}
	e.want(8, "unsigned "+x.fileKey(0, 0))
}

// TestAdvMultipleTrailsNotListed: in SQS mode nothing lists the digests;
// they are handled as notified, one trail's a little behind the other's
// (less than the grace period), or out of order. Two trails raise nothing;
// an injected file is reported.
func TestAdvMultipleTrailsNotListed(t *testing.T) {
	for _, lag := range []int{0, 1, -1} {
		t.Run(fmt.Sprintf("lag %d", lag), func(t *testing.T) {
			a := &advTrail{t: t, name: "a", files: 2}
			b := &advTrail{t: t, name: "b", files: 2}
			x := &advTrail{t: t, name: "x", files: 1}
			e := newAdvEnv(t)
			e.deliver(8, a, b)
			e.read(x.fileKey(2, 0), x.fileTime(2, 0), []byte("injected"))
			// b's digest of hour h comes with a's of hour h+lag.
			type step struct {
				at int
				d  trailgen.SignedDigest
				tr *advTrail
			}
			var steps []step
			for h := range 8 {
				steps = append(steps, step{2 * h, a.ds[h], a}, step{2*(h+lag) + 1, b.ds[h], b})
			}
			sort.Slice(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
			for _, st := range steps {
				e.digest(st.d, st.tr.ds...)
			}
			e.want(32, "unsigned "+x.fileKey(2, 0))
		})
	}
}

// TestAdvNewTrail: a second trail starts delivering to the folder at hour
// 3. Its files raise nothing, although its chain was not known when they
// were read; a file injected before it started (read late) is reported on
// the first trail's digests alone.
func TestAdvNewTrail(t *testing.T) {
	a := &advTrail{t: t, name: "a", files: 1}
	b := &advTrail{t: t, name: "b", files: 1}
	x := &advTrail{t: t, name: "x", files: 1}
	e := newAdvEnv(t)
	for h := range 8 {
		e.read(a.fileKey(h, 0), a.fileTime(h, 0), a.content(h, 0))
		if h >= 3 {
			e.read(b.fileKey(h, 0), b.fileTime(h, 0), b.content(h, 0))
		}
		e.digest(a.sign(h, nil), a.ds...)
		if h >= 3 {
			e.digest(b.sign(h, nil), b.ds...)
		}
	}
	e.want(8 + 5)
	// Read late (the reader behind): the new trail is known by now.
	e.read(x.fileKey(1, 0), x.fileTime(1, 0), []byte("injected"))
	e.want(8+5, "unsigned "+x.fileKey(1, 0))
}

// TestAdvStoppedTrail: one of two trails stops at hour 2 (its digests
// stop). A file injected after that is reported once the other trail's
// digests cover its time, its grace period, and the grace period again
// for a late digest: the stopped trail does not hold it until the window
// ends, and nothing is reported before.
func TestAdvStoppedTrail(t *testing.T) {
	a := &advTrail{t: t, name: "a", files: 1}
	b := &advTrail{t: t, name: "b", files: 1}
	x := &advTrail{t: t, name: "x", files: 1}
	e := newAdvEnv(t)
	e.read(x.fileKey(5, 0), x.fileTime(5, 0), []byte("injected")) // at t0+5h05
	for h := range 12 {
		e.read(a.fileKey(h, 0), a.fileTime(h, 0), a.content(h, 0))
		if h < 3 {
			e.read(b.fileKey(h, 0), b.fileTime(h, 0), b.content(h, 0))
		}
		e.digest(a.sign(h, nil), a.ds...)
		if h < 3 {
			e.digest(b.sign(h, nil), b.ds...)
		}
		// Reported when the folder's digests reach 5h05 + 2 × 1h.
		if end := t0.Add(time.Duration(h+1) * time.Hour); end.Before(x.fileTime(5, 0).Add(2 * e.grace)) {
			e.want(h + 1 + min(h+1, 3))
		}
	}
	e.want(12+3, "unsigned "+x.fileKey(5, 0))
}

// TestAdvForgedDigestOfAnotherTrail: a forged digest naming a trail that
// does not exist, dated years ahead, listed and reported bad_signature,
// does not make a live chain that holds every file forever.
func TestAdvForgedDigestOfAnotherTrail(t *testing.T) {
	a := &advTrail{t: t, name: "a", files: 1}
	x := &advTrail{t: t, name: "x", files: 1}
	e := newAdvEnv(t)
	forged := trailgen.DigestKey("", "", acct, region, "ghost", region, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), false)
	e.read(x.fileKey(0, 0), x.fileTime(0, 0), []byte("injected"))
	for h := range 4 {
		e.read(a.fileKey(h, 0), a.fileTime(h, 0), a.content(h, 0))
		a.sign(h, nil)
	}
	dk, _ := ParseDigestKey(forged)
	e.restart()
	e.s.Announce(forged, dk.End)
	e.s.MarkInvalid(forged, "forged", dk.End.Add(-time.Hour), dk.End, nil)
	for _, d := range a.ds {
		e.digest(d, a.ds...)
	}
	e.want(4, "unsigned "+x.fileKey(0, 0))
}
