package keylayout

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestPrefix(t *testing.T) {
	tests := []struct {
		p          Prefix
		wantPrefix string
	}{
		{Prefix{Root: Root(""), Account: "111111111111", Kind: KindLog, Region: "us-east-1"}, "AWSLogs/111111111111/CloudTrail/us-east-1/"},
		{Prefix{Root: Root("/sec/"), Org: "o-abcdefghij", Account: "111111111111", Kind: KindInsight, Region: "eu-west-1"}, "sec/AWSLogs/o-abcdefghij/111111111111/CloudTrail-Insight/eu-west-1/"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.wantPrefix, tt.p.String())
	}
}

func TestStartAfterOrdersKeys(t *testing.T) {
	p := Prefix{Root: Root(""), Account: "111111111111", Kind: KindLog, Region: "us-east-1"}
	at := time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC)
	key := func(t time.Time, u string) string {
		return p.String() + t.Format("2006/01/02/") + "111111111111_CloudTrail_us-east-1_" + t.Format("20060102T1504") + "Z_" + u + ".json.gz"
	}
	after := p.StartAfter(at)
	for _, k := range []string{key(at, "0000"), key(at, "zzzz"), key(at.Add(time.Minute), "a"), key(at.Add(24*time.Hour), "a")} {
		assert.Greater(t, k, after, k)
	}
	for _, k := range []string{key(at.Add(-time.Minute), "zzzz"), key(at.Add(-24*time.Hour), "a")} {
		assert.Less(t, k, after, k)
	}
	keys := []string{key(at.Add(time.Hour), "b"), key(at, "a"), key(at.Add(-48*time.Hour), "c")}
	sort.Strings(keys)
	assert.Equal(t, key(at.Add(-48*time.Hour), "c"), keys[0], "keys sort by time")
}

func TestFileTime(t *testing.T) {
	ft, ok := FileTime("AWSLogs/1/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T1005Z_AbC.json.gz")
	assert.True(t, ok)
	assert.Equal(t, time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC), ft)
	for _, bad := range []string{"x.json.gz", "a_b_c_notatime_u.json.gz", ""} {
		_, ok := FileTime(bad)
		assert.False(t, ok, bad)
	}
	assert.True(t, IsLogFile("a.json.gz"))
	assert.True(t, IsLogFile("a.json"))
	assert.False(t, IsLogFile("a/"))
}

func TestParse(t *testing.T) {
	tests := []struct {
		key  string
		want Prefix
		ok   bool
	}{
		{"AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T1005Z_a.json.gz",
			Prefix{Root: "AWSLogs/", Account: "111111111111", Kind: KindLog, Region: "us-east-1"}, true},
		{"sec/AWSLogs/o-abcdefghij/222222222222/CloudTrail-Insight/eu-west-1/2026/11/20/222222222222_CloudTrail-Insight_eu-west-1_20261120T1005Z_b.json.gz",
			Prefix{Root: "sec/AWSLogs/", Org: "o-abcdefghij", Account: "222222222222", Kind: KindInsight, Region: "eu-west-1"}, true},
		{"AWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/", Prefix{}, false},
		{"notAWSLogs/111111111111/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T1005Z_a.json.gz", Prefix{}, false},
		{"other/file.json.gz", Prefix{}, false},
	}
	for _, tt := range tests {
		p, ft, ok := Parse(tt.key)
		assert.Equal(t, tt.ok, ok, tt.key)
		if tt.ok {
			assert.Equal(t, tt.want, p)
			assert.Equal(t, time.Date(2026, 11, 20, 10, 5, 0, 0, time.UTC), ft)
		}
	}
}
