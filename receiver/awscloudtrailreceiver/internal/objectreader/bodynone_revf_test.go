package objectreader

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// TestRevfBodyNoneStringsStraddleRefills: none mode captures mapped strings
// as views of the read buffer and copies them per record. Records whose
// mapped strings are escaped, hold invalid UTF-8, are huge (bigger than the
// initial buffer), or straddle the buffer's refills at every offset step,
// must carry the same attributes as map mode once every record was read
// (the buffer was refilled and reused many times since).
func TestRevfBodyNoneStringsStraddleRefills(t *testing.T) {
	gz, n := revfFile(t)
	maps := readAll(t, gz, BodyMap, false)
	nones := readAll(t, gz, BodyNone, false)
	require.Len(t, maps, n)
	require.Len(t, nones, n)
	for i := range maps {
		require.Equal(t, attrList(maps[i].lr.Attributes()), attrList(nones[i].lr.Attributes()), "record %d", i)
		require.NotEmpty(t, attrList(nones[i].lr.Attributes()))
	}
	// The escaped value is decoded, not the file's text.
	ua, ok := nones[1].lr.Attributes().Get("user_agent.original")
	require.True(t, ok)
	require.Equal(t, "esc\"aped\\ agent é中😀 \n\t end", ua.Str())
}

// TestRevfBodyNoneBigBatchesAndResume: the same file read in none mode in
// batches of many records (a batch spans many buffer refills and a 4 MiB
// record), and resumed after each batch boundary, gives map mode's
// attributes for every record, checked only once every batch was handed
// over.
func TestRevfBodyNoneBigBatchesAndResume(t *testing.T) {
	gz, n := revfFile(t)
	maps := readAll(t, gz, BodyMap, false)
	require.Len(t, maps, n)
	for _, skip := range []int{0, 1, 7, n / 2, n - 1} {
		r := New(Options{MaxBatchRecords: 50, Mapper: mapping.New(ctattr.DefaultNormalServices, false), ScopeName: "s", Body: BodyNone,
			Now: func() time.Time { return time.Unix(1, 0) }})
		var got []plog.Logs
		_, err := r.Read(bytes.NewReader(gz), obj, skip, func(b Batch) error {
			got = append(got, b.Logs)
			return nil
		})
		require.NoError(t, err)
		i := skip
		for _, ld := range got {
			for ri := 0; ri < ld.ResourceLogs().Len(); ri++ {
				lrs := ld.ResourceLogs().At(ri).ScopeLogs().At(0).LogRecords()
				for j := 0; j < lrs.Len(); j++ {
					require.Equal(t, attrList(maps[i].lr.Attributes()), attrList(lrs.At(j).Attributes()), "skip %d record %d", skip, i)
					i++
				}
			}
		}
		require.Equal(t, n, i, "skip %d", skip)
	}
}

// revfFile is a file whose mapped strings are escaped, hold invalid UTF-8,
// are huge or straddle the buffer's refills at many offsets.
func revfFile(t *testing.T) ([]byte, int) {
	var raw bytes.Buffer
	raw.WriteString(`{"Records":[`)
	values := []string{
		`plain-agent`,
		`esc\"aped\\ agent \u00e9\u4e2d\ud83d\ude00 \n\t end`,
		"bad utf8 \xff\xfe here",
		strings.Repeat("L", 100<<10),                                 // longer than the initial buffer
		strings.Repeat("H", 4<<20) + `\u00e9`,                        // a 4 MiB escaped value: the buffer grows
		strings.Repeat("m", 3000) + `\"` + strings.Repeat("n", 3000), // long and escaped
	}
	n := 0
	for pad := 0; n < 120; pad += 977 {
		for vi, v := range values {
			if vi == 4 && pad > 0 {
				v = "huge only once" // the 4 MiB value, in the first round
			}
			if n > 0 {
				raw.WriteByte(',')
			}
			fmt.Fprintf(&raw, `{"eventVersion":"1.08","eventTime":"2026-11-01T00:00:%02dZ","eventSource":"s3.amazonaws.com","eventName":"Get%d","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.%d","userAgent":"%s","errorMessage":"%s","pad":"%s","eventID":"id-%d","recipientAccountId":"123456789012","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/%s"}}`,
				n%60, n, n%250, v, v, strings.Repeat("p", pad%(70<<10)), n, v)
			n++
		}
	}
	raw.WriteString(`]}`)
	return advGzip(t, raw.Bytes()), n
}
