package datadoglogsexporter // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/internal/datadog"
)

// normalised returns the JSON value v encoded as the value of a map body
// is (datadog.AppendValue of the value the receiver's map mode builds):
// compact, integers that fit in int64 in decimal and other numbers as
// doubles, strings as AppendString writes them. v itself when it is
// already so, or not valid JSON. Linear in the size of v (it does not
// build pdata, whose maps search for each key). Unlike a map, an object
// keeps a repeated key twice.
func normalised(v []byte) []byte {
	if canonical(v) {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	out, err := appendNormalised(make([]byte, 0, len(v)), dec)
	if err != nil {
		return v
	}
	if _, err := dec.Token(); err == nil {
		return v // more than one value
	}
	return out
}

var errDelim = errors.New("unexpected delimiter")

// appendNormalised appends the next JSON value of dec to dst.
func appendNormalised(dst []byte, dec *json.Decoder) ([]byte, error) {
	tok, err := dec.Token()
	if err != nil {
		return dst, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t != '{' && t != '[' {
			return dst, errDelim
		}
		dst = append(dst, byte(t))
		for n := 0; dec.More(); n++ {
			if n > 0 {
				dst = append(dst, ',')
			}
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return dst, err
				}
				dst = append(datadog.AppendString(dst, k.(string)), ':')
			}
			if dst, err = appendNormalised(dst, dec); err != nil {
				return dst, err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return dst, err
		}
		return append(dst, byte(t)+2), nil // '{'+2 is '}', '['+2 is ']'
	case string:
		return datadog.AppendString(dst, t), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case nil:
		return append(dst, "null"...), nil
	case json.Number:
		if !strings.ContainsAny(string(t), ".eE") {
			if n, err := strconv.ParseInt(string(t), 10, 64); err == nil {
				return strconv.AppendInt(dst, n, 10), nil
			}
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return dst, err
		}
		if math.IsInf(f, 0) {
			return datadog.AppendString(dst, strconv.FormatFloat(f, 'g', -1, 64)), nil
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
	}
	return dst, errDelim
}

// canonical reports whether the JSON value v is encoded as AppendValue
// would encode it, for the common values: literals, small integers, and
// strings without escapes.
func canonical(v []byte) bool {
	switch {
	case len(v) == 0:
		return false
	case v[0] == '"':
		for _, c := range v[1 : len(v)-1] {
			if c < 0x20 || c == '\\' {
				return false
			}
		}
		return utf8.Valid(v)
	case string(v) == "true", string(v) == "false", string(v) == "null", string(v) == "0":
		return true
	}
	d := v
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 18 || d[0] == '0' {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
