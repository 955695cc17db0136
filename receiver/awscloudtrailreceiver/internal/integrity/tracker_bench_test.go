package integrity

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// BenchmarkFolderStateFileRead measures what the receiver does to a
// folder's state for each log file read (record and sweep; with "journal",
// encode the entries it changed, as the receiver saves it; with "whole",
// encode the whole state, as the receiver saved it before the journal),
// in a steady folder of two trails (20 files an hour each, 48h window),
// the files of the current hour waiting for their digests.
func BenchmarkFolderStateFileRead(b *testing.B) {
	for _, save := range []string{"sweep", "journal", "whole"} {
		b.Run(save, func(b *testing.B) { benchFileRead(b, save) })
	}
}

func benchFileRead(b *testing.B, save string) {
	const perHour = 20
	trails := []string{"management", "data"}
	s := NewFolderState()
	s.TrackChanges()
	journal, snapshot := 0, 0 // bytes
	file := func(tr string, h, i int) (string, time.Time) {
		at := t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Minute)
		return trailgen.Key("", "", acct, "CloudTrail", region, at, fmt.Sprintf("%s%d", tr, i)), at
	}
	// digests applies the digests of hour h of every trail.
	digests := func(h int) {
		end := t0.Add(time.Duration(h+1) * time.Hour)
		for _, tr := range trails {
			key := trailgen.DigestKey("", "", acct, region, tr, region, end, false)
			d := Digest{Start: end.Add(-time.Hour), End: end}
			for i := range perHour {
				k, _ := file(tr, h, i)
				d.LogFiles = append(d.LogFiles, LogFile{S3Bucket: bucket, S3Object: k, HashValue: "h"})
			}
			dk, _ := ParseDigestKey(key)
			s.ApplyDigest(Signed{Bucket: bucket, Key: key, Digest: d}, dk)
		}
	}
	read := func(n int) {
		h, i := n/(perHour*len(trails)), n%(perHour*len(trails))
		if i == 0 && h > 0 {
			digests(h - 1)
		}
		k, at := file(trails[i%len(trails)], h, i/len(trails))
		s.FileRead(bucket, k, at, "h")
		s.Sweep(2*time.Hour, 48*time.Hour)
		var v any
		switch save {
		case "sweep":
			return
		case "journal":
			// An entry, and a snapshot when the entries outgrow the last
			// one (as the receiver compacts).
			e, err := json.Marshal(s.Changed())
			if err != nil {
				b.Fatal(err)
			}
			s.ResetChanges()
			if journal += len(e); journal < max(snapshot, 64<<10) {
				return
			}
			v, journal = s, 0
		default:
			v = s
		}
		w, err := json.Marshal(v)
		if err != nil {
			b.Fatal(err)
		}
		snapshot = len(w)
	}
	n := 0
	for ; n < 50*perHour*len(trails); n++ { // the window filled
		read(n)
	}
	b.ResetTimer()
	for range b.N {
		read(n)
		n++
	}
}
