package integrity

import (
	"fmt"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// Files read once their time is older than the window (issue #14): their
// digests are looked up (advEnv.collect does what the receiver does, with
// a restart before every step).

// runHours has tr deliver and sign hours [from, to), each file read as it
// comes; the hours skip reports are not delivered (logging off).
func runHours(e *advEnv, tr *advTrail, from, to int, skip func(h int) bool) {
	for h := from; h < to; h++ {
		if skip != nil && skip(h) {
			continue
		}
		for i := range tr.files {
			e.read(tr.fileKey(h, i), tr.fileTime(h, i), tr.content(h, i))
		}
		e.digest(tr.sign(h, nil), tr.ds...)
	}
}

// TestStaleFileLookup: 60 hours on the trail's clock after hour 1 (the
// window is 48h), a file of hour 1 is read (an SQS notification of an
// object created or written over, a backfill): genuine it is verified
// again, modified it is reported modified, injected it is reported
// unsigned; in hours no digest covers (no trail with validation then)
// nothing is concluded. Each is looked up once.
func TestStaleFileLookup(t *testing.T) {
	tr0 := &advTrail{name: "a", files: 1}
	old, oldTime := tr0.fileKey(1, 0), tr0.fileTime(1, 0)
	injectedTime := t0.Add(time.Hour + 30*time.Minute)
	injected := trailgen.Key("", "", acct, "CloudTrail", region, injectedTime, "injected")
	for _, tt := range []struct {
		name     string
		key      string
		at       time.Time
		content  []byte
		gap      bool // hours 0 to 3 not delivered, no digest
		verified int
		want     []string
	}{
		{"genuine", old, oldTime, tr0.content(1, 0), false, 63, nil},
		{"modified", old, oldTime, []byte(`{"Records":[]}`), false, 62, []string{"modified " + old}},
		{"damaged", old, oldTime, nil, false, 62, []string{"modified " + old}},
		{"injected", injected, injectedTime, []byte("x"), false, 62, []string{"unsigned " + injected}},
		{"injected where no digest covers", injected, injectedTime, []byte("x"), true, 58, nil},
		{"unsigned where no digest covers", old, oldTime, tr0.content(1, 0), true, 58, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := &advTrail{t: t, name: "a", files: 1}
			e := newAdvEnv(t)
			runHours(e, tr, 0, 60, func(h int) bool { return tt.gap && h < 4 })
			if tt.content == nil {
				e.restart()
				e.collect(e.s.FileRead(bucket, tt.key, tt.at, ""))
			} else {
				e.read(tt.key, tt.at, tt.content)
			}
			if fmt.Sprint(e.lookups) != fmt.Sprint([]string{tt.key}) {
				t.Fatalf("lookups %q, want one of %s", e.lookups, tt.key)
			}
			runHours(e, tr, 60, 62, nil)
			e.want(tt.verified, tt.want...)
			if len(e.lookups) != 1 || len(e.s.Seen) != 0 || len(e.abandoned) != 0 {
				t.Fatalf("lookups %q, seen %v, abandoned %q", e.lookups, e.s.Seen, e.abandoned)
			}
		})
	}
}

// TestStaleLookupFailures: the lookups of an injected old file fail (S3
// throttling, access denied on the digest folder, keys not fetched): no
// finding is made from a failed lookup; retries back off on the trail's
// clock and are bounded, then the file is given up (the receiver logs and
// counts it); with the state saved and loaded before every step. A lookup
// that succeeds after failures reports it once.
func TestStaleLookupFailures(t *testing.T) {
	for _, tt := range []struct {
		fails int
		want  []string
	}{
		{1 << 30, nil},
		{2, []string{"unsigned injected"}},
		{maxLookupFails - 1, []string{"unsigned injected"}},
	} {
		t.Run(fmt.Sprint(tt.fails), func(t *testing.T) {
			tr := &advTrail{t: t, name: "a", files: 1}
			e := newAdvEnv(t)
			runHours(e, tr, 0, 60, nil)
			at := t0.Add(time.Hour + 30*time.Minute)
			x := trailgen.Key("", "", acct, "CloudTrail", region, at, "injected")
			e.failLookups = tt.fails
			e.read(x, at, []byte("x"))
			// Many changes of the state, over enough of the trail's time for
			// every retry (backoff up to the window each).
			runHours(e, tr, 60, 60+48*maxLookupFails, nil)
			var got []string
			for _, f := range e.findings {
				got = append(got, f[:len("unsigned ")]+"injected")
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("findings %q, want %q", e.findings, tt.want)
			}
			n := min(tt.fails+1, maxLookupFails)
			if len(e.lookups) != n {
				t.Fatalf("%d lookups, want %d", len(e.lookups), n)
			}
			if abandoned := tt.fails >= maxLookupFails; abandoned != (len(e.abandoned) == 1) {
				t.Fatalf("abandoned %q", e.abandoned)
			}
			if len(e.s.Seen) != 0 {
				t.Fatalf("seen %v", e.s.Seen)
			}
		})
	}
}

// TestStaleBounded: more stale files than a folder keeps (injected old
// files whose lookups fail): the state keeps maxStale, gives up the others
// (reported to the caller), and asks for at most maxLookups per sweep.
func TestStaleBounded(t *testing.T) {
	s := NewFolderState()
	s.Newest = t0.Add(100 * time.Hour)
	for i := range maxStale + 10 {
		s.FileRead(bucket, fmt.Sprintf("old%05d", i), t0.Add(time.Duration(i)*time.Second), "h")
	}
	o := s.Sweep(time.Hour, 48*time.Hour)
	if len(o.Abandoned) != 10 || len(o.Stale) != maxLookups || len(s.Seen) != maxStale {
		t.Fatalf("abandoned %d, stale %d, seen %d", len(o.Abandoned), len(o.Stale), len(s.Seen))
	}
	if o.Abandoned[0].Key != fmt.Sprintf("old%05d", maxStale) || o.Stale[0].Key != "old00000" {
		t.Fatalf("abandoned from %s, looked up from %s: want the newest given up, the oldest looked up first", o.Abandoned[0].Key, o.Stale[0].Key)
	}
	for _, f := range o.Stale {
		if _, kept := s.Resolve(f, Lookup{Failed: true}, time.Hour, 48*time.Hour); !kept {
			t.Fatal("given up after one failure")
		}
	}
	// Those that failed wait for their retry: the next ones are asked for.
	o = s.Sweep(time.Hour, 48*time.Hour)
	if len(o.Stale) != maxLookups || o.Stale[0].Key != fmt.Sprintf("old%05d", maxLookups) || len(o.Abandoned) != 0 {
		t.Fatalf("stale %d from %s, abandoned %d", len(o.Stale), o.Stale[0].Key, len(o.Abandoned))
	}
}

// TestStaleForgedDigest: an old file that only a digest failing
// verification lists is vouched for (the bad_signature finding covers it),
// not reported unsigned; an old file that a verified digest lists is
// compared with it, whatever a forged digest of another trail says.
func TestStaleForgedDigest(t *testing.T) {
	tr := &advTrail{t: t, name: "a", files: 1}
	e := newAdvEnv(t)
	at := t0.Add(time.Hour + 30*time.Minute)
	x := trailgen.Key("", "", acct, "CloudTrail", region, at, "injected")
	forged := e.forge("ghost", t0.Add(2*time.Hour), x, tr.fileKey(1, 0))
	runHours(e, tr, 0, 60, nil)
	e.read(x, at, []byte("x"))
	e.read(tr.fileKey(1, 0), tr.fileTime(1, 0), []byte("modified"))
	e.want(60, "bad_signature "+forged, "modified "+tr.fileKey(1, 0))
}
