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
	a := lr.Attributes()
	o := objWriter{dst: append(dst, '{')}
	o.str("eventVersion", a, ctattr.AttrEventVersion)
	if o.open("userIdentity", a, ctattr.AttrPrincipalType, ctattr.AttrPrincipalID, ctattr.AttrPrincipalARN, ctattr.AttrIdentityAccountID,
		ctattr.AttrAccessKeyID, ctattr.AttrUserName, ctattr.AttrUserID, ctattr.AttrIdentityStoreARN, ctattr.AttrInvokedBy,
		ctattr.AttrSessionMFA, ctattr.AttrSessionCreationDate, ctattr.AttrIssuerType, ctattr.AttrIssuerPrincipalID,
		ctattr.AttrIssuerARN, ctattr.AttrIssuerAccountID, ctattr.AttrIssuerUserName) {
		o.str("type", a, ctattr.AttrPrincipalType)
		o.str("principalId", a, ctattr.AttrPrincipalID)
		o.str("arn", a, ctattr.AttrPrincipalARN)
		o.str("accountId", a, ctattr.AttrIdentityAccountID)
		o.str("accessKeyId", a, ctattr.AttrAccessKeyID)
		o.str("userName", a, ctattr.AttrUserName)
		o.str("userId", a, ctattr.AttrUserID)
		o.str("identityStoreArn", a, ctattr.AttrIdentityStoreARN)
		if o.open("sessionContext", a, ctattr.AttrSessionMFA, ctattr.AttrSessionCreationDate, ctattr.AttrIssuerType,
			ctattr.AttrIssuerPrincipalID, ctattr.AttrIssuerARN, ctattr.AttrIssuerAccountID, ctattr.AttrIssuerUserName) {
			if o.open("sessionIssuer", a, ctattr.AttrIssuerType, ctattr.AttrIssuerPrincipalID, ctattr.AttrIssuerARN,
				ctattr.AttrIssuerAccountID, ctattr.AttrIssuerUserName) {
				o.str("type", a, ctattr.AttrIssuerType)
				o.str("principalId", a, ctattr.AttrIssuerPrincipalID)
				o.str("arn", a, ctattr.AttrIssuerARN)
				o.str("accountId", a, ctattr.AttrIssuerAccountID)
				o.str("userName", a, ctattr.AttrIssuerUserName)
				o.close()
			}
			if o.open("attributes", a, ctattr.AttrSessionMFA, ctattr.AttrSessionCreationDate) {
				o.str("creationDate", a, ctattr.AttrSessionCreationDate)
				// CloudTrail writes this flag as a string ("true"), the attribute is a bool.
				o.str("mfaAuthenticated", a, ctattr.AttrSessionMFA)
				o.close()
			}
			o.close()
		}
		o.str("invokedBy", a, ctattr.AttrInvokedBy)
		o.close()
	}
	if ts := lr.Timestamp(); ts != 0 {
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
	o.str("eventSource", a, ctattr.AttrRPCService)
	o.str("eventName", a, ctattr.AttrRPCMethod)
	o.str("awsRegion", res.Attributes(), ctattr.ResourceRegion)
	o.str("sourceIPAddress", a, ctattr.AttrSourceAddress)
	o.str("userAgent", a, ctattr.AttrUserAgent)
	o.str("errorCode", a, ctattr.AttrErrorCode)
	o.str("errorMessage", a, ctattr.AttrErrorMessage)
	o.any("requestParameters", a, ctattr.AttrRequestParameters)
	o.any("responseElements", a, ctattr.AttrResponseElements)
	o.any("additionalEventData", a, ctattr.AttrAdditionalEventData)
	o.str("requestID", a, ctattr.AttrRequestID)
	o.str("eventID", a, ctattr.AttrEventID)
	o.any("readOnly", a, ctattr.AttrReadOnly)
	if v, ok := a.Get(ctattr.AttrResources); ok && v.Type() == pcommon.ValueTypeSlice {
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
	o.str("eventType", a, ctattr.AttrRPCSystem)
	o.str("apiVersion", a, ctattr.AttrAPIVersion)
	o.any("managementEvent", a, ctattr.AttrManagement)
	o.str("recipientAccountId", res.Attributes(), ctattr.ResourceAccountID)
	o.str("sharedEventID", a, ctattr.AttrSharedEventID)
	o.str("eventCategory", a, ctattr.AttrEventCategory)
	if o.open("tlsDetails", a, ctattr.AttrTLSVersion, ctattr.AttrTLSCipher, ctattr.AttrServerAddress) {
		if v, ok := a.Get(ctattr.AttrTLSVersion); ok {
			o.key("tlsVersion")
			o.dst = AppendString(o.dst, "TLSv"+v.AsString())
		}
		o.str("cipherSuite", a, ctattr.AttrTLSCipher)
		o.str("clientProvidedHostHeader", a, ctattr.AttrServerAddress)
		o.close()
	}
	o.str("sessionCredentialFromConsole", a, ctattr.AttrSessionConsole)
	o.any("insightDetails", a, ctattr.AttrInsightDetails)
	return append(o.dst, '}')
}

// objWriter writes the members of JSON objects.
type objWriter struct {
	dst   []byte
	first []bool // per open object: no member yet
	n     int    // members of the outermost object
}

func (o *objWriter) key(k string) {
	if len(o.first) > 0 {
		if !o.first[len(o.first)-1] {
			o.dst = append(o.dst, ',')
		}
		o.first[len(o.first)-1] = false
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
			o.first = append(o.first, true)
			return true
		}
	}
	return false
}

func (o *objWriter) close() {
	o.first = o.first[:len(o.first)-1]
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
