package awscloudtrailreceiver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"testing"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"
)

// BenchmarkIntegrityFileRead measures what integrity validation adds to
// the reading of one log file of 250 records: the SHA-256 fed while
// streaming, then the folder's state change, sweep and save
// (verifier.conclude, to the in-memory storage), in a steady folder (40
// files an hour, 48h window). Each iteration reads a file without
// integrity, with it, and with it saving the whole state as the receiver
// did before the journal (issue #14), in rotating order; journal_% and
// whole_% are the medians over iterations of the extra time over the
// plain read, measured in this same run.
func BenchmarkIntegrityFileRead(b *testing.B) {
	const perHour = 40
	g := trailgen.New(1, journalPrefix.Account, journalPrefix.Region)
	recs := make([]map[string]any, 250)
	for i := range recs {
		recs[i] = g.Record(t0.Add(time.Duration(i) * time.Second))
	}
	gz := trailgen.LogFile(recs, true)
	r := objectreader.New(objectreader.Options{MaxBatchRecords: 1000, Mapper: mapping.New(ctattr.DefaultNormalServices, false), ScopeName: "bench"})
	readFile := func(h hash.Hash) {
		obj := objectreader.Object{Bucket: "b", Key: "k", Account: journalPrefix.Account, Region: journalPrefix.Region, Hash: h}
		if st, err := r.Read(bytes.NewReader(gz), obj, 0, func(objectreader.Batch) error { return nil }); err != nil || st.Records != len(recs) {
			b.Fatalf("read %d records, %v", st.Records, err)
		}
	}
	st := memstorage.New()
	e := newJournalEnv(b, st.Client(""))
	hourFiles := map[string]string{}
	n := 0
	// next records the next file of the folder (a digest every perHour files).
	next := func(h hash.Hash, whole bool) {
		hr, i := n/perHour, n%perHour
		n++
		k, at := journalFile(hr, i)
		sum := hex.EncodeToString(h.Sum(nil))
		hourFiles[k] = sum
		if !whole {
			e.read(k, at, sum)
		} else {
			e.f.mu.Lock()
			e.f.state.FileRead("b", k, at, sum)
			e.f.state.Sweep(e.v.cfg.GracePeriod, e.v.cfg.Window)
			e.f.state.ResetChanges()
			v, err := json.Marshal(e.f.state)
			if err == nil {
				err = e.v.client.Set(context.Background(), stateKey(e.f.id), v)
			}
			e.f.mu.Unlock()
			if err != nil {
				b.Fatal(err)
			}
		}
		if i == perHour-1 {
			e.digest(hr, hourFiles)
			hourFiles = map[string]string{}
		}
	}
	for n < 50*perHour { // the window filled
		h := sha256.New()
		readFile(h)
		next(h, false)
	}
	timed := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	var journal, whole []float64
	it := 0
	for b.Loop() {
		var plain, j, w time.Duration
		steps := []func(){
			func() { plain = timed(func() { readFile(nil) }) },
			func() { j = timed(func() { h := sha256.New(); readFile(h); next(h, false) }) },
			func() { w = timed(func() { h := sha256.New(); readFile(h); next(h, true) }) },
		}
		for s := range steps {
			steps[(s+it)%len(steps)]()
		}
		journal = append(journal, j.Seconds()/plain.Seconds()-1)
		whole = append(whole, w.Seconds()/plain.Seconds()-1)
		it++
	}
	slices.Sort(journal)
	slices.Sort(whole)
	b.ReportMetric(100*journal[len(journal)/2], "journal_%")
	b.ReportMetric(100*whole[len(whole)/2], "whole_%")
}
