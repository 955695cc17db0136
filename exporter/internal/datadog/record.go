package datadog

import (
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// Record is what the exporters read from one log record: the CloudTrail
// fields when the record comes from the awscloudtrail receiver.
type Record struct {
	// CloudTrail reports a record of the awscloudtrail receiver: it has
	// aws.cloudtrail.priority (which the receiver derives and sets on
	// every record, also one without eventID) or aws.cloudtrail.event_id,
	// no aws.cloudtrail.integrity.status (an integrity finding also has a
	// priority), and a body of one of the receiver's modes (Mode).
	CloudTrail bool
	// Mode is the record's body mode when CloudTrail.
	Mode      BodyMode
	EventID   string
	EventName string
	// Service is the AWS service short name (ec2), else service.name.
	Service     string
	EventSource string
	Account     string
	Region      string
	Priority    string
	ErrorCode   string
	ErrorMsg    string
	// ReadOnly is aws.event.read_only (false when absent).
	ReadOnly      bool
	PrincipalARN  string
	PrincipalType string
	UserName      string
	InvokedBy     string
	SourceAddress string
	UserAgent     string
	Bucket, Key   string
	Hostname      string
	// InsightType and InsightState describe a CloudTrail Insight record
	// (EventName and EventSource then come from its insightDetails).
	InsightType, InsightState string
	// Time is the record's Timestamp, or its ObservedTimestamp.
	Time time.Time
	// Extra reports an attribute that is not the receiver's (a
	// processor's), which the logs entry carries.
	Extra bool
}

// ReadRecord extracts the fields of lr (and its resource) that the
// exporters use, in one pass over the attributes.
func ReadRecord(res pcommon.Resource, lr plog.LogRecord) Record {
	var r Record
	var rpcSystem, issuerUserName, serviceName string
	receivers := false // an attribute only the receiver sets on its records
	integrity := false // a finding of the receiver's integrity check, not a record
	for k, v := range lr.Attributes().All() {
		switch k {
		case ctattr.AttrEventID:
			r.EventID = v.AsString()
			receivers = true
		case ctattr.AttrPriority:
			r.Priority = v.AsString()
			receivers = true
		case ctattr.AttrIntegrityStatus:
			integrity = true
		case ctattr.AttrRPCMethod:
			r.EventName = v.AsString()
		case ctattr.AttrRPCService:
			r.EventSource = v.AsString()
		case ctattr.AttrService:
			r.Service = v.AsString()
		case ctattr.AttrErrorCode:
			r.ErrorCode = v.AsString()
		case ctattr.AttrErrorMessage:
			r.ErrorMsg = v.AsString()
		case ctattr.AttrReadOnly:
			r.ReadOnly = v.Type() == pcommon.ValueTypeBool && v.Bool()
		case ctattr.AttrPrincipalARN:
			r.PrincipalARN = v.AsString()
		case ctattr.AttrPrincipalType:
			r.PrincipalType = v.AsString()
		case ctattr.AttrUserName:
			r.UserName = v.AsString()
		case ctattr.AttrIssuerUserName:
			issuerUserName = v.AsString()
		case ctattr.AttrInvokedBy:
			r.InvokedBy = v.AsString()
		case ctattr.AttrSourceAddress:
			r.SourceAddress = v.AsString()
		case ctattr.AttrUserAgent:
			r.UserAgent = v.AsString()
		case ctattr.AttrS3Bucket:
			r.Bucket = v.AsString()
		case ctattr.AttrS3Key:
			r.Key = v.AsString()
		case ctattr.AttrRPCSystem:
			rpcSystem = v.AsString()
		case "service.name":
			serviceName = v.AsString()
			r.Extra = true
		default:
			if !r.Extra && !ctattr.IsContract(k) {
				r.Extra = true
			}
		}
	}
	resAttrs := res.Attributes()
	get := func(m pcommon.Map, k string) string {
		if v, ok := m.Get(k); ok {
			return v.AsString()
		}
		return ""
	}
	r.Hostname = get(resAttrs, "host.name")
	if receivers && !integrity {
		r.Mode = ModeOf(lr.Body())
		r.CloudTrail = r.Mode != BodyOther
	}
	ts := lr.Timestamp()
	if ts == 0 {
		ts = lr.ObservedTimestamp()
	}
	if ts != 0 {
		r.Time = ts.AsTime()
	}
	if !r.CloudTrail {
		// Only the service and the time matter for other records.
		r = Record{EventID: r.EventID, Priority: r.Priority, Hostname: r.Hostname, Time: r.Time, Extra: r.Extra}
		r.Service = get(resAttrs, "service.name")
		if r.Service == "" {
			r.Service = serviceName
		}
		return r
	}
	r.Account = get(resAttrs, ctattr.ResourceAccountID)
	r.Region = get(resAttrs, ctattr.ResourceRegion)
	if r.UserName == "" {
		r.UserName = issuerUserName
	}
	if rpcSystem == "AwsCloudTrailInsight" {
		if d, ok := RecordMap(res, lr).Get("insightDetails"); ok && d.Type() == pcommon.ValueTypeMap {
			r.EventName = get(d.Map(), "eventName")
			r.EventSource = get(d.Map(), "eventSource")
			r.InsightType = get(d.Map(), "insightType")
			r.InsightState = get(d.Map(), "state")
		}
	}
	return r
}

// BodyMode is how a log record of the awscloudtrail receiver holds its
// CloudTrail record (the receiver's `body:` setting).
type BodyMode int

// Body modes.
const (
	// BodyOther: not a body of the receiver's modes.
	BodyOther BodyMode = iota
	// BodyMap: the record as a map (`body: map`).
	BodyMap
	// BodyJSON: the record's JSON text as a string (`body: json`).
	BodyJSON
	// BodyNone: no body, the attributes only (`body: none`).
	BodyNone
)

// ModeOf returns the body mode a CloudTrail record's body has.
func ModeOf(body pcommon.Value) BodyMode {
	switch body.Type() {
	case pcommon.ValueTypeMap:
		return BodyMap
	case pcommon.ValueTypeStr:
		return BodyJSON
	case pcommon.ValueTypeEmpty:
		return BodyNone
	}
	return BodyOther
}

// RecordMap returns the CloudTrail record of lr as a map, whatever its
// body mode: the body itself (map), the body's JSON text decoded (json),
// or the record its attributes carry (none, or a JSON text that is not a
// JSON object). It serves the rare reads of payload fields (Insight
// details, the events' request parameters), not the logs' hot path.
func RecordMap(res pcommon.Resource, lr plog.LogRecord) pcommon.Map {
	body := lr.Body()
	if body.Type() == pcommon.ValueTypeMap {
		return body.Map()
	}
	v := pcommon.NewValueEmpty()
	if body.Type() == pcommon.ValueTypeStr {
		if err := ParseJSON([]byte(body.Str()), v); err == nil && v.Type() == pcommon.ValueTypeMap {
			return v.Map()
		}
	}
	_ = ParseJSON(AppendRecordFromAttributes(nil, res, lr), v)
	return v.Map()
}

// Actor names who made a CloudTrail call, for titles: the user name, the
// session name of an assumed role, the calling service, or the identity type.
func (r Record) Actor() string {
	if r.PrincipalType == "AssumedRole" {
		// arn:aws:sts::123:assumed-role/Role/session gives Role/session.
		if _, after, ok := strings.Cut(r.PrincipalARN, ":assumed-role/"); ok {
			return after
		}
	}
	switch {
	case r.UserName != "":
		return r.UserName
	case r.InvokedBy != "":
		return r.InvokedBy
	case r.PrincipalType == "Root":
		return "root"
	case r.PrincipalARN != "":
		return r.PrincipalARN[strings.LastIndexAny(r.PrincipalARN, "/:")+1:]
	case r.PrincipalType != "":
		return r.PrincipalType
	}
	return "unknown"
}

// Tags returns the Datadog tags of a record, then extra. A CloudTrail
// record is tagged with aws_account, region, aws_service (the AWS service:
// a tag of its own, so that it does not override the entry's service),
// event_name and priority.
func (r Record) Tags(extra []string) []string {
	tags := make([]string, 0, 5+len(extra))
	if r.CloudTrail {
		for _, kv := range r.tagPairs() {
			if kv[1] != "" {
				tags = append(tags, kv[0]+kv[1])
			}
		}
	}
	return append(tags, extra...)
}

// AppendTags appends Tags(extra) joined by commas, without allocating.
func (r *Record) AppendTags(dst []byte, extra []string) []byte {
	n := 0
	if r.CloudTrail {
		for _, kv := range r.tagPairs() {
			if kv[1] != "" {
				if n > 0 {
					dst = append(dst, ',')
				}
				n++
				dst = append(append(dst, kv[0]...), kv[1]...)
			}
		}
	}
	for _, t := range extra {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = append(dst, t...)
	}
	return dst
}

// tagPairs returns the tags of a CloudTrail record as prefix ("region:")
// and value; a tag whose value is empty is not sent.
func (r *Record) tagPairs() [5][2]string {
	return [...][2]string{{"aws_account:", r.Account}, {"region:", r.Region}, {"aws_service:", r.Service}, {"event_name:", r.EventName}, {"priority:", r.Priority}}
}

// InstanceFromARN returns the EC2 instance ID of an instance-role session
// (userIdentity.arn arn:<partition>:sts::<account>:assumed-role/<role>/i-<8
// or 17 lower-case hex digits>), else "". This is the rule of Datadog's
// Forwarder for the host of a CloudTrail entry (which only knows the aws
// partition).
func InstanceFromARN(arn string) string {
	rest, ok := strings.CutPrefix(arn, "arn:")
	if !ok {
		return ""
	}
	_, rest, ok = strings.Cut(rest, ":sts::")
	if !ok {
		return ""
	}
	_, rest, ok = strings.Cut(rest, ":assumed-role/")
	if !ok {
		return ""
	}
	slash := strings.LastIndexByte(rest, '/')
	if slash <= 0 {
		return ""
	}
	id := rest[slash+1:]
	hex, ok := strings.CutPrefix(id, "i-")
	if !ok || (len(hex) != 8 && len(hex) != 17) {
		return ""
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return ""
		}
	}
	return id
}

// Status maps a log record's severity to a Datadog status.
func Status(lr plog.LogRecord) string {
	n := lr.SeverityNumber()
	switch {
	case n >= plog.SeverityNumberFatal:
		return "critical"
	case n >= plog.SeverityNumberError:
		return "error"
	case n >= plog.SeverityNumberWarn:
		return "warn"
	case n >= plog.SeverityNumberInfo:
		return "info"
	case n >= plog.SeverityNumberTrace:
		return "debug"
	}
	switch strings.ToLower(lr.SeverityText()) {
	case "error", "err":
		return "error"
	case "warn", "warning":
		return "warn"
	case "debug", "trace":
		return "debug"
	case "fatal", "critical":
		return "critical"
	}
	return "info"
}

// LogStatus is the status of a log record that is not CloudTrail's, as
// contrib's Datadog exporter sets it: the severity text as written (Datadog's
// status remapper reads it), else the range of the severity number (trace,
// debug, info, warn, error, fatal), else "" (no status).
func LogStatus(lr plog.LogRecord) string {
	if t := lr.SeverityText(); t != "" {
		return t
	}
	switch n := lr.SeverityNumber(); {
	case n == plog.SeverityNumberUnspecified:
		return ""
	case n <= plog.SeverityNumberTrace4:
		return "trace"
	case n <= plog.SeverityNumberDebug4:
		return "debug"
	case n <= plog.SeverityNumberInfo4:
		return "info"
	case n <= plog.SeverityNumberWarn4:
		return "warn"
	case n <= plog.SeverityNumberError4:
		return "error"
	case n <= plog.SeverityNumberFatal4:
		return "fatal"
	}
	return "error"
}

// ResourceTags returns the Datadog tags a resource implies, as contrib's
// Datadog exporter: env (deployment.environment.name, or the older
// deployment.environment) and version (service.version).
func ResourceTags(res pcommon.Resource) []string {
	var tags []string
	attrs := res.Attributes()
	env, ok := attrs.Get("deployment.environment.name")
	if !ok {
		env, ok = attrs.Get("deployment.environment")
	}
	if ok && env.AsString() != "" {
		tags = append(tags, "env:"+env.AsString())
	}
	if v, ok := attrs.Get("service.version"); ok && v.AsString() != "" {
		tags = append(tags, "version:"+v.AsString())
	}
	return tags
}
