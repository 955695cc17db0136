package objectreader

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

var bodyModes = []BodyMode{BodyMap, BodyJSON, BodyNone}

// forModes runs f once per body mode, as a subtest.
func forModes(t *testing.T, f func(t *testing.T, mode BodyMode)) {
	for _, mode := range bodyModes {
		t.Run("body="+mode.String(), func(t *testing.T) { f(t, mode) })
	}
}

// oddRecords are records whose shapes test the capture of the mapped
// members: repeated members (the last wins), members of the wrong type,
// escaped keys and values, nulls, groups that are not objects, an object
// too wide for pcommon.Map.PutEmpty, unicode and exact numbers.
func oddRecords() []string {
	var wide strings.Builder
	wide.WriteString(`{"eventID":"wide","eventSource":"s3.amazonaws.com"`)
	for i := range 200 {
		fmt.Fprintf(&wide, `,"k%d":%d`, i, i)
	}
	wide.WriteString(`,"requestParameters":{"bucketName":"b"},"eventName":"PutObject","eventName":"GetObject","userIdentity":{"type":"Root"}}`)
	return []string{
		wide.String(),
		`{"eventID":"dup","eventName":"A","eventName":"B","userIdentity":{"userName":"first","type":"IAMUser"},"userIdentity":{"type":"Root"}}`,
		`{"eventID":"dup-group-scalar","userIdentity":{"userName":"first"},"userIdentity":"nope","tlsDetails":null,"insightDetails":[1]}`,
		`{"eventID":"types","eventName":7,"readOnly":"true","managementEvent":"maybe","sessionCredentialFromConsole":false,"errorCode":"","eventSource":{"x":1},` +
			`"insightDetails":{"eventSource":"ec2.amazonaws.com","state":"Start"},"recipientAccountId":5,"awsRegion":null}`,
		`{"event\u0049D":"esc","eventName":"Put\u00e9\"Obj\\ect","userAgent":"a\/b\ud83d\ude00","eventSource":"s3.amazonaws.com","big":12345678901234567890123,"f":1.50e+3}`,
		`{"eventID":"nested","userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":true,"creationDate":"2026-11-20T09:00:00Z"},` +
			`"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::1:role/R","userName":"R"},"attributes":{"creationDate":"later"}}},` +
			`"tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"c","clientProvidedHostHeader":"h"},"tlsDetails":{"cipherSuite":"d"},` +
			`"resources":[{"accountId":"1","type":"T","ARN":"arn"},7,{"ARN":"arn2"}],"responseElements":null,"additionalEventData":{"a":[1,{"b":"c"}]}}`,
		"{ \"eventID\" : \"spaces\" ,\n\t\"eventTime\" : \"2026-11-20T10:11:12.123+02:00\" , \"errorCode\":\"X\" }",
		`{}`,
	}
}

// sampleFiles returns the log files the modes are compared on: the public
// samples, the odd records and generated records of every shape.
func sampleFiles(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	paths, _ := filepath.Glob("../../../../testdata/samples/records/*.ndjson")
	{
		for _, p := range paths {
			f, err := os.Open(p)
			require.NoError(t, err)
			var recs []string
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); line != "" {
					recs = append(recs, line)
				}
			}
			require.NoError(t, f.Close())
			files[filepath.Base(p)] = []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
		}
	}
	files["odd"] = []byte("{\"Records\":[" + strings.Join(oddRecords(), " ,\n ") + "]}")
	g := trailgen.New(3, "111111111111", "us-east-1")
	recs := make([]map[string]any, 500)
	for i := range recs {
		recs[i] = g.Record(time.Date(2026, 11, 20, 10, 0, i, 0, time.UTC))
	}
	files["generated"] = trailgen.LogFile(recs, false)
	return files
}

// rawRecords splits a log file into its records' bytes with encoding/json
// (json.RawMessage keeps a value's bytes as they are).
func rawRecords(t *testing.T, file []byte) []string {
	var doc struct{ Records []json.RawMessage }
	require.NoError(t, json.Unmarshal(file, &doc))
	out := make([]string, len(doc.Records))
	for i, r := range doc.Records {
		out[i] = string(r)
	}
	return out
}

type readRecord struct {
	resource pcommon.Map
	lr       plog.LogRecord
}

func readAll(t *testing.T, file []byte, mode BodyMode, copyPayload bool) []readRecord {
	// One record per batch: the records come in file order.
	r := New(Options{MaxBatchRecords: 1, Mapper: mapping.New(ctattr.DefaultNormalServices, copyPayload), ScopeName: "s", Body: mode,
		Now: func() time.Time { return time.Unix(1, 0) }})
	var out []readRecord
	_, err := r.Read(bytes.NewReader(file), obj, 0, func(b Batch) error {
		for i := 0; i < b.Logs.ResourceLogs().Len(); i++ {
			rl := b.Logs.ResourceLogs().At(i)
			lrs := rl.ScopeLogs().At(0).LogRecords()
			for j := 0; j < lrs.Len(); j++ {
				out = append(out, readRecord{rl.Resource().Attributes(), lrs.At(j)})
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// TestBodyModesSameAttributes: in every body mode, each record has the
// same attributes (in the same order), resource, timestamps and severity;
// in json mode the body is the record's bytes as in the file, in none mode
// it is empty, and map mode gives what Mapper.Map gives for the body.
func TestBodyModesSameAttributes(t *testing.T) {
	files := sampleFiles(t)
	require.GreaterOrEqual(t, len(files), 3)
	for name, file := range files {
		for _, copyPayload := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/copy_payload=%v", name, copyPayload), func(t *testing.T) {
				raws := rawRecords(t, file)
				byMode := map[BodyMode][]readRecord{}
				for _, mode := range bodyModes {
					byMode[mode] = readAll(t, file, mode, copyPayload)
					require.Len(t, byMode[mode], len(raws), mode.String())
				}
				maps := byMode[BodyMap]
				for i := range maps {
					want := maps[i]
					// The reference: the mapper's reading of the built body.
					ref := plog.NewLogRecord()
					want.lr.Body().CopyTo(ref.Body())
					mapping.New(ctattr.DefaultNormalServices, copyPayload).Map(ref, obj.Account, obj.Region)
					for _, k := range []string{ctattr.AttrS3Bucket, ctattr.AttrS3Key} {
						v, _ := want.lr.Attributes().Get(k)
						ref.Attributes().PutStr(k, v.Str())
					}
					assert.Equal(t, ref.Attributes().AsRaw(), want.lr.Attributes().AsRaw(), "record %d: attributes of map mode", i)
					for _, mode := range []BodyMode{BodyJSON, BodyNone} {
						got := byMode[mode][i]
						assert.Equal(t, attrList(want.lr.Attributes()), attrList(got.lr.Attributes()), "record %d, %s", i, mode)
						assert.Equal(t, want.resource.AsRaw(), got.resource.AsRaw(), "record %d, %s", i, mode)
						assert.Equal(t, want.lr.Timestamp(), got.lr.Timestamp())
						assert.Equal(t, want.lr.ObservedTimestamp(), got.lr.ObservedTimestamp())
						assert.Equal(t, want.lr.SeverityNumber(), got.lr.SeverityNumber())
						assert.Equal(t, want.lr.SeverityText(), got.lr.SeverityText())
					}
					assert.Equal(t, pcommon.ValueTypeStr, byMode[BodyJSON][i].lr.Body().Type())
					assert.Equal(t, raws[i], byMode[BodyJSON][i].lr.Body().Str(), "record %d: json body is the file's bytes", i)
					assert.Equal(t, pcommon.ValueTypeEmpty, byMode[BodyNone][i].lr.Body().Type())
					var decoded map[string]any
					require.NoError(t, json.Unmarshal([]byte(raws[i]), &decoded))
					assert.Equal(t, len(decoded), want.lr.Body().Map().Len(), "record %d: map body", i)
				}
			})
		}
	}
}

// attrList is the attributes in order, with their types.
func attrList(m pcommon.Map) []string {
	var out []string
	for k, v := range m.All() {
		out = append(out, fmt.Sprintf("%s=%s:%s", k, v.Type(), v.AsString()))
	}
	return out
}
