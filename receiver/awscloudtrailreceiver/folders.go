package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

// trailSource is where one trail delivers: from the configuration or
// found by discovery.
type trailSource struct {
	Bucket, Prefix string
	OrganizationID string
	Accounts       []string
	Regions        []string
}

func (s trailSource) key() string { return s.Bucket + "/" + keylayout.Root(s.Prefix) }

// equal reports whether two trail sources read the same folders.
func (s trailSource) equal(o trailSource) bool {
	return s.key() == o.key() && s.OrganizationID == o.OrganizationID &&
		slices.Equal(s.Accounts, o.Accounts) && slices.Equal(s.Regions, o.Regions)
}

// refreshFolders gathers the trails (configured and discovered), finds the
// account/kind/region folders of each by listing with a delimiter, loads
// the checkpoints of new folders and stops polling the folders of trails
// that are gone or stopped (their checkpoints are kept).
func (r *cloudtrailReceiver) refreshFolders(ctx context.Context) {
	sources := make([]trailSource, 0, len(r.cfg.Trails))
	seen := map[string]bool{} // bucket/prefix of the sources
	for _, t := range r.cfg.Trails {
		// Every configured entry is read, also several for one bucket and
		// prefix with different filters (accounts, regions, organization):
		// their folders are the union, each read once (r.folders is keyed by
		// folder). Only identical entries are read once.
		s := trailSource(t)
		if !slices.ContainsFunc(sources, s.equal) {
			seen[s.key()] = true
			sources = append(sources, s)
		}
	}
	discoveryOK := true
	if r.cfg.Discovery.Enabled {
		var found []trailSource
		found, discoveryOK = r.discoverTrails(ctx)
		for _, s := range found {
			// A trail sharing its bucket and prefix with another is read once.
			if !seen[s.key()] {
				seen[s.key()] = true
				sources = append(sources, s)
			}
		}
	}
	if ctx.Err() != nil {
		return
	}

	kinds := []string{keylayout.KindLog}
	if r.cfg.IncludeInsights {
		kinds = append(kinds, keylayout.KindInsight)
	}
	// Folders are removed per bucket/prefix (folder.source): a folder found
	// by any source is kept, and when one source of a bucket/prefix fails to
	// list, every folder of that bucket/prefix is kept.
	current := map[string]bool{}  // folders found now
	unlisted := map[string]bool{} // bucket/prefix of sources whose listing failed: keep their folders
	for _, src := range sources {
		store := r.clients.s3For(r.bucketRegion(ctx, src.Bucket))
		if r.wrapS3 != nil {
			store = r.wrapS3(store)
		}
		prefixes, ok := r.trailFolders(ctx, store, src, kinds)
		if !ok {
			unlisted[src.key()] = true
			continue
		}
		for _, p := range prefixes {
			current[r.addFolder(ctx, store, src, p)] = true
		}
	}
	if ctx.Err() != nil {
		return
	}
	for id, f := range r.folders {
		if current[id] || unlisted[f.source] || (!discoveryOK && !seen[f.source]) {
			continue
		}
		r.logger.Info("CloudTrail folder no longer belongs to a trail being read; it is not polled any more (its checkpoint is kept)",
			zap.String("folder", id))
		r.stopFolder(f)
		delete(r.folders, id)
		r.watch.unwatchFolder(id)
	}
	r.folderCount.Store(int64(len(r.folders)))
	r.lastRefresh = refreshedAt(time.Now(), discoveryOK && len(unlisted) == 0)
	if len(r.folders) == 0 {
		r.logger.Warn("No CloudTrail folders found; check the trails (bucket, prefix, organization_id, accounts, regions) or discovery",
			zap.Int("trails", len(sources)))
	} else {
		r.logger.Info("CloudTrail folders found", zap.Int("trails", len(sources)), zap.Int("folders", len(r.folders)))
	}
}

// bucketRegion returns the region of a bucket (GetBucketLocation), so that
// each bucket is read through a client of its own region.
func (r *cloudtrailReceiver) bucketRegion(ctx context.Context, bucket string) string {
	r.regionMu.Lock()
	region, ok := r.bucketRegions[bucket]
	r.regionMu.Unlock()
	if ok {
		return region
	}
	out, err := r.clients.s3For(r.cfg.Region).GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)})
	if err != nil {
		if ctx.Err() == nil {
			reason, _ := classifyS3Error(err)
			msg := "Cannot get the bucket's region; using the receiver's region"
			if reason == reasonAccessDenied {
				msg = denied("GetBucketLocation", "s3://"+bucket, "s3:GetBucketLocation") + "; using the receiver's region"
			}
			r.logger.Warn(msg, zap.String("bucket", bucket), zap.String("region", r.cfg.Region), zap.Error(err))
		}
		return r.cfg.Region
	}
	region = string(out.LocationConstraint)
	switch region {
	case "":
		region = "us-east-1" // buckets of us-east-1 have no location constraint
	case "EU":
		region = "eu-west-1"
	}
	r.regionMu.Lock()
	r.bucketRegions[bucket] = region
	r.regionMu.Unlock()
	return region
}

// trailFolders lists the folders of one trail.
func (r *cloudtrailReceiver) trailFolders(ctx context.Context, store objectStore, t trailSource, kinds []string) ([]keylayout.Prefix, bool) {
	root := keylayout.Root(t.Prefix)
	type owner struct{ org, account string }
	var owners []owner
	top, ok := r.subfolders(ctx, store, t.Bucket, root)
	if !ok {
		return nil, false
	}
	for _, name := range top {
		switch {
		case accountRe.MatchString(name):
			if t.OrganizationID == "" {
				owners = append(owners, owner{"", name})
			}
		case strings.HasPrefix(name, "o-") && (t.OrganizationID == "" || t.OrganizationID == name):
			accounts, ok := r.subfolders(ctx, store, t.Bucket, root+name+"/")
			if !ok {
				return nil, false
			}
			for _, a := range accounts {
				if accountRe.MatchString(a) {
					owners = append(owners, owner{name, a})
				}
			}
		}
	}
	var out []keylayout.Prefix
	for _, o := range owners {
		if len(t.Accounts) > 0 && !slices.Contains(t.Accounts, o.account) {
			continue
		}
		for _, kind := range kinds {
			base := keylayout.Prefix{Root: root, Org: o.org, Account: o.account, Kind: kind}
			ownerPath := root
			if o.org != "" {
				ownerPath += o.org + "/"
			}
			regions, ok := r.subfolders(ctx, store, t.Bucket, ownerPath+o.account+"/"+kind+"/")
			if !ok {
				return nil, false
			}
			for _, region := range regions {
				if len(t.Regions) > 0 && !slices.Contains(t.Regions, region) {
					continue
				}
				p := base
				p.Region = region
				out = append(out, p)
			}
		}
	}
	return out, true
}

// subfolders returns the names of the folders directly under prefix.
func (r *cloudtrailReceiver) subfolders(ctx context.Context, store objectStore, bucket, prefix string) ([]string, bool) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	var names []string
	for {
		out, err := store.ListObjectsV2(ctx, in)
		if err != nil {
			if ctx.Err() == nil {
				r.noteError(err)
				reason, _ := classifyS3Error(err)
				msg := "Cannot list CloudTrail bucket; it is tried again at the next poll"
				if reason == reasonAccessDenied {
					msg = denied("ListObjectsV2", "s3://"+bucket+"/"+prefix, "s3:ListBucket")
				}
				r.logger.Error(msg, zap.String("bucket", bucket), zap.String("prefix", prefix), zap.String("reason", reason), zap.Error(err))
			}
			return nil, false
		}
		for _, cp := range out.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name != "" {
				names = append(names, name)
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return names, true
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// addFolder registers a folder, loading its checkpoint when it is new, and
// returns its id.
func (r *cloudtrailReceiver) addFolder(ctx context.Context, store objectStore, src trailSource, p keylayout.Prefix) string {
	id := src.Bucket + "/" + p.String()
	if f, ok := r.folders[id]; ok {
		f.mu.Lock()
		f.s3 = store
		f.mu.Unlock()
		return id
	}
	st, err := r.store.Load(ctx, id)
	if err != nil {
		r.logger.Error("Cannot load checkpoint; the folder is skipped until it can be loaded", zap.String("folder", id), zap.Error(err))
		return id
	}
	if st == nil {
		st = checkpoint.New(r.startFloor)
	} else {
		r.logger.Debug("Resuming CloudTrail folder from its checkpoint", zap.String("folder", id), zap.Time("newest", st.Newest), zap.Int("pending", len(st.Pending)))
	}
	f := &folder{id: id, bucket: src.Bucket, prefix: p, source: src.key(), s3: store, state: st, inflight: map[string]bool{}}
	r.folders[id] = f
	r.watch.watchFolder(id, trailOf(src.Bucket, p.Root), f.view)
	r.startFolder(ctx, f)
	return id
}
