// Package trailgen generates realistic CloudTrail records and log files for
// tests, benchmarks and the local demo stack. Output is deterministic for
// a given seed, and every record has a unique eventID.
package trailgen

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// EventTimeLayout is CloudTrail's eventTime format.
const EventTimeLayout = "2006-01-02T15:04:05Z"

// Generator produces CloudTrail records for one account and region.
type Generator struct {
	Account string
	Region  string
	rng     *rand.Rand
	seq     uint64
	seed    uint64
}

// New returns a Generator seeded with seed.
func New(seed uint64, account, region string) *Generator {
	return &Generator{Account: account, Region: region, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed}
}

// EventID returns a UUID-shaped ID unique to (seed, n).
func EventID(seed, n uint64) string {
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(seed>>32)^uint32(seed), uint16(n>>48), uint16(n>>36)&0xfff, uint16(n>>24)&0xfff, n&0xffffffffffff)
}

type call struct {
	source, name string
	readOnly     bool
	category     string
}

var calls = []call{
	{"ec2.amazonaws.com", "RunInstances", false, "Management"},
	{"ec2.amazonaws.com", "DescribeInstances", true, "Management"},
	{"ec2.amazonaws.com", "TerminateInstances", false, "Management"},
	{"s3.amazonaws.com", "GetObject", true, "Data"},
	{"s3.amazonaws.com", "PutObject", false, "Data"},
	{"s3.amazonaws.com", "CreateBucket", false, "Management"},
	{"iam.amazonaws.com", "CreateUser", false, "Management"},
	{"iam.amazonaws.com", "PutRolePolicy", false, "Management"},
	{"iam.amazonaws.com", "ListRoles", true, "Management"},
	{"sts.amazonaws.com", "AssumeRole", true, "Management"},
	{"kms.amazonaws.com", "Decrypt", true, "Management"},
	{"lambda.amazonaws.com", "Invoke", false, "Data"},
	{"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", false, "Management"},
	{"dynamodb.amazonaws.com", "GetItem", true, "Data"},
	{"signin.amazonaws.com", "ConsoleLogin", false, "Management"},
	{"cloudtrail.amazonaws.com", "StopLogging", false, "Management"},
	{"rds.amazonaws.com", "ModifyDBInstance", false, "Management"},
	{"logs.amazonaws.com", "CreateLogStream", false, "Management"},
	{"secretsmanager.amazonaws.com", "GetSecretValue", true, "Management"},
	{"route53.amazonaws.com", "ChangeResourceRecordSets", false, "Management"},
}

var names = []string{"alice", "bob", "carol", "dave", "Zoë", "José", "李雷", "admin-automation"}

// Record returns one record as a map ready for encoding/json, at time t.
func (g *Generator) Record(t time.Time) map[string]any {
	r := g.rng
	n := g.seq
	g.seq++
	c := calls[r.IntN(len(calls))]
	user := names[r.IntN(len(names))]
	rec := map[string]any{
		"eventVersion":       "1.09",
		"userIdentity":       g.identity(user),
		"eventTime":          t.UTC().Format(EventTimeLayout),
		"eventSource":        c.source,
		"eventName":          c.name,
		"awsRegion":          g.Region,
		"sourceIPAddress":    fmt.Sprintf("198.51.100.%d", r.IntN(255)),
		"userAgent":          []string{"aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64 prompt/off command/ec2.run-instances", "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 lang/python#3.12", "console.amazonaws.com", "AWS Internal"}[r.IntN(4)],
		"requestParameters":  g.params(c, user),
		"responseElements":   nil,
		"requestID":          EventID(g.seed+1, n),
		"eventID":            EventID(g.seed, n),
		"readOnly":           c.readOnly,
		"eventType":          "AwsApiCall",
		"managementEvent":    c.category == "Management",
		"recipientAccountId": g.Account,
		"eventCategory":      c.category,
		"tlsDetails": map[string]any{
			"tlsVersion":               "TLSv1.3",
			"cipherSuite":              "TLS_AES_128_GCM_SHA256",
			"clientProvidedHostHeader": strings.TrimSuffix(c.source, ".amazonaws.com") + "." + g.Region + ".amazonaws.com",
		},
	}
	if c.name == "ConsoleLogin" {
		rec["eventType"] = "AwsConsoleSignIn"
		rec["requestParameters"] = nil
		rec["responseElements"] = map[string]any{"ConsoleLogin": "Success"}
		rec["additionalEventData"] = map[string]any{"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "Yes"}
	}
	if !c.readOnly && r.IntN(3) == 0 {
		rec["responseElements"] = map[string]any{"requestId": EventID(g.seed+2, n), "_return": true, "count": r.IntN(1000), "ratio": 0.25}
	}
	if r.IntN(8) == 0 {
		rec["errorCode"] = []string{"AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"}[r.IntN(3)]
		rec["errorMessage"] = "User: arn:aws:iam::" + g.Account + ":user/" + user + " is not authorized to perform: " + c.name
		rec["responseElements"] = nil
	}
	if r.IntN(4) == 0 {
		rec["resources"] = []any{map[string]any{"accountId": g.Account, "type": "AWS::IAM::Role", "ARN": "arn:aws:iam::" + g.Account + ":role/app-" + user}}
	}
	if r.IntN(3) == 0 {
		rec["sharedEventID"] = EventID(g.seed+3, n)
	}
	return rec
}

func (g *Generator) identity(user string) map[string]any {
	r := g.rng
	acct := g.Account
	switch r.IntN(8) {
	case 0:
		return map[string]any{"type": "Root", "principalId": acct, "arn": "arn:aws:iam::" + acct + ":root", "accountId": acct, "accessKeyId": "ASIAEXAMPLEROOT00001"}
	case 1:
		return map[string]any{"type": "AWSService", "invokedBy": "cloudformation.amazonaws.com"}
	case 2:
		return map[string]any{"type": "FederatedUser", "principalId": acct + ":" + user, "arn": "arn:aws:sts::" + acct + ":federated-user/" + user, "accountId": acct,
			"sessionContext": map[string]any{"attributes": map[string]any{"mfaAuthenticated": "false", "creationDate": "2026-11-20T10:00:00Z"},
				"sessionIssuer": map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE" + user, "arn": "arn:aws:iam::" + acct + ":user/" + user, "accountId": acct, "userName": user}}}
	case 3:
		return map[string]any{"type": "AWSAccount", "principalId": "AIDAEXAMPLEOTHER", "accountId": "999988887777"}
	case 4:
		return map[string]any{"type": "IdentityCenterUser", "accountId": acct, "onBehalfOf": map[string]any{"userId": "user-" + user, "identityStoreArn": "arn:aws:identitystore::" + acct + ":identitystore/d-1234567890"}, "credentialId": "cred-" + user}
	case 5, 6:
		return map[string]any{"type": "AssumedRole", "principalId": "AROAEXAMPLEID:" + user, "arn": "arn:aws:sts::" + acct + ":assumed-role/Admin/" + user, "accountId": acct, "accessKeyId": "ASIAEXAMPLEKEY000001",
			"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROAEXAMPLEID", "arn": "arn:aws:iam::" + acct + ":role/Admin", "accountId": acct, "userName": "Admin"},
				"attributes": map[string]any{"creationDate": "2026-11-20T09:12:00Z", "mfaAuthenticated": "true"}, "sourceIdentity": user}}
	default:
		return map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE" + strings.ToUpper(user), "arn": "arn:aws:iam::" + acct + ":user/" + user, "accountId": acct, "accessKeyId": "AKIAEXAMPLEKEY000001", "userName": user}
	}
}

func (g *Generator) params(c call, user string) any {
	r := g.rng
	switch c.name {
	case "RunInstances":
		items := make([]any, 1+r.IntN(3))
		for i := range items {
			items[i] = map[string]any{"imageId": "ami-0abcdef1234567890", "minCount": 1, "maxCount": 1 + r.IntN(4)}
		}
		return map[string]any{"instancesSet": map[string]any{"items": items}, "instanceType": "m7g.large", "blockDeviceMapping": map[string]any{}, "monitoring": map[string]any{"enabled": false}, "disableApiTermination": false, "tagSpecificationSet": map[string]any{"items": []any{map[string]any{"resourceType": "instance", "tags": []any{map[string]any{"key": "Name", "value": "web-" + user + " ✓"}}}}}}
	case "PutRolePolicy":
		// A large, escaped policy document, as IAM calls carry.
		var b strings.Builder
		b.WriteString(`{"Version":"2012-10-17","Statement":[`)
		for i := 0; i < 5+r.IntN(40); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "{\n  \"Sid\": \"S%d\",\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":\"arn:aws:s3:::bucket-%d/*\"}", i, i)
		}
		b.WriteString("]}")
		return map[string]any{"roleName": "app-" + user, "policyName": "inline", "policyDocument": b.String()}
	case "GetObject", "PutObject":
		return map[string]any{"bucketName": "data-" + g.Account, "Host": "data-" + g.Account + ".s3." + g.Region + ".amazonaws.com", "key": "reports/2026/" + user + "/файл-" + fmt.Sprint(r.IntN(100000)) + ".csv"}
	case "DescribeInstances", "ListRoles":
		return map[string]any{"maxResults": 1000, "filterSet": map[string]any{}}
	case "Decrypt":
		return map[string]any{"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": map[string]any{"aws:lambda:FunctionArn": "arn:aws:lambda:" + g.Region + ":" + g.Account + ":function:fn-" + user}}
	default:
		return map[string]any{"name": user, "dryRun": r.IntN(2) == 0, "tags": []any{"team:\"core\"", "tab\there", "line\nbreak"}}
	}
}

// Insight returns a CloudTrail Insight record at time t.
func (g *Generator) Insight(t time.Time) map[string]any {
	n := g.seq
	g.seq++
	return map[string]any{
		"eventVersion": "1.08", "eventTime": t.UTC().Format(EventTimeLayout), "awsRegion": g.Region,
		"eventID": EventID(g.seed, n), "eventType": "AwsCloudTrailInsight", "recipientAccountId": g.Account,
		"sharedEventID": EventID(g.seed+3, n), "eventCategory": "Insight",
		"insightDetails": map[string]any{"state": "Start", "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "insightType": "ApiCallRateInsight",
			"insightContext": map[string]any{"statistics": map[string]any{"baseline": map[string]any{"average": 0.0125}, "insight": map[string]any{"average": 3.5}}}},
	}
}

// LogFile encodes records as a CloudTrail log file ({"Records":[...]}), gzipped when gz.
func LogFile(records []map[string]any, gz bool) []byte {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	_ = WriteLogFile(w, len(records), func(i int) map[string]any { return records[i] })
	if zw != nil {
		_ = zw.Close()
	}
	return buf.Bytes()
}

// WriteLogFile writes n records, produced one at a time by next, as a
// CloudTrail log file to w.
func WriteLogFile(w io.Writer, n int, next func(i int) map[string]any) error {
	if _, err := io.WriteString(w, `{"Records":[`); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i := 0; i < n; i++ {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := enc.Encode(next(i)); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}")
	return err
}

// Key returns the S3 key CloudTrail uses for a log file delivered at t.
// org may be empty; kind is "CloudTrail" or "CloudTrail-Insight".
func Key(prefix, org, account, kind, region string, t time.Time, unique string) string {
	b := awsLogs(prefix, org)
	t = t.UTC()
	fmt.Fprintf(b, "%s/%s/%s/%s/%s_%s_%s_%sZ_%s.json.gz", account, kind, region, t.Format("2006/01/02"), account, kind, region, t.Format("20060102T1504"), unique)
	return b.String()
}

// awsLogs starts a key with the AWSLogs folder under prefix (which may be
// empty) and, when org is not empty, the organization's folder.
func awsLogs(prefix, org string) *strings.Builder {
	b := &strings.Builder{}
	if prefix != "" {
		b.WriteString(strings.TrimSuffix(prefix, "/"))
		b.WriteByte('/')
	}
	b.WriteString("AWSLogs/")
	if org != "" {
		b.WriteString(org)
		b.WriteByte('/')
	}
	return b
}
