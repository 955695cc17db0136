package datadog

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/widemap"
)

// ParseJSON decodes a JSON text into v as the receiver's `body: map` mode
// builds a record: objects keep their key order, integers that fit in
// int64 become Int values and every other number a Double. It serves the
// events exporter, which reads a few fields of a record per event.
func ParseJSON(b []byte, v pcommon.Value) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := parseValue(dec, v); err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("data after the JSON value")
	}
	return nil
}

func parseValue(dec *json.Decoder, v pcommon.Value) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			if err := parseObject(dec, v.SetEmptyMap()); err != nil {
				return err
			}
		} else {
			s := v.SetEmptySlice()
			for dec.More() {
				if err := parseValue(dec, s.AppendEmpty()); err != nil {
					return err
				}
			}
		}
		_, err := dec.Token() // the closing delimiter
		return err
	case string:
		v.SetStr(t)
	case bool:
		v.SetBool(t)
	case nil:
	case json.Number:
		if !strings.ContainsAny(string(t), ".eE") {
			if n, err := strconv.ParseInt(string(t), 10, 64); err == nil {
				v.SetInt(n)
				return nil
			}
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return err
		}
		v.SetDouble(f)
	}
	return nil
}

// parseObject decodes the members of an object into m. Past
// widemap.Threshold members they go to a widemap.Builder: PutEmpty
// searches the map for each key, quadratic in the member count.
func parseObject(dec *json.Decoder, m pcommon.Map) error {
	var wide *widemap.Builder
	for n := 0; dec.More(); n++ {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		var dst pcommon.Value
		switch {
		case wide != nil:
			dst = wide.Put(kt.(string))
		case n == widemap.Threshold:
			wide = widemap.New(m)
			dst = wide.Put(kt.(string))
		default:
			dst = m.PutEmpty(kt.(string))
		}
		if err := parseValue(dec, dst); err != nil {
			return err
		}
	}
	if wide != nil {
		wide.MoveTo(m)
	}
	return nil
}
