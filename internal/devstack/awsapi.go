package devstack

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Trail is a trail the CloudTrail API emulator knows.
type Trail struct {
	Name, HomeRegion, Bucket, Prefix string
	Account                          string
	MultiRegion, Organization        bool
	Logging                          bool
	LatestDeliveryError              string
}

// ARN returns the trail's ARN.
func (t Trail) ARN() string {
	return fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", t.HomeRegion, t.Account, t.Name)
}

// AWSAPIs emulates, on the S3 server's endpoint, the calls of other AWS
// services the receiver makes, each in its real wire protocol:
// CloudTrail DescribeTrails, GetTrailStatus and ListPublicKeys and Organizations
// DescribeOrganization (AWS JSON 1.1, X-Amz-Target), STS AssumeRole (query
// protocol, XML answer). It also answers GetBucketLocation with a region
// set per bucket, and records the region and access key of every signed request.
type AWSAPIs struct {
	mu sync.Mutex
	// trails by ARN
	trails map[string]Trail
	// orgID is the organization; empty means "not in an organization".
	orgID  string
	denied map[string]bool // X-Amz-Target or STS action → AccessDenied
	roles  map[string]string
	// bucketRegions answers GetBucketLocation.
	bucketRegions map[string]string
	calls         map[string]int
	// signed counts requests by "service/region/access key".
	signed map[string]int
	sqs    *SQS
	// publicKeys are served by ListPublicKeys (publickeys.go).
	publicKeys []publicKey
	// publicKeyPage is the page size of ListPublicKeys (0: one page).
	publicKeyPage int
}

func newAWSAPIs() *AWSAPIs {
	return &AWSAPIs{trails: map[string]Trail{}, denied: map[string]bool{}, roles: map[string]string{},
		bucketRegions: map[string]string{}, calls: map[string]int{}, signed: map[string]int{}, sqs: newSQS()}
}

// AWS returns the emulator of the other AWS APIs, served on the S3 server's endpoint.
func (s *S3Server) AWS() *AWSAPIs { return s.apis }

// PutTrail creates or replaces a trail.
func (a *AWSAPIs) PutTrail(t Trail) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.trails[t.ARN()] = t
}

// SetOrganization sets the organization ID that DescribeOrganization returns.
func (a *AWSAPIs) SetOrganization(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.orgID = id
}

// Deny makes an operation ("DescribeOrganization", "GetTrailStatus",
// "AssumeRole"…) answer AccessDenied.
func (a *AWSAPIs) Deny(operation string, deny bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.denied[operation] = deny
}

// AllowRole lets AssumeRole succeed for roleARN when given externalID ("" for none).
func (a *AWSAPIs) AllowRole(roleARN, externalID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.roles[roleARN] = externalID
}

// SetBucketRegion sets the LocationConstraint of a bucket.
func (a *AWSAPIs) SetBucketRegion(bucket, region string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bucketRegions[bucket] = region
}

// Calls returns how many times an operation was called.
func (a *AWSAPIs) Calls(operation string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[operation]
}

// Signed returns how many requests for service were signed for region
// with accessKey ("" matches any key, "" region any region).
func (a *AWSAPIs) Signed(service, region, accessKey string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for k, c := range a.signed {
		parts := strings.SplitN(k, "/", 3)
		if parts[0] == service && (region == "" || parts[1] == region) && (accessKey == "" || parts[2] == accessKey) {
			n += c
		}
	}
	return n
}

// signature reads "Credential=AKID/date/region/service/aws4_request".
func signature(req *http.Request) (key, region, service string) {
	auth := req.Header.Get("Authorization")
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return "", "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 5 {
		return "", "", ""
	}
	return parts[0], parts[2], parts[3]
}

// serve answers the requests that are not S3's; it reports whether it did.
func (a *AWSAPIs) serve(w http.ResponseWriter, req *http.Request) bool {
	key, region, service := signature(req)
	a.mu.Lock()
	a.signed[service+"/"+region+"/"+key]++
	a.mu.Unlock()
	target := req.Header.Get("X-Amz-Target")
	if op, ok := sqsTarget(req); ok {
		a.mu.Lock()
		a.calls[op]++
		a.mu.Unlock()
		a.sqs.serve(w, req, op)
		return true
	}
	switch {
	case strings.HasPrefix(target, "CloudTrail_20131101."):
		a.cloudTrail(w, req, strings.TrimPrefix(target, "CloudTrail_20131101."), region)
		return true
	case strings.HasPrefix(target, "AWSOrganizationsV20161128."):
		a.organizations(w, strings.TrimPrefix(target, "AWSOrganizationsV20161128."))
		return true
	case service == "sts":
		a.sts(w, req)
		return true
	case req.Method == http.MethodGet && req.URL.Query().Has("location"):
		bucket := strings.Trim(req.URL.Path, "/")
		a.mu.Lock()
		region, ok := a.bucketRegions[bucket]
		a.calls["GetBucketLocation"]++
		a.mu.Unlock()
		if !ok {
			return false
		}
		if region == "us-east-1" {
			region = ""
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s</LocationConstraint>`, region)
		return true
	}
	return false
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func jsonReply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(v)
}

func (a *AWSAPIs) cloudTrail(w http.ResponseWriter, req *http.Request, op, region string) {
	var in struct {
		TrailNameList       []string `json:"trailNameList"`
		IncludeShadowTrails *bool    `json:"includeShadowTrails"`
		Name                string   `json:"Name"`
	}
	body, _ := io.ReadAll(req.Body)
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			jsonError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls[op]++
	if a.denied[op] {
		jsonError(w, http.StatusBadRequest, "AccessDeniedException", "User is not authorized to perform: cloudtrail:"+op)
		return
	}
	switch op {
	case "DescribeTrails":
		shadow := in.IncludeShadowTrails == nil || *in.IncludeShadowTrails
		list := []map[string]any{}
		for _, t := range a.trails {
			if t.HomeRegion != region && !(t.MultiRegion && shadow) {
				continue
			}
			list = append(list, map[string]any{
				"Name": t.Name, "TrailARN": t.ARN(), "HomeRegion": t.HomeRegion, "S3BucketName": t.Bucket,
				"S3KeyPrefix": t.Prefix, "IsMultiRegionTrail": t.MultiRegion, "IsOrganizationTrail": t.Organization,
				"IncludeGlobalServiceEvents": true, "LogFileValidationEnabled": true, "HasCustomEventSelectors": false,
			})
		}
		jsonReply(w, map[string]any{"trailList": list})
	case "GetTrailStatus":
		t, ok := a.trails[in.Name]
		if !ok {
			for _, c := range a.trails {
				if c.Name == in.Name && c.HomeRegion == region {
					t, ok = c, true
				}
			}
		}
		if !ok || t.HomeRegion != region {
			// As AWS: a trail's status is asked in its home region.
			jsonError(w, http.StatusBadRequest, "TrailNotFoundException", "Unknown trail: "+in.Name+" for the user in region "+region)
			return
		}
		out := map[string]any{"IsLogging": t.Logging, "LatestDeliveryTime": float64(time.Now().Unix())}
		if t.LatestDeliveryError != "" {
			out["LatestDeliveryError"] = t.LatestDeliveryError
		}
		jsonReply(w, out)
	case "ListPublicKeys":
		a.listPublicKeys(w, body)
	default:
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", op+" is not emulated")
	}
}

func (a *AWSAPIs) organizations(w http.ResponseWriter, op string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls[op]++
	switch {
	case a.denied[op]:
		jsonError(w, http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
	case op != "DescribeOrganization":
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", op+" is not emulated")
	case a.orgID == "":
		jsonError(w, http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	default:
		jsonReply(w, map[string]any{"Organization": map[string]any{
			"Id": a.orgID, "Arn": "arn:aws:organizations::111111111111:organization/" + a.orgID,
			"FeatureSet": "ALL", "MasterAccountId": "111111111111",
		}})
	}
}

type stsError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ID      string   `xml:"RequestId"`
}

func (a *AWSAPIs) sts(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	form, _ := url.ParseQuery(string(body))
	op := form.Get("Action")
	a.mu.Lock()
	a.calls[op]++
	wantExt, known := a.roles[form.Get("RoleArn")]
	deny := a.denied[op]
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fail := func(status int, code, msg string) {
		w.WriteHeader(status)
		_ = xml.NewEncoder(w).Encode(stsError{Type: "Sender", Code: code, Message: msg, ID: "devstack"})
	}
	switch {
	case op != "AssumeRole":
		fail(http.StatusBadRequest, "InvalidAction", op+" is not emulated")
	case deny || !known || wantExt != form.Get("ExternalId"):
		fail(http.StatusForbidden, "AccessDenied", "User is not authorized to perform: sts:AssumeRole on resource: "+form.Get("RoleArn"))
	default:
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
			`<Credentials><AccessKeyId>ASIAASSUMEDROLE00001</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>`+
			`<SessionToken>assumed-token</SessionToken><Expiration>%s</Expiration></Credentials>`+
			`<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:%s</AssumedRoleId><Arn>%s/%s</Arn></AssumedRoleUser>`+
			`</AssumeRoleResult><ResponseMetadata><RequestId>devstack</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			exp, form.Get("RoleSessionName"), strings.Replace(form.Get("RoleArn"), ":iam:", ":sts:", 1), form.Get("RoleSessionName"))
	}
}
