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
// change), with a restart (saved as a snapshot and journal, loaded back)
// before every step.
type advEnv struct {
	t       *testing.T
	s       *FolderState
	deleted map[string]bool // log keys deleted from the bucket
	checks  []string        // log keys whose existence was checked (overdue)
	// failChecks is the number of next checks that fail (Unknown).
	failChecks int
	findings   []string // "status key"
	verified   int
	grace      time.Duration
	window     time.Duration
	// snapshot and journal are the state saved (see restart).
	snapshot []byte
	journal  [][]byte
	// published are the digests in the bucket (processed, or forged), which
	// the lookups of stale files read; lookups the keys looked up;
	// failLookups the number of next lookups that fail; abandoned the stale
	// files given up.
	published   []CoveringDigest
	listed      []map[string]string // the files each published digest lists, with their hashes
	lookups     []string
	failLookups int
	abandoned   []string
}

func newAdvEnv(t *testing.T) *advEnv {
	s := NewFolderState()
	s.TrackChanges()
	return &advEnv{t: t, s: s, deleted: map[string]bool{}, grace: time.Hour, window: 48 * time.Hour}
}

// restart saves the state as the receiver does (the changes since the
// last step appended to a journal, a snapshot every few steps) and loads
// it back (snapshot, then the journal replayed), checking that the state
// loaded is the state saved.
func (e *advEnv) restart() {
	want, err := json.Marshal(e.s)
	if err != nil {
		e.t.Fatal(err)
	}
	if c := e.s.Changed(); c != nil {
		b, err := json.Marshal(c)
		if err != nil {
			e.t.Fatal(err)
		}
		e.journal = append(e.journal, b)
	}
	if len(e.journal) >= 5 {
		e.snapshot, e.journal = want, nil
	}
	s := &FolderState{}
	if e.snapshot != nil {
		if err := json.Unmarshal(e.snapshot, s); err != nil {
			e.t.Fatal(err)
		}
	}
	s.init()
	for _, b := range e.journal {
		var c Changes
		if err := json.Unmarshal(b, &c); err != nil {
			e.t.Fatal(err)
		}
		s.Apply(&c)
	}
	got, err := json.Marshal(s)
	if err != nil {
		e.t.Fatal(err)
	}
	if string(got) != string(want) {
		e.t.Fatalf("the state loaded from the snapshot and journal differs from the state saved:\n got %s\nwant %s", got, want)
	}
	s.TrackChanges()
	e.s = s
}

func (e *advEnv) collect(o Outcome) {
	e.verified += o.FilesVerified
	for _, f := range o.Findings {
		e.findings = append(e.findings, f.Status+" "+f.Key)
	}
	sw := e.s.Sweep(e.grace, e.window)
	for _, o := range sw.Overdue {
		// The receiver's HeadObject.
		res := Exists
		switch {
		case e.failChecks > 0:
			e.failChecks--
			res = Unknown
		case e.deleted[o.Key]:
			res = Gone
		}
		e.checks = append(e.checks, o.Key)
		c, _ := e.s.Confirm(o, res, e.grace, e.window)
		sw.Findings = append(sw.Findings, c.Findings...)
	}
	for _, f := range sw.Stale {
		// The receiver's lookup: the digests whose end is near the file's time.
		e.lookups = append(e.lookups, f.Key)
		var l Lookup
		if e.failLookups > 0 {
			e.failLookups--
			l.Failed = true
		} else {
			from, to := f.DigestEnds(e.grace)
			for i, d := range e.published {
				if !d.End.Before(from) && !d.End.After(to) {
					d.Hash, d.Listed = e.listed[i][f.Key]
					l.Digests = append(l.Digests, d)
				}
			}
		}
		r, kept := e.s.Resolve(f, l, e.grace, e.window)
		e.verified += r.FilesVerified
		sw.Findings = append(sw.Findings, r.Findings...)
		if !kept {
			e.abandoned = append(e.abandoned, f.Key)
		}
	}
	for _, f := range sw.Abandoned {
		e.abandoned = append(e.abandoned, f.Key)
	}
	for _, f := range sw.Findings {
		e.findings = append(e.findings, f.Status+" "+f.Key)
	}
}

// publish puts a digest in the bucket, for the lookups of stale files.
func (e *advEnv) publish(key string, start, end time.Time, invalid bool, files []LogFile) {
	for i, d := range e.published {
		if d.Key == key {
			// Written over (the genuine digest over a forgery).
			e.published = append(e.published[:i:i], e.published[i+1:]...)
			e.listed = append(e.listed[:i:i], e.listed[i+1:]...)
			break
		}
	}
	m := map[string]string{}
	for _, f := range files {
		m[f.S3Object] = f.HashValue
	}
	e.published = append(e.published, CoveringDigest{Key: key, Start: start, End: end, Invalid: invalid})
	e.listed = append(e.listed, m)
}

// list announces digests as polling does: it lists a day of digests
// before processing them.
func (e *advEnv) list(ds ...trailgen.SignedDigest) {
	e.restart()
	for _, d := range ds {
		dk, _ := ParseDigestKey(d.Key)
		e.s.Announce(d.Key, dk.End)
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
	e.publish(sd.Key, sd.Digest.Start, sd.Digest.End, false, sd.Digest.LogFiles)
	if e.s.Processed(sd.Key, sd.Signature) { // the signature stands for the object's ETag
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

// deliver has the trails deliver their files of hours [0, hours), read as
// they come, and sign the digest of each hour.
func (e *advEnv) deliver(hours int, trails ...*advTrail) {
	for h := range hours {
		for _, tr := range trails {
			for i := range tr.files {
				e.read(tr.fileKey(h, i), tr.fileTime(h, i), tr.content(h, i))
			}
			tr.sign(h, nil)
		}
	}
}
