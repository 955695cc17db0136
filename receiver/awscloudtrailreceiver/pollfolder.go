package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"
)

// job is one object of a folder to read.
type job struct {
	folder       *folder
	key          string
	fileTime     time.Time
	lastModified time.Time
}

// pollFolder dispatches every object of f that must be read now: the
// pending objects due for a retry (started earlier, failed or
// interrupted) first, then the new objects of the listing from the
// checkpoint's window onwards, in key order. Objects being read are not
// dispatched again. Dispatching waits for a free reader; the reads go on
// after pollFolder returns. (design.md, poll cycle steps 1–4.)
func (p *poller) pollFolder(ctx context.Context, f *folder, reads *sync.WaitGroup) {
	now := time.Now()
	from, retries := f.cp.Plan(now, p.cfg.Lookback)
	for _, r := range retries {
		if !p.dispatch(ctx, job{folder: f, key: r.Key, fileTime: r.FileTime}, reads) {
			return
		}
	}
	in := &s3.ListObjectsV2Input{
		Bucket:     aws.String(f.bucket),
		Prefix:     aws.String(f.prefix.String()),
		StartAfter: aws.String(f.prefix.StartAfter(from)),
	}
	if !p.tel.listPages(ctx, f.store(), in, "the folder is listed again on the next poll", func(out *s3.ListObjectsV2Output) bool {
		for _, obj := range out.Contents {
			key := aws.ToString(obj.Key)
			if !keylayout.IsLogFile(key) {
				continue
			}
			ft, ok := keylayout.FileTime(key)
			if !ok {
				p.tel.logger.Debug("Skipping an object whose name is not a CloudTrail log file name",
					zap.String("bucket", f.bucket), zap.String("key", key))
				continue
			}
			// Deciding to read an object and recording it as pending happen
			// under one lock (Want): from then on the window cannot pass it,
			// even while it waits for a reader and other objects finish
			// (which could otherwise move the window past it, and forget the
			// done objects behind it).
			switch f.cp.Want(key, ft, p.cfg.Lookback) {
			case checkpoint.Held:
				p.tel.logger.Warn("Too many CloudTrail objects pending in one folder; its listing stops here until some finish, and the window holds at this object",
					zap.String("bucket", f.bucket), zap.String("key", key), zap.Int("pending", checkpoint.MaxPending))
				return false
			case checkpoint.Read:
				if !p.dispatch(ctx, job{folder: f, key: key, fileTime: ft, lastModified: aws.ToTime(obj.LastModified)}, reads) {
					return false
				}
			}
		}
		return true
	}) {
		return
	}
	// A whole listing without refusal: no object is held back.
	f.cp.ListedAll()
	p.tel.watch.listedAll(f.cp.ID(), now)
}

// dispatch waits for a free reader and reads j (already pending in the
// checkpoint) with it in a goroutine. When there are several folders, a
// folder holds at most workers − 1 readers (one with a single worker), so
// that a folder whose reads hang does not take every reader from the
// others. It reports false when the poller is stopping.
func (p *poller) dispatch(ctx context.Context, j job, reads *sync.WaitGroup) bool {
	f := j.folder
	for {
		limit := int64(p.cfg.Workers)
		if p.folderCount.Load() > 1 {
			limit = max(1, limit-1)
		}
		if n := f.reading.Load(); n < limit && f.reading.CompareAndSwap(n, n+1) {
			break
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	rd, ok := p.pool.acquire(ctx)
	if !ok {
		f.reading.Add(-1)
		return false
	}
	skip := f.cp.Begin(j.key)
	reads.Add(1)
	go func() {
		defer reads.Done()
		defer f.reading.Add(-1)
		defer p.pool.release(rd)
		p.readObject(ctx, rd, j, skip)
		f.cp.End(j.key)
	}()
	return true
}

// readObject reads one listed object and moves its folder's checkpoint:
// after each accepted batch, and to "done" at the end (design.md, steps 5–7).
func (p *poller) readObject(ctx context.Context, rd *objectreader.Reader, j job, skip int) {
	f := j.folder
	res := p.pool.read(ctx, rd, objectTask{
		store: f.store(), bucket: f.bucket, key: j.key, account: f.prefix.Account, region: f.prefix.Region,
		skip: skip, lastModified: j.lastModified, retryHint: "it is retried later, with backoff",
		delivered: func(next int) { f.cp.Delivered(j.key, j.fileTime, next) },
	})
	switch res {
	case readDone, readGiveUp:
		if f.cp.Finish(j.key, j.fileTime, p.cfg.Lookback) {
			p.tel.logger.Warn("CloudTrail file name time is in the future; the file is read but does not move the folder's reading window",
				zap.String("bucket", f.bucket), zap.String("key", j.key), zap.Time("file_time", j.fileTime))
		}
	case readRetry:
		if !f.cp.Failed(j.key, j.fileTime, time.Now(), p.tune.retryBase, retryMax) {
			p.tel.logger.Error("Too many CloudTrail objects waiting for retry in one folder; this one is not retried",
				zap.String("bucket", f.bucket), zap.String("key", j.key))
		}
	}
}
