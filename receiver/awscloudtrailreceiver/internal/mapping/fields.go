package mapping

import (
	"unsafe"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Group names a JSON object of a CloudTrail record whose members the
// mapping reads: the record itself and the objects nested in it.
type Group uint8

// The groups, each inside the one before it (see groupParent).
const (
	GroupNone Group = iota // an object the mapping does not read
	GroupRecord
	GroupUserIdentity
	GroupSessionContext
	GroupSessionAttributes
	GroupSessionIssuer
	GroupTLSDetails
	GroupInsightDetails
	numGroups
)

var groupParent = [numGroups]Group{
	GroupSessionContext:    GroupUserIdentity,
	GroupSessionAttributes: GroupSessionContext,
	GroupSessionIssuer:     GroupSessionContext,
	GroupUserIdentity:      GroupRecord,
	GroupTLSDetails:        GroupRecord,
	GroupInsightDetails:    GroupRecord,
}

// scalarKind says how a captured scalar becomes an attribute.
type scalarKind uint8

const (
	kindStr      scalarKind = iota // a non-empty string
	kindBool                       // a boolean, or the string "true"/"false"
	kindTrueOnly                   // as kindBool, put only when true
	kindTLS                        // a non-empty string without its "TLSv" prefix
	kindNone                       // read by Apply itself, not an attribute
)

// field is one scalar member the mapping reads.
type field struct {
	group Group
	key   string
	attr  string
	kind  scalarKind
}

// Indexes of the fields that Apply reads itself.
const (
	fieldEventTime = iota
	fieldEventSource
	fieldErrorCode
	fieldAccount
	fieldRegion
	fieldInsightSource
)

// fields are the scalar members, in the order of their attributes.
var fields = [...]field{
	fieldEventTime:     {GroupRecord, "eventTime", "", kindNone},
	fieldEventSource:   {GroupRecord, "eventSource", ctattr.AttrRPCService, kindStr},
	fieldErrorCode:     {GroupRecord, "errorCode", ctattr.AttrErrorCode, kindStr},
	fieldAccount:       {GroupRecord, "recipientAccountId", "", kindNone},
	fieldRegion:        {GroupRecord, "awsRegion", "", kindNone},
	fieldInsightSource: {GroupInsightDetails, "eventSource", "", kindNone},
	{GroupRecord, "eventVersion", ctattr.AttrEventVersion, kindStr},
	{GroupRecord, "eventID", ctattr.AttrEventID, kindStr},
	{GroupRecord, "eventName", ctattr.AttrRPCMethod, kindStr},
	{GroupRecord, "eventType", ctattr.AttrRPCSystem, kindStr},
	{GroupRecord, "apiVersion", ctattr.AttrAPIVersion, kindStr},
	{GroupRecord, "requestID", ctattr.AttrRequestID, kindStr},
	{GroupRecord, "eventCategory", ctattr.AttrEventCategory, kindStr},
	{GroupRecord, "readOnly", ctattr.AttrReadOnly, kindBool},
	{GroupRecord, "managementEvent", ctattr.AttrManagement, kindBool},
	{GroupRecord, "sourceIPAddress", ctattr.AttrSourceAddress, kindStr},
	{GroupRecord, "userAgent", ctattr.AttrUserAgent, kindStr},
	{GroupRecord, "sessionCredentialFromConsole", ctattr.AttrSessionConsole, kindTrueOnly},
	{GroupRecord, "errorMessage", ctattr.AttrErrorMessage, kindStr},
	{GroupRecord, "sharedEventID", ctattr.AttrSharedEventID, kindStr},
	{GroupUserIdentity, "userId", ctattr.AttrUserID, kindStr},
	{GroupUserIdentity, "userName", ctattr.AttrUserName, kindStr},
	{GroupUserIdentity, "accountId", ctattr.AttrIdentityAccountID, kindStr},
	{GroupUserIdentity, "accessKeyId", ctattr.AttrAccessKeyID, kindStr},
	{GroupUserIdentity, "identityStoreArn", ctattr.AttrIdentityStoreARN, kindStr},
	{GroupUserIdentity, "invokedBy", ctattr.AttrInvokedBy, kindStr},
	{GroupUserIdentity, "principalId", ctattr.AttrPrincipalID, kindStr},
	{GroupUserIdentity, "arn", ctattr.AttrPrincipalARN, kindStr},
	{GroupUserIdentity, "type", ctattr.AttrPrincipalType, kindStr},
	{GroupSessionAttributes, "mfaAuthenticated", ctattr.AttrSessionMFA, kindBool},
	{GroupSessionAttributes, "creationDate", ctattr.AttrSessionCreationDate, kindStr},
	{GroupSessionIssuer, "type", ctattr.AttrIssuerType, kindStr},
	{GroupSessionIssuer, "principalId", ctattr.AttrIssuerPrincipalID, kindStr},
	{GroupSessionIssuer, "arn", ctattr.AttrIssuerARN, kindStr},
	{GroupSessionIssuer, "accountId", ctattr.AttrIssuerAccountID, kindStr},
	{GroupSessionIssuer, "userName", ctattr.AttrIssuerUserName, kindStr},
	{GroupTLSDetails, "tlsVersion", ctattr.AttrTLSVersion, kindTLS},
	{GroupTLSDetails, "cipherSuite", ctattr.AttrTLSCipher, kindStr},
	{GroupTLSDetails, "clientProvidedHostHeader", ctattr.AttrServerAddress, kindStr},
}

const numFields = len(fields)

// Payload names the large members copied into attributes only with
// copy_payload_attributes.
type Payload uint8

// The payload members.
const (
	PayloadNone Payload = iota
	PayloadRequestParameters
	PayloadResponseElements
	PayloadAdditionalEventData
	PayloadInsightDetails
	PayloadResources
	numPayloads
)

var payloads = [numPayloads]struct{ key, attr string }{
	PayloadRequestParameters:   {"requestParameters", ctattr.AttrRequestParameters},
	PayloadResponseElements:    {"responseElements", ctattr.AttrResponseElements},
	PayloadAdditionalEventData: {"additionalEventData", ctattr.AttrAdditionalEventData},
	PayloadInsightDetails:      {"insightDetails", ctattr.AttrInsightDetails},
	PayloadResources:           {"resources", ctattr.AttrResources},
}

// Key says what the mapping reads from one member of an object: a scalar
// field, an object whose members it reads (Group), a payload, or nothing.
type Key struct {
	field   int8 // index in fields + 1; 0 for none
	Group   Group
	Payload Payload
}

// IsZero reports a member the mapping does not read.
func (k Key) IsZero() bool { return k == Key{} }

// keys maps, per group, a member name to its Key.
var keys = func() (out [numGroups]map[string]Key) {
	m := make(map[groupKey]Key)
	for i, f := range fields {
		m[groupKey{f.group, f.key}] = Key{field: int8(i + 1)}
	}
	for g, parent := range groupParent {
		if parent == GroupNone {
			continue
		}
		name := map[Group]string{
			GroupUserIdentity: "userIdentity", GroupSessionContext: "sessionContext", GroupSessionAttributes: "attributes",
			GroupSessionIssuer: "sessionIssuer", GroupTLSDetails: "tlsDetails", GroupInsightDetails: "insightDetails",
		}[Group(g)]
		k := m[groupKey{parent, name}]
		k.Group = Group(g)
		m[groupKey{parent, name}] = k
	}
	for p := PayloadRequestParameters; p < numPayloads; p++ {
		k := m[groupKey{GroupRecord, payloads[p].key}]
		k.Payload = p
		m[groupKey{GroupRecord, payloads[p].key}] = k
	}
	for gk, k := range m {
		if out[gk.g] == nil {
			out[gk.g] = make(map[string]Key)
		}
		out[gk.g][gk.key] = k
	}
	return out
}()

type groupKey struct {
	g   Group
	key string
}

// Lookup returns what the mapping reads from the member key of an object
// of group g.
func Lookup(g Group, key string) Key {
	if key == "" {
		return Key{}
	}
	for _, e := range byteKeys[g][slot(key)] {
		if e.name == key {
			return e.key
		}
	}
	return Key{}
}

// LookupBytes is Lookup of a member name held as bytes (not escaped). It
// runs for every member of the objects the mapping reads, so it does not
// hash the whole name: a small table per group is indexed by the name's
// length and its first and last bytes.
func LookupBytes(g Group, key []byte) Key {
	if len(key) == 0 {
		return Key{}
	}
	for _, e := range byteKeys[g][slot(key)] {
		if e.name == string(key) {
			return e.key
		}
	}
	return Key{}
}

type namedKey struct {
	name string
	key  Key
}

func slot[T string | []byte](k T) int {
	return (len(k)*31 + int(k[0])*7 + int(k[len(k)-1])) & 255
}

var byteKeys = func() (out [numGroups][256][]namedKey) {
	for g, m := range keys {
		for name, k := range m {
			if name != "" {
				i := slot(name)
				out[g][i] = append(out[g][i], namedKey{name, k})
			}
		}
	}
	return out
}()

// groupFields lists, for each group, the fields inside it or inside the
// groups nested in it: a new occurrence of the group clears them.
var groupFields = func() (out [numGroups][]int) {
	for i, f := range fields {
		for g := f.group; g != GroupNone; g = groupParent[g] {
			out[g] = append(out[g], i)
		}
	}
	return out
}()

type scalar struct {
	set bool // a string or a boolean was seen
	isB bool
	b   bool
	str string
}

// Fields holds what the mapping reads from one record, captured while the
// record is parsed (or from its body map, see CaptureMap). As in a map
// built from the record, the last of repeated members wins.
type Fields struct {
	vals [numFields]scalar
	// payload holds the payload values; owned ones were built for the
	// fields alone and are moved into the attributes, the others belong
	// to the body and are copied.
	payload     [numPayloads]pcommon.Value
	owned       [numPayloads]bool
	WantPayload bool
	// Bucket and Key, when set, are put as aws.s3.bucket and aws.s3.key.
	Bucket, Key string

	attrs     []attrValue
	templates map[uint64]pcommon.Map
}

// attrValue is an attribute's value for Apply.
type attrValue struct {
	str    string
	isBool bool
	b      bool
}

// The mask bits of the attributes that are not fields.
const (
	bitService = 60 + iota
	bitPriority
	bitBucket
	bitKey
)

// maxTemplates bounds the templates a Fields keeps: records of one trail
// come in a few shapes; odd ones may make more, then the cache starts over.
const maxTemplates = 256

// template returns a map of the attribute keys of mask, in order, with
// empty values.
func (f *Fields) template(mask uint64) pcommon.Map {
	if t, ok := f.templates[mask]; ok {
		return t
	}
	if f.templates == nil || len(f.templates) >= maxTemplates {
		f.templates = make(map[uint64]pcommon.Map)
	}
	t := pcommon.NewMap()
	for bit := range 64 {
		if mask&(1<<bit) == 0 {
			continue
		}
		switch bit {
		case bitService:
			t.PutEmpty(ctattr.AttrService)
		case bitPriority:
			t.PutEmpty(ctattr.AttrPriority)
		case bitBucket:
			t.PutEmpty(ctattr.AttrS3Bucket)
		case bitKey:
			t.PutEmpty(ctattr.AttrS3Key)
		default:
			t.PutEmpty(fields[bit].attr)
		}
	}
	f.templates[mask] = t
	return t
}

// Reset clears f for the next record.
func (f *Fields) Reset() {
	f.vals = [numFields]scalar{}
	f.payload = [numPayloads]pcommon.Value{}
	f.owned = [numPayloads]bool{}
}

// ResetGroup clears the fields of a group, at a new occurrence of it.
func (f *Fields) ResetGroup(g Group) {
	for _, i := range groupFields[g] {
		f.vals[i] = scalar{}
	}
}

// SetStr captures a string member.
func (f *Fields) SetStr(k Key, s string) {
	if k.field > 0 {
		f.vals[k.field-1] = scalar{set: true, str: s}
	}
}

// SetBool captures a boolean member.
func (f *Fields) SetBool(k Key, b bool) {
	if k.field > 0 {
		f.vals[k.field-1] = scalar{set: true, isB: true, b: b}
	}
}

// SetOther captures a member of another type (number, null, object, array).
func (f *Fields) SetOther(k Key) {
	if k.field > 0 {
		f.vals[k.field-1] = scalar{}
	}
}

// SetPayload captures the value of a payload member, which belongs to the body.
func (f *Fields) SetPayload(p Payload, v pcommon.Value) {
	f.payload[p], f.owned[p] = v, false
}

// NewPayload returns an empty value to build a payload member into, when
// the body does not hold it; Apply moves it into the attributes.
func (f *Fields) NewPayload(p Payload) pcommon.Value {
	v := pcommon.NewValueEmpty()
	f.payload[p], f.owned[p] = v, true
	return v
}

// PayloadsFrom captures the payload members of a record's body map.
func (f *Fields) PayloadsFrom(body pcommon.Map) {
	for p := PayloadRequestParameters; p < numPayloads; p++ {
		if v, ok := body.Get(payloads[p].key); ok {
			f.payload[p], f.owned[p] = v, false
		}
	}
}

func (f *Fields) str(i int) string {
	if v := f.vals[i]; v.set && !v.isB {
		return v.str
	}
	return ""
}

func (f *Fields) boolean(i int) (bool, bool) {
	v := f.vals[i]
	switch {
	case !v.set:
	case v.isB:
		return v.b, true
	case v.str == "true":
		return true, true
	case v.str == "false":
		return false, true
	}
	return false, false
}

// CaptureMap captures the fields of a record held as a map.
func CaptureMap(body pcommon.Map, f *Fields) {
	captureMap(body, GroupRecord, f)
}

func captureMap(m pcommon.Map, g Group, f *Fields) {
	for k, v := range m.All() {
		key := Lookup(g, k)
		if key.IsZero() {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeStr:
			f.SetStr(key, v.Str())
		case pcommon.ValueTypeBool:
			f.SetBool(key, v.Bool())
		default:
			f.SetOther(key)
		}
		if key.Group != GroupNone {
			f.ResetGroup(key.Group)
			if v.Type() == pcommon.ValueTypeMap {
				captureMap(v.Map(), key.Group, f)
			}
		}
		if key.Payload != PayloadNone {
			f.SetPayload(key.Payload, v)
		}
	}
}

// Rebase makes the captured strings that are views of old (see
// recordstream.Reader.ReadText) substrings of s, a copy of old: they then
// share its memory, without a copy of their own.
func (f *Fields) Rebase(old []byte, s string) {
	if len(old) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(old)))
	for i := range f.vals {
		v := &f.vals[i]
		if off, ok := viewOffset(v, base, len(old)); ok {
			v.str = s[off : off+len(v.str)]
		}
	}
}

// viewOffset returns where v's string lies in the n bytes at base, when it
// is a non-empty view of them.
func viewOffset(v *scalar, base uintptr, n int) (int, bool) {
	if !v.set || v.isB || v.str == "" {
		return 0, false
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(v.str)))
	if p < base || p-base+uintptr(len(v.str)) > uintptr(n) {
		return 0, false
	}
	return int(p - base), true
}
