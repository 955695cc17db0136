// Package mapping turns a CloudTrail record, held as a pdata map in a log
// record's body, into the log record of the data contract: timestamps,
// severity, and attributes named as contrib's CloudTrail encoding names them,
// plus the priority this project adds.
package mapping

import (
	"strings"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Mapper maps CloudTrail records to log records. It is safe for concurrent use.
type Mapper struct {
	normal      map[string]struct{}
	copyPayload bool
}

// New returns a Mapper. Services in normalServices give normal priority;
// copyPayload also copies the large payload maps into attributes.
func New(normalServices []string, copyPayload bool) *Mapper {
	m := &Mapper{normal: make(map[string]struct{}, len(normalServices)), copyPayload: copyPayload}
	for _, s := range normalServices {
		m.normal[strings.ToLower(s)] = struct{}{}
	}
	return m
}

// Result is what Map learnt about a record.
type Result struct {
	// AccountID is recipientAccountId, or the fallback given to Map.
	AccountID string
	// Region is awsRegion, or the fallback given to Map.
	Region string
	// Priority is ctattr.PriorityNormal or ctattr.PriorityLow.
	Priority string
	// EventTime is the parsed eventTime; zero when missing or invalid.
	EventTime time.Time
}

// Map sets the timestamp, severity and attributes of lr from the CloudTrail
// record in its body (a map). account and region are used when the record
// lacks recipientAccountId or awsRegion (they come from the object's key).
func (m *Mapper) Map(lr plog.LogRecord, account, region string) Result {
	var f Fields
	CaptureMap(lr.Body().Map(), &f)
	return m.Apply(lr, &f, account, region)
}

// Apply sets the timestamp, severity and attributes of lr from the fields
// captured from a CloudTrail record, whatever its body holds. The
// attributes come in one order (that of the fields table), so records
// read in any body mode have identical attributes.
func (m *Mapper) Apply(lr plog.LogRecord, f *Fields, account, region string) Result {
	res := Result{AccountID: account, Region: region}
	if t, ok := parseTime(f.str(fieldEventTime)); ok {
		res.EventTime = t
		lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
	}
	if s := f.str(fieldAccount); s != "" {
		res.AccountID = s
	}
	if s := f.str(fieldRegion); s != "" {
		res.Region = s
	}
	// The attributes to put, in order, and which ones they are (mask).
	vals := f.attrs[:0]
	var mask uint64
	put := func(bit int, v attrValue) {
		vals = append(vals, v)
		mask |= 1 << bit
	}
	for i := range fields {
		switch fields[i].kind {
		case kindStr:
			if s := f.str(i); s != "" {
				put(i, attrValue{str: s})
			}
		case kindTLS:
			if s := f.str(i); s != "" {
				put(i, attrValue{str: strings.TrimPrefix(s, "TLSv")})
			}
		case kindBool:
			if b, ok := f.boolean(i); ok {
				put(i, attrValue{isBool: true, b: b})
			}
		case kindTrueOnly:
			if b, ok := f.boolean(i); ok && b {
				put(i, attrValue{isBool: true, b: true})
			}
		}
	}
	eventSource := f.str(fieldEventSource)
	if eventSource == "" {
		eventSource = f.str(fieldInsightSource)
	}
	service := ServiceName(eventSource)
	res.Priority = m.Priority(service)
	if service != "" {
		put(bitService, attrValue{str: service})
	}
	put(bitPriority, attrValue{str: res.Priority})
	if f.Bucket != "" {
		put(bitBucket, attrValue{str: f.Bucket})
	}
	if f.Key != "" {
		put(bitKey, attrValue{str: f.Key})
	}
	f.attrs = vals
	// The keys come from a map of the same keys with empty values, made
	// once per set of keys: putting them one by one would search the map
	// for each key.
	attrs := lr.Attributes()
	f.template(mask).CopyTo(attrs)
	i := 0
	for _, v := range attrs.All() {
		if a := vals[i]; a.isBool {
			v.SetBool(a.b)
		} else {
			v.SetStr(a.str)
		}
		i++
	}
	if m.copyPayload {
		for p := PayloadRequestParameters; p < numPayloads; p++ {
			v := f.payload[p]
			switch {
			case v == pcommon.Value{}:
			case p == PayloadResources:
				if v.Type() == pcommon.ValueTypeSlice {
					mapResources(attrs, v.Slice())
				}
			case v.Type() != pcommon.ValueTypeMap:
			case f.owned[p]:
				v.Map().MoveTo(attrs.PutEmptyMap(payloads[p].attr))
			default:
				v.Map().CopyTo(attrs.PutEmptyMap(payloads[p].attr))
			}
		}
	}
	if f.str(fieldErrorCode) != "" {
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.SetSeverityText("WARN")
	} else {
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
	}
	return res
}

// CopyPayload reports whether the payload members are copied into attributes.
func (m *Mapper) CopyPayload() bool { return m.copyPayload }

// Priority returns the priority of a record of the given service short name.
func (m *Mapper) Priority(service string) string {
	if _, ok := m.normal[service]; ok {
		return ctattr.PriorityNormal
	}
	return ctattr.PriorityLow
}

// ServiceName returns the short name of an eventSource: the first label of
// its host name ("ec2.amazonaws.com" gives "ec2").
func ServiceName(eventSource string) string {
	if i := strings.IndexByte(eventSource, '.'); i >= 0 {
		return eventSource[:i]
	}
	return eventSource
}

func mapResources(attrs pcommon.Map, resources pcommon.Slice) {
	out := attrs.PutEmptySlice(ctattr.AttrResources)
	out.EnsureCapacity(resources.Len())
	for i := 0; i < resources.Len(); i++ {
		r := resources.At(i)
		if r.Type() != pcommon.ValueTypeMap {
			continue
		}
		dst := out.AppendEmpty().SetEmptyMap()
		r.Map().Range(func(k string, v pcommon.Value) bool {
			switch k {
			case "accountId":
				putStr(dst, "account.id", v)
			case "type":
				putStr(dst, "type", v)
			case "ARN":
				putStr(dst, "arn", v)
			}
			return true
		})
	}
}

// putStr copies a non-empty string value; it reports whether it did.
func putStr(attrs pcommon.Map, key string, v pcommon.Value) bool {
	if v.Type() != pcommon.ValueTypeStr || v.Str() == "" {
		return false
	}
	attrs.PutStr(key, v.Str())
	return true
}

// parseTime parses CloudTrail's eventTime, "2006-01-02T15:04:05Z" in UTC,
// without allocating; other RFC 3339 forms go through the time package.
func parseTime(s string) (time.Time, bool) {
	if len(s) == 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		year, ok1 := digits(s[0:4])
		month, ok2 := digits(s[5:7])
		day, ok3 := digits(s[8:10])
		hour, ok4 := digits(s[11:13])
		minute, ok5 := digits(s[14:16])
		sec, ok6 := digits(s[17:19])
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && month >= 1 && month <= 12 && day >= 1 &&
			day <= 31 && hour < 24 && minute < 60 && sec < 61 {
			t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
			if t.Day() == day {
				return t, true
			}
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
