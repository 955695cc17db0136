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
	// Digests are the keys of the signed digest files (TreeSpec.Keys set).
	Digests []string
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
	// Keys, when set, make the tree a trail with log file validation: one
	// signed digest per hour per account and region (a chain, signed with
	// the key valid at each digest's end) listing the log files of the
	// hour, for the trail named Trail (default "trail"). Otherwise one
	// unsigned placeholder digest is stored per account and region.
	Keys  []*trailgen.KeyPair
	Trail string
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
	var signed digester
	put := func(key string, recs []map[string]any) error {
		raw := trailgen.LogFile(recs, false)
		if err := s.Put(spec.Bucket, key, Gzip(raw)); err != nil {
			return err
		}
		if strings.Contains(key, "/CloudTrail/") {
			signed.add(key, raw, recs)
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
			if len(spec.Keys) > 0 {
				keys, err := signed.store(s, spec, acct, region)
				tree.Digests = append(tree.Digests, keys...)
				if err != nil {
					return tree, err
				}
				continue
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

// digester collects the log files of one account and region and stores
// the signed hourly digests that list them.
type digester struct {
	files []trailgen.DigestLogFile
}

func (d *digester) add(key string, raw []byte, recs []map[string]any) {
	f := trailgen.DigestLogFile{Key: key, Content: raw}
	for _, r := range recs {
		t, err := time.Parse(trailgen.EventTimeLayout, fmt.Sprint(r["eventTime"]))
		if err != nil {
			continue
		}
		if f.OldestEvent.IsZero() || t.Before(f.OldestEvent) {
			f.OldestEvent = t
		}
		if t.After(f.NewestEvt) {
			f.NewestEvt = t
		}
	}
	d.files = append(d.files, f)
}

// digestOffset places digest ends off the hour, as CloudTrail's are.
const digestOffset = 91 * time.Second

// digestEnd is the end of the digest that lists a file delivered at t.
func digestEnd(t time.Time) time.Time {
	return t.Add(-digestOffset).Truncate(time.Hour).Add(time.Hour + digestOffset)
}

// store signs and stores the digests of the collected files, one per hour
// from the first file's to the last file's, and forgets the files.
func (d *digester) store(s *S3Server, spec TreeSpec, acct, region string) ([]string, error) {
	defer func() { d.files = nil }()
	if len(d.files) == 0 {
		return nil, nil
	}
	trail := spec.Trail
	if trail == "" {
		trail = "trail"
	}
	byEnd := map[time.Time][]trailgen.DigestLogFile{}
	first, last := time.Time{}, time.Time{}
	for _, f := range d.files {
		at, _ := keyTime(f.Key)
		end := digestEnd(at)
		f.Bucket = spec.Bucket
		byEnd[end] = append(byEnd[end], f)
		if first.IsZero() || end.Before(first) {
			first = end
		}
		if end.After(last) {
			last = end
		}
	}
	var keys []string
	var prev *trailgen.SignedDigest
	for end := first; !end.After(last); end = end.Add(time.Hour) {
		k := keyAt(spec.Keys, end)
		if k == nil {
			return keys, fmt.Errorf("no signing key valid at %s", end)
		}
		key := trailgen.DigestKey("", spec.Org, acct, region, trail, region, end, false)
		sd, err := k.Sign(trailgen.DigestSpec{Bucket: spec.Bucket, Key: key, Account: acct, Start: end.Add(-time.Hour), End: end, Previous: prev, LogFiles: byEnd[end]})
		if err != nil {
			return keys, err
		}
		if err := s.PutWithMetadata(spec.Bucket, key, sd.Body, sd.Metadata()); err != nil {
			return keys, err
		}
		keys = append(keys, key)
		prev = &sd
	}
	return keys, nil
}

// keyAt returns the key valid at t.
func keyAt(keys []*trailgen.KeyPair, t time.Time) *trailgen.KeyPair {
	for _, k := range keys {
		if !t.Before(k.Start) && (k.End.IsZero() || t.Before(k.End)) {
			return k
		}
	}
	return nil
}

// keyTime reads the delivery time of a log file key.
func keyTime(key string) (time.Time, error) {
	parts := strings.Split(key[strings.LastIndexByte(key, '/')+1:], "_")
	if len(parts) < 4 {
		return time.Time{}, fmt.Errorf("not a log file key: %s", key)
	}
	return time.Parse("20060102T1504Z", parts[3])
}
