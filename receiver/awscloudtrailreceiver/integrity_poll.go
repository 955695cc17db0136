package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

// Integrity validation in polling mode: the digest folders of the watched
// log folders are listed every poll and their new digests processed in
// time order.

import (
	"context"
	"path"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

// pollLoop lists the digest folders of the watched log folders every poll
// interval.
func (v *verifier) pollLoop(ctx context.Context) {
	defer close(v.done)
	ticker := time.NewTicker(v.pollInterval)
	defer ticker.Stop()
	for {
		v.mu.Lock()
		ws := make([]digestFolder, 0, len(v.watched))
		for _, w := range v.watched {
			ws = append(ws, w)
		}
		v.mu.Unlock()
		sort.Slice(ws, func(i, j int) bool { return ws[i].prefix.String() < ws[j].prefix.String() })
		for _, w := range ws {
			if ctx.Err() != nil {
				return
			}
			v.listDigests(ctx, w)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// listDigests processes the new digests of one log folder, from the grace
// period before the newest verified one (digests delivered late) or from
// the receiver's start: one day folder at a time, in time order across the
// trails that deliver to the folder (keys sort by trail first).
func (v *verifier) listDigests(ctx context.Context, w digestFolder) {
	f, err := v.folder(ctx, w.bucket, w.prefix)
	if err != nil {
		v.logger.Error("Cannot load integrity state", zap.String("bucket", w.bucket), zap.String("prefix", w.prefix.String()), zap.Error(err))
		return
	}
	f.mu.Lock()
	from := f.state.Newest.Add(-v.cfg.GracePeriod)
	f.mu.Unlock()
	floor := v.startFloor.Add(-time.Hour)
	if from.Before(floor) {
		from = floor
	}
	dp := w.prefix
	dp.Kind = keylayout.KindDigest
	var day []listedDigest // the digests of one day folder
	// blocked: a digest could not be checked; the later ones wait for it,
	// the listing goes on only to move the trail's clock (f.listed).
	blocked := false
	horizon := time.Now().Add(time.Hour)
	pages := s3.NewListObjectsV2Paginator(w.s3, &s3.ListObjectsV2Input{Bucket: aws.String(w.bucket), Prefix: aws.String(dp.String()), StartAfter: aws.String(dp.String() + from.UTC().Format("2006/01/02/"))})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logAWSError(v.logger, zapcore.ErrorLevel,
					awsCall{"ListObjectsV2", "s3://" + w.bucket + "/" + dp.String(), "s3:ListBucket on the CloudTrail-Digest/ folders", "the digest folder is listed again on the next poll"},
					err, zap.String("bucket", w.bucket), zap.String("prefix", dp.String()))
			}
			return
		}
		for _, obj := range out.Contents {
			key := aws.ToString(obj.Key)
			if dk, ok := integrity.ParseDigestKey(key); ok && !dk.End.After(horizon) {
				f.mu.Lock()
				if dk.End.After(f.listed) {
					f.listed = dk.End
				}
				f.mu.Unlock()
			}
			if blocked {
				continue
			}
			if len(day) > 0 && path.Dir(key) != path.Dir(day[0].key) {
				if !v.processDay(ctx, w, f, day) {
					if ctx.Err() != nil {
						return
					}
					blocked = true
					continue
				}
				day = day[:0]
			}
			day = append(day, listedDigest{key, aws.ToString(obj.ETag)})
		}
	}
	if !blocked {
		v.processDay(ctx, w, f, day)
	}
}

// listedDigest is a digest key listed, with its object's ETag.
type listedDigest struct{ key, tag string }

// processDay processes the digests of one day folder in time order, after
// announcing them all (a trail whose digests come later in the listing
// holds its files meanwhile). It reports whether all were processed.
func (v *verifier) processDay(ctx context.Context, w digestFolder, f *integrityFolder, listed []listedDigest) bool {
	type digest struct {
		listedDigest
		end time.Time
	}
	var ds []digest
	for _, l := range listed {
		if dk, ok := integrity.ParseDigestKey(l.key); ok && !dk.End.Before(v.startFloor) {
			ds = append(ds, digest{l, dk.End})
		}
	}
	f.mu.Lock()
	for _, d := range ds {
		f.state.Announce(d.key, d.end)
	}
	f.mu.Unlock()
	sort.Slice(ds, func(i, j int) bool {
		if !ds[i].end.Equal(ds[j].end) {
			return ds[i].end.Before(ds[j].end)
		}
		return ds[i].key < ds[j].key
	})
	for _, d := range ds {
		if err := v.processDigest(ctx, w.s3, w.bucket, d.key, d.tag); err != nil {
			if ctx.Err() == nil {
				v.logger.Error("Cannot check a CloudTrail digest file; it is retried on the next poll", zap.String("bucket", w.bucket), zap.String("key", d.key), zap.Error(err))
			}
			// Later digests wait: the chain is checked in order.
			return false
		}
	}
	return true
}
