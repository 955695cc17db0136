package recordstream

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
)

// TestReaderAsStraightforwardBuild reads files of records of similar but
// varying shapes (the names the reader predicts from the records before
// come, or do not, or come escaped, repeated, as prefixes of one
// another, in other groups of the mapping) and checks each body against
// the straightforward construction from encoding/json's tokens with
// pcommon.Map.PutEmpty (same keys, same order, same values), and the
// attributes captured during the parse against those the mapping takes
// from the body afterwards (mapping.Mapper.Map).
func TestReaderAsStraightforwardBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mapper := mapping.New(ctattr.DefaultNormalServices, true)
	r := NewReader(nil, 0)
	for file := range 200 {
		var recs []string
		for range 1 + rng.IntN(8) {
			recs = append(recs, genObject(rng, 0))
		}
		input := `{"Records":[` + strings.Join(recs, ",") + `]}`
		r.Reset(iotest.HalfReader(strings.NewReader(input)))
		for i, rec := range recs {
			lr := plog.NewLogRecord()
			var f mapping.Fields
			f.WantPayload = true
			_, err := r.Read(lr.Body().SetEmptyMap(), &f)
			require.NoError(t, err, "file %d record %d: %s", file, i, rec)
			want := refBuild(t, rec)
			require.Equal(t, dump(want), dump(lr.Body()), "file %d record %d: %s", file, i, rec)

			mapper.Apply(lr, &f, "a", "r")
			ref := plog.NewLogRecord()
			want.CopyTo(ref.Body())
			mapper.Map(ref, "a", "r")
			require.Equal(t, dump(attrs(ref)), dump(attrs(lr)), "file %d record %d: %s", file, i, rec)
		}
		_, err := r.Read(pcommon.NewMap(), nil)
		require.ErrorIs(t, err, io.EOF)
	}
}

// names are member names of the mapping's groups and others, some
// prefixes of others.
var names = []string{
	"eventVersion", "eventName", "eventSource", "eventTime", "eventID", "errorCode", "readOnly", "type", "arn",
	"userName", "accountId", "principalId", "tlsDetails", "tlsVersion", "cipherSuite", "userIdentity",
	"sessionContext", "sessionIssuer", "attributes", "mfaAuthenticated", "requestParameters",
	"resources", "ARN", "a", "ab", "abc", "", "é", "insightDetails",
}

// genObject returns a random JSON object of the names above, at depth d.
func genObject(rng *rand.Rand, d int) string {
	var b strings.Builder
	b.WriteByte('{')
	n := rng.IntN(7)
	if d == 0 {
		n += 4
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		name := names[rng.IntN(len(names))]
		switch rng.IntN(12) {
		case 0:
			// The same name escaped: the prediction must not take it
			// for the plain bytes.
			b.WriteByte('"')
			for _, c := range name {
				fmt.Fprintf(&b, `\u%04x`, c)
			}
			b.WriteByte('"')
		case 1:
			b.WriteString(strconv.Quote(name + "x"))
		default:
			b.WriteString(strconv.Quote(name))
		}
		b.WriteByte(':')
		b.WriteString(genValue(rng, d+1))
	}
	b.WriteByte('}')
	return b.String()
}

func genValue(rng *rand.Rand, d int) string {
	k := rng.IntN(10)
	if d > 4 {
		k %= 6
	}
	switch k {
	case 0:
		return strconv.Itoa(rng.IntN(1000) - 500)
	case 1:
		return "1.5e3"
	case 2:
		return []string{"true", "false", "null"}[rng.IntN(3)]
	case 3, 4, 5:
		return strconv.Quote([]string{"ec2.amazonaws.com", "TLSv1.2", "true", "", "x\"y", "TerminateInstances", "2026-11-20T10:11:12Z"}[rng.IntN(7)])
	case 6, 7:
		return genObject(rng, d)
	default:
		var els []string
		for range rng.IntN(4) {
			els = append(els, genValue(rng, d+1))
		}
		return "[" + strings.Join(els, ",") + "]"
	}
}

// refBuild builds a record the straightforward way.
func refBuild(t *testing.T, rec string) pcommon.Value {
	dec := json.NewDecoder(strings.NewReader(rec))
	dec.UseNumber()
	v := pcommon.NewValueEmpty()
	refValue(t, dec, v)
	return v
}

func refValue(t *testing.T, dec *json.Decoder, v pcommon.Value) {
	tok, err := dec.Token()
	require.NoError(t, err)
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '{' {
			m := v.SetEmptyMap()
			for dec.More() {
				k, err := dec.Token()
				require.NoError(t, err)
				refValue(t, dec, m.PutEmpty(k.(string)))
			}
		} else {
			s := v.SetEmptySlice()
			for dec.More() {
				refValue(t, dec, s.AppendEmpty())
			}
		}
		_, err := dec.Token()
		require.NoError(t, err)
	case string:
		v.SetStr(tok)
	case bool:
		v.SetBool(tok)
	case json.Number:
		if n, err := tok.Int64(); err == nil {
			v.SetInt(n)
		} else {
			f, err := tok.Float64()
			require.NoError(t, err)
			v.SetDouble(f)
		}
	case nil:
	}
}

// dump writes a value with its keys in order and its types.
func dump(v pcommon.Value) string {
	var b strings.Builder
	var walk func(v pcommon.Value)
	walk = func(v pcommon.Value) {
		switch v.Type() {
		case pcommon.ValueTypeMap:
			b.WriteByte('{')
			for k, e := range v.Map().All() {
				fmt.Fprintf(&b, "%q:", k)
				walk(e)
				b.WriteByte(',')
			}
			b.WriteByte('}')
		case pcommon.ValueTypeSlice:
			b.WriteByte('[')
			for _, e := range v.Slice().All() {
				walk(e)
				b.WriteByte(',')
			}
			b.WriteByte(']')
		default:
			fmt.Fprintf(&b, "%s(%q)", v.Type(), v.AsString())
		}
	}
	walk(v)
	return b.String()
}

// attrs returns the attributes of lr as a map value, in their order.
func attrs(lr plog.LogRecord) pcommon.Value {
	v := pcommon.NewValueMap()
	lr.Attributes().CopyTo(v.Map())
	return v
}
