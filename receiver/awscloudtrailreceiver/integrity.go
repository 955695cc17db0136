package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"go.opentelemetry.io/collector/receiver"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ctattr"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/notification"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"
)

// IntegrityConfig configures CloudTrail log file integrity validation.
type IntegrityConfig struct {
	// Enabled verifies the trails' digest files and the log files read.
	Enabled bool `mapstructure:"enabled"`
	// GracePeriod is how long after a log file's time a digest may still
	// list it: a file read that no digest lists once a digest ending more
	// than GracePeriod after its time was verified is reported unsigned.
	GracePeriod time.Duration `mapstructure:"grace_period"`
	// Window is how long the state of files and digests is kept.
	Window time.Duration `mapstructure:"window"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Validate checks the integrity settings.
func (c IntegrityConfig) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	if c.GracePeriod < time.Hour {
		errs = append(errs, fmt.Errorf("grace_period %s must be at least 1h (digests are hourly)", c.GracePeriod))
	}
	if c.Window < 2*c.GracePeriod {
		errs = append(errs, fmt.Errorf("window %s must be at least twice grace_period (%s)", c.Window, c.GracePeriod))
	}
	return errors.Join(errs...)
}

// keyRefetch bounds how often ListPublicKeys is called again for a
// fingerprint it did not return.
const keyRefetch = 10 * time.Minute

// publicKeyAPI is the CloudTrail call integrity validation makes.
type publicKeyAPI interface {
	ListPublicKeys(ctx context.Context, in *cloudtrail.ListPublicKeysInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.ListPublicKeysOutput, error)
}

// headAPI is the S3 call that checks that a listed log file exists.
type headAPI interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, opts ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// verifier validates digests and log files; one per receiver when
// integrity.enabled.
type verifier struct {
	cfg          IntegrityConfig
	pollInterval time.Duration
	// startFloor is where a fresh receiver begins reading (start_time).
	startFloor time.Time
	version    string
	clients    *awsClients
	// pool delivers the findings downstream like the records.
	pool   *readerPool
	client storage.Client
	logger *zap.Logger

	mu      sync.Mutex
	folders map[string]*integrityFolder
	// watched are the log folders whose digests polling lists.
	watched map[string]digestFolder

	keyMu  sync.Mutex
	rings  map[string]*integrity.Keyring // by region
	misses map[string]time.Time          // "region/fingerprint" → last ListPublicKeys that lacked it

	tb *metadata.TelemetryBuilder

	cancel context.CancelFunc
	done   chan struct{}
}

type digestFolder struct {
	bucket string
	prefix keylayout.Prefix
	s3     objectStore
}

// integrityFolder is the integrity state of one log folder.
type integrityFolder struct {
	mu     sync.Mutex
	id     string
	bucket string
	prefix keylayout.Prefix
	state  *integrity.FolderState
	// broken: its unsaved changes could not be undone; it is never saved
	// (the verifier loads the folder again).
	broken bool
}

// newVerifier returns the verifier of the receiver, or nil when
// integrity.enabled is false.
func newVerifier(cfg *Config, set receiver.Settings, tel *telemetry, store *checkpoint.Store, clients *awsClients, pool *readerPool) *verifier {
	if !cfg.Integrity.Enabled {
		return nil
	}
	return &verifier{cfg: cfg.Integrity, pollInterval: cfg.PollInterval, startFloor: cfg.startTime(time.Now()).UTC(),
		version: set.BuildInfo.Version, clients: clients, pool: pool, client: store.Client(), logger: tel.logger, tb: tel.tb,
		folders: map[string]*integrityFolder{}, watched: map[string]digestFolder{}, rings: map[string]*integrity.Keyring{}, misses: map[string]time.Time{}}
}

// start starts the polling loop of the digests (polling mode; in SQS mode
// digests come by notification).
func (v *verifier) start(polling bool) {
	if v == nil {
		return
	}
	v.logger.Info("CloudTrail log file integrity validation is on: digests are verified, findings are sent as log records",
		zap.Duration("grace_period", v.cfg.GracePeriod), zap.Duration("window", v.cfg.Window))
	if !polling {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel, v.done = cancel, make(chan struct{})
	go v.pollLoop(ctx)
}

// stop stops the polling loop of the digests.
func (v *verifier) stop() {
	if v != nil && v.cancel != nil {
		v.cancel()
		<-v.done
	}
}

// watch makes polling list the digests of a log folder.
func (v *verifier) watch(f *folder) {
	if v != nil && f.prefix.Kind == keylayout.KindLog {
		v.mu.Lock()
		v.watched[f.cp.ID()] = digestFolder{bucket: f.bucket, prefix: f.prefix, s3: f.store()}
		v.mu.Unlock()
	}
}

// unwatch stops listing the digests of a log folder.
func (v *verifier) unwatch(f *folder) {
	if v != nil {
		v.mu.Lock()
		delete(v.watched, f.cp.ID())
		v.mu.Unlock()
	}
}

// hashFor returns the hash the reader feeds while reading t, or nil.
func (v *verifier) hashFor(t objectTask) hash.Hash {
	if v == nil {
		return nil
	}
	if p, _, ok := keylayout.Parse(t.key); !ok || p.Kind != keylayout.KindLog {
		return nil
	}
	return sha256.New()
}

// read records how the reading of a log file ended: read to the
// end (its hash), damaged (permanent content error), or deleted (gone).
// Other failures are retried and record nothing.
func (v *verifier) read(ctx context.Context, t objectTask, h hash.Hash, err error, gone bool) {
	if v == nil {
		return
	}
	p, fileTime, ok := keylayout.Parse(t.key)
	if !ok || p.Kind != keylayout.KindLog {
		return
	}
	var contentErr *objectreader.ContentError
	sum := ""
	switch {
	case gone:
	case err == nil && h != nil:
		sum = hex.EncodeToString(h.Sum(nil))
	case errors.As(err, &contentErr) && contentErr.Permanent():
	default:
		return
	}
	f, lerr := v.folder(ctx, t.bucket, p)
	if lerr != nil {
		v.logger.Error("Cannot load integrity state; this file's hash is not checked", zap.String("bucket", t.bucket), zap.String("key", t.key), zap.Error(lerr))
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out integrity.Outcome
	if gone {
		out = f.state.FileGone(t.bucket, t.key)
	} else {
		out = f.state.FileRead(t.bucket, t.key, fileTime, sum)
	}
	sw := f.state.Sweep(v.cfg.GracePeriod, v.cfg.Window)
	out.Findings = append(out.Findings, sw.Findings...)
	v.conclude(ctx, f, out)
}

// integrityAnnounced handles, in SQS mode, the notification of a digest
// file; handled is false for other objects.
func (m *sqsSource) integrityAnnounced(ctx context.Context, o notification.Object) (res readResult, handled bool) {
	v := m.pool.integrity
	if v == nil {
		return readDone, false
	}
	dk, ok := integrity.ParseDigestKey(o.Key)
	if !ok {
		return readDone, false
	}
	if !m.allowed(o, dk.LogFolder()) {
		return readDone, true
	}
	if err := v.processDigest(ctx, m.clients.s3ForBucket(ctx, o.Bucket), o.Bucket, o.Key); err != nil {
		if ctx.Err() != nil {
			return readStopped, true
		}
		v.logger.Error("Cannot check a CloudTrail digest file; its message is retried", zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.Error(err))
		return readRetry, true
	}
	return readDone, true
}

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

// listDigests processes the new digests of one log folder, in key (time)
// order, from the grace period before the newest verified one (digests
// delivered late) or from the receiver's start.
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
			dk, ok := integrity.ParseDigestKey(key)
			if !ok || dk.End.Before(v.startFloor) {
				continue
			}
			if err := v.processDigest(ctx, w.s3, w.bucket, key); err != nil {
				if ctx.Err() == nil {
					v.logger.Error("Cannot check a CloudTrail digest file; it is retried on the next poll", zap.String("bucket", w.bucket), zap.String("key", key), zap.Error(err))
				}
				// Later digests wait: the chain is checked in order.
				return
			}
		}
	}
}

// errIntegrityState: a digest's state change could not be kept; it is made again.
var errIntegrityState = errors.New("integrity state could not be kept")

// errKeys is a failure to fetch the public keys: the digest is tried again.
var errKeys = errors.New("cannot fetch CloudTrail public keys")

// processDigest checks one digest file: its signature, its chain, the
// existence of the log files it lists that were not read, and the hashes
// of those that were. A returned error means it is tried again later.
func (v *verifier) processDigest(ctx context.Context, store objectStore, bucket, key string) error {
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
	if f.state.Processed(key) {
		return nil
	}
	s, found, err := v.fetchDigest(ctx, store, bucket, key)
	if err != nil || !found {
		// A digest deleted after its listing: the next digest's chain check reports it.
		return err
	}
	var out integrity.Outcome
	verr := s.parseErr
	if verr == nil {
		verr = v.verify(ctx, dk.Folder.Region, s.Signed)
	}
	switch {
	case errors.Is(verr, errKeys):
		return verr
	case verr != nil:
		v.tb.ReceiverAwscloudtrailIntegrityDigests.Add(ctx, 1, metric.WithAttributes(attribute.String("result", "invalid")))
		start := s.Digest.Start
		if s.parseErr != nil {
			start = dk.End.Add(-time.Hour)
		}
		f.state.MarkInvalid(key, start, dk.End, s.Digest.LogFiles)
		out.Findings = append(out.Findings, integrity.Finding{Status: integrity.StatusBadSignature, Bucket: bucket, Key: key, DigestKey: key,
			Start: s.Digest.Start, End: dk.End, Reason: verr.Error()})
	default:
		v.tb.ReceiverAwscloudtrailIntegrityDigests.Add(ctx, 1, metric.WithAttributes(attribute.String("result", "verified")))
		if fd := v.checkChain(ctx, store, f.state, dk, s.Signed); fd != nil {
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
	sw := f.state.Sweep(v.cfg.GracePeriod, v.cfg.Window)
	out.Findings = append(out.Findings, sw.Findings...)
	if !v.conclude(ctx, f, out) {
		if err := ctx.Err(); err != nil {
			return err
		}
		return errIntegrityState
	}
	return nil
}

// fetched is a digest read from S3.
type fetched struct {
	integrity.Signed
	parseErr error
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
	return fetched{Signed: integrity.Signed{Bucket: bucket, Key: key, Digest: d, Raw: raw,
		Signature: out.Metadata[integrity.MetaSignature], Algorithm: out.Metadata[integrity.MetaSignatureAlgorithm]}, parseErr: perr}, true, nil
}

// verify checks a digest's signature with the region's public keys,
// fetching them (ListPublicKeys over the digest's range) when the
// fingerprint is not known yet.
func (v *verifier) verify(ctx context.Context, region string, s integrity.Signed) error {
	v.keyMu.Lock()
	defer v.keyMu.Unlock()
	ring := v.rings[region]
	if ring == nil {
		ring = &integrity.Keyring{}
		v.rings[region] = ring
	}
	err := integrity.Verify(s, ring)
	miss := region + "/" + s.Digest.DigestPublicKeyFingerprint
	if !errors.Is(err, integrity.ErrUnknownKey) || time.Since(v.misses[miss]) < keyRefetch {
		return err
	}
	api, ok := v.clients.cloudTrail.get(region).(publicKeyAPI)
	if !ok {
		return fmt.Errorf("%w: no CloudTrail client", errKeys)
	}
	out, lerr := api.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(s.Digest.Start), EndTime: aws.Time(s.Digest.End)})
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
		ring.Add(pk)
	}
	if err = integrity.Verify(s, ring); errors.Is(err, integrity.ErrUnknownKey) {
		v.misses[miss] = time.Now()
	}
	return err
}

// checkChain checks that a verified digest follows the previous one; it
// reads the previous digest from S3 when it was not verified here.
func (v *verifier) checkChain(ctx context.Context, store objectStore, st *integrity.FolderState, dk integrity.DigestKey, s integrity.Signed) *integrity.Finding {
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
// still checked when it is read.
func (v *verifier) exists(ctx context.Context, store objectStore, bucket, key string) bool {
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
		return true
	}
	reason, _ := classifyS3Error(err)
	return reason != reasonNotFound
}

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
	st, err := v.load(ctx, id)
	if err != nil {
		return nil, err
	}
	f := &integrityFolder{id: id, bucket: bucket, prefix: p, state: st}
	v.folders[id] = f
	return f, nil
}

// load reads the saved integrity state of a log folder.
func (v *verifier) load(ctx context.Context, id string) (*integrity.FolderState, error) {
	st := integrity.NewFolderState()
	b, err := v.client.Get(ctx, "integrity/"+id)
	if err != nil {
		return nil, err
	}
	if b != nil {
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("decode integrity state %s: %w", id, err)
		}
	}
	return st, nil
}

// conclude emits the findings of a state change, then saves the state; f.mu
// is held. When the findings cannot be delivered (stopping), the state in
// memory goes back to the saved state, so that the change is made again
// (a finding is delivered at least once), also for those that hold f
// already and save it next. It reports whether it was saved.
func (v *verifier) conclude(ctx context.Context, f *integrityFolder, out integrity.Outcome) bool {
	if out.FilesVerified > 0 {
		v.tb.ReceiverAwscloudtrailIntegrityFilesVerified.Add(ctx, int64(out.FilesVerified))
	}
	if len(out.Findings) > 0 {
		if err := v.emit(ctx, f, out.Findings); err != nil {
			if st, lerr := v.load(context.WithoutCancel(ctx), f.id); lerr == nil {
				f.state = st
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
	b, err := json.Marshal(f.state)
	if err == nil {
		err = v.client.Set(context.WithoutCancel(ctx), "integrity/"+f.id, b)
	}
	if err != nil {
		v.logger.Error("Cannot save integrity state", zap.String("folder", f.id), zap.Error(err))
	}
	return true
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
