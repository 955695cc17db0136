package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

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
	// list it: a file read that no digest lists is reported unsigned once
	// the digests of every trail live at its time cover its time and
	// GracePeriod after it, and the folder's newest digest ends GracePeriod
	// later still (see the README, "When a file is unsigned").
	GracePeriod time.Duration `mapstructure:"grace_period"`
	// Window is how long the state of files and digests is kept.
	Window time.Duration `mapstructure:"window"`
	// ReportUnsigned reports the log files read that no digest lists
	// (unsigned). Turn it off where a trail without log file validation
	// delivers to the same bucket and prefix as a validated trail: their
	// files cannot be told apart (CloudTrail log file names do not name
	// the trail), so every file of the unvalidated trail would be reported.
	ReportUnsigned bool `mapstructure:"report_unsigned"`

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

// keyCallInterval is the least time between two ListPublicKeys calls of a
// region: a digest whose key is unknown and whose time no call covered yet
// waits that long at most (it is tried again later).
const keyCallInterval = time.Minute

// keyClockSkew is how far in the future a digest may end and still be
// genuine (clocks differ): a later one cannot be signed by a key that a
// call made now would not return.
const keyClockSkew = 15 * time.Minute

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

	keyMu sync.Mutex
	keys  map[string]*regionKeys // by region

	tb  *metadata.TelemetryBuilder
	tel *telemetry

	// lookups keeps what the lookups of stale files read (integrity_lookup.go).
	lookups lookupCache

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
	// journal is where the state stands in storage.
	journal journal
	// broken: its unsaved changes could not be undone; it is never saved
	// (the verifier loads the folder again).
	broken bool
	// listed is the newest end of a digest listed in the folder (polling).
	listed time.Time
	// stores are the S3 clients its unreadable digests were read with,
	// by bucket (after a restart, the bucket's client).
	stores map[string]objectStore
}

// newVerifier returns the verifier of the receiver, or nil when
// integrity.enabled is false.
func newVerifier(cfg *Config, set receiver.Settings, tel *telemetry, store *checkpoint.Store, clients *awsClients, pool *readerPool) *verifier {
	if !cfg.Integrity.Enabled {
		return nil
	}
	return &verifier{cfg: cfg.Integrity, pollInterval: cfg.PollInterval, startFloor: cfg.startTime(time.Now()).UTC(),
		version: set.BuildInfo.Version, clients: clients, pool: pool, client: store.Client(), logger: tel.logger, tb: tel.tb, tel: tel,
		folders: map[string]*integrityFolder{}, watched: map[string]digestFolder{}, keys: map[string]*regionKeys{}}
}

// start starts the polling loop of the digests (polling mode; in SQS mode
// digests come by notification).
func (v *verifier) start(polling bool) {
	if v == nil {
		return
	}
	v.logger.Info("CloudTrail log file integrity validation is on: digests are verified, findings are sent as log records",
		zap.Duration("grace_period", v.cfg.GracePeriod), zap.Duration("window", v.cfg.Window), zap.Bool("report_unsigned", v.cfg.ReportUnsigned))
	if !polling {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.cancel, v.done = cancel, make(chan struct{})
	go v.pollLoop(ctx)
}

// stop tells the polling loop of the digests to stop; wait waits for it.
// The two are apart: the loop may wait for a folder that a reader holds
// while it delivers a finding, which ends only when the source stops.
func (v *verifier) stop() {
	if v != nil && v.cancel != nil {
		v.cancel()
	}
}

// wait waits for the polling loop of the digests to end after stop.
func (v *verifier) wait() {
	if v != nil && v.cancel != nil {
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
// Other failures are retried and record nothing. It reports whether what
// it concluded was kept: false when its findings could not be delivered
// (the receiver is stopping) and the folder's state went back to the saved
// one; the object must then not count as finished, so that it is read
// again (its delivered records skipped) and the finding is made again.
func (v *verifier) read(ctx context.Context, t objectTask, h hash.Hash, err error, gone bool) (kept bool) {
	if v == nil {
		return true
	}
	p, fileTime, ok := keylayout.Parse(t.key)
	if !ok || p.Kind != keylayout.KindLog {
		return true
	}
	var contentErr *objectreader.ContentError
	sum := ""
	switch {
	case gone:
	case err == nil && h != nil:
		sum = hex.EncodeToString(h.Sum(nil))
	case errors.As(err, &contentErr) && contentErr.Permanent():
	default:
		return true
	}
	f, lerr := v.folder(ctx, t.bucket, p)
	if lerr != nil {
		v.logger.Error("Cannot load integrity state; this file's hash is not checked", zap.String("bucket", t.bucket), zap.String("key", t.key), zap.Error(lerr))
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out integrity.Outcome
	if gone {
		out = f.state.FileGone(t.bucket, t.key)
	} else {
		out = f.state.FileRead(t.bucket, t.key, fileTime, sum)
	}
	sw := v.sweep(ctx, t.store, f)
	out.Findings, out.FilesVerified = append(out.Findings, sw.Findings...), out.FilesVerified+sw.FilesVerified
	return v.conclude(ctx, f, out)
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
	if err := v.processDigest(ctx, m.clients.s3ForBucket(ctx, o.Bucket), o.Bucket, o.Key, ""); err != nil {
		if ctx.Err() != nil {
			return readStopped, true
		}
		v.logger.Error("Cannot check a CloudTrail digest file; its message is retried", zap.String("bucket", o.Bucket), zap.String("key", o.Key), zap.Error(err))
		return readRetry, true
	}
	return readDone, true
}
