package objectreader

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/recordstream"
)

var obj = Object{Bucket: "b", Key: "AWSLogs/1/CloudTrail/us-east-1/k.json.gz", Account: "111111111111", Region: "us-east-1"}

func newReader(batch int) *Reader { return newModeReader(batch, BodyMap) }

func newModeReader(batch int, mode BodyMode) *Reader {
	return New(Options{MaxBatchRecords: batch, Mapper: mapping.New(ctattr.DefaultNormalServices, false), ScopeName: "scope", ScopeVersion: "v1", Body: mode})
}

func records(n int) []map[string]any {
	g := trailgen.New(1, "111111111111", "us-east-1")
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = g.Record(time.Date(2026, 11, 20, 10, 0, i, 0, time.UTC))
	}
	return out
}

func ids(batches []Batch) []string {
	var out []string
	for _, b := range batches {
		for i := 0; i < b.Logs.ResourceLogs().Len(); i++ {
			lrs := b.Logs.ResourceLogs().At(i).ScopeLogs().At(0).LogRecords()
			for j := 0; j < lrs.Len(); j++ {
				v, _ := lrs.At(j).Attributes().Get(ctattr.AttrEventID)
				out = append(out, v.Str())
			}
		}
	}
	return out
}

func TestReadBatchesAndSkip(t *testing.T) {
	recs := records(25)
	var want []string
	for _, r := range recs {
		want = append(want, r["eventID"].(string))
	}
	tests := []struct {
		name      string
		body      []byte
		skip      int
		wantNexts []int
	}{
		{name: "gzip", body: trailgen.LogFile(recs, true), wantNexts: []int{10, 20, 25}},
		{name: "plain json", body: trailgen.LogFile(recs, false), wantNexts: []int{10, 20, 25}},
		{name: "resume after 13", body: trailgen.LogFile(recs, true), skip: 13, wantNexts: []int{23, 25}},
		{name: "resume after the end", body: trailgen.LogFile(recs, true), skip: 25},
	}
	forModes(t, func(t *testing.T, mode BodyMode) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var batches []Batch
				var nexts []int
				st, err := newModeReader(10, mode).Read(iotest.HalfReader(bytes.NewReader(tt.body)), obj, tt.skip, func(b Batch) error {
					batches = append(batches, b)
					nexts = append(nexts, b.Next)
					assert.Equal(t, b.Records, b.Normal+b.Low)
					assert.Equal(t, b.Records, b.Logs.LogRecordCount())
					return nil
				})
				require.NoError(t, err)
				assert.Equal(t, tt.wantNexts, nexts)
				got := ids(batches)
				assert.Len(t, got, len(want)-tt.skip)
				if len(got) > 0 {
					assert.Equal(t, want[tt.skip:], got)
				}
				assert.Equal(t, int64(len(tt.body)), st.BytesRead)
				assert.Equal(t, len(want)-tt.skip, st.Records)
				for _, b := range batches {
					rl := b.Logs.ResourceLogs().At(0)
					assert.Equal(t, map[string]any{"cloud.provider": "aws", "cloud.account.id": "111111111111", "cloud.region": "us-east-1"}, rl.Resource().Attributes().AsRaw())
					assert.Equal(t, "scope", rl.ScopeLogs().At(0).Scope().Name())
					lr := rl.ScopeLogs().At(0).LogRecords().At(0)
					assert.Equal(t, "b", lr.Attributes().AsRaw()[ctattr.AttrS3Bucket])
					assert.Equal(t, obj.Key, lr.Attributes().AsRaw()[ctattr.AttrS3Key])
					assert.NotZero(t, lr.ObservedTimestamp())
				}
			})
		}
	})
}

func TestReadGroupsResources(t *testing.T) {
	body := `{"Records":[{"eventID":"a","recipientAccountId":"1","awsRegion":"r1"},{"eventID":"b","recipientAccountId":"2","awsRegion":"r1"},{"eventID":"c","recipientAccountId":"1","awsRegion":"r1"},{"eventID":"d"}]}`
	var got Batch
	_, err := newReader(100).Read(strings.NewReader(body), obj, 0, func(b Batch) error { got = b; return nil })
	require.NoError(t, err)
	rls := got.Logs.ResourceLogs()
	require.Equal(t, 3, rls.Len())
	counts := map[string]int{}
	for i := 0; i < rls.Len(); i++ {
		a := rls.At(i).Resource().Attributes().AsRaw()
		counts[fmt.Sprint(a["cloud.account.id"], "/", a["cloud.region"])] = rls.At(i).ScopeLogs().At(0).LogRecords().Len()
	}
	assert.Equal(t, map[string]int{"1/r1": 2, "2/r1": 1, "111111111111/us-east-1": 1}, counts)
}

// TestReadSkipsRecordsItCannotBuild: elements of Records that are not
// objects, nest too deep or hold numbers out of range are skipped and
// counted by reason with their indexes; the rest of the object is read,
// and resuming after them skips them again.
func TestReadSkipsRecordsItCannotBuild(t *testing.T) {
	good := func(id string) string { return `{"eventID":"` + id + `","eventTime":"2026-11-20T10:00:00Z"}` }
	deep := `{"eventID":"deep","x":` + strings.Repeat(`[`, 300) + strings.Repeat(`]`, 300) + `}`
	body := `{"Records":[` + strings.Join([]string{good("a"), deep, good("b"), `"text"`, `{"eventID":"big","n":1E400}`, good("c")}, ",") + `]}`
	tests := []struct {
		name    string
		skip    int
		want    []string
		skipped map[string]int
		indexes []int
	}{
		{name: "from the start", want: []string{"a", "b", "c"},
			skipped: map[string]int{recordstream.ReasonTooDeep: 1, recordstream.ReasonNotAnObject: 1, recordstream.ReasonNumberOutOfRange: 1},
			indexes: []int{1, 3, 4}},
		{name: "resume after 2", skip: 2, want: []string{"b", "c"},
			skipped: map[string]int{recordstream.ReasonNotAnObject: 1, recordstream.ReasonNumberOutOfRange: 1},
			indexes: []int{3, 4}},
	}
	forModes(t, func(t *testing.T, mode BodyMode) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var batches []Batch
				st, err := newModeReader(100, mode).Read(iotest.HalfReader(strings.NewReader(body)), obj, tt.skip, func(b Batch) error {
					batches = append(batches, b)
					return nil
				})
				require.NoError(t, err)
				assert.Equal(t, tt.want, ids(batches))
				assert.Equal(t, tt.skipped, st.Skipped)
				assert.Equal(t, tt.indexes, st.SkippedIndexes)
				require.Len(t, batches, 1)
				assert.Equal(t, 6, batches[0].Next)
			})
		}
	})
}

func TestReadContentErrors(t *testing.T) {
	good := `{"eventID":"a","eventTime":"2026-11-20T10:00:00Z"}`
	badHeader := devstack.Gzip([]byte(`{"Records":[]}`))
	badHeader[10] = 0xff
	badChecksum := devstack.Gzip([]byte(`{"Records":[` + good + `]}`))
	badChecksum[len(badChecksum)-8] ^= 0xff
	tests := []struct {
		name      string
		body      []byte
		reason    string
		delivered int
	}{
		{name: "corrupt deflate", body: badHeader, reason: ReasonCorruptGzip},
		{name: "checksum", body: badChecksum, reason: ReasonCorruptGzip, delivered: 1},
		{name: "truncated gzip", body: devstack.Gzip([]byte(`{"Records":[` + good + `,` + good + `]}`))[:30], reason: ReasonTruncated},
		{name: "truncated json", body: devstack.Gzip([]byte(`{"Records":[` + good + `,{"eventID":"b"`)), reason: ReasonTruncated, delivered: 1},
		{name: "not cloudtrail", body: []byte(`{"hello":"world"}`), reason: ReasonNotCloudTrail},
		{name: "not json", body: []byte(`<html>`), reason: ReasonNotCloudTrail},
		{name: "empty object", body: []byte{}, reason: ReasonNotCloudTrail},
		{name: "syntax", body: []byte(`{"Records":[` + good + `,{"a":}]}`), reason: ReasonInvalidJSON, delivered: 1},
		{name: "invalid escape in an unmapped member", body: []byte(`{"Records":[` + good + `,{"x":"a\qb"}]}`), reason: ReasonInvalidJSON, delivered: 1},
		{name: "invalid unicode escape in a key", body: []byte(`{"Records":[` + good + `,{"x\u12G4":1}]}`), reason: ReasonInvalidJSON, delivered: 1},
		{name: "control character in a mapped member", body: []byte(`{"Records":[` + good + `,{"eventName":"a` + "\n" + `"}]}`), reason: ReasonInvalidJSON, delivered: 1},
		{name: "invalid number in a nested member", body: []byte(`{"Records":[` + good + `,{"x":{"y":[01]}}]}`), reason: ReasonInvalidJSON, delivered: 1},
		{name: "invalid literal", body: []byte(`{"Records":[` + good + `,{"readOnly":tru}]}`), reason: ReasonInvalidJSON, delivered: 1},
	}
	forModes(t, func(t *testing.T, mode BodyMode) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				delivered := 0
				_, err := newModeReader(100, mode).Read(bytes.NewReader(tt.body), obj, 0, func(b Batch) error { delivered += b.Records; return nil })
				var ce *ContentError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tt.reason, ce.Reason, err.Error())
				assert.True(t, ce.Permanent())
				assert.Equal(t, tt.delivered, delivered, "records before the fault are delivered")
			})
		}
	})
}

func TestReadTransportErrorIsNotPermanent(t *testing.T) {
	body := io.MultiReader(bytes.NewReader(devstack.Gzip([]byte(`{"Records":[{"eventID":"a"},{"eventID":"b"}]}`))[:20]), iotest.ErrReader(errors.New("connection reset")))
	_, err := newReader(100).Read(body, obj, 0, func(Batch) error { return nil })
	var ce *ContentError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, ReasonReadError, ce.Reason)
	assert.False(t, ce.Permanent())
}

func TestReadEmitErrorStops(t *testing.T) {
	boom := errors.New("refused")
	calls := 0
	_, err := newReader(5).Read(bytes.NewReader(trailgen.LogFile(records(20), true)), obj, 0, func(Batch) error { calls++; return boom })
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, 1, calls)
}

// TestReadMemoryBounded streams a generated file of 1 GB (uncompressed)
// in each body mode and checks that the heap stays far below the file's size.
func TestReadMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GB")
	}
	forModes(t, func(t *testing.T, mode BodyMode) {
		const size = 1 << 30
		// A block of varied records, repeated: generation stays cheap.
		g := trailgen.New(5, "111111111111", "us-east-1")
		var block bytes.Buffer
		for i := 0; i < 2000; i++ {
			if i > 0 {
				block.WriteByte(',')
			}
			rec, err := json.Marshal(g.Record(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)))
			require.NoError(t, err)
			block.Write(rec)
		}
		pr, pw := io.Pipe()
		go func() {
			zw, _ := kgzip.NewWriterLevel(pw, kgzip.BestSpeed)
			_, _ = io.WriteString(zw, `{"Records":[`)
			written := 0
			for first := true; written < size; first = false {
				if !first {
					_, _ = io.WriteString(zw, ",")
				}
				n, err := zw.Write(block.Bytes())
				if err != nil {
					return
				}
				written += n
			}
			_, _ = io.WriteString(zw, "]}")
			_ = zw.Close()
			_ = pw.Close()
		}()
		runtime.GC()
		var ms runtime.MemStats
		var peak uint64
		records := 0
		_, err := newModeReader(1000, mode).Read(pr, obj, 0, func(b Batch) error {
			records += b.Records
			if records%50000 < b.Records {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
			return nil
		})
		require.NoError(t, err)
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
		t.Logf("read %d records (%d MB uncompressed), peak heap %d MB", records, size>>20, peak>>20)
		assert.Less(t, peak, uint64(150<<20))
	})
}
