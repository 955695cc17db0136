package integrity

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// TestSweepCaches: a state kept in memory across changes (its sweep's
// caches: coverage, the floor of verified files) sweeps exactly as the
// same state loaded afresh, over two trails, 60 hours past the window, with
// injected, modified, deleted and late files and a forged digest.
func TestSweepCaches(t *testing.T) {
	const perHour, hours = 6, 60
	grace, window := time.Hour, 12*time.Hour
	s := NewFolderState()
	s.TrackChanges()
	unsigned, modified := 0, 0
	sweep := func() {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		fresh := &FolderState{}
		require.NoError(t, json.Unmarshal(b, fresh))
		got, want := s.Sweep(grace, window), fresh.Sweep(grace, window)
		for _, o := range []Outcome{got, want} {
			sort.Slice(o.Findings, func(i, j int) bool { return o.Findings[i].Key < o.Findings[j].Key })
		}
		require.Equal(t, want, got)
		for _, f := range got.Findings {
			if f.Status == StatusUnsigned {
				unsigned++
			}
		}
		for _, o := range got.Overdue {
			c, _ := s.Confirm(o, Exists, time.Hour, window)
			fresh.Confirm(o, Exists, time.Hour, window)
			require.Empty(t, c.Findings)
		}
		gb, _ := json.Marshal(s)
		wb, _ := json.Marshal(fresh)
		require.JSONEq(t, string(wb), string(gb))
	}
	file := func(tr string, h, i int) (string, time.Time) {
		at := t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Minute)
		return trailgen.Key("", "", acct, "CloudTrail", region, at, fmt.Sprintf("%s%d", tr, i)), at
	}
	for h := range hours {
		for _, tr := range []string{"management", "data"} {
			for i := range perHour {
				if h%7 == 3 && i == 2 {
					continue // read late, after its digest (expected, then read)
				}
				k, at := file(tr, h, i)
				s.FileRead(bucket, k, at, "h")
				sweep()
			}
			if h%5 == 1 { // injected
				k, at := file(tr+"-injected", h, 1)
				s.FileRead(bucket, k, at, "h")
				sweep()
			}
		}
		for _, tr := range []string{"management", "data"} {
			end := t0.Add(time.Duration(h+1) * time.Hour)
			key := trailgen.DigestKey("", "", acct, region, tr, region, end, false)
			d := Digest{Start: end.Add(-time.Hour), End: end}
			for i := range perHour {
				k, _ := file(tr, h, i)
				hash := "h"
				if h%11 == 4 && i == 0 {
					hash = "other" // modified
				}
				d.LogFiles = append(d.LogFiles, LogFile{S3Bucket: bucket, S3Object: k, HashValue: hash})
			}
			if h%13 == 6 && tr == "data" { // forged
				s.MarkInvalid(key, "etag", d.Start, d.End, d.LogFiles)
				sweep()
				continue
			}
			dk, _ := ParseDigestKey(key)
			sd := Signed{Bucket: bucket, Key: key, Digest: d}
			o, unseen := s.ApplyDigest(sd, dk)
			modified += len(o.Findings)
			for _, f := range unseen {
				s.Expect(f, sd)
			}
			sweep()
			if h%7 == 3 {
				k, at := file(tr, h, 2)
				s.FileRead(bucket, k, at, "h")
				sweep()
			}
		}
	}
	// A file older than the window verified (a backfill read late): it
	// expires at the next sweep.
	k, at := file("backfill", 2, 0)
	sd := Signed{Bucket: bucket, Key: "backfill-digest", Digest: Digest{Start: at.Add(-time.Hour), End: at}}
	s.Expect(LogFile{S3Bucket: bucket, S3Object: k, HashValue: "h"}, sd)
	require.Equal(t, 1, s.FileRead(bucket, k, at, "h").FilesVerified)
	sweep()
	require.NotContains(t, s.Verified, id(bucket, k))
	require.Positive(t, unsigned)
	require.Positive(t, modified)
	require.Less(t, len(s.Verified), 2*perHour*int(window/time.Hour+4), "verified files expire")
}
