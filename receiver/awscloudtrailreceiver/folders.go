package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/zap"

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

// trailFinder finds the trails to read (configured and discovered) and
// the folders of each.
type trailFinder struct {
	cfg     *Config
	tel     *telemetry
	clients *awsClients
	// wrapS3, in tests, wraps the S3 client of every folder (fault injection).
	wrapS3 func(objectStore) objectStore
	// orgID is the organization's ID once DescribeOrganization answered.
	orgID *string
}

// store returns the S3 client of a bucket's folders.
func (t *trailFinder) store(ctx context.Context, bucket string) objectStore {
	store := t.clients.s3ForBucket(ctx, bucket)
	if t.wrapS3 != nil {
		store = t.wrapS3(store)
	}
	return store
}

// trails returns the trails to read: every configured entry, then the
// discovered ones. discoveryOK is false when discovery could not ask
// every region; seen holds the bucket/prefix of every trail returned.
func (t *trailFinder) trails(ctx context.Context) (sources []trailSource, seen map[string]bool, discoveryOK bool) {
	sources = make([]trailSource, 0, len(t.cfg.Trails))
	seen = map[string]bool{} // bucket/prefix of the sources
	for _, tc := range t.cfg.Trails {
		// Every configured entry is read, also several for one bucket and
		// prefix with different filters (accounts, regions, organization):
		// their folders are the union, each read once (the poller's folders
		// are keyed by folder). Only identical entries are read once.
		s := trailSource(tc)
		if !slices.ContainsFunc(sources, s.equal) {
			seen[s.key()] = true
			sources = append(sources, s)
		}
	}
	discoveryOK = true
	if t.cfg.Discovery.Enabled {
		var found []trailSource
		found, discoveryOK = t.discoverTrails(ctx)
		for _, s := range found {
			// A trail sharing its bucket and prefix with another is read once.
			if !seen[s.key()] {
				seen[s.key()] = true
				sources = append(sources, s)
			}
		}
	}
	return sources, seen, discoveryOK
}

// refresh gathers the trails (configured and discovered), finds the
// account/kind/region folders of each by listing with a delimiter, loads
// the checkpoints of new folders and stops polling the folders of trails
// that are gone or stopped (their checkpoints are kept). It reports
// whether the refresh is complete: false when the poller stopped first or
// a trail (or discovery) could not be listed, so that the next poll tries
// again instead of waiting refresh_interval (see status.go).
func (p *poller) refresh(ctx context.Context) bool {
	sources, seen, discoveryOK := p.finder.trails(ctx)
	if ctx.Err() != nil {
		return false
	}
	for _, src := range sources { // a discovered trail's lag exists from now on
		p.tel.watch.expectTrail(trailName(src.Bucket, src.Prefix), p.startFloor)
	}
	kinds := []string{keylayout.KindLog}
	if p.cfg.IncludeInsights {
		kinds = append(kinds, keylayout.KindInsight)
	}
	// Folders are removed per bucket/prefix (folder.source): a folder found
	// by any source is kept, and when one source of a bucket/prefix fails to
	// list, every folder of that bucket/prefix is kept.
	current := map[string]bool{}  // folders found now
	unlisted := map[string]bool{} // bucket/prefix of sources whose listing failed: keep their folders
	for _, src := range sources {
		store := p.finder.store(ctx, src.Bucket)
		prefixes, ok := p.finder.trailFolders(ctx, store, src, kinds)
		if !ok {
			unlisted[src.key()] = true
			continue
		}
		for _, prefix := range prefixes {
			current[p.addFolder(ctx, store, src, prefix)] = true
		}
	}
	if ctx.Err() != nil {
		return false
	}
	for id, f := range p.folders {
		if current[id] || unlisted[f.source] || (!discoveryOK && !seen[f.source]) {
			continue
		}
		p.tel.logger.Info("CloudTrail folder no longer belongs to a trail being read; it is not polled any more (its checkpoint is kept)",
			zap.String("folder", id))
		p.stopFolder(f)
		delete(p.folders, id)
		p.tel.watch.unwatchFolder(id)
	}
	p.folderCount.Store(int64(len(p.folders)))
	switch {
	case len(p.folders) > 0:
		p.tel.logger.Info("CloudTrail folders found", zap.Int("trails", len(sources)), zap.Int("folders", len(p.folders)))
	case len(unlisted) > 0 || !discoveryOK:
		// Not the configuration's fault (as far as we know): say what failed.
		var failed []string
		if len(unlisted) > 0 {
			failed = append(failed, fmt.Sprintf("listing %d of %d trails failed", len(unlisted), len(sources)))
		}
		if !discoveryOK {
			failed = append(failed, "discovery failed")
		}
		p.tel.logger.Warn("No CloudTrail folders found yet: "+strings.Join(failed, " and ")+" (see the errors above); tried again at the next poll",
			zap.Int("trails", len(sources)))
	default:
		p.tel.logger.Warn("No CloudTrail folders found; check the trails (bucket, prefix, organization_id, accounts, regions) or discovery",
			zap.Int("trails", len(sources)))
	}
	return discoveryOK && len(unlisted) == 0
}

// trailFolders lists the folders of one trail.
func (t *trailFinder) trailFolders(ctx context.Context, store objectStore, src trailSource, kinds []string) ([]keylayout.Prefix, bool) {
	root := keylayout.Root(src.Prefix)
	type owner struct{ org, account string }
	var owners []owner
	top, ok := t.subfolders(ctx, store, src.Bucket, root)
	if !ok {
		return nil, false
	}
	for _, name := range top {
		switch {
		case accountRe.MatchString(name):
			if src.OrganizationID == "" {
				owners = append(owners, owner{"", name})
			}
		case strings.HasPrefix(name, "o-") && (src.OrganizationID == "" || src.OrganizationID == name):
			accounts, ok := t.subfolders(ctx, store, src.Bucket, root+name+"/")
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
		if len(src.Accounts) > 0 && !slices.Contains(src.Accounts, o.account) {
			continue
		}
		for _, kind := range kinds {
			base := keylayout.Prefix{Root: root, Org: o.org, Account: o.account, Kind: kind}
			ownerPath := root
			if o.org != "" {
				ownerPath += o.org + "/"
			}
			regions, ok := t.subfolders(ctx, store, src.Bucket, ownerPath+o.account+"/"+kind+"/")
			if !ok {
				return nil, false
			}
			for _, region := range regions {
				if len(src.Regions) > 0 && !slices.Contains(src.Regions, region) {
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
func (t *trailFinder) subfolders(ctx context.Context, store objectStore, bucket, prefix string) ([]string, bool) {
	var names []string
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/")}
	if !t.tel.listPages(ctx, store, in, "it is tried again at the next poll", func(out *s3.ListObjectsV2Output) bool {
		for _, cp := range out.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name != "" {
				names = append(names, name)
			}
		}
		return true
	}) {
		return nil, false
	}
	return names, true
}

// addFolder registers a folder, loading its checkpoint when it is new, and
// returns its id.
func (p *poller) addFolder(ctx context.Context, store objectStore, src trailSource, prefix keylayout.Prefix) string {
	id := src.Bucket + "/" + prefix.String()
	if f, ok := p.folders[id]; ok {
		f.s3.Store(&storeRef{store})
		return id
	}
	cp, resumed, err := p.store.OpenFolder(ctx, id, p.startFloor, p.tel.saveFailed(id))
	if err != nil {
		p.tel.logger.Error("Cannot load checkpoint; the folder is skipped until it can be loaded", zap.String("folder", id), zap.Error(err))
		return id
	}
	if resumed {
		p.tel.logger.Debug("Resuming CloudTrail folder from its checkpoint", zap.String("folder", id))
	}
	f := &folder{cp: cp, bucket: src.Bucket, prefix: prefix, source: src.key()}
	f.s3.Store(&storeRef{store})
	p.folders[id] = f
	p.tel.watch.watchFolder(id, trailOf(src.Bucket, prefix.Root), viewOf(cp))
	p.startFolder(ctx, f)
	return id
}
