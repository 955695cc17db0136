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

// refreshFolders finds the account/kind/region folders of every trail by
// listing with a delimiter, and loads the checkpoint of each new one.
func (r *cloudtrailReceiver) refreshFolders(ctx context.Context) {
	kinds := []string{keylayout.KindLog}
	if r.cfg.IncludeInsights {
		kinds = append(kinds, keylayout.KindInsight)
	}
	found := 0
	for _, t := range r.cfg.Trails {
		for _, p := range r.trailFolders(ctx, t, kinds) {
			found++
			r.addFolder(ctx, t.Bucket, p)
		}
	}
	if ctx.Err() != nil {
		return
	}
	r.lastRefresh = time.Now()
	if found == 0 {
		r.logger.Warn("No CloudTrail folders found under the configured trails; check bucket, prefix, organization_id, accounts and regions",
			zap.Int("trails", len(r.cfg.Trails)))
	} else {
		r.logger.Info("CloudTrail folders found", zap.Int("folders", found))
	}
}

// trailFolders lists the folders of one trail.
func (r *cloudtrailReceiver) trailFolders(ctx context.Context, t TrailConfig, kinds []string) []keylayout.Prefix {
	root := keylayout.Root(t.Prefix)
	type owner struct{ org, account string }
	var owners []owner
	top, ok := r.subfolders(ctx, t.Bucket, root)
	if !ok {
		return nil
	}
	for _, name := range top {
		switch {
		case accountRe.MatchString(name):
			if t.OrganizationID == "" {
				owners = append(owners, owner{"", name})
			}
		case strings.HasPrefix(name, "o-") && (t.OrganizationID == "" || t.OrganizationID == name):
			accounts, ok := r.subfolders(ctx, t.Bucket, root+name+"/")
			if !ok {
				continue
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
			regions, ok := r.subfolders(ctx, t.Bucket, ownerPath+o.account+"/"+kind+"/")
			if !ok {
				continue
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
	return out
}

// subfolders returns the names of the folders directly under prefix.
func (r *cloudtrailReceiver) subfolders(ctx context.Context, bucket, prefix string) ([]string, bool) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	var names []string
	for {
		out, err := r.s3.ListObjectsV2(ctx, in)
		if err != nil {
			if ctx.Err() == nil {
				reason, _ := classifyS3Error(err)
				msg := "Cannot list CloudTrail bucket"
				if reason == reasonAccessDenied {
					msg += " (the receiver needs s3:ListBucket on it)"
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

// addFolder registers a folder, loading its checkpoint when it is new.
func (r *cloudtrailReceiver) addFolder(ctx context.Context, bucket string, p keylayout.Prefix) {
	id := bucket + "/" + p.String()
	if _, ok := r.folders[id]; ok {
		return
	}
	st, err := r.store.Load(ctx, id)
	if err != nil {
		r.logger.Error("Cannot load checkpoint; the folder is skipped until it can be loaded", zap.String("folder", id), zap.Error(err))
		return
	}
	if st == nil {
		st = checkpoint.New(r.startFloor)
	} else {
		r.logger.Debug("Resuming CloudTrail folder from its checkpoint", zap.String("folder", id), zap.Time("newest", st.Newest), zap.Int("pending", len(st.Pending)))
	}
	r.folders[id] = &folder{id: id, bucket: bucket, prefix: p, state: st}
}
