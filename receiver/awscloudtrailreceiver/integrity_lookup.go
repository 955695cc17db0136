package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

// Integrity validation: the lookup of the digests of a log file read after
// its time left the window (integrity.StaleFile): the digest folder of the
// file's account and region is listed for the day of the file's time and
// the next (a digest is written after the hour it covers), the digests
// whose end is near the file's time are read and verified as usual (one
// failing verification is reported bad_signature, unless already known),
// and the state decides (Resolve). Listings and verified digests are kept
// in memory, bounded: the old files of one hour cost one GET of their
// digest, not one per file.

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

const (
	// lookupListTTL is how long the listing of a digest day folder is
	// reused. The days looked up are older than the window on the trail's
	// clock: their digests were written already.
	lookupListTTL = 5 * time.Minute
	// maxLookupDays bounds the day listings kept.
	maxLookupDays = 64
	// maxLookupFiles bounds the log files listed by the digests kept.
	maxLookupFiles = 200_000
)

// lookupDigest is a digest read by a lookup: its range, and what it lists
// when it verified (invalid: it failed verification).
type lookupDigest struct {
	start, end time.Time
	invalid    bool
	files      map[string]string // "bucket/key" -> hash
	// prev is the previous digest it names, in the same bucket ("": none).
	prev string
	// brokenReported: its chain_broken finding (its previous digest
	// deleted) was made.
	brokenReported bool
}

// dayListing is a digest day folder listed.
type dayListing struct {
	at      time.Time
	digests []listedDigest
}

// lookupCache keeps day listings and digests read by lookups, bounded (the
// oldest inserted leave first).
type lookupCache struct {
	mu       sync.Mutex
	days     map[string]dayListing
	dayOrder []string
	digests  map[listedDigest]*lookupDigest
	digOrder []listedDigest
	files    int
}

func (c *lookupCache) day(id string, now time.Time) ([]listedDigest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.days[id]
	if !ok || now.Sub(d.at) > lookupListTTL {
		return nil, false
	}
	return d.digests, true
}

func (c *lookupCache) putDay(id string, d dayListing) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.days == nil {
		c.days = map[string]dayListing{}
	}
	if _, ok := c.days[id]; !ok {
		c.dayOrder = append(c.dayOrder, id)
	}
	c.days[id] = d
	for len(c.dayOrder) > maxLookupDays {
		delete(c.days, c.dayOrder[0])
		c.dayOrder = c.dayOrder[1:]
	}
}

func (c *lookupCache) digest(k listedDigest) *lookupDigest {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.digests[k]
}

// markBroken records that d's chain_broken finding is made; false when it
// was made already.
func (c *lookupCache) markBroken(d *lookupDigest) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d.brokenReported {
		return false
	}
	d.brokenReported = true
	return true
}

// dropInvalid forgets the digests that failed verification or whose
// chain_broken finding was made: their findings could not be delivered,
// and reading them again reports them.
func (c *lookupCache) dropInvalid() {
	c.mu.Lock()
	defer c.mu.Unlock()
	kept := c.digOrder[:0]
	for _, k := range c.digOrder {
		if d := c.digests[k]; d.invalid || d.brokenReported {
			c.files -= len(d.files)
			delete(c.digests, k)
			continue
		}
		kept = append(kept, k)
	}
	c.digOrder = kept
}

func (c *lookupCache) putDigest(k listedDigest, d *lookupDigest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.digests == nil {
		c.digests = map[listedDigest]*lookupDigest{}
	}
	if _, ok := c.digests[k]; ok {
		return
	}
	c.digests[k] = d
	c.digOrder = append(c.digOrder, k)
	c.files += len(d.files)
	for c.files > maxLookupFiles && len(c.digOrder) > 1 {
		old := c.digOrder[0]
		c.files -= len(c.digests[old].files)
		delete(c.digests, old)
		c.digOrder = c.digOrder[1:]
	}
}

// errLookup: a digest of a stale file could not be listed, read or verified.
var errLookup = errors.New("digest lookup failed")

// resolveStale looks up the digests of the stale files of a sweep of f
// (f.mu held) and records what they say; it returns the findings and the
// files verified.
func (v *verifier) resolveStale(ctx context.Context, store objectStore, f *integrityFolder, stale, abandoned []integrity.StaleFile) integrity.Outcome {
	var out integrity.Outcome
	count := func(result string) {
		v.tb.ReceiverAwscloudtrailIntegrityLookups.Add(ctx, 1, metric.WithAttributes(attribute.String("result", result)))
	}
	for _, sf := range abandoned {
		count("abandoned")
		v.logger.Warn("Too many CloudTrail log files older than the integrity window wait for the lookup of their digests; this one is not checked",
			zap.String("bucket", sf.Bucket), zap.String("key", sf.Key))
	}
	for _, sf := range stale {
		var l integrity.Lookup
		if ctx.Err() != nil {
			l.Failed = true
		} else {
			var fds []integrity.Finding
			var err error
			l.Digests, fds, err = v.lookup(ctx, store, f, sf)
			l.Failed = err != nil
			out.Findings = append(out.Findings, fds...)
		}
		r, kept := f.state.Resolve(sf, l, v.cfg.GracePeriod, v.cfg.Window)
		out.Findings = append(out.Findings, r.Findings...)
		out.FilesVerified += r.FilesVerified
		switch {
		case !kept:
			count("abandoned")
			v.logger.Warn("Cannot look up the digests of a CloudTrail log file older than the integrity window; it is no longer checked",
				zap.String("bucket", sf.Bucket), zap.String("key", sf.Key), zap.Int("attempts", sf.Fails+1))
		case l.Failed:
			count("failed")
		case r.FilesVerified > 0:
			count("verified")
		case len(r.Findings) > 0:
			count(r.Findings[0].Status)
		default:
			count("uncovered")
		}
	}
	return out
}

// lookup reads the digests of f whose end is near a stale file's time. A
// digest failing verification that the state does not know yet comes with
// its bad_signature finding, also when the lookup fails after it.
func (v *verifier) lookup(ctx context.Context, store objectStore, f *integrityFolder, sf integrity.StaleFile) ([]integrity.CoveringDigest, []integrity.Finding, error) {
	from, to := sf.DigestEnds(v.cfg.GracePeriod)
	dp := f.prefix
	dp.Kind = keylayout.KindDigest
	var out []integrity.CoveringDigest
	var findings []integrity.Finding
	listedKeys := map[string]bool{}
	var verified []*lookupDigest
	var verifiedKeys []string
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(to); day = day.Add(24 * time.Hour) {
		listed, err := v.listDay(ctx, store, f.bucket, dp.String()+day.Format("2006/01/02/"))
		if err != nil {
			return nil, findings, err
		}
		for _, ld := range listed {
			listedKeys[ld.key] = true
			dk, ok := integrity.ParseDigestKey(ld.key)
			if !ok || dk.End.Before(from) || dk.End.After(to) || dk.LogFolder() != f.prefix {
				continue
			}
			d, fd, err := v.lookupDigest(ctx, store, f, ld, dk)
			if err != nil {
				// The findings of the digests read so far are reported:
				// they are cached and come without a finding next time.
				return nil, findings, err
			}
			if d == nil {
				continue
			}
			if fd != nil {
				findings = append(findings, *fd)
			}
			cd := integrity.CoveringDigest{Key: ld.key, Start: d.start, End: d.end, Invalid: d.invalid}
			cd.Hash, cd.Listed = d.files[sf.Bucket+"/"+sf.Key]
			out = append(out, cd)
			if !d.invalid && !dk.Backfill {
				verified, verifiedKeys = append(verified, d), append(verifiedKeys, ld.key)
			}
		}
	}
	for i, d := range verified {
		if fd := v.deletedPrevious(f, verifiedKeys[i], d, listedKeys, from, to); fd != nil {
			findings = append(findings, *fd)
		}
	}
	return out, findings, nil
}

// deletedPrevious reports, once, a verified digest of a lookup whose
// previous digest ends within the range the lookup listed but is not
// there: deleted after it was processed (its hour is blind, and a file of
// that hour may have been rewritten with it).
func (v *verifier) deletedPrevious(f *integrityFolder, key string, d *lookupDigest, listed map[string]bool, from, to time.Time) *integrity.Finding {
	if d.prev == "" || listed[d.prev] {
		return nil
	}
	pdk, ok := integrity.ParseDigestKey(d.prev)
	if !ok || pdk.LogFolder() != f.prefix || pdk.End.Before(from) || pdk.End.After(to) || !v.lookups.markBroken(d) {
		return nil
	}
	return &integrity.Finding{Status: integrity.StatusChainBroken, Bucket: f.bucket, Key: key, DigestKey: key, Start: d.start, End: d.end,
		Reason: "the previous digest s3://" + f.bucket + "/" + d.prev + " that this digest names does not exist (deleted); the log files of its hour are not verified"}
}

// listDay lists one digest day folder (cached for lookupListTTL).
func (v *verifier) listDay(ctx context.Context, store objectStore, bucket, prefix string) ([]listedDigest, error) {
	id := bucket + "/" + prefix
	now := time.Now()
	if ds, ok := v.lookups.day(id, now); ok {
		return ds, nil
	}
	var ds []listedDigest
	if !v.tel.listPages(ctx, store, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)},
		"the digests of the log file older than the window are looked up again later", func(out *s3.ListObjectsV2Output) bool {
			for _, o := range out.Contents {
				ds = append(ds, listedDigest{key: aws.ToString(o.Key), tag: aws.ToString(o.ETag)})
			}
			return true
		}) {
		return nil, errLookup
	}
	v.lookups.putDay(id, dayListing{at: now, digests: ds})
	return ds, nil
}

// lookupDigest reads and verifies one digest for a lookup (cached by key
// and object version); nil when it no longer exists. A digest that fails
// verification is reported bad_signature when it is read, unless the
// state knows it already.
func (v *verifier) lookupDigest(ctx context.Context, store objectStore, f *integrityFolder, ld listedDigest, dk integrity.DigestKey) (*lookupDigest, *integrity.Finding, error) {
	if d := v.lookups.digest(ld); d != nil {
		return d, nil, nil
	}
	s, found, err := v.fetchDigest(ctx, store, f.bucket, ld.key)
	if err != nil {
		v.logger.Warn("Cannot read a CloudTrail digest file for a log file older than the integrity window; it is looked up again later",
			zap.String("bucket", f.bucket), zap.String("key", ld.key), zap.Error(err))
		return nil, nil, errLookup
	}
	if !found {
		return nil, nil, nil
	}
	verr := s.parseErr
	if verr == nil {
		verr = v.verify(ctx, dk.Folder.Region, s.Signed)
	}
	if errors.Is(verr, errKeys) {
		return nil, nil, verr
	}
	d := &lookupDigest{start: s.Digest.Start, end: s.Digest.End}
	var fd *integrity.Finding
	if verr != nil {
		// Its range is not signed: at most its hour counts (as MarkInvalid).
		d.invalid, d.end = true, dk.End
		if hour := dk.End.Add(-time.Hour); d.start.Before(hour) || d.start.After(dk.End) {
			d.start = hour
		}
		if _, known := f.state.Invalid[ld.key]; !known || !f.state.Processed(ld.key, s.tag) {
			fd = &integrity.Finding{Status: integrity.StatusBadSignature, Bucket: f.bucket, Key: ld.key, DigestKey: ld.key,
				Start: s.Digest.Start, End: dk.End, Reason: verr.Error()}
		}
	}
	if aws.ToString(s.Digest.PreviousDigestS3Bucket) == f.bucket {
		d.prev = aws.ToString(s.Digest.PreviousDigestS3Object)
	}
	d.files = make(map[string]string, len(s.Digest.LogFiles))
	for _, lf := range s.Digest.LogFiles {
		d.files[lf.S3Bucket+"/"+lf.S3Object] = lf.HashValue
	}
	v.lookups.putDigest(ld, d)
	return d, fd, nil
}
