package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

// Integrity validation: the state of each log folder in storage, and the
// findings turned into log records.

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

// folder returns the integrity state of a log folder, loaded from storage
// the first time.
func (v *verifier) folder(ctx context.Context, bucket string, p keylayout.Prefix) (*integrityFolder, error) {
	p.Kind = keylayout.KindLog
	id := bucket + "/" + p.String()
	v.mu.Lock()
	defer v.mu.Unlock()
	if f, ok := v.folders[id]; ok {
		return f, nil
	}
	st, j, err := v.load(ctx, id)
	if err != nil {
		return nil, err
	}
	f := &integrityFolder{id: id, bucket: bucket, prefix: p, state: st, journal: j}
	v.folders[id] = f
	return f, nil
}

// conclude emits the findings of a state change, then saves the change
// (integrity_journal.go) before the caller goes on (a file read is
// checkpointed after); f.mu
// is held. When the findings cannot be delivered (stopping), the state in
// memory goes back to the saved state, so that the change is made again
// (a finding is delivered at least once), also for those that hold f
// already and save it next. It reports whether it was saved.
func (v *verifier) conclude(ctx context.Context, f *integrityFolder, out integrity.Outcome) bool {
	if out.FilesVerified > 0 {
		v.tb.ReceiverAwscloudtrailIntegrityFilesVerified.Add(ctx, int64(out.FilesVerified))
	}
	if !v.cfg.ReportUnsigned {
		out.Findings = v.dropUnsigned(ctx, out.Findings)
	}
	if len(out.Findings) > 0 {
		if err := v.emit(ctx, f, out.Findings); err != nil {
			v.lookups.dropInvalid()
			if st, j, lerr := v.load(context.WithoutCancel(ctx), f.id); lerr == nil {
				f.state, f.journal = st, j
			} else {
				// Cannot go back: no one may save this state.
				f.state, f.broken = integrity.NewFolderState(), true
				v.mu.Lock()
				delete(v.folders, f.id)
				v.mu.Unlock()
			}
			return false
		}
	}
	if f.broken {
		return false
	}
	if err := v.save(context.WithoutCancel(ctx), f); err != nil {
		v.logger.Error("Cannot save integrity state", zap.String("folder", f.id), zap.Error(err))
	}
	return true
}

// dropUnsigned removes the unsigned findings (integrity.report_unsigned
// off), counting them.
func (v *verifier) dropUnsigned(ctx context.Context, findings []integrity.Finding) []integrity.Finding {
	kept := findings[:0]
	for _, fd := range findings {
		if fd.Status == integrity.StatusUnsigned {
			v.tb.ReceiverAwscloudtrailIntegrityUnsignedIgnored.Add(ctx, 1)
			continue
		}
		kept = append(kept, fd)
	}
	return kept
}

// findingTitles start the message (and Datadog event title) of each finding.
var findingTitles = map[string]string{
	integrity.StatusModified:     "log file modified",
	integrity.StatusMissing:      "log file missing",
	integrity.StatusUnsigned:     "unsigned log file",
	integrity.StatusBadSignature: "digest signature invalid",
	integrity.StatusChainBroken:  "digest chain broken",
}

// emit delivers findings as log records, one each, to the next consumer,
// retrying with backoff until they are accepted, rejected permanently
// (logged), or ctx ends.
func (v *verifier) emit(ctx context.Context, f *integrityFolder, findings []integrity.Finding) error {
	now := pcommon.NewTimestampFromTime(time.Now())
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr(ctattr.ResourceCloudProvider, "aws")
	ra.PutStr(ctattr.ResourceAccountID, f.prefix.Account)
	ra.PutStr(ctattr.ResourceRegion, f.prefix.Region)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(metadata.ScopeName)
	sl.Scope().SetVersion(v.version)
	for _, fd := range findings {
		v.tb.ReceiverAwscloudtrailIntegrityFindings.Add(ctx, 1, metric.WithAttributes(attribute.String("status", fd.Status)))
		title := fmt.Sprintf("CloudTrail integrity: %s in %s %s", findingTitles[fd.Status], f.prefix.Account, f.prefix.Region)
		v.logger.Warn(title, zap.String("bucket", fd.Bucket), zap.String("key", fd.Key), zap.String("digest", fd.DigestKey), zap.String("reason", fd.Reason))
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(now)
		lr.SetObservedTimestamp(now)
		lr.SetSeverityNumber(plog.SeverityNumberError)
		lr.SetSeverityText("ERROR")
		lr.Body().SetStr(fmt.Sprintf("%s\n%s: s3://%s/%s\ndigest: %s (%s to %s)", title, fd.Reason, fd.Bucket, fd.Key, fd.DigestKey,
			fd.Start.UTC().Format(time.RFC3339), fd.End.UTC().Format(time.RFC3339)))
		a := lr.Attributes()
		a.PutStr(ctattr.AttrIntegrityStatus, fd.Status)
		a.PutStr(ctattr.AttrS3Bucket, fd.Bucket)
		a.PutStr(ctattr.AttrS3Key, fd.Key)
		if fd.DigestKey != "" {
			a.PutStr(ctattr.AttrIntegrityDigestKey, fd.DigestKey)
		}
		a.PutStr(ctattr.AttrIntegrityStart, fd.Start.UTC().Format(time.RFC3339))
		a.PutStr(ctattr.AttrIntegrityEnd, fd.End.UTC().Format(time.RFC3339))
		a.PutStr(ctattr.AttrIntegrityReason, fd.Reason)
		a.PutStr(ctattr.AttrPriority, ctattr.PriorityNormal)
	}
	backoff := 100 * time.Millisecond
	for {
		err := v.pool.next.ConsumeLogs(v.pool.consumeCtx, ld)
		switch {
		case err == nil:
			return nil
		case consumererror.IsPermanent(err):
			v.logger.Error("The next consumer rejected CloudTrail integrity findings permanently", zap.Int("findings", len(findings)), zap.Error(err))
			return nil
		}
		if rest, ok := refusedPart(err); ok {
			ld = rest
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}
