package objectreader

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// advRead is the outcome of reading one file in one body mode.
type advRead struct {
	recs   []readRecord
	stats  Stats
	reason string // the ContentError's reason, "" without error
	nexts  []int  // Batch.Next of each batch
}

func advReadFile(t *testing.T, file []byte, mode BodyMode, skip, batch int) advRead {
	t.Helper()
	r := New(Options{MaxBatchRecords: batch, Mapper: mapping.New(ctattr.DefaultNormalServices, true), ScopeName: "s", Body: mode,
		Now: func() time.Time { return time.Unix(1, 0) }})
	var out advRead
	st, err := r.Read(bytes.NewReader(file), obj, skip, func(b Batch) error {
		out.nexts = append(out.nexts, b.Next)
		for i := 0; i < b.Logs.ResourceLogs().Len(); i++ {
			rl := b.Logs.ResourceLogs().At(i)
			lrs := rl.ScopeLogs().At(0).LogRecords()
			for j := 0; j < lrs.Len(); j++ {
				out.recs = append(out.recs, readRecord{rl.Resource().Attributes(), lrs.At(j)})
			}
		}
		return nil
	})
	out.stats = st
	if err != nil {
		var ce *ContentError
		require.True(t, errors.As(err, &ce), "%v", err)
		out.reason = ce.Reason
	}
	return out
}

func advGzip(t *testing.T, parts ...[]byte) []byte {
	var out bytes.Buffer
	for _, p := range parts {
		w := gzip.NewWriter(&out)
		_, err := w.Write(p)
		require.NoError(t, err)
		require.NoError(t, w.Close())
	}
	return out.Bytes()
}

func deep(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// advFiles are hostile log files: name → (file, the records' texts
// expected in json mode, in order).
func advFiles(t *testing.T) map[string]struct {
	file []byte
	want []string
} {
	type c = struct {
		file []byte
		want []string
	}
	rec := func(id, rest string) string { return `{"eventID":"` + id + `"` + rest + `}` }
	recs := func(rs ...string) []byte { return []byte(`{"Records":[` + strings.Join(rs, ",") + `]}`) }
	out := map[string]c{}
	add := func(name string, file []byte, want ...string) { out[name] = c{file, want} }

	u := rec("u", `,"s":"\u0000\ud83d\ude00\u00e9 é \uD800x \\\"\/","eventName":"\u0000"`)
	add("unicode", recs(u), u)
	bad := rec("bad", ",\"s\":\"a\xffb\xc3\",\"userAgent\":\"\xed\xa0\x80\",\"eventName\":\"x\xfe\"")
	add("invalid_utf8", recs(bad), bad)
	n := rec("num", `,"a":123456789012345678901234567890,"b":-0,"c":-0.0,"d":1.7976931348623157e308,"e":-9223372036854775808,"f":1E-400,"g":0.1000000000000000000000000001,"readOnly":-0`)
	add("numbers", recs(n), n)
	big := rec("1e400", `,"a":1e400`)
	after := rec("after", "")
	add("1e400", recs(big, after), after)
	ws := "{\r\n\t\"eventID\" :\t\"ws\" ,\r\n \"x\" : [ 1 ,\r\n 2 ] ,\"eventTime\" :\"2026-11-20T10:00:00Z\"\r\n}"
	add("crlf", []byte("{\r\n\"Records\"\r\n:\r\n[\r\n"+ws+"\r\n,\r\n"+ws+"\r\n]\r\n}\r\n"), ws, ws)
	d := rec("deep-ok", `,"d":`+deep(250))
	add("deep_ok", recs(d), d)
	add("too_deep", recs(rec("deep", `,"d":`+deep(20000)), after), after)
	first := `{"a":{"Records":[{"eventID":"no"}]},"b":[1,"Records"],"Records":[` + after + `],"z":{"Records":[]}}`
	add("records_not_first", []byte(first), after)
	add("empty_records", []byte(`{"Records":[]}`))
	add("empty_records_ws", []byte(" \n{ \"Records\" : [ \n ] } \n"))
	dup := rec("dup", `,"eventID":"dup2","eventName":"A","eventName":"B"`)
	add("duplicate_keys", recs(dup), dup)
	huge := rec("huge", `,"requestParameters":{"v":"`+strings.Repeat(`ab\u00e9`, 10<<20/8)+`"}`)
	add("10MB", recs(after, huge, after), after, huge, after)

	// Records around the 64 KB buffer boundaries: each size from
	// 64K-40 to 64K+40, an escape at every offset.
	var bnd []string
	for i := -40; i <= 40; i++ {
		pad := strings.Repeat("x", 64<<10+i-40)
		bnd = append(bnd, rec(fmt.Sprint(i), `,"p":"`+pad+`\u00e9\"\\","q":[-0.5e-3]`))
	}
	add("buffer_boundaries", recs(bnd...), bnd...)

	// Several gzip members, cut in the middle of records and escapes.
	var many []string
	for i := range 200 {
		many = append(many, rec(fmt.Sprint(i), `,"s":"\ud83d\ude00`+strings.Repeat("é", i)+`"`))
	}
	plain := recs(many...)
	var parts [][]byte
	for i := 0; i < len(plain); i += 997 {
		parts = append(parts, plain[i:min(i+997, len(plain))])
	}
	add("multi_member_gzip", advGzip(t, parts...), many...)
	add("gzip", advGzip(t, recs(bnd...)), bnd...)
	return out
}

// TestAdvBodyJSONIsTheFileText: json mode's body is the record's text as
// in the file, the three modes agree on attributes, resources, skips and
// errors, for hostile files.
func TestAdvBodyJSONIsTheFileText(t *testing.T) {
	for name, c := range advFiles(t) {
		t.Run(name, func(t *testing.T) {
			byMode := map[BodyMode]advRead{}
			for _, mode := range bodyModes {
				byMode[mode] = advReadFile(t, c.file, mode, 0, 7)
			}
			js := byMode[BodyJSON]
			require.Empty(t, js.reason)
			require.Len(t, js.recs, len(c.want))
			for i, w := range c.want {
				require.Equal(t, pcommon.ValueTypeStr, js.recs[i].lr.Body().Type())
				if got := js.recs[i].lr.Body().Str(); got != w {
					t.Fatalf("record %d: json body differs from the file's text (len %d vs %d): %.200q", i, len(got), len(w), got)
				}
			}
			advSameAcrossModes(t, byMode)
		})
	}
}

func advSameAcrossModes(t *testing.T, byMode map[BodyMode]advRead) {
	t.Helper()
	ref := byMode[BodyMap]
	for _, mode := range []BodyMode{BodyJSON, BodyNone} {
		got := byMode[mode]
		assert.Equal(t, ref.reason, got.reason, mode.String())
		assert.Equal(t, ref.stats.Skipped, got.stats.Skipped, mode.String())
		assert.Equal(t, ref.stats.SkippedIndexes, got.stats.SkippedIndexes, mode.String())
		assert.Equal(t, ref.stats.Records, got.stats.Records, mode.String())
		assert.Equal(t, ref.nexts, got.nexts, mode.String())
		require.Len(t, got.recs, len(ref.recs), mode.String())
		for i := range ref.recs {
			assert.Equal(t, attrList(ref.recs[i].lr.Attributes()), attrList(got.recs[i].lr.Attributes()), "record %d %s", i, mode)
			assert.Equal(t, ref.recs[i].resource.AsRaw(), got.recs[i].resource.AsRaw(), "record %d %s", i, mode)
			assert.Equal(t, ref.recs[i].lr.Timestamp(), got.recs[i].lr.Timestamp())
			assert.Equal(t, ref.recs[i].lr.SeverityText(), got.recs[i].lr.SeverityText())
		}
	}
	// Map mode's body decodes to what json mode's text does.
	for i := range ref.recs {
		var want any
		text := byMode[BodyJSON].recs[i].lr.Body().Str()
		if json.Unmarshal([]byte(text), &want) != nil {
			continue
		}
		got := ref.recs[i].lr.Body().Map().AsRaw()
		wantJ, _ := json.Marshal(want)
		gotJ, _ := json.Marshal(got)
		assert.JSONEq(t, string(wantJ), string(gotJ), "record %d: map body vs json text", i)
	}
}

// TestAdvBadInputSameInAllModes: faults of the file are refused the same
// way in every mode, after the same records.
func TestAdvBadInputSameInAllModes(t *testing.T) {
	var rs []string
	for i := range 300 {
		rs = append(rs, fmt.Sprintf(`{"eventID":"%d","eventTime":"2026-11-20T10:00:00Z","p":"%s"}`, i, strings.Repeat("y", 500)))
	}
	rs[3] = `{"eventID":"3","a":1E400}`
	rs[5] = `{"eventID":"5","d":` + deep(20000) + `}`
	rs[7] = `"not an object"`
	plain := []byte(`{"Records":[` + strings.Join(rs, ",") + `]}`)
	zipped := advGzip(t, plain)
	corrupt := bytes.Clone(zipped)
	for i := len(corrupt) / 2; i < len(corrupt)/2+64; i++ {
		corrupt[i] ^= 0x5a
	}
	files := map[string][]byte{
		"ok":                plain,
		"truncated":         plain[:len(plain)*2/3],
		"truncated_gzip":    zipped[:len(zipped)*2/3],
		"corrupt_gzip":      corrupt,
		"trailing_garbage":  append(bytes.Clone(plain), "xx"...),
		"bad_syntax":        bytes.Replace(plain, []byte(`"eventID":"200"`), []byte(`"eventID":"200",,`), 1),
		"bom":               append([]byte("\xef\xbb\xbf"), plain...),
		"duplicate_records": []byte(`{"Records":[{"eventID":"a"}],"Records":[{"eventID":"b"}]}`),
		"not_cloudtrail":    []byte(`{"records":[{"eventID":"a"}]}`),
		"control_char":      []byte("{\"Records\":[{\"eventID\":\"a\x01\"},{\"eventID\":\"b\"}]}"),
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			byMode := map[BodyMode]advRead{}
			for _, mode := range bodyModes {
				byMode[mode] = advReadFile(t, file, mode, 0, 10)
			}
			advSameAcrossModes(t, byMode)
			t.Logf("reason %q, records %d, skipped %v", byMode[BodyMap].reason, byMode[BodyMap].stats.Records, byMode[BodyMap].stats.Skipped)
		})
	}
}

// TestAdvDuplicateRecordsArrayNotLost: a file with two "Records" members
// must not silently drop the records of one of them.
func TestAdvDuplicateRecordsArrayNotLost(t *testing.T) {
	file := []byte(`{"Records":[{"eventID":"a"}],"Records":[{"eventID":"b"}]}`)
	for _, mode := range bodyModes {
		got := advReadFile(t, file, mode, 0, 10)
		if got.reason == "" {
			assert.Equal(t, 2, got.stats.Records, "%s: a record read without an error, the other one lost", mode)
		}
	}
}

// TestAdvResumeEveryBatch: a restart after each delivered batch (skip =
// Batch.Next) gives every record exactly once, in every mode, with bad
// records among them.
func TestAdvResumeEveryBatch(t *testing.T) {
	var rs []string
	for i := range 60 {
		switch i % 9 {
		case 2:
			rs = append(rs, fmt.Sprintf(`{"eventID":"%d","a":-1e400}`, i))
		case 4:
			rs = append(rs, fmt.Sprintf(`{"eventID":"%d","d":%s}`, i, deep(12000)))
		case 6:
			rs = append(rs, `[1]`)
		default:
			rs = append(rs, fmt.Sprintf("{\"eventID\":\"%d\",\r\n\"s\":\"\\u00e9\xff\"}", i))
		}
	}
	plain := []byte(`{"Records":[` + strings.Join(rs, ",") + `]}`)
	for _, file := range [][]byte{plain, advGzip(t, plain[:1000], plain[1000:]), plain[:len(plain)-5]} {
		for _, mode := range bodyModes {
			for _, batch := range []int{1, 3, 7} {
				full := advReadFile(t, file, mode, 0, batch)
				var got []string
				skipped := map[string]int{}
				next := 0
				for {
					r := advReadFile(t, file, mode, next, batch)
					for k, v := range r.stats.Skipped {
						skipped[k] += v
					}
					if len(r.nexts) == 0 {
						assert.Equal(t, full.reason, r.reason)
						break
					}
					// Only the first batch is delivered before the restart.
					first := r.nexts[0]
					for _, rr := range r.recs[:min(batch, len(r.recs))] {
						v, _ := rr.lr.Attributes().Get(ctattr.AttrEventID)
						got = append(got, v.Str())
					}
					require.Greater(t, first, next)
					next = first
				}
				var want []string
				for _, rr := range full.recs {
					v, _ := rr.lr.Attributes().Get(ctattr.AttrEventID)
					want = append(want, v.Str())
				}
				require.Equal(t, want, got, "mode %s batch %d", mode, batch)
				if mode == BodyJSON {
					for _, rr := range full.recs {
						require.True(t, strings.HasPrefix(rr.lr.Body().Str(), `{"eventID":`))
					}
				}
			}
		}
	}
}

// TestAdvProtoRoundTrip: the batches of hostile files survive the proto
// encoding of a persistent sending queue unchanged, in every mode
// (invalid UTF-8 in a json body or a map value included).
func TestAdvProtoRoundTrip(t *testing.T) {
	for name, c := range advFiles(t) {
		for _, mode := range bodyModes {
			r := New(Options{MaxBatchRecords: 1000, Mapper: mapping.New(ctattr.DefaultNormalServices, true), ScopeName: "s", Body: mode})
			_, err := r.Read(bytes.NewReader(c.file), obj, 0, func(b Batch) error {
				buf, err := (&plog.ProtoMarshaler{}).MarshalLogs(b.Logs)
				require.NoError(t, err)
				back, err := (&plog.ProtoUnmarshaler{}).UnmarshalLogs(buf)
				require.NoError(t, err, "%s/%s", name, mode)
				require.NoError(t, plogtest.CompareLogs(b.Logs, back), "%s/%s", name, mode)
				return nil
			})
			require.NoError(t, err)
		}
	}
}

// TestAdvRecordTooLargeSameInAllModes: a record over max_record_bytes
// stops the object after the same records in every mode, and a resume
// from the last delivered batch stops there again (nothing twice).
func TestAdvRecordTooLargeSameInAllModes(t *testing.T) {
	var rs []string
	for i := range 20 {
		rs = append(rs, fmt.Sprintf(`{"eventID":"%d","p":"%s"}`, i, strings.Repeat("z", 100*i)))
	}
	rs[12] = `{"eventID":"12","p":"` + strings.Repeat("\\u00e9", 2000) + `"}`
	file := []byte(`{"Records":[` + strings.Join(rs, ",") + `]}`)
	type out struct {
		ids    []string
		next   int
		reason string
	}
	read := func(mode BodyMode, skip int) out {
		r := New(Options{MaxBatchRecords: 5, Mapper: mapping.New(ctattr.DefaultNormalServices, false), ScopeName: "s", Body: mode, MaxRecordBytes: 8192})
		var o out
		_, err := r.Read(bytes.NewReader(file), obj, skip, func(b Batch) error {
			o.next = b.Next
			for _, rl := range b.Logs.ResourceLogs().All() {
				for _, lr := range rl.ScopeLogs().At(0).LogRecords().All() {
					v, _ := lr.Attributes().Get(ctattr.AttrEventID)
					o.ids = append(o.ids, v.Str())
				}
			}
			return nil
		})
		var ce *ContentError
		if errors.As(err, &ce) {
			o.reason = ce.Reason
		}
		return o
	}
	ref := read(BodyMap, 0)
	require.Equal(t, ReasonRecordTooLarge, ref.reason)
	for _, mode := range bodyModes {
		got := read(mode, 0)
		assert.Equal(t, ref, got, mode.String())
		again := read(mode, got.next)
		assert.Equal(t, ReasonRecordTooLarge, again.reason)
		assert.Empty(t, again.ids, "%s: after a resume at %d", mode, got.next)
	}
}
