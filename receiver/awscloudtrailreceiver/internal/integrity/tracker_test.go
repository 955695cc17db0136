package integrity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestFolderState drives the per-folder tracking through the orders in
// which files and digests arrive, with a restart (JSON round trip) between
// every step, and checks the findings, by status and key.
func TestFolderState(t *testing.T) {
	kp, _ := keys(t)
	end := t0.Add(time.Hour)
	content := map[string][]byte{"a": []byte(`{"Records":[{"eventID":"a"}]}`), "b": []byte(`{"Records":[{"eventID":"b"}]}`)}
	fkey := func(n string) string {
		return trailgen.Key("", "", acct, "CloudTrail", region, end.Add(-30*time.Minute), n)
	}
	hash := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	mkDigest := func(end time.Time, prev *trailgen.SignedDigest, names ...string) trailgen.SignedDigest {
		spec := trailgen.DigestSpec{Bucket: bucket, Key: trailgen.DigestKey("", "", acct, region, "t", region, end, false), Account: acct, Start: end.Add(-time.Hour), End: end, Previous: prev}
		for _, n := range names {
			spec.LogFiles = append(spec.LogFiles, trailgen.DigestLogFile{Bucket: bucket, Key: fkey(n), Content: content[n]})
		}
		d, err := kp[0].Sign(spec)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d1 := mkDigest(end, nil, "a", "b")
	d2 := mkDigest(end.Add(time.Hour), &d1)
	d4 := mkDigest(end.Add(3*time.Hour), &d2)
	fileTime := end.Add(-30 * time.Minute)

	type step struct {
		read   string // file read, with its content (or "x:" + name for modified content, "!" + name for damaged)
		digest *trailgen.SignedDigest
		exists map[string]bool // for unseen files of a digest (default true)
		gone   string
		sweep  bool
	}
	read := func(n string) step { return step{read: n} }
	apply := func(d trailgen.SignedDigest) step { return step{digest: &d} }
	sweep := func(time.Time) step { return step{sweep: true} }
	tests := []struct {
		name     string
		steps    []step
		want     []string // "status key-name"
		verified int
	}{
		{"files read, then their digest", []step{read("a"), read("b"), apply(d1), sweep(end.Add(3 * time.Hour))}, nil, 2},
		{"digest first, then the files", []step{apply(d1), read("a"), read("b"), apply(d2), sweep(end.Add(3 * time.Hour))}, nil, 2},
		{"modified before reading", []step{read("x:a"), read("b"), apply(d1)}, []string{"modified a"}, 1},
		{"modified after the digest", []step{apply(d1), read("a"), read("x:b")}, []string{"modified b"}, 1},
		{"damaged file", []step{apply(d1), read("!a"), read("b")}, []string{"modified a"}, 1},
		{"deleted before the digest came", []step{read("a"), {digest: &d1, exists: map[string]bool{"b": false}}}, []string{"missing b"}, 1},
		{"deleted between digest and read", []step{apply(d1), read("a"), {gone: "b"}}, []string{"missing b"}, 1},
		{"injected file: no digest lists it", []step{read("a"), read("b"), read("c"), apply(d1), sweep(end), apply(d2), apply(d4), sweep(end.Add(4 * time.Hour))}, []string{"unsigned c"}, 2},
		{"digests processed out of order (SQS): no alarm before the file's hours are covered", []step{read("a"), read("b"), read("c"), apply(d4), sweep(end.Add(4 * time.Hour))}, nil, 0},
		{"no false alarm before the grace period", []step{read("a"), read("b"), read("c"), apply(d1), sweep(end.Add(2 * time.Hour))}, nil, 2},
		{"no digests at all (validation off): nothing", []step{read("a"), read("c"), sweep(end.Add(5 * time.Hour))}, nil, 0},
		{"file read again after its verification (restart)", []step{read("a"), read("b"), apply(d1), read("a"), apply(d4), sweep(end.Add(4 * time.Hour))}, nil, 2},
		{"digest applied again is skipped", []step{read("a"), read("b"), apply(d1), apply(d1)}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewFolderState()
			var got []string
			verified := 0
			names := map[string]string{fkey("a"): "a", fkey("b"): "b", fkey("c"): "c"}
			collect := func(o Outcome) {
				verified += o.FilesVerified
				for _, f := range o.Findings {
					got = append(got, f.Status+" "+names[f.Key])
				}
			}
			for _, st := range tt.steps {
				// A restart between every step: the state goes through JSON.
				b, err := json.Marshal(s)
				if err != nil {
					t.Fatal(err)
				}
				s = &FolderState{}
				if err := json.Unmarshal(b, s); err != nil {
					t.Fatal(err)
				}
				switch {
				case st.read != "":
					n, c := st.read, []byte(nil)
					h := ""
					switch n[0] {
					case 'x':
						n = n[2:]
						h = hash(append([]byte(" "), content[n]...))
					case '!':
						n = n[1:]
					default:
						c = content[n]
						if c == nil {
							c = []byte("injected")
						}
						h = hash(c)
					}
					collect(s.FileRead(bucket, fkey(n), fileTime, h))
				case st.digest != nil:
					sd := signed(t, *st.digest)
					if s.Processed(sd.Key, sd.Signature) {
						continue
					}
					dk, _ := ParseDigestKey(sd.Key)
					o, unseen := s.ApplyDigest(sd, dk)
					collect(o)
					for _, f := range unseen {
						if ex, ok := st.exists[names[f.S3Object]]; ok && !ex {
							collect(Outcome{Findings: []Finding{Missing(f.S3Bucket, f.S3Object, sd.Key, sd.Digest.Start, sd.Digest.End)}})
							continue
						}
						s.Expect(f, sd)
					}
				case st.gone != "":
					collect(s.FileGone(bucket, fkey(st.gone)))
				case st.sweep:
					collect(s.Sweep(time.Hour, 48*time.Hour))
				}
			}
			sort.Strings(got)
			if len(got) != len(tt.want) || verified != tt.verified {
				t.Fatalf("findings %v (verified %d), want %v (verified %d)", got, verified, tt.want, tt.verified)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("findings %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestFolderStateWindow checks that every entry expires after the window.
func TestFolderStateWindow(t *testing.T) {
	s := NewFolderState()
	ft := t0
	s.FileRead(bucket, "k1", ft, "h")
	s.Expected["b/k2"] = Expected{Hash: "h", End: ft}
	s.Verified["b/k3"] = VerifiedFile{Time: ft}
	s.Digests["d"] = ft
	s.Latest = ft.Add(49 * time.Hour)
	// The file read and not listed is stale: it leaves once its digests
	// were looked up (none found here).
	o := s.Sweep(time.Hour, 48*time.Hour)
	if len(o.Stale) != 1 || o.Stale[0].Key != "k1" {
		t.Fatalf("stale %+v, want k1", o.Stale)
	}
	if r, kept := s.Resolve(o.Stale[0], Lookup{}, time.Hour, 48*time.Hour); !kept || len(r.Findings) != 0 {
		t.Fatalf("resolved %+v (kept %v)", r, kept)
	}
	if len(s.Seen)+len(s.Expected)+len(s.Verified)+len(s.Digests) != 0 {
		t.Fatalf("entries left after the window: %+v", s)
	}
}

// TestFolderStateInvalidDigest: the files of a digest that failed
// verification (reported as bad_signature) are not reported again as
// unsigned, whether read before or after it.
func TestFolderStateInvalidDigest(t *testing.T) {
	s := NewFolderState()
	files := []LogFile{{S3Bucket: bucket, S3Object: "a"}, {S3Bucket: bucket, S3Object: "b"}}
	s.FileRead(bucket, "a", t0, "h")
	s.MarkInvalid("d1", "etag", t0, t0.Add(time.Hour), files)
	s.FileRead(bucket, "b", t0, "h")
	s.Spans["d2"] = Span{Start: t0.Add(time.Hour), End: t0.Add(5 * time.Hour)}
	if o := s.Sweep(time.Hour, 48*time.Hour); len(o.Findings) != 0 {
		t.Fatalf("findings %+v", o.Findings)
	}
	if !s.Processed("d1", "etag") {
		t.Fatal("an invalid digest is processed (reported once)")
	}
	if s.Processed("d1", "") || s.Processed("d1", "etag2") {
		t.Fatal("an invalid digest whose object changed (or is not known) is processed again")
	}
}
