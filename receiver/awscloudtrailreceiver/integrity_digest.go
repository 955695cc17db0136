package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

// Integrity validation: reading and checking one digest file (signature,
// chain, public keys, existence of the files it lists).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// errIntegrityState: a digest's state change could not be kept; it is made again.
var errIntegrityState = errors.New("integrity state could not be kept")

// errKeys is a failure to fetch the public keys: the digest is tried again.
var errKeys = errors.New("cannot fetch CloudTrail public keys")

// processDigest checks one digest file: its signature, its chain, the
// existence of the log files it lists that were not read, and the hashes
// of those that were. tag is the object's ETag when a listing gave it: a
// digest that failed verification is not fetched again while its object
// is unchanged. A returned error means it is tried again later; a
// digest that stays unreadable is reported once the trail has gone on for
// grace_period past it (integrity_unreadable.go).
func (v *verifier) processDigest(ctx context.Context, store objectStore, bucket, key, tag string) error {
	dk, ok := integrity.ParseDigestKey(key)
	if !ok {
		return nil
	}
	f, err := v.folder(ctx, bucket, dk.LogFolder())
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.state.Processed(key, tag) {
		return nil
	}
	out, err := v.checkDigest(ctx, store, f, bucket, key, dk)
	if err != nil {
		if _, reported := f.state.Invalid[key]; reported && ctx.Err() == nil && !errors.Is(err, errKeys) {
			// Reported already (unreadable, or failed verification) and
			// still unreadable: nothing new, the later digests go on.
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, errKeys) {
			return err
		}
		if !v.unreadable(f, store, bucket, key, dk.End, err) {
			// Kept, so that it is reported after a restart too (SQS: its
			// message may be given up before it is due).
			if serr := v.save(context.WithoutCancel(ctx), f); serr != nil {
				v.logger.Error("Cannot save integrity state", zap.String("folder", f.id), zap.Error(serr))
			}
			return err
		}
		// Unreadable for longer than grace_period: the sweep reports it.
	}
	sw := v.sweep(ctx, store, f)
	out.Findings, out.FilesVerified = append(out.Findings, sw.Findings...), out.FilesVerified+sw.FilesVerified
	if !v.conclude(ctx, f, out) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return errIntegrityState
	}
	return nil
}

// checkDigest reads and checks one digest of f (f.mu held) and applies it
// to f's state; an error (reading it failed, or its keys could not be
// fetched) leaves the state as it was.
func (v *verifier) checkDigest(ctx context.Context, store objectStore, f *integrityFolder, bucket, key string, dk integrity.DigestKey) (integrity.Outcome, error) {
	var out integrity.Outcome
	s, found, err := v.fetchDigest(ctx, store, bucket, key)
	if err != nil {
		return out, err
	}
	if _, ok := f.state.Unread[key]; ok {
		f.state.ForgetUnread(key)
	}
	if !found {
		// A digest deleted after its listing: the next digest's chain check reports it.
		f.state.Forget(key)
		return out, nil
	}
	if f.state.Processed(key, s.tag) {
		// The object that failed verification, unchanged.
		return out, nil
	}
	verr := s.parseErr
	if verr == nil {
		verr = v.verify(ctx, dk.Folder.Region, s.Signed)
	}
	switch {
	case errors.Is(verr, errKeys):
		return out, verr
	case verr != nil:
		v.tb.ReceiverAwscloudtrailIntegrityDigests.Add(ctx, 1, metric.WithAttributes(attribute.String("result", "invalid")))
		start := s.Digest.Start
		if s.parseErr != nil {
			start = dk.End.Add(-time.Hour)
		}
		f.state.MarkInvalid(key, s.tag, start, dk.End, s.Digest.LogFiles)
		out.Findings = append(out.Findings, integrity.Finding{Status: integrity.StatusBadSignature, Bucket: bucket, Key: key, DigestKey: key,
			Start: s.Digest.Start, End: dk.End, Reason: verr.Error()})
	default:
		v.tb.ReceiverAwscloudtrailIntegrityDigests.Add(ctx, 1, metric.WithAttributes(attribute.String("result", "verified")))
		if fd := v.checkChain(ctx, store, f, dk, s.Signed); fd != nil {
			out.Findings = append(out.Findings, *fd)
		}
		o, unseen := f.state.ApplyDigest(s.Signed, dk)
		out.Findings = append(out.Findings, o.Findings...)
		out.FilesVerified += o.FilesVerified
		for _, lf := range unseen {
			if v.exists(ctx, store, lf.S3Bucket, lf.S3Object) {
				f.state.Expect(lf, s.Signed)
				continue
			}
			out.Findings = append(out.Findings, integrity.Missing(lf.S3Bucket, lf.S3Object, key, s.Digest.Start, s.Digest.End))
		}
	}
	return out, nil
}

// fetched is a digest read from S3.
type fetched struct {
	integrity.Signed
	parseErr error
	tag      string // the object's version: ETag, or else LastModified
}

// fetchDigest reads a digest object; found is false when it does not exist.
func (v *verifier) fetchDigest(ctx context.Context, store objectStore, bucket, key string) (fetched, bool, error) {
	out, err := store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if _, retryable := classifyS3Error(err); !retryable {
			return fetched{}, false, nil
		}
		return fetched{}, false, err
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, integrity.MaxDigestBytes+1))
	if err != nil {
		return fetched{}, false, err
	}
	d, raw, perr := integrity.ParseDigest(body)
	tag := aws.ToString(out.ETag)
	if tag == "" {
		tag = aws.ToTime(out.LastModified).UTC().Format(time.RFC3339Nano)
	}
	return fetched{Signed: integrity.Signed{Bucket: bucket, Key: key, Digest: d, Raw: raw,
		Signature: out.Metadata[integrity.MetaSignature], Algorithm: out.Metadata[integrity.MetaSignatureAlgorithm]}, parseErr: perr, tag: tag}, true, nil
}

// regionKeys are the public keys of a region and what the last
// ListPublicKeys call covered: every key valid from from that existed at
// at. A fingerprint a digest of that range names and the ring lacks does
// not exist: no call is made for it (a forged digest naming keys of its
// own costs no call), and the calls are as few as the new key periods.
type regionKeys struct {
	ring     integrity.Keyring
	from, at time.Time
}

// covers reports whether the last call returned every key that could have
// signed a digest of [start, end].
func (k *regionKeys) covers(start, end time.Time) bool {
	return !k.at.IsZero() && !start.Before(k.from) && !end.After(k.at)
}

// verify checks a digest's signature with the region's public keys,
// fetching them (ListPublicKeys, at most once per keyCallInterval, from
// the earliest digest the receiver may meet up to now) when the
// fingerprint is not known and no call covered the digest's range yet.
func (v *verifier) verify(ctx context.Context, region string, s integrity.Signed) error {
	v.keyMu.Lock()
	defer v.keyMu.Unlock()
	rk := v.keys[region]
	if rk == nil {
		rk = &regionKeys{}
		v.keys[region] = rk
	}
	err := integrity.Verify(s, &rk.ring)
	now := time.Now()
	if !errors.Is(err, integrity.ErrUnknownKey) || rk.covers(s.Digest.Start, s.Digest.End) || s.Digest.End.After(now.Add(keyClockSkew)) {
		return err
	}
	if now.Sub(rk.at) < keyCallInterval {
		return fmt.Errorf("%w: ListPublicKeys was called less than %s ago; the digest is checked again later", errKeys, keyCallInterval)
	}
	api, ok := v.clients.cloudTrail.get(region).(publicKeyAPI)
	if !ok {
		return fmt.Errorf("%w: no CloudTrail client", errKeys)
	}
	// From the earliest digest the receiver may meet (its start, or the
	// window, before now), so that one call serves them all.
	from := now.Add(-v.cfg.Window)
	for _, t := range []time.Time{v.startFloor.Add(-v.cfg.Window), s.Digest.Start, rk.from} {
		if !t.IsZero() && t.Before(from) {
			from = t
		}
	}
	// Every page: the key may be on any of them.
	pages := cloudtrail.NewListPublicKeysPaginator(api, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(from), EndTime: aws.Time(now)})
	for pages.HasMorePages() {
		out, lerr := pages.NextPage(ctx)
		if lerr != nil {
			logAWSError(v.logger, zapcore.ErrorLevel, awsCall{"ListPublicKeys", "CloudTrail in " + region, "cloudtrail:ListPublicKeys", "digests are checked again later"},
				lerr, zap.String("region", region))
			return fmt.Errorf("%w: %v", errKeys, lerr)
		}
		for _, k := range out.PublicKeyList {
			pk, perr := integrity.ParsePublicKey(aws.ToString(k.Fingerprint), k.Value, aws.ToTime(k.ValidityStartTime), aws.ToTime(k.ValidityEndTime))
			if perr != nil {
				v.logger.Warn("Cannot parse a CloudTrail public key", zap.String("region", region), zap.Error(perr))
				continue
			}
			rk.ring.Add(pk)
		}
	}
	rk.from, rk.at = from, now
	return integrity.Verify(s, &rk.ring)
}

// checkChain checks that a verified digest follows the previous one; it
// reads the previous digest from S3 when it was not verified here.
func (v *verifier) checkChain(ctx context.Context, store objectStore, f *integrityFolder, dk integrity.DigestKey, s integrity.Signed) *integrity.Finding {
	st := f.state
	var last *integrity.Link
	if l, ok := st.Links[dk.Chain()]; ok {
		last = &l
	}
	res, reason := integrity.CheckChain(last, s, dk.Backfill)
	pb, pk := aws.ToString(s.Digest.PreviousDigestS3Bucket), aws.ToString(s.Digest.PreviousDigestS3Object)
	if _, invalid := st.Invalid[pk]; invalid && res != integrity.ChainRestart && res != integrity.ChainBackfill {
		// The previous digest was reported (bad_signature) already.
		return nil
	}
	if res == integrity.ChainFirst || res == integrity.ChainAhead {
		prev, found, err := v.fetchDigest(ctx, store, pb, pk)
		switch {
		case err != nil:
			v.logger.Warn("Cannot read the previous digest file; the chain is not checked at this digest", zap.String("bucket", pb), zap.String("key", pk), zap.Error(err))
			if pdk, ok := integrity.ParseDigestKey(pk); ok && pb == s.Bucket && pdk.LogFolder() == dk.LogFolder() && ctx.Err() == nil && !handled(st, pk) {
				// It is reported if it stays unreadable (SQS: its message may be given up).
				v.unreadable(f, store, pb, pk, pdk.End, err)
			}
			return nil
		case !found:
			res, reason = integrity.ChainBroken, "the previous digest s3://"+pb+"/"+pk+" that this digest names does not exist (deleted)"
		default:
			link := integrity.LinkOf(prev.Signed)
			res, reason = integrity.CheckChain(&link, s, false)
		}
	}
	if res != integrity.ChainBroken {
		return nil
	}
	return &integrity.Finding{Status: integrity.StatusChainBroken, Bucket: s.Bucket, Key: s.Key, DigestKey: s.Key, Start: s.Digest.Start, End: s.Digest.End, Reason: reason}
}

// exists reports whether a log file exists; when that cannot be told
// (errors other than not found), it is taken as existing: its hash is
// still checked when it is read, or its existence when it is overdue.
func (v *verifier) exists(ctx context.Context, store objectStore, bucket, key string) bool {
	return v.existence(ctx, store, bucket, key) != integrity.Gone
}

// existence checks whether a log file exists (HeadObject).
func (v *verifier) existence(ctx context.Context, store objectStore, bucket, key string) integrity.Existence {
	var err error
	if h, ok := store.(headAPI); ok {
		_, err = h.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	} else {
		var out *s3.GetObjectOutput
		if out, err = store.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String("bytes=0-0")}); err == nil {
			out.Body.Close()
		}
	}
	if err == nil {
		return integrity.Exists
	}
	if reason, _ := classifyS3Error(err); reason == reasonNotFound {
		return integrity.Gone
	}
	return integrity.Unknown
}

// sweep reads again the folder's unreadable digests that are due
// (readUnread), sweeps its state (f.mu held) and checks that the listed
// files overdue still exist (store reads the folder's bucket); it returns
// the findings and the files verified. The files read older than the
// window have their digests looked up (integrity_lookup.go).
func (v *verifier) sweep(ctx context.Context, store objectStore, f *integrityFolder) integrity.Outcome {
	unread := v.readUnread(ctx, f)
	out := f.state.Sweep(v.cfg.GracePeriod, v.cfg.Window)
	stale := v.resolveStale(ctx, store, f, out.Stale, out.Abandoned)
	out.Findings = append(append(unread.Findings, out.Findings...), stale.Findings...)
	out.FilesVerified += unread.FilesVerified + stale.FilesVerified
	for _, o := range out.Overdue {
		res := integrity.Unknown
		if ctx.Err() == nil {
			res = v.existence(ctx, store, o.Bucket, o.Key)
		}
		c, kept := f.state.Confirm(o, res, v.cfg.GracePeriod, v.cfg.Window)
		out.Findings = append(out.Findings, c.Findings...)
		if !kept {
			v.logger.Warn("Cannot tell whether a log file a digest lists still exists; it is no longer checked",
				zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.String("digest", o.Digest))
		}
	}
	return out
}
