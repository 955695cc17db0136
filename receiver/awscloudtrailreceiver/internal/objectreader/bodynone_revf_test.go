package objectreader

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRevfBodyNoneStringsStraddleRefills: none mode captures mapped strings
// as views of the read buffer and copies them per record. Records whose
// mapped strings are escaped, hold invalid UTF-8, are huge (bigger than the
// initial buffer), or straddle the buffer's refills at every offset step,
// must carry the same attributes as map mode once every record was read
// (the buffer was refilled and reused many times since).
func TestRevfBodyNoneStringsStraddleRefills(t *testing.T) {
	var raw bytes.Buffer
	raw.WriteString(`{"Records":[`)
	values := []string{
		`plain-agent`,
		`esc\"aped\\ agent \u00e9\u4e2d\ud83d\ude00 \n\t end`,
		"bad utf8 \xff\xfe here",
		strings.Repeat("L", 100<<10),                                 // longer than the initial buffer
		strings.Repeat("m", 3000) + `\"` + strings.Repeat("n", 3000), // long and escaped
	}
	n := 0
	for pad := 0; raw.Len() < 600<<10; pad += 977 {
		for _, v := range values {
			if n > 0 {
				raw.WriteByte(',')
			}
			fmt.Fprintf(&raw, `{"eventVersion":"1.08","eventTime":"2026-11-01T00:00:%02dZ","eventSource":"s3.amazonaws.com","eventName":"Get%d","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.%d","userAgent":"%s","errorMessage":"%s","pad":"%s","eventID":"id-%d","recipientAccountId":"123456789012","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/%s"}}`,
				n%60, n, n%250, v, v, strings.Repeat("p", pad%(70<<10)), n, v)
			n++
		}
	}
	raw.WriteString(`]}`)
	gz := advGzip(t, raw.Bytes())
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
