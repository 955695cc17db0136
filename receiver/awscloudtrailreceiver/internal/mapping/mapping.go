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
	body := lr.Body().Map()
	attrs := lr.Attributes()
	attrs.EnsureCapacity(32)
	res := Result{AccountID: account, Region: region}
	var eventSource, insightSource string
	hasError := false
	body.Range(func(k string, v pcommon.Value) bool {
		switch k {
		case "eventVersion":
			putStr(attrs, ctattr.AttrEventVersion, v)
		case "eventID":
			putStr(attrs, ctattr.AttrEventID, v)
		case "eventTime":
			if t, ok := parseTime(v.Str()); ok {
				res.EventTime = t
				lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
			}
		case "eventName":
			putStr(attrs, ctattr.AttrRPCMethod, v)
		case "eventType":
			putStr(attrs, ctattr.AttrRPCSystem, v)
		case "eventSource":
			eventSource = v.Str()
			putStr(attrs, ctattr.AttrRPCService, v)
		case "apiVersion":
			putStr(attrs, ctattr.AttrAPIVersion, v)
		case "requestID":
			putStr(attrs, ctattr.AttrRequestID, v)
		case "eventCategory":
			putStr(attrs, ctattr.AttrEventCategory, v)
		case "readOnly":
			putBool(attrs, ctattr.AttrReadOnly, v)
		case "managementEvent":
			putBool(attrs, ctattr.AttrManagement, v)
		case "sourceIPAddress":
			putStr(attrs, ctattr.AttrSourceAddress, v)
		case "userAgent":
			putStr(attrs, ctattr.AttrUserAgent, v)
		case "sessionCredentialFromConsole":
			if b, ok := asBool(v); ok && b {
				attrs.PutBool(ctattr.AttrSessionConsole, true)
			}
		case "errorCode":
			if putStr(attrs, ctattr.AttrErrorCode, v) {
				hasError = true
			}
		case "errorMessage":
			putStr(attrs, ctattr.AttrErrorMessage, v)
		case "sharedEventID":
			putStr(attrs, ctattr.AttrSharedEventID, v)
		case "recipientAccountId":
			if s := v.Str(); s != "" {
				res.AccountID = s
			}
		case "awsRegion":
			if s := v.Str(); s != "" {
				res.Region = s
			}
		case "userIdentity":
			if v.Type() == pcommon.ValueTypeMap {
				mapUserIdentity(attrs, v.Map())
			}
		case "tlsDetails":
			if v.Type() == pcommon.ValueTypeMap {
				mapTLS(attrs, v.Map())
			}
		case "insightDetails":
			if v.Type() == pcommon.ValueTypeMap {
				if src, ok := v.Map().Get("eventSource"); ok {
					insightSource = src.Str()
				}
				m.copyMap(attrs, ctattr.AttrInsightDetails, v)
			}
		case "requestParameters":
			m.copyMap(attrs, ctattr.AttrRequestParameters, v)
		case "responseElements":
			m.copyMap(attrs, ctattr.AttrResponseElements, v)
		case "additionalEventData":
			m.copyMap(attrs, ctattr.AttrAdditionalEventData, v)
		case "resources":
			if m.copyPayload && v.Type() == pcommon.ValueTypeSlice {
				mapResources(attrs, v.Slice())
			}
		}
		return true
	})
	if eventSource == "" {
		eventSource = insightSource
	}
	service := ServiceName(eventSource)
	res.Priority = m.Priority(service)
	if service != "" {
		attrs.PutStr(ctattr.AttrService, service)
	}
	attrs.PutStr(ctattr.AttrPriority, res.Priority)
	if hasError {
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.SetSeverityText("WARN")
	} else {
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
	}
	return res
}

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

func (m *Mapper) copyMap(attrs pcommon.Map, key string, v pcommon.Value) {
	if m.copyPayload && v.Type() == pcommon.ValueTypeMap {
		v.Map().CopyTo(attrs.PutEmptyMap(key))
	}
}

func mapUserIdentity(attrs pcommon.Map, ui pcommon.Map) {
	ui.Range(func(k string, v pcommon.Value) bool {
		switch k {
		case "userId":
			putStr(attrs, ctattr.AttrUserID, v)
		case "userName":
			putStr(attrs, ctattr.AttrUserName, v)
		case "accountId":
			putStr(attrs, ctattr.AttrIdentityAccountID, v)
		case "accessKeyId":
			putStr(attrs, ctattr.AttrAccessKeyID, v)
		case "identityStoreArn":
			putStr(attrs, ctattr.AttrIdentityStoreARN, v)
		case "invokedBy":
			putStr(attrs, ctattr.AttrInvokedBy, v)
		case "principalId":
			putStr(attrs, ctattr.AttrPrincipalID, v)
		case "arn":
			putStr(attrs, ctattr.AttrPrincipalARN, v)
		case "type":
			putStr(attrs, ctattr.AttrPrincipalType, v)
		case "sessionContext":
			if v.Type() == pcommon.ValueTypeMap {
				mapSessionContext(attrs, v.Map())
			}
		}
		return true
	})
}

func mapSessionContext(attrs pcommon.Map, sc pcommon.Map) {
	if a, ok := sc.Get("attributes"); ok && a.Type() == pcommon.ValueTypeMap {
		if v, ok := a.Map().Get("mfaAuthenticated"); ok {
			if b, ok := asBool(v); ok {
				attrs.PutBool(ctattr.AttrSessionMFA, b)
			}
		}
		if v, ok := a.Map().Get("creationDate"); ok {
			putStr(attrs, ctattr.AttrSessionCreationDate, v)
		}
	}
	if is, ok := sc.Get("sessionIssuer"); ok && is.Type() == pcommon.ValueTypeMap {
		is.Map().Range(func(k string, v pcommon.Value) bool {
			switch k {
			case "type":
				putStr(attrs, ctattr.AttrIssuerType, v)
			case "principalId":
				putStr(attrs, ctattr.AttrIssuerPrincipalID, v)
			case "arn":
				putStr(attrs, ctattr.AttrIssuerARN, v)
			case "accountId":
				putStr(attrs, ctattr.AttrIssuerAccountID, v)
			case "userName":
				putStr(attrs, ctattr.AttrIssuerUserName, v)
			}
			return true
		})
	}
}

func mapTLS(attrs pcommon.Map, tls pcommon.Map) {
	tls.Range(func(k string, v pcommon.Value) bool {
		switch k {
		case "tlsVersion":
			if s := v.Str(); s != "" {
				attrs.PutStr(ctattr.AttrTLSVersion, strings.TrimPrefix(s, "TLSv"))
			}
		case "cipherSuite":
			putStr(attrs, ctattr.AttrTLSCipher, v)
		case "clientProvidedHostHeader":
			putStr(attrs, ctattr.AttrServerAddress, v)
		}
		return true
	})
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

func putBool(attrs pcommon.Map, key string, v pcommon.Value) {
	if b, ok := asBool(v); ok {
		attrs.PutBool(key, b)
	}
}

// asBool accepts JSON booleans and the strings "true"/"false", which
// CloudTrail uses in some fields.
func asBool(v pcommon.Value) (bool, bool) {
	switch v.Type() {
	case pcommon.ValueTypeBool:
		return v.Bool(), true
	case pcommon.ValueTypeStr:
		switch v.Str() {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
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
