package datadog

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// AppendRecordFromAttributes appends, as a JSON object, the CloudTrail
// record that the attributes of a `body: none` log record (and its
// resource) carry: the inverse of the receiver's mapping. What the
// attributes do not carry is missing (exporter/datadoglogsexporter/README.md,
// "Body modes"): the payload maps without copy_payload_attributes, the
// fields that have no attribute (serviceEventDetails, vpcEndpointId,
// userIdentity.sessionContext.sourceIdentity, webIdFederationData,
// onBehalfOf, …), and fields whose value is an empty string.
func AppendRecordFromAttributes(dst []byte, res pcommon.Resource, lr plog.LogRecord) []byte {
	o := objWriter{dst: append(dst, '{')}
	o.fields(recordFields, lr.Attributes(), res.Attributes(), lr)
	return append(o.dst, '}')
}

// recordFields are the members AppendRecordFromAttributes writes, in
// CloudTrail's order, with the attributes they come from.
var recordFields = []recordField{
	fieldStr("eventVersion", ctattr.AttrEventVersion),
	fieldObject("userIdentity",
		fieldStr("type", ctattr.AttrPrincipalType),
		fieldStr("principalId", ctattr.AttrPrincipalID),
		fieldStr("arn", ctattr.AttrPrincipalARN),
		fieldStr("accountId", ctattr.AttrIdentityAccountID),
		fieldStr("accessKeyId", ctattr.AttrAccessKeyID),
		fieldStr("userName", ctattr.AttrUserName),
		fieldStr("userId", ctattr.AttrUserID),
		fieldStr("identityStoreArn", ctattr.AttrIdentityStoreARN),
		fieldObject("sessionContext",
			fieldObject("sessionIssuer",
				fieldStr("type", ctattr.AttrIssuerType),
				fieldStr("principalId", ctattr.AttrIssuerPrincipalID),
				fieldStr("arn", ctattr.AttrIssuerARN),
				fieldStr("accountId", ctattr.AttrIssuerAccountID),
				fieldStr("userName", ctattr.AttrIssuerUserName),
			),
			fieldObject("attributes",
				fieldStr("creationDate", ctattr.AttrSessionCreationDate),
				// CloudTrail writes this flag as a string ("true"), the attribute is a bool.
				fieldStr("mfaAuthenticated", ctattr.AttrSessionMFA),
			),
		),
		fieldStr("invokedBy", ctattr.AttrInvokedBy),
	),
	{from: fromEventTime},
	fieldStr("eventSource", ctattr.AttrRPCService),
	fieldStr("eventName", ctattr.AttrRPCMethod),
	{key: "awsRegion", attr: ctattr.ResourceRegion, from: fromResource},
	fieldStr("sourceIPAddress", ctattr.AttrSourceAddress),
	fieldStr("userAgent", ctattr.AttrUserAgent),
	fieldStr("errorCode", ctattr.AttrErrorCode),
	fieldStr("errorMessage", ctattr.AttrErrorMessage),
	fieldValue("requestParameters", ctattr.AttrRequestParameters),
	fieldValue("responseElements", ctattr.AttrResponseElements),
	fieldValue("additionalEventData", ctattr.AttrAdditionalEventData),
	fieldStr("requestID", ctattr.AttrRequestID),
	fieldStr("eventID", ctattr.AttrEventID),
	fieldValue("readOnly", ctattr.AttrReadOnly),
	{attr: ctattr.AttrResources, from: fromResources},
	fieldStr("eventType", ctattr.AttrRPCSystem),
	fieldStr("apiVersion", ctattr.AttrAPIVersion),
	fieldValue("managementEvent", ctattr.AttrManagement),
	{key: "recipientAccountId", attr: ctattr.ResourceAccountID, from: fromResource},
	fieldStr("sharedEventID", ctattr.AttrSharedEventID),
	fieldStr("eventCategory", ctattr.AttrEventCategory),
	fieldObject("tlsDetails",
		recordField{attr: ctattr.AttrTLSVersion, from: fromTLSVersion},
		fieldStr("cipherSuite", ctattr.AttrTLSCipher),
		fieldStr("clientProvidedHostHeader", ctattr.AttrServerAddress),
	),
	fieldStr("sessionCredentialFromConsole", ctattr.AttrSessionConsole),
	fieldValue("insightDetails", ctattr.AttrInsightDetails),
}

// recordField is one member of the record AppendRecordFromAttributes
// writes: an attribute's value as a string or as it is, an object of
// members (written when any attribute below it is present), or a member
// its own function writes (fromEventTime, fromResources, fromTLSVersion).
type recordField struct {
	key   string
	attr  string    // the attribute the member comes from
	from  fieldFrom // how the attribute becomes the member
	sub   []recordField
	attrs []string // an object's: every attribute below it
}

// fieldFrom is how a member comes from its attribute.
type fieldFrom uint8

const (
	fromString   fieldFrom = iota // the record's attribute, as a string
	fromValue                     // the record's attribute, as it is
	fromResource                  // the resource's attribute, as a string
	// The members their own function writes (called directly, not
	// through a func value, so that the objWriter stays on the stack).
	fromEventTime  // writeEventTime
	fromResources  // writeResources
	fromTLSVersion // writeTLSVersion
)

func fieldStr(key, attr string) recordField { return recordField{key: key, attr: attr} }
func fieldValue(key, attr string) recordField {
	return recordField{key: key, attr: attr, from: fromValue}
}

// fieldObject is the object key of the members sub.
func fieldObject(key string, sub ...recordField) recordField {
	f := recordField{key: key, sub: sub}
	for _, s := range sub {
		if s.sub != nil {
			f.attrs = append(f.attrs, s.attrs...)
		} else if s.attr != "" {
			f.attrs = append(f.attrs, s.attr)
		}
	}
	return f
}

// fields writes the members fs from the attributes of a record (a) and of
// its resource (ra).
func (o *objWriter) fields(fs []recordField, a, ra pcommon.Map, lr plog.LogRecord) {
	for i := range fs {
		f := &fs[i]
		switch {
		case f.from == fromEventTime:
			writeEventTime(o, a, lr)
		case f.from == fromResources:
			writeResources(o, a, lr)
		case f.from == fromTLSVersion:
			writeTLSVersion(o, a, lr)
		case f.sub != nil:
			if o.open(f.key, a, f.attrs...) {
				o.fields(f.sub, a, ra, lr)
				o.close()
			}
		case f.from == fromValue:
			o.any(f.key, a, f.attr)
		case f.from == fromResource:
			o.str(f.key, ra, f.attr)
		default:
			o.str(f.key, a, f.attr)
		}
	}
}

// writeEventTime writes the record's timestamp as CloudTrail does: whole
// seconds without a fraction.
func writeEventTime(o *objWriter, _ pcommon.Map, lr plog.LogRecord) {
	ts := lr.Timestamp()
	if ts == 0 {
		return
	}
	t := ts.AsTime().UTC()
	layout := "2006-01-02T15:04:05Z"
	if t.Nanosecond() != 0 {
		layout = time.RFC3339Nano
	}
	o.key("eventTime")
	o.dst = append(o.dst, '"')
	o.dst = t.AppendFormat(o.dst, layout)
	o.dst = append(o.dst, '"')
}

// writeResources writes the resources of the cloudtrail.resources
// attribute (account.id, type and arn of each).
func writeResources(o *objWriter, a pcommon.Map, _ plog.LogRecord) {
	v, ok := a.Get(ctattr.AttrResources)
	if !ok || v.Type() != pcommon.ValueTypeSlice {
		return
	}
	o.key("resources")
	o.dst = append(o.dst, '[')
	for i, r := range v.Slice().All() {
		if i > 0 {
			o.dst = append(o.dst, ',')
		}
		if r.Type() != pcommon.ValueTypeMap {
			o.dst = append(o.dst, "{}"...)
			continue
		}
		inner := objWriter{dst: append(o.dst, '{')}
		inner.str("accountId", r.Map(), "account.id")
		inner.str("type", r.Map(), "type")
		inner.str("ARN", r.Map(), "arn")
		o.dst = append(inner.dst, '}')
	}
	o.dst = append(o.dst, ']')
}

// writeTLSVersion writes tlsVersion as CloudTrail does ("TLSv1.2"); the
// attribute holds the version alone.
func writeTLSVersion(o *objWriter, a pcommon.Map, _ plog.LogRecord) {
	if v, ok := a.Get(ctattr.AttrTLSVersion); ok {
		o.key("tlsVersion")
		o.dst = AppendString(o.dst, "TLSv"+v.AsString())
	}
}

// objWriter writes the members of JSON objects.
type objWriter struct {
	dst []byte
	// first, per open object (depth of them): no member yet. recordFields
	// nests objects three deep.
	first [4]bool
	depth int
	n     int // members of the outermost object
}

func (o *objWriter) key(k string) {
	if o.depth > 0 {
		if !o.first[o.depth-1] {
			o.dst = append(o.dst, ',')
		}
		o.first[o.depth-1] = false
	} else {
		if o.n > 0 {
			o.dst = append(o.dst, ',')
		}
		o.n++
	}
	o.dst = AppendString(o.dst, k)
	o.dst = append(o.dst, ':')
}

// open starts the object k when a has any of names; close ends it.
func (o *objWriter) open(k string, a pcommon.Map, names ...string) bool {
	for _, n := range names {
		if _, ok := a.Get(n); ok {
			o.key(k)
			o.dst = append(o.dst, '{')
			o.first[o.depth] = true
			o.depth++
			return true
		}
	}
	return false
}

func (o *objWriter) close() {
	o.depth--
	o.dst = append(o.dst, '}')
}

func (o *objWriter) str(k string, a pcommon.Map, name string) {
	if v, ok := a.Get(name); ok {
		o.key(k)
		o.dst = AppendString(o.dst, v.AsString())
	}
}

func (o *objWriter) any(k string, a pcommon.Map, name string) {
	if v, ok := a.Get(name); ok {
		o.key(k)
		o.dst = AppendValue(o.dst, v)
	}
}
