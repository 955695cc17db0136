package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// advEnv drives a FolderState as the receiver does (digest: verify chain,
// apply, expect the unseen files that exist; file: read; sweep after every
// change), with a restart (JSON round trip) before every step.
type advEnv struct {
	t        *testing.T
	s        *FolderState
	deleted  map[string]bool // log keys deleted from the bucket
	findings []string        // "status key"
	verified int
	grace    time.Duration
	window   time.Duration
}

func newAdvEnv(t *testing.T) *advEnv {
	return &advEnv{t: t, s: NewFolderState(), deleted: map[string]bool{}, grace: time.Hour, window: 48 * time.Hour}
}

func (e *advEnv) restart() {
	b, err := json.Marshal(e.s)
	if err != nil {
		e.t.Fatal(err)
	}
	e.s = &FolderState{}
	if err := json.Unmarshal(b, e.s); err != nil {
		e.t.Fatal(err)
	}
}

func (e *advEnv) collect(o Outcome) {
	e.verified += o.FilesVerified
	for _, f := range o.Findings {
		e.findings = append(e.findings, f.Status+" "+f.Key)
	}
	sw := e.s.Sweep(e.grace, e.window)
	for _, f := range sw.Findings {
		e.findings = append(e.findings, f.Status+" "+f.Key)
	}
}

func (e *advEnv) read(key string, fileTime time.Time, content []byte) {
	e.restart()
	sum := sha256.Sum256(content)
	e.collect(e.s.FileRead(bucket, key, fileTime, hex.EncodeToString(sum[:])))
}

// digest processes a digest as verifier.processDigest does, the chain
// check included (previous digests are "fetched" from all).
func (e *advEnv) digest(d trailgen.SignedDigest, all ...trailgen.SignedDigest) {
	e.restart()
	sd := signed(e.t, d)
	if e.s.Processed(sd.Key) {
		return
	}
	dk, _ := ParseDigestKey(sd.Key)
	var last *Link
	if l, ok := e.s.Links[dk.Chain()]; ok {
		last = &l
	}
	res, reason := CheckChain(last, sd, dk.Backfill)
	if res == ChainFirst || res == ChainAhead {
		res, reason = ChainBroken, "previous not found"
		for _, p := range all {
			if p.Key == *sd.Digest.PreviousDigestS3Object {
				l := LinkOf(signed(e.t, p))
				res, reason = CheckChain(&l, sd, false)
			}
		}
	}
	var out Outcome
	if res == ChainBroken {
		out.Findings = append(out.Findings, Finding{Status: StatusChainBroken, Key: sd.Key, Reason: reason})
	}
	o, unseen := e.s.ApplyDigest(sd, dk)
	out.Findings = append(out.Findings, o.Findings...)
	out.FilesVerified += o.FilesVerified
	for _, f := range unseen {
		if e.deleted[f.S3Object] {
			out.Findings = append(out.Findings, Missing(f.S3Bucket, f.S3Object, sd.Key, sd.Digest.Start, sd.Digest.End))
			continue
		}
		e.s.Expect(f, sd)
	}
	e.collect(out)
}

func (e *advEnv) want(verified int, findings ...string) {
	e.t.Helper()
	sort.Strings(e.findings)
	sort.Strings(findings)
	if fmt.Sprint(e.findings) != fmt.Sprint(findings) || e.verified != verified {
		e.t.Fatalf("findings %q (verified %d), want %q (verified %d)", e.findings, e.verified, findings, verified)
	}
}

// advTrail signs hourly digests of one trail; file i of hour h has the
// content "trail/h/i".
type advTrail struct {
	t     *testing.T
	name  string
	files int
	ds    []trailgen.SignedDigest
}

func (tr *advTrail) fileKey(h, i int) string {
	return trailgen.Key("", "", acct, "CloudTrail", region, t0.Add(time.Duration(h)*time.Hour+time.Duration(5+i)*time.Minute), fmt.Sprintf("%s%d", tr.name, i))
}

func (tr *advTrail) fileTime(h, i int) time.Time {
	return t0.Add(time.Duration(h)*time.Hour + time.Duration(5+i)*time.Minute)
}

func (tr *advTrail) content(h, i int) []byte {
	return fmt.Appendf(nil, `{"Records":[{"eventID":"%s/%d/%d"}]}`, tr.name, h, i)
}

// sign signs the digest of hour h (ending at t0+h+1h) listing the given
// files as (hour, index) pairs; nil lists the hour's own files.
func (tr *advTrail) sign(h int, files [][2]int) trailgen.SignedDigest {
	tr.t.Helper()
	kp, _ := keys(tr.t)
	end := t0.Add(time.Duration(h+1) * time.Hour)
	if files == nil {
		for i := range tr.files {
			files = append(files, [2]int{h, i})
		}
	}
	spec := trailgen.DigestSpec{Bucket: bucket, Key: trailgen.DigestKey("", "", acct, region, tr.name, region, end, false), Account: acct, Start: end.Add(-time.Hour), End: end}
	for _, f := range files {
		spec.LogFiles = append(spec.LogFiles, trailgen.DigestLogFile{Bucket: bucket, Key: tr.fileKey(f[0], f[1]), Content: tr.content(f[0], f[1])})
	}
	if len(tr.ds) > 0 {
		spec.Previous = &tr.ds[len(tr.ds)-1]
	}
	k := kp[0]
	if !end.Before(kp[1].Start) {
		k = kp[1]
	}
	d, err := k.Sign(spec)
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.ds = append(tr.ds, d)
	return d
}

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

// TestAdvExpectedFileDeletedBeforeListed: a digest is processed while its
// files exist (they are expected), then a file is deleted before the
// reader lists it (it is behind: a backfill, or a slow consumer). The
// reader never sees it, so nothing calls FileGone; the expectation must
// not expire silently.
func TestAdvExpectedFileDeletedBeforeListed(t *testing.T) {
	t.Skip("DEFECT: an expected file (listed by a verified digest, existing at that time) that is deleted before the reader lists it is dropped by Sweep after the window without a finding; the verifier should HEAD expected files that are older than the listing position (or at expiry) and report them missing")
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
	e.s.MarkInvalid(forgedKey, t0.Add(-365*24*time.Hour), t0.Add(30*24*time.Hour), nil)
	e.collect(Outcome{})
	for _, d := range tr.ds {
		e.digest(d, tr.ds...)
	}
	e.want(3)
}
