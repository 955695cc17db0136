package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// instanceSession is the Forwarder's rule: an instance role's session name
// is the instance ID.
var instanceSession = regexp.MustCompile(`:assumed-role/[^/]+/(i-[0-9a-f]{8}(?:[0-9a-f]{9})?)$`)

// TestForwarderConventions: every CloudTrail entry the built collector
// sends is shaped as Datadog's Forwarder sends it — service cloudtrail,
// aws_account/region/aws_service tags and no service: tag, the instance ID
// as host exactly for instance-role sessions — and every request carries
// the origin headers.
func TestForwarderConventions(t *testing.T) {
	s := newStack(t)
	tree := s.seed(t, 2, 20)
	// Calls made by instance roles (17 and 8 hex digits), and one whose
	// session name only looks like an instance ID.
	at := time.Now().UTC().Add(-2 * time.Minute).Truncate(time.Minute)
	g := trailgen.New(77, "111111111111", "us-east-1")
	var recs []map[string]any
	for _, session := range []string{"i-0123456789abcdef0", "i-89abcdef", "i-0123456789abcdef0x"} {
		r := g.Record(at)
		r["readOnly"] = false
		r["userIdentity"] = map[string]any{"type": "AssumedRole", "principalId": "AROAEXAMPLE:" + session,
			"arn": "arn:aws:sts::111111111111:assumed-role/ec2-role/" + session, "accountId": "111111111111"}
		recs = append(recs, r)
	}
	key := trailgen.Key("", "o-e2etest0001", "111111111111", "CloudTrail", "us-east-1", at, "instances")
	require.NoError(t, s.s3.Put(bucket, key, trailgen.LogFile(recs, true)))
	want := len(recs)
	for _, id := range tree.IDs {
		if !tree.Records[id].ReadOnly {
			want++
		}
	}

	col := s.collector(t, "processors.yaml")
	waitFor(t, col, 60*time.Second, "the logs", func() bool { return len(s.intake.Logs()) >= want })
	require.NoError(t, col.Stop(syscall.SIGTERM, 30*time.Second))

	hosts := 0
	for _, e := range s.intake.Logs() {
		id, _ := e["eventID"].(string)
		assert.Equal(t, "cloudtrail", e["service"], id)
		assert.Equal(t, "cloudtrail", e["ddsource"], id)
		assert.NotContains(t, e, "status", "no status unless configured")
		tags := strings.Split(e["ddtags"].(string), ",")
		for _, prefix := range []string{"aws_account:", "region:", "aws_service:", "event_name:", "priority:"} {
			assert.True(t, hasPrefix(tags, prefix), "%s: tag %s… in %v", id, prefix, tags)
		}
		assert.False(t, hasPrefix(tags, "service:"), "%s: no service: tag in %v", id, tags)
		assert.False(t, hasPrefix(tags, "account:"), "%s: no account: tag in %v", id, tags)
		identity, _ := e["userIdentity"].(map[string]any)
		arn, _ := identity["arn"].(string)
		if m := instanceSession.FindStringSubmatch(arn); m != nil {
			assert.Equal(t, m[1], e["hostname"], arn)
			hosts++
		} else {
			assert.NotContains(t, e, "hostname", "no host for %q", arn)
		}
	}
	assert.Equal(t, 2, hosts, "the two instance-role sessions")
	// The intake refuses a request without DD-EVP-ORIGIN and its version.
	origins := s.intake.Origins()
	require.Len(t, origins, 1, "every request names the sender: %v", origins)
	for origin, n := range origins {
		assert.True(t, strings.HasPrefix(origin, "otelcol-cloudtrail/"), origin)
		assert.Positive(t, n)
	}
	assert.Zero(t, s.intake.Rejected(400), "no request without the origin headers")
}

func hasPrefix(tags []string, prefix string) bool {
	for _, t := range tags {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}

// TestValidateHTTPClientSettings: the built collector accepts the
// collector's HTTP client settings (proxy_url, tls, timeout) on both
// exporters, and its validate command refuses a bad one.
func TestValidateHTTPClientSettings(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	config := func(extra string) string {
		p := filepath.Join(dir, "config.yaml")
		body := `receivers:
  awscloudtrail:
    region: us-east-1
    trails: [{bucket: my-trail-bucket}]
exporters:
  datadoglogs:
    api: {key: "0123456789abcdef0123456789abcdef"}
    proxy_url: http://proxy.internal:3128
    timeout: 20s
    tls:
      insecure_skip_verify: false
      min_version: "1.2"
` + extra + `
  datadogevents:
    api: {key: "0123456789abcdef0123456789abcdef"}
    proxy_url: http://proxy.internal:3128
    timeout: 10s
    tls: {min_version: "1.3"}
service:
  pipelines:
    logs:
      receivers: [awscloudtrail]
      exporters: [datadoglogs, datadogevents]
`
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	out, err := exec.Command(bin, "validate", "--config", config("")).CombinedOutput()
	require.NoError(t, err, "%s", out)

	out, err = exec.Command(bin, "validate", "--config", config("    no_such_setting: 1")).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "no_such_setting")
}
