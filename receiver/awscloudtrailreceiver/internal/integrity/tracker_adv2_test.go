package integrity

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// Second adversarial review of the tracker (issue #14): attacks on the
// guarantees through FolderState, driven as the receiver drives it
// (advEnv: a restart before every step, a sweep after every change).

// forge processes, as verifier.processDigest does for a digest whose
// signature does not verify, a forged digest of trail name ending at end
// that lists files: it is reported bad_signature and marked invalid.
func (e *advEnv) forge(name string, end time.Time, files ...string) string {
	key := trailgen.DigestKey("", "", acct, region, name, region, end, false)
	var lfs []LogFile
	for _, f := range files {
		lfs = append(lfs, LogFile{S3Bucket: bucket, S3Object: f, HashValue: "00", HashAlgorithm: "SHA-256"})
	}
	e.restart()
	e.publish(key, end.Add(-time.Hour), end, true, lfs)
	e.s.MarkInvalid(key, "forged", end.Add(-time.Hour), end, lfs)
	e.collect(Outcome{Findings: []Finding{{Status: StatusBadSignature, Key: key}}})
	return key
}

// readModified reads the six hours of tr's files, victim with a content
// other than the one its digest lists.
func readModified(e *advEnv, tr *advTrail, victim string) {
	for h := range 6 {
		for i := range tr.files {
			c := tr.content(h, i)
			if tr.fileKey(h, i) == victim {
				c = []byte(`{"Records":[]}`)
			}
			e.read(tr.fileKey(h, i), tr.fileTime(h, i), c)
		}
	}
}

// TestAdv2ForgedDigestMasksTampering: an attacker who modifies or deletes
// a log file also writes a forged digest (any trail name, any signature)
// that lists it. The forged digest is reported bad_signature, but the
// genuine, validly signed digest still lists the file with its true hash:
// the modification or deletion must be reported too. The forged digest
// must not switch off the check of files that a verified digest lists.
func TestAdv2ForgedDigestMasksTampering(t *testing.T) {
	tr := &advTrail{t: t, name: "a", files: 2}
	for h := range 6 {
		tr.sign(h, nil)
	}
	victim := tr.fileKey(1, 0)
	for _, tt := range []struct {
		name string
		run  func(e *advEnv) (verified int, want []string)
	}{
		{"modified, read, forged, then its digest", func(e *advEnv) (int, []string) {
			readModified(e, tr, victim)
			f := e.forge("ghost", t0.Add(2*time.Hour), victim)
			for _, d := range tr.ds {
				e.digest(d, tr.ds...)
			}
			return 11, []string{"bad_signature " + f, "modified " + victim}
		}},
		{"digest, forged, then modified read", func(e *advEnv) (int, []string) {
			for _, d := range tr.ds[:2] {
				e.digest(d, tr.ds...)
			}
			f := e.forge("ghost", t0.Add(2*time.Hour), victim)
			readModified(e, tr, victim)
			for _, d := range tr.ds[2:] {
				e.digest(d, tr.ds...)
			}
			return 11, []string{"bad_signature " + f, "modified " + victim}
		}},
		{"digest, deleted, forged", func(e *advEnv) (int, []string) {
			// The reader is behind: hour 1 was not read when its digest came.
			for _, d := range tr.ds[:2] {
				e.digest(d, tr.ds...)
			}
			e.deleted[victim] = true
			f := e.forge("ghost", t0.Add(2*time.Hour), victim)
			for h := range 6 {
				for i := range 2 {
					if tr.fileKey(h, i) != victim {
						e.read(tr.fileKey(h, i), tr.fileTime(h, i), tr.content(h, i))
					}
				}
			}
			for _, d := range tr.ds[2:] {
				e.digest(d, tr.ds...)
			}
			return 11, []string{"bad_signature " + f, "missing " + victim}
		}},
		{"forged at the genuine digest's key before CloudTrail writes it", func(e *advEnv) (int, []string) {
			// The forged object is processed (bad_signature), then CloudTrail
			// overwrites it with the genuine digest: that key counts as
			// processed, the genuine digest is never checked.
			var hour []string
			for i := range 2 {
				hour = append(hour, tr.fileKey(1, i))
			}
			readModified(e, tr, victim)
			e.digest(tr.ds[0], tr.ds...)
			f := e.forge("a", t0.Add(2*time.Hour), hour...)
			if f != tr.ds[1].Key {
				t.Fatalf("forged %s, genuine %s", f, tr.ds[1].Key)
			}
			for _, d := range tr.ds[1:] {
				e.digest(d, tr.ds...)
			}
			// The genuine digest of hour 1 is checked: it verifies the
			// other file of that hour (11 of 12, as in the other cases).
			return 11, []string{"bad_signature " + f, "modified " + victim}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newAdvEnv(t)
			verified, want := tt.run(e)
			e.want(verified, want...)
		})
	}
}

// TestAdv2FutureDatedInjectionsStateBounded: files injected with names
// dated years ahead are not reported (a known gap), but each stays in the
// folder's state for ever: the state (saved whole at every change) grows
// with every injection, not bounded by the window. After three windows of
// the trail's own time, none of them may still be kept.
func TestAdv2FutureDatedInjectionsStateBounded(t *testing.T) {
	tr := &advTrail{t: t, name: "a", files: 1}
	e := newAdvEnv(t)
	e.window = 4 * time.Hour
	e.grace = time.Hour
	future := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	const injected = 50
	for i := range injected {
		at := future.Add(time.Duration(i) * time.Minute)
		e.read(trailgen.Key("", "", acct, "CloudTrail", region, at, fmt.Sprintf("future%d", i)), at, []byte("injected"))
	}
	// A forged digest dated in the future listing more files: kept for ever too.
	var listed []string
	for i := range injected {
		listed = append(listed, trailgen.Key("", "", acct, "CloudTrail", region, future, fmt.Sprintf("listed%d", i)))
	}
	forged := e.forge("ghost", future, listed...)
	for h := range 12 {
		e.read(tr.fileKey(h, 0), tr.fileTime(h, 0), tr.content(h, 0))
		e.digest(tr.sign(h, nil), tr.ds...)
	}
	e.want(12, "bad_signature "+forged)
	if n := len(e.s.Seen) + len(e.s.Verified) + len(e.s.Spans) + len(e.s.Invalid) + len(e.s.Digests) + len(e.s.Vouched) + len(e.s.Tags); n > 3*int(e.window/time.Hour)+8 {
		t.Fatalf("after 3 windows: %d entries kept (seen %d, verified %d, spans %d, invalid %d, digests %d, vouched %d, tags %d); the window is 4 one-file hours",
			n, len(e.s.Seen), len(e.s.Verified), len(e.s.Spans), len(e.s.Invalid), len(e.s.Digests), len(e.s.Vouched), len(e.s.Tags))
	}
}

// TestAdv2PastDatedInjection: in SQS mode every object created is read. A
// file injected now with a name dated before the window (the trail's own
// clock) is read, is listed by no digest, and must be reported; it is
// dropped silently instead (the spans that would cover it have expired).
func TestAdv2PastDatedInjection(t *testing.T) {
	tr := &advTrail{t: t, name: "a", files: 1}
	e := newAdvEnv(t)
	for h := range 60 {
		e.read(tr.fileKey(h, 0), tr.fileTime(h, 0), tr.content(h, 0))
		e.digest(tr.sign(h, nil), tr.ds...)
	}
	x := trailgen.Key("", "", acct, "CloudTrail", region, t0.Add(time.Hour+30*time.Minute), "injected")
	e.read(x, t0.Add(time.Hour+30*time.Minute), []byte(`{"Records":[{"eventName":"ConsoleLogin"}]}`))
	for h := 60; h < 64; h++ {
		e.read(tr.fileKey(h, 0), tr.fileTime(h, 0), tr.content(h, 0))
		e.digest(tr.sign(h, nil), tr.ds...)
	}
	e.want(64, "unsigned "+x)
}

// TestAdv2ReReadAtWindowEdge: a verified file read again (an SQS
// notification redelivered, a DLQ redrive, a reader that lists the folder
// again) when it has just left Verified (its time is older than the
// window) while the digest that listed it is still kept: no digest lists
// it any more as far as the state knows, the spans still cover its time,
// and it is reported unsigned on an untouched tree.
func TestAdv2ReReadAtWindowEdge(t *testing.T) {
	tr := &advTrail{t: t, name: "a", files: 2}
	e := newAdvEnv(t)
	for h := range 49 {
		for i := range 2 {
			e.read(tr.fileKey(h, i), tr.fileTime(h, i), tr.content(h, i))
		}
		e.digest(tr.sign(h, nil), tr.ds...)
	}
	if _, ok := e.s.Verified[id(bucket, tr.fileKey(0, 0))]; ok {
		t.Fatalf("setup: %s still verified", tr.fileKey(0, 0))
	}
	// Read again: the same content, untouched. Its digest is looked up
	// (the file is older than the window): it verifies the file again.
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	e.want(49*2 + 1)
}

// TestAdv2OverdueChecksBounded: expected files never read (in SQS mode,
// their notifications go to another collector, which the README names) are
// checked for existence when overdue. When the checks fail (S3 throttling:
// 503 SlowDown, or access denied on HeadObject), every failed check is
// made again at every later change of the folder's state, that is at every
// file read: HeadObject calls grow with files read × files overdue, under
// the folder's lock, for twice the window. They must stay bounded per file.
func TestAdv2OverdueChecksBounded(t *testing.T) {
	tr := &advTrail{t: t, name: "a", files: 4}
	e := newAdvEnv(t)
	e.failChecks = 1 << 30
	const hours = 24
	for h := range hours {
		// This collector gets the notifications of files 0 and 1 only.
		for i := range 2 {
			e.read(tr.fileKey(h, i), tr.fileTime(h, i), tr.content(h, i))
		}
		e.digest(tr.sign(h, nil), tr.ds...)
	}
	others := 2 * hours
	e.want(2 * hours)
	t.Logf("%d HeadObject calls for %d files never read over %d hours", len(e.checks), others, hours)
	if n := len(e.checks); n > 4*others {
		t.Fatalf("%d HeadObject calls for %d files never read over %d hours (%.1f each)", n, others, hours, float64(n)/float64(others))
	}
}

// TestAdv2ThreeTrailsStartStopOutOfOrder: three trails in one folder: a
// runs throughout, b starts at hour 3 and stops after hour 8, c starts at
// hour 6; their digests are handled in SQS order, one trail up to the
// grace period (1h) behind another (the README's bound: a trail handled
// more than grace_period later than the others can be taken as stopped),
// with a restart before every step. Nothing is reported but the two
// injected files, one while b runs, one after it stopped.
func TestAdv2ThreeTrailsStartStopOutOfOrder(t *testing.T) {
	for _, lags := range [][3]int{{0, 0, 0}, {0, 0, 1}, {0, -1, 0}, {1, 0, 0}, {1, 1, 0}} {
		t.Run(fmt.Sprint(lags), func(t *testing.T) {
			a := &advTrail{t: t, name: "a", files: 2}
			b := &advTrail{t: t, name: "b", files: 1}
			c := &advTrail{t: t, name: "c", files: 2}
			x := &advTrail{t: t, name: "x", files: 1}
			trails := []*advTrail{a, b, c}
			live := func(i, h int) bool {
				switch i {
				case 1:
					return h >= 3 && h <= 8
				case 2:
					return h >= 6
				}
				return true
			}
			e := newAdvEnv(t)
			type step struct {
				at int
				d  trailgen.SignedDigest
				tr *advTrail
			}
			var steps []step
			const hours = 14
			files := 0
			for h := range hours {
				for i, tr := range trails {
					if !live(i, h) {
						continue
					}
					for f := range tr.files {
						e.read(tr.fileKey(h, f), tr.fileTime(h, f), tr.content(h, f))
					}
					files += tr.files
					steps = append(steps, step{3*(h+lags[i]) + i, tr.sign(h, nil), tr})
				}
				if h == 4 || h == 10 {
					e.read(x.fileKey(h, 0), x.fileTime(h, 0), []byte("injected"))
				}
			}
			sort.Slice(steps, func(i, j int) bool { return steps[i].at < steps[j].at })
			for _, st := range steps {
				e.digest(st.d, st.tr.ds...)
			}
			e.want(files, "unsigned "+x.fileKey(4, 0), "unsigned "+x.fileKey(10, 0))
		})
	}
}

// TestAdv2DeletedFileChecksDenied: a listed file, expected, is deleted;
// every check of its existence fails (HeadObject answers 403, not 404, for
// a missing key when the identity lacks s3:ListBucket on the log prefix:
// in SQS mode the README asks for s3:ListBucket only on the
// CloudTrail-Digest/ folders). It is retried at every change for twice
// the window, then given up with a warning: the deletion is never
// reported. Something must be (missing, or a finding that the file's
// existence cannot be checked).
func TestAdv2DeletedFileChecksDenied(t *testing.T) {
	tr := &advTrail{t: t, name: "a", files: 2}
	e := newAdvEnv(t)
	e.digest(tr.sign(0, nil))
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	e.deleted[tr.fileKey(0, 1)] = true
	e.failChecks = 1 << 30
	for h := 1; h < 3*int(e.window/time.Hour); h++ {
		for i := range 2 {
			e.read(tr.fileKey(h, i), tr.fileTime(h, i), tr.content(h, i))
		}
		e.digest(tr.sign(h, nil), tr.ds...)
	}
	if len(e.findings) == 0 {
		t.Fatalf("%s deleted, its existence checked %d times (all failed), nothing reported", tr.fileKey(0, 1), len(e.checks))
	}
	t.Logf("checked %d times, findings %q", len(e.checks), e.findings)
}

// TestAdv2BackfillDigestLateFile: a log file delivered late is not listed
// by its hour's digest; CloudTrail lists it in a _backfill digest. Handled
// within the grace period (after the next regular digest), with a restart
// before every step: the file is verified, nothing is reported; modified,
// it is reported modified (not unsigned).
func TestAdv2BackfillDigestLateFile(t *testing.T) {
	for _, modified := range []bool{false, true} {
		t.Run(fmt.Sprint("modified ", modified), func(t *testing.T) {
			tr := &advTrail{t: t, name: "a", files: 1}
			e := newAdvEnv(t)
			late := trailgen.Key("", "", acct, "CloudTrail", region, t0.Add(2*time.Hour+50*time.Minute), "late")
			content := []byte(`{"Records":[{"eventID":"late"}]}`)
			read := content
			if modified {
				read = []byte(`{"Records":[]}`)
			}
			kp, _ := keys(t)
			end := t0.Add(3 * time.Hour)
			spec := trailgen.DigestSpec{Bucket: bucket, Key: trailgen.DigestKey("", "", acct, region, "a", region, end, true), Account: acct,
				Start: end.Add(-time.Hour), End: end,
				LogFiles: []trailgen.DigestLogFile{{Bucket: bucket, Key: late, Content: content}}}
			backfill, err := kp[0].Sign(spec)
			if err != nil {
				t.Fatal(err)
			}
			for h := range 8 {
				e.read(tr.fileKey(h, 0), tr.fileTime(h, 0), tr.content(h, 0))
				if h == 2 {
					e.read(late, t0.Add(2*time.Hour+50*time.Minute), read)
				}
				e.digest(tr.sign(h, nil), tr.ds...)
				if h == 3 {
					e.digest(backfill)
				}
			}
			if modified {
				e.want(8, "modified "+late)
				return
			}
			e.want(9)
		})
	}
}
