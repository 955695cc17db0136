package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

// Integrity validation: digest files that cannot be read. A genuine digest
// made unreadable (an attacker rewrites it encrypted with a KMS key of
// their own; CloudTrail writes digests with SSE-S3) would otherwise blind
// its hour: in SQS mode its message is given up, in polling mode every
// later digest of the folder waits for it. A digest that stays unreadable
// once the trail has gone on for grace_period past its end (the trail's
// clock: the newest digest verified or listed in the folder), and after
// unreadAttempts reads that failed (polls or SQS deliveries apart, the
// last one made then), is reported chain_broken and counted as processed.
// One merely late or briefly throttled is read in time and raises nothing.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/smithy-go"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// maxUnread bounds the unreadable digests remembered per folder.
const maxUnread = 1024

// unreadAttempts is how many reads of a digest must fail before it is
// reported: a receiver catching up has the trail's clock far ahead at
// once, and one failed read must not be enough.
const unreadAttempts = 3

// unreadable records that a digest of f (f.mu held) could not be read
// (err), in f's state, and reports whether it is due: the trail's clock
// passed its end by grace_period.
func (v *verifier) unreadable(f *integrityFolder, store objectStore, bucket, key string, end time.Time, err error) bool {
	if f.stores == nil {
		f.stores = map[string]objectStore{}
	}
	f.stores[bucket] = store
	u, ok := f.state.Unread[key]
	if !ok {
		if len(f.state.Unread) >= maxUnread {
			v.logger.Warn("Too many unreadable CloudTrail digest files in one folder; this one is not followed",
				zap.String("bucket", bucket), zap.String("key", key))
			return false
		}
		u = integrity.Unread{Bucket: bucket, End: end}
	}
	u.Reason, u.Failures = errorCode(err), u.Failures+1
	f.state.NoteUnread(key, u)
	return v.unreadDue(f, u)
}

// trailClock is how far the trail is known to have gone in f: the newest
// end of a digest verified, or listed (polling; at most an hour ahead of
// the wall clock, so that a key named in the future does not move it).
func trailClock(f *integrityFolder) time.Time {
	c := f.state.Newest
	if f.listed.After(c) {
		c = f.listed
	}
	return c
}

// unreadDue reports whether an unreadable digest is to be read a last time.
func (v *verifier) unreadDue(f *integrityFolder, u integrity.Unread) bool {
	return u.Failures >= unreadAttempts-1 && !trailClock(f).Before(u.End.Add(v.cfg.GracePeriod))
}

// readUnread reads again the unreadable digests of f that are due (f.mu
// held): one readable now is checked as usual; one still unreadable is
// reported chain_broken and counted as processed (invalid, listing no
// file), so that the folder's later digests go on and the next digest's
// chain check does not report it again.
func (v *verifier) readUnread(ctx context.Context, f *integrityFolder) integrity.Outcome {
	var out integrity.Outcome
	var due []string
	for key, u := range f.state.Unread {
		switch {
		case handled(f.state, key) || u.End.Before(trailClock(f).Add(-v.cfg.Window)):
			f.state.ForgetUnread(key)
		case v.unreadDue(f, u):
			due = append(due, key)
		}
	}
	sort.Strings(due)
	for _, key := range due {
		if ctx.Err() != nil {
			break
		}
		u := f.state.Unread[key]
		dk, _ := integrity.ParseDigestKey(key)
		store := f.stores[u.Bucket]
		if store == nil {
			store = v.clients.s3ForBucket(ctx, u.Bucket)
		}
		o, err := v.checkDigest(ctx, store, f, u.Bucket, key, dk)
		switch {
		case err == nil:
			out.Findings = append(out.Findings, o.Findings...)
			out.FilesVerified += o.FilesVerified
			continue
		case ctx.Err() != nil || errors.Is(err, errKeys):
			continue
		}
		f.state.ForgetUnread(key)
		start := u.End.Add(-time.Hour)
		f.state.MarkInvalid(key, "", start, u.End, nil)
		out.Findings = append(out.Findings, integrity.Finding{Status: integrity.StatusChainBroken, Bucket: u.Bucket, Key: key, DigestKey: key,
			Start: start, End: u.End, Reason: fmt.Sprintf("digest cannot be read: %s (still unreadable %s after its end on the trail's clock; the log files of its hour are not verified)",
				errorCode(err), v.cfg.GracePeriod)})
	}
	return out
}

// handled reports whether a digest was processed: verified, or reported
// (failed verification, or unreadable).
func handled(st *integrity.FolderState, key string) bool {
	_, ok := st.Digests[key]
	return ok
}

// errorCode is the AWS error code of err, or its text.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return err.Error()
}
