package devstack

import (
	"fmt"
	"strings"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

// Tree describes the CloudTrail files SeedTrailTree stored.
type Tree struct {
	Bucket string
	// Objects counts the log files (digest files excluded).
	Objects int
	// IDs are the eventIDs of every record, in storage order.
	IDs []string
	// Keys are the keys of the log files.
	Keys []string
	// Records describes every record by eventID.
	Records map[string]RecordInfo
}

// RecordInfo is what tests need to know of a stored record.
type RecordInfo struct {
	EventName string
	// Service is the short name (ec2); empty for Insight records.
	Service  string
	ReadOnly bool
	Insight  bool
}

// TreeSpec shapes a generated trail tree.
type TreeSpec struct {
	Bucket string
	// Org, when set, stores the files in an organization trail layout.
	Org      string
	Accounts []string
	Regions  []string
	// Files is the number of files per account and region, one every
	// Every (default 5 minutes), the last one at End.
	Files          int
	Every          time.Duration
	End            time.Time
	RecordsPerFile int
	// Insights adds one CloudTrail-Insight file per account.
	Insights bool
	Seed     uint64
}

// SeedTrailTree creates the bucket and stores a generated trail tree in
// it, with a digest file per account and region (digests hold no records).
func SeedTrailTree(s *S3Server, spec TreeSpec) (Tree, error) {
	if spec.Every == 0 {
		spec.Every = 5 * time.Minute
	}
	tree := Tree{Bucket: spec.Bucket, Records: map[string]RecordInfo{}}
	if err := s.CreateBucket(spec.Bucket); err != nil {
		return tree, err
	}
	put := func(key string, recs []map[string]any) error {
		if err := s.Put(spec.Bucket, key, trailgen.LogFile(recs, true)); err != nil {
			return err
		}
		tree.Objects++
		tree.Keys = append(tree.Keys, key)
		for _, r := range recs {
			id := r["eventID"].(string)
			tree.IDs = append(tree.IDs, id)
			info := RecordInfo{Insight: r["eventType"] == "AwsCloudTrailInsight"}
			info.EventName, _ = r["eventName"].(string)
			info.ReadOnly, _ = r["readOnly"].(bool)
			if src, ok := r["eventSource"].(string); ok {
				info.Service = strings.TrimSuffix(src, ".amazonaws.com")
			}
			tree.Records[id] = info
		}
		return nil
	}
	seed := spec.Seed
	for _, acct := range spec.Accounts {
		for _, region := range spec.Regions {
			seed++
			g := trailgen.New(seed, acct, region)
			for f := 0; f < spec.Files; f++ {
				at := spec.End.Add(-time.Duration(spec.Files-1-f) * spec.Every).UTC().Truncate(time.Minute)
				recs := make([]map[string]any, spec.RecordsPerFile)
				for i := range recs {
					recs[i] = g.Record(at.Add(-time.Duration(spec.RecordsPerFile-i) * time.Second))
				}
				if err := put(trailgen.Key("", spec.Org, acct, "CloudTrail", region, at, fmt.Sprintf("%04x%d", seed, f)), recs); err != nil {
					return tree, err
				}
			}
			digest := []byte(fmt.Sprintf(`{"awsAccountId":"%s","digestStartTime":"%s","logFiles":[]}`, acct, spec.End.UTC().Format(time.RFC3339)))
			dkey := trailgen.Key("", spec.Org, acct, "CloudTrail-Digest", region, spec.End, "digest")
			if err := s.Put(spec.Bucket, dkey, Gzip(digest)); err != nil {
				return tree, err
			}
		}
		if spec.Insights && len(spec.Regions) > 0 {
			seed++
			g := trailgen.New(seed, acct, spec.Regions[0])
			at := spec.End.UTC().Truncate(time.Minute)
			if err := put(trailgen.Key("", spec.Org, acct, "CloudTrail-Insight", spec.Regions[0], at, "insight"), []map[string]any{g.Insight(at)}); err != nil {
				return tree, err
			}
		}
	}
	return tree, nil
}
