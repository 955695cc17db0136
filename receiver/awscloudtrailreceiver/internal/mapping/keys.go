package mapping

import (
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
)

// What the mapping reads: the groups (objects) and members of a record
// it captures, and their lookup by name while a record is parsed.

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
