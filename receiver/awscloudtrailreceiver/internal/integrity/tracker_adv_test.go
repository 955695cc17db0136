package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestAdvOutOfOrderDigests: in SQS mode digests may be handled in any
// order (several workers, redelivery). An untouched chain must raise
// nothing, whatever the order.
func TestAdvOutOfOrderDigests(t *testing.T) {
	orders := [][]int{{0, 2, 1, 3}, {2, 0, 1, 3}, {3, 2, 1, 0}, {0, 1, 3, 2}}
	for _, order := range orders {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			tr := &advTrail{t: t, name: "my_trail", files: 1}
			for h := range 4 {
				tr.sign(h, nil)
			}
			e := newAdvEnv(t)
			for h := range 4 {
				e.read(tr.fileKey(h, 0), tr.fileTime(h, 0), tr.content(h, 0))
			}
			for _, i := range order {
				e.digest(tr.ds[i], tr.ds...)
			}
			e.want(4)
		})
	}
}

// TestAdvOutOfOrderDigestsStillDetect: a late digest whose previous digest
// was modified is still reported when digests come out of order.
func TestAdvOutOfOrderDigestsStillDetect(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 0}
	for h := range 3 {
		tr.sign(h, [][2]int{})
	}
	kp, _ := keys(t)
	// ds[0] replaced in the bucket by another digest signed at its place
	// (the chain names the original's hash and signature).
	fake, err := kp[0].Sign(trailgen.DigestSpec{Bucket: bucket, Key: tr.ds[0].Key, Account: acct, Start: t0.Add(-time.Minute), End: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e := newAdvEnv(t)
	e.digest(tr.ds[2], tr.ds[1])
	e.digest(tr.ds[1], fake)
	e.want(0, "chain_broken "+tr.ds[1].Key)
}

// TestAdvReReadModifiedAfterVerification: a file verified, then modified
// in the bucket and read again (a restart before its checkpoint was saved,
// or a lookback re-read) delivers the modified records: that must be
// reported.
func TestAdvReReadModifiedAfterVerification(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 1}
	d := tr.sign(0, nil)
	e := newAdvEnv(t)
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	e.digest(d)
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), []byte(`{"Records":[]}`))
	e.want(1, "modified "+tr.fileKey(0, 0))
}

// TestAdvReReadUnchangedAfterVerification: the same re-read of an
// untouched file raises nothing.
func TestAdvReReadUnchangedAfterVerification(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 1}
	d := tr.sign(0, nil)
	e := newAdvEnv(t)
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	e.digest(d)
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	e.digest(d)
	e.want(1)
}

// TestAdvLateFiles: files delivered after the digest of their hour (listed
// by the next digest), and a digest processed after the next one's files
// were read, raise nothing.
func TestAdvLateFiles(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 2}
	tr.sign(0, [][2]int{{0, 0}})         // file (0,1) late:
	tr.sign(1, [][2]int{{0, 1}, {1, 0}}) // listed by the next digest
	tr.sign(2, [][2]int{{1, 1}, {2, 0}, {2, 1}})
	tr.sign(3, [][2]int{})
	e := newAdvEnv(t)
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	e.digest(tr.ds[0])
	e.read(tr.fileKey(1, 0), tr.fileTime(1, 0), tr.content(1, 0))
	e.digest(tr.ds[1], tr.ds...) // lists (0,1) before it is read
	e.read(tr.fileKey(0, 1), tr.fileTime(0, 1), tr.content(0, 1))
	e.read(tr.fileKey(2, 0), tr.fileTime(2, 0), tr.content(2, 0))
	e.read(tr.fileKey(2, 1), tr.fileTime(2, 1), tr.content(2, 1))
	e.read(tr.fileKey(1, 1), tr.fileTime(1, 1), tr.content(1, 1))
	e.digest(tr.ds[2], tr.ds...)
	e.digest(tr.ds[3], tr.ds...)
	e.want(6)
}

// TestAdvNoActivity: a quiet trail delivers digests with logFiles []; a
// long quiet chain raises nothing and keeps its link.
func TestAdvNoActivity(t *testing.T) {
	tr := &advTrail{t: t, name: "quiet_trail", files: 0}
	e := newAdvEnv(t)
	for h := range 72 {
		e.digest(tr.sign(h, [][2]int{}), tr.ds...)
	}
	e.want(0)
	if len(e.s.Links) != 1 || len(e.s.Digests) > 50 || len(e.s.Spans) > 50 {
		t.Fatalf("links %d digests %d spans %d", len(e.s.Links), len(e.s.Digests), len(e.s.Spans))
	}
}

// TestAdvStateBounded: a busy folder (20 files an hour) over four days keeps
// no more than the window's worth of entries.
func TestAdvStateBounded(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 20}
	e := newAdvEnv(t)
	e.window = 4 * time.Hour
	maxSize := 0
	for h := range 96 {
		for i := range tr.files {
			sum := sha256.Sum256(tr.content(h, i))
			e.collect(e.s.FileRead(bucket, tr.fileKey(h, i), tr.fileTime(h, i), hex.EncodeToString(sum[:])))
		}
		e.digest(tr.sign(h, nil), tr.ds...)
		b, _ := json.Marshal(e.s)
		maxSize = max(maxSize, len(b))
		if n := len(e.s.Verified) + len(e.s.Seen) + len(e.s.Expected); n > 6*tr.files {
			t.Fatalf("hour %d: %d file entries for a window of 4h", h, n)
		}
	}
	e.want(96 * 20)
	t.Logf("largest state: %d bytes", maxSize)
}

// TestAdvVerifiedEarlierFormat: a state saved before verified files kept
// their hash still loads; such files are not checked again.
func TestAdvVerifiedEarlierFormat(t *testing.T) {
	var s FolderState
	if err := json.Unmarshal([]byte(`{"verified":{"b/k":"2026-11-20T10:00:00Z"}}`), &s); err != nil {
		t.Fatal(err)
	}
	if v := s.Verified["b/k"]; v.Hash != "" || !v.Time.Equal(t0) {
		t.Fatalf("verified %+v", v)
	}
	if o := s.FileRead("b", "k", t0, "other"); len(o.Findings) != 0 {
		t.Fatalf("findings %+v", o.Findings)
	}
}

// TestAdvFutureDatedInjectedFile: a file injected with a name far in the
// future (its time is read from the name) must not move the state's clock:
// the window would expire every expectation, and a file modified later
// would go unreported.
func TestAdvFutureDatedInjectedFile(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 2}
	d0 := tr.sign(0, nil)
	e := newAdvEnv(t)
	e.digest(d0)
	e.read(trailgen.Key("", "", acct, "CloudTrail", region, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), "future"), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), []byte("injected"))
	e.read(tr.fileKey(0, 0), tr.fileTime(0, 0), tr.content(0, 0))
	e.read(tr.fileKey(0, 1), tr.fileTime(0, 1), []byte(`{"Records":[]}`))
	e.want(1, "modified "+tr.fileKey(0, 1))
}

// TestAdvForgedDigestWideRange: a forged digest (reported bad_signature)
// claiming a range of years must not make every file read look covered by
// digests: files whose genuine digest has not come yet are not unsigned.
func TestAdvForgedDigestWideRange(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 1}
	for h := range 3 {
		tr.sign(h, nil)
	}
	e := newAdvEnv(t)
	for h := range 3 {
		e.read(tr.fileKey(h, 0), tr.fileTime(h, 0), tr.content(h, 0))
	}
	forgedKey := trailgen.DigestKey("", "", acct, region, "t", region, t0.Add(30*24*time.Hour), false)
	e.restart()
	e.s.MarkInvalid(forgedKey, "forged", t0.Add(-365*24*time.Hour), t0.Add(30*24*time.Hour), nil)
	e.collect(Outcome{})
	for _, d := range tr.ds {
		e.digest(d, tr.ds...)
	}
	e.want(3)
}

// TestAdvNoDigestsStateBounded: a folder whose trail has no log file
// validation (no digest ever comes) keeps no more than a window of the
// files read, and a file named years ahead does not expire the others.
func TestAdvNoDigestsStateBounded(t *testing.T) {
	tr := &advTrail{t: t, name: "t", files: 10}
	e := newAdvEnv(t)
	e.window = 4 * time.Hour
	e.read(trailgen.Key("", "", acct, "CloudTrail", region, time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), "future"), time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), []byte("injected"))
	for h := range 48 {
		for i := range tr.files {
			e.read(tr.fileKey(h, i), tr.fileTime(h, i), tr.content(h, i))
		}
		if n := len(e.s.Seen); h >= 4 && (n > 6*tr.files || n < 4*tr.files) {
			t.Fatalf("hour %d: %d files kept for a window of 4h", h, n)
		}
	}
	e.want(0)
}
