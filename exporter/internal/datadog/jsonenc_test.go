package datadog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
)

func TestAppendValueRoundTrips(t *testing.T) {
	m := pcommon.NewMap()
	require.NoError(t, m.FromRaw(map[string]any{
		"s": "quote\" back\\ nl\n tab\t ctl\x01 é 😀", "i": int64(-42), "f": 1.5, "b": true,
		"m": map[string]any{"x": []any{int64(1), "two", nil, map[string]any{}}}, "empty": []any{},
	}))
	m.PutEmpty("null")
	m.PutEmptyBytes("bytes").FromRaw([]byte("hi"))
	out := AppendMap(nil, m)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got), string(out))
	assert.Equal(t, "quote\" back\\ nl\n tab\t ctl\x01 é 😀", got["s"])
	assert.Equal(t, -42.0, got["i"])
	assert.Equal(t, map[string]any{"x": []any{1.0, "two", nil, map[string]any{}}}, got["m"])
	assert.Nil(t, got["null"])
	assert.Equal(t, "aGk=", got["bytes"])
}

func TestAppendStringInvalidUTF8(t *testing.T) {
	out := AppendString(nil, "a\xffb")
	var s string
	require.NoError(t, json.Unmarshal(out, &s))
	assert.Equal(t, "a\uFFFDb", s)
}

func TestFlatten(t *testing.T) {
	m := pcommon.NewMap()
	require.NoError(t, m.FromRaw(map[string]any{"a": map[string]any{"b": map[string]any{"c": "x"}, "d": []any{int64(1)}}, "e": int64(2)}))
	got := map[string]any{}
	Flatten("", m, func(k string, v pcommon.Value) { got[k] = v.AsRaw() })
	assert.Equal(t, map[string]any{"a.b.c": "x", "a.d": []any{int64(1)}, "e": int64(2)}, got)
}

func TestLogsURL(t *testing.T) {
	for site, want := range map[string]string{
		"datadoghq.com": "https://http-intake.logs.datadoghq.com/api/v2/logs", "ddog-gov.com": "https://http-intake.logs.ddog-gov.com/api/v2/logs",
		"us3.datadoghq.com": "https://http-intake.logs.us3.datadoghq.com/api/v2/logs",
	} {
		assert.Equal(t, want, LogsURL(site, ""))
	}
	assert.Equal(t, "http://127.0.0.1:1/api/v2/logs", LogsURL("datadoghq.com", "http://127.0.0.1:1/"))
}

// TestAppendStringEveryByte: each byte value, at each position of a word
// and past it, is encoded so that encoding/json reads the string back
// (invalid UTF-8 as U+FFFD).
func TestAppendStringEveryByte(t *testing.T) {
	for c := range 256 {
		for pos := range 18 {
			b := []byte("abcdefghijklmnopqrstu")
			b[pos] = byte(c)
			s := string(b)
			var got string
			require.NoError(t, json.Unmarshal(AppendString(nil, s), &got), "byte %#x at %d", c, pos)
			assert.Equal(t, strings.ToValidUTF8(s, "\uFFFD"), got, "byte %#x at %d", c, pos)
		}
	}
}
