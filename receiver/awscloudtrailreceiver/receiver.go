package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/mapping"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/objectreader"
)

// progressEvery is how often progress is logged while objects are read.
const progressEvery = 30 * time.Second

// Checkpoint writes and retries of failing objects.
const (
	// saveEvery bounds how often a folder's checkpoint is written for
	// changes that do not need to be durable at once (failures and their
	// backoff): at most one such write per folder per saveEvery.
	saveEvery = time.Second
	// retryMax caps the backoff of an object that keeps failing; the first
	// retry waits one poll interval.
	retryMax = 30 * time.Minute
)

// folder is one account/kind/region folder of a trail bucket, with its
// checkpoint. Each folder is polled by its own loop (pollLoop), so that a
// slow or failing folder does not hold the others back; the objects are
// read by the receiver's shared pool of readers.
type folder struct {
	id     string
	bucket string
	prefix keylayout.Prefix
	// source names the trail (bucket and prefix) the folder belongs to.
	source string

	// cancel stops the folder's loop; done is closed when it has stopped
	// (its reads ended and its state was written).
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	s3    objectStore
	state *checkpoint.State
	// inflight holds the objects being read, so that a poll does not
	// dispatch one again while it is read.
	inflight map[string]bool
	// reading counts the readers the folder holds (see dispatch).
	reading int
	// dirty: state has changes not written yet (see saveSoon).
	dirty     bool
	lastSave  time.Time
	saveTimer *time.Timer
	closed    bool
}

// job is one object to read.
type job struct {
	folder       *folder
	key          string
	fileTime     time.Time
	lastModified time.Time
}

type cloudtrailReceiver struct {
	// folderCount is len(folders), for the folders' loops (see dispatch).
	folderCount atomic.Int64
	cfg         *Config
	set         receiver.Settings
	next        consumer.Logs
	obsrecv     *receiverhelper.ObsReport
	tb          *metadata.TelemetryBuilder
	mapper      *mapping.Mapper
	logger      *zap.Logger

	clients *awsClients
	store   *checkpoint.Store
	host    component.Host

	folders       map[string]*folder
	lastRefresh   time.Time
	regionMu      sync.Mutex
	bucketRegions map[string]string
	orgID         *string
	startFloor    time.Time
	readers       chan *objectreader.Reader

	progressMu   sync.Mutex
	progress     progressCounts
	lastProgress time.Time

	// statusMu guards the errors of the current poll, reported as the
	// component's status (recoverable error, then OK once a poll is clean).
	statusMu   sync.Mutex
	pollErr    error
	inErrState bool

	cancel context.CancelFunc
	done   chan struct{}
	// stopWork, in SQS mode, ends the processing of the messages in
	// progress, which Shutdown lets finish for drain first.
	stopWork context.CancelFunc
	// consumeCtx is the context of the calls to the next consumer: Shutdown
	// ends it (stopConsume) only after the drain, so that a batch handed
	// downstream is not cut half way.
	consumeCtx  context.Context
	stopConsume context.CancelFunc
	drain       time.Duration

	// retryBase is the first wait before a failed object is tried again.
	retryBase time.Duration

	// wrapS3, in tests, wraps the S3 client of every folder (fault injection).
	wrapS3 func(objectStore) objectStore

	// integrity validates digests and log files (integrity.go); nil when disabled.
	integrity *verifier
}

type progressCounts struct {
	objects, records int64
	newest           time.Time
}

func newReceiver(set receiver.Settings, cfg *Config, next consumer.Logs) (*cloudtrailReceiver, error) {
	obsrecv, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              "s3",
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, err
	}
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	return &cloudtrailReceiver{
		cfg:           cfg,
		set:           set,
		next:          next,
		obsrecv:       obsrecv,
		tb:            tb,
		mapper:        mapping.New(cfg.Priority.NormalServices, cfg.CopyPayloadAttributes),
		logger:        set.Logger,
		folders:       map[string]*folder{},
		bucketRegions: map[string]string{},
		drain:         sqsDrain,
		retryBase:     cfg.PollInterval,
	}, nil
}

// Start builds the S3 client, opens the checkpoint storage and starts polling.
func (r *cloudtrailReceiver) Start(ctx context.Context, host component.Host) error {
	r.host = host
	var client storage.Client
	if r.cfg.Storage != nil {
		ext, ok := host.GetExtensions()[*r.cfg.Storage]
		if !ok {
			return fmt.Errorf("storage extension %q not found", r.cfg.Storage)
		}
		se, ok := ext.(storage.Extension)
		if !ok {
			return fmt.Errorf("extension %q is not a storage extension", r.cfg.Storage)
		}
		var err error
		if client, err = se.GetClient(ctx, component.KindReceiver, r.set.ID, ""); err != nil {
			return fmt.Errorf("open storage %q: %w", r.cfg.Storage, err)
		}
	} else {
		r.logger.Info("No storage extension configured: checkpoints are kept in memory only, a restart starts again at start_time")
	}
	r.store = checkpoint.NewStore(client)

	clients, err := newAWSClients(ctx, r.cfg)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	r.clients = clients
	r.startFloor = r.cfg.startTime(time.Now()).UTC()
	r.readers = make(chan *objectreader.Reader, r.cfg.Workers)
	for range r.cfg.Workers {
		r.readers <- objectreader.New(objectreader.Options{
			MaxBatchRecords: r.cfg.MaxBatchRecords,
			Mapper:          r.mapper,
			ScopeName:       metadata.ScopeName,
			ScopeVersion:    r.set.BuildInfo.Version,
		})
	}

	r.consumeCtx, r.stopConsume = context.WithCancel(context.Background())
	if err := r.startIntegrity(); err != nil {
		return err
	}
	if r.cfg.SQS.QueueURL != "" {
		if r.cfg.Discovery.Enabled {
			r.logger.Warn("sqs.queue_url is set: notifications drive the receiver, and discovery is not used")
		}
		r.startSQS()
		return nil
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = make(chan struct{})
	go r.run(runCtx)
	return nil
}

// Shutdown stops polling, waits for the reads in flight and closes storage.
func (r *cloudtrailReceiver) Shutdown(ctx context.Context) error {
	r.stopIntegrity()
	if r.cancel != nil {
		r.cancel()
		// Polling: the reads in flight stop after the batch in hand is
		// accepted. SQS mode: the messages in progress finish, so that no
		// other collector reads their objects again. Both for drain at most.
		select {
		case <-r.done:
		case <-time.After(r.drain):
		case <-ctx.Done():
		}
		if r.stopWork != nil {
			r.stopWork()
		}
		r.stopConsume()
		select {
		case <-r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.clients != nil {
		r.clients.close()
	}
	r.tb.Shutdown()
	if r.store != nil {
		return r.store.Close(ctx)
	}
	return nil
}

// run refreshes the folder list when due (which starts and stops the
// folders' loops) and reports the component status every poll interval.
// When the receiver stops it waits for every folder's loop.
func (r *cloudtrailReceiver) run(ctx context.Context) {
	defer close(r.done)
	ticker := time.NewTicker(r.cfg.PollInterval)
	defer ticker.Stop()
	for {
		if r.lastRefresh.IsZero() || time.Since(r.lastRefresh) >= r.cfg.Discovery.RefreshInterval {
			r.refreshFolders(ctx)
		}
		select {
		case <-ctx.Done():
			for _, f := range r.folders {
				<-f.done
			}
			r.logProgress(true)
			return
		case <-ticker.C:
		}
		r.logProgress(true)
		if n := r.failingObjects(); n > 0 {
			// Between the retries of failing objects the polls are clean:
			// the status stays in error until they are read.
			r.noteError(fmt.Errorf("%d CloudTrail objects failed and wait for a retry", n))
		}
		r.reportStatus()
	}
}

// failingObjects counts the objects of every folder whose last attempt failed.
func (r *cloudtrailReceiver) failingObjects() int {
	n := 0
	for _, f := range r.folders {
		f.mu.Lock()
		n += f.state.Failing()
		f.mu.Unlock()
	}
	return n
}

// startFolder starts the loop of a folder.
func (r *cloudtrailReceiver) startFolder(ctx context.Context, f *folder) {
	fctx, cancel := context.WithCancel(ctx)
	f.cancel, f.done = cancel, make(chan struct{})
	r.watchIntegrity(f)
	go r.pollLoop(fctx, f)
}

// stopFolder stops the loop of a folder and waits until its reads ended
// and its state was written.
func (r *cloudtrailReceiver) stopFolder(f *folder) {
	r.unwatchIntegrity(f)
	f.cancel()
	<-f.done
}

// pollLoop polls one folder every poll interval until ctx ends, then waits
// for its reads and writes its state.
func (r *cloudtrailReceiver) pollLoop(ctx context.Context, f *folder) {
	defer close(f.done)
	var reads sync.WaitGroup
	defer func() {
		reads.Wait()
		f.mu.Lock()
		if f.saveTimer != nil {
			f.saveTimer.Stop()
		}
		if f.dirty {
			r.save(f)
		}
		f.closed = true
		f.mu.Unlock()
	}()
	ticker := time.NewTicker(r.cfg.PollInterval)
	defer ticker.Stop()
	for {
		r.pollFolder(ctx, f, &reads)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// noteError records a failure of the current poll for the component status.
func (r *cloudtrailReceiver) noteError(err error) {
	r.statusMu.Lock()
	defer r.statusMu.Unlock()
	if r.pollErr == nil {
		r.pollErr = err
	}
}

// reportStatus reports a recoverable error when the poll had failures, and
// OK when a clean poll follows failures.
func (r *cloudtrailReceiver) reportStatus() {
	r.statusMu.Lock()
	err := r.pollErr
	r.pollErr = nil
	was := r.inErrState
	r.inErrState = err != nil
	r.statusMu.Unlock()
	switch {
	case err != nil:
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
	case was:
		componentstatus.ReportStatus(r.host, componentstatus.NewEvent(componentstatus.StatusOK))
	}
}

// pollFolder dispatches every object of f that must be read now: the
// pending objects due for a retry (started earlier, failed or
// interrupted) first, then the new objects of the listing from the
// checkpoint's window onwards, in key order. Objects being read are not
// dispatched again. Dispatching waits for a free reader; the reads go on
// after pollFolder returns.
func (r *cloudtrailReceiver) pollFolder(ctx context.Context, f *folder, reads *sync.WaitGroup) {
	now := time.Now()
	f.mu.Lock()
	from := f.state.ListFrom(r.cfg.Lookback)
	store := f.s3
	var retries []job
	for key, p := range f.state.Pending {
		if !f.inflight[key] && f.state.Due(key, now) {
			retries = append(retries, job{folder: f, key: key, fileTime: p.FileTime})
		}
	}
	f.mu.Unlock()
	sort.Slice(retries, func(i, j int) bool { return retries[i].key < retries[j].key })
	for _, j := range retries {
		if !r.dispatch(ctx, j, reads) {
			return
		}
	}

	in := &s3.ListObjectsV2Input{
		Bucket:     aws.String(f.bucket),
		Prefix:     aws.String(f.prefix.String()),
		StartAfter: aws.String(f.prefix.StartAfter(from)),
	}
	for {
		out, err := store.ListObjectsV2(ctx, in)
		if err != nil {
			if ctx.Err() == nil {
				r.noteError(err)
				reason, _ := classifyS3Error(err)
				r.logger.Error("Cannot list CloudTrail folder; it is retried on the next poll",
					zap.String("bucket", f.bucket), zap.String("prefix", f.prefix.String()),
					zap.String("reason", reason), zap.Error(err))
			}
			return
		}
		for _, obj := range out.Contents {
			key := aws.ToString(obj.Key)
			if !keylayout.IsLogFile(key) {
				continue
			}
			ft, ok := keylayout.FileTime(key)
			if !ok {
				r.logger.Debug("Skipping an object whose name is not a CloudTrail log file name",
					zap.String("bucket", f.bucket), zap.String("key", key))
				continue
			}
			// Deciding to read an object and recording it as pending
			// (Start) happen under one lock: from then on the window cannot
			// pass it, even while it waits for a reader and other objects
			// finish (which could otherwise move the window past it, and
			// forget the done objects behind it).
			f.mu.Lock()
			read := !f.inflight[key] && f.state.ShouldRead(key, ft, r.cfg.Lookback)
			started := read && f.state.Start(key, ft)
			if read && !started {
				f.state.Hold(ft)
			}
			f.mu.Unlock()
			if read && !started {
				r.logger.Warn("Too many CloudTrail objects pending in one folder; its listing stops here until some finish, and the window holds at this object",
					zap.String("bucket", f.bucket), zap.String("key", key), zap.Int("pending", checkpoint.MaxPending))
				return
			}
			if read && !r.dispatch(ctx, job{folder: f, key: key, fileTime: ft, lastModified: aws.ToTime(obj.LastModified)}, reads) {
				return
			}
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			// A whole listing without refusal: no object is held back.
			f.mu.Lock()
			f.state.Release()
			f.mu.Unlock()
			return
		}
		in.ContinuationToken = out.NextContinuationToken
		in.StartAfter = nil
	}
}

// dispatch waits for a free reader and reads j (already pending in the
// checkpoint) with it in a goroutine. When there are several folders, a
// folder holds at most workers − 1 readers (one with a single worker), so
// that a folder whose reads hang does not take every reader from the
// others. It reports false when the receiver is stopping.
func (r *cloudtrailReceiver) dispatch(ctx context.Context, j job, reads *sync.WaitGroup) bool {
	f := j.folder
	for {
		limit := r.cfg.Workers
		if r.folderCount.Load() > 1 {
			limit = max(1, limit-1)
		}
		f.mu.Lock()
		ok := f.reading < limit
		if ok {
			f.reading++
		}
		f.mu.Unlock()
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	release := func() {
		f.mu.Lock()
		f.reading--
		f.mu.Unlock()
	}
	var rd *objectreader.Reader
	select {
	case rd = <-r.readers:
	case <-ctx.Done():
		release()
		return false
	}
	f.mu.Lock()
	f.inflight[j.key] = true
	f.mu.Unlock()
	reads.Add(1)
	go func() {
		defer reads.Done()
		defer release()
		defer func() { r.readers <- rd }()
		r.readObject(ctx, rd, j)
		f.mu.Lock()
		delete(f.inflight, j.key)
		f.mu.Unlock()
	}()
	return true
}

// readObject reads one listed object and moves its folder's checkpoint:
// after each accepted batch, and to "done" at the end. These changes are
// written at once, so that a crash resends at most the batch in flight.
func (r *cloudtrailReceiver) readObject(ctx context.Context, rd *objectreader.Reader, j job) {
	f := j.folder
	f.mu.Lock()
	skip := f.state.Pending[j.key].Delivered
	store := f.s3
	f.mu.Unlock()
	res := r.read(ctx, rd, objectTask{
		store: store, bucket: f.bucket, key: j.key, account: f.prefix.Account, region: f.prefix.Region,
		skip: skip, lastModified: j.lastModified, retryHint: "it is retried later, with backoff",
		delivered: func(next int) {
			f.mu.Lock()
			f.state.Delivered(j.key, j.fileTime, next)
			r.save(f)
			f.mu.Unlock()
		},
	})
	switch res {
	case readDone, readGiveUp:
		r.finish(j)
	case readRetry:
		r.failed(j)
	}
}

func (r *cloudtrailReceiver) finish(j job) {
	f := j.folder
	f.mu.Lock()
	if f.state.Finish(j.key, j.fileTime, r.cfg.Lookback) {
		r.logger.Warn("CloudTrail file name time is in the future; the file is read but does not move the folder's reading window",
			zap.String("bucket", f.bucket), zap.String("key", j.key), zap.Time("file_time", j.fileTime))
	}
	r.save(f)
	f.mu.Unlock()
}

// failed records a failed attempt with its backoff. The change is written
// soon, not at once: losing it in a crash only makes the object be tried
// again sooner.
func (r *cloudtrailReceiver) failed(j job) {
	f := j.folder
	f.mu.Lock()
	if !f.state.Failed(j.key, j.fileTime, time.Now(), r.retryBase, retryMax) {
		r.logger.Error("Too many CloudTrail objects waiting for retry in one folder; this one is not retried",
			zap.String("bucket", f.bucket), zap.String("key", j.key))
	}
	r.saveSoon(f)
	f.mu.Unlock()
}

// save writes f's state now; f.mu must be held. A failure is reported
// (component status) but reading goes on: the next save writes it all.
func (r *cloudtrailReceiver) save(f *folder) {
	f.dirty = false
	f.lastSave = time.Now()
	if err := r.store.Save(context.Background(), f.id, f.state); err != nil {
		r.logger.Error("Cannot save checkpoint", zap.String("folder", f.id), zap.Error(err))
		componentstatus.ReportStatus(r.host, componentstatus.NewRecoverableErrorEvent(err))
	}
}

// saveSoon writes f's state at most once per saveEvery; f.mu must be held.
// The write carries every change made until then (one consistent state).
func (r *cloudtrailReceiver) saveSoon(f *folder) {
	if f.closed {
		r.save(f)
		return
	}
	f.dirty = true
	wait := saveEvery - time.Since(f.lastSave)
	if wait <= 0 {
		r.save(f)
		return
	}
	if f.saveTimer == nil {
		f.saveTimer = time.AfterFunc(wait, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.saveTimer = nil
			if f.dirty && !f.closed {
				r.save(f)
			}
		})
	}
}

func (r *cloudtrailReceiver) countFailed(ctx context.Context, reason string) {
	r.tb.ReceiverAwscloudtrailObjectsFailed.Add(ctx, 1, metric.WithAttributes(attribute.String("reason", reason)))
}

func (r *cloudtrailReceiver) addProgress(objects, records int64, newest time.Time) {
	r.progressMu.Lock()
	r.progress.objects += objects
	r.progress.records += records
	if newest.After(r.progress.newest) {
		r.progress.newest = newest
	}
	r.progressMu.Unlock()
	r.logProgress(false)
}

// logProgress logs what was read since the last progress line, every
// progressEvery while reading (backfills), and at the end of a poll.
func (r *cloudtrailReceiver) logProgress(endOfPoll bool) {
	r.progressMu.Lock()
	defer r.progressMu.Unlock()
	if r.progress.objects == 0 && r.progress.records == 0 {
		return
	}
	if !endOfPoll && time.Since(r.lastProgress) < progressEvery {
		return
	}
	fields := []zap.Field{zap.Int64("objects", r.progress.objects), zap.Int64("records", r.progress.records)}
	if !r.progress.newest.IsZero() {
		fields = append(fields, zap.Time("newest_event_time", r.progress.newest))
	}
	r.logger.Info("CloudTrail progress", fields...)
	r.progress = progressCounts{}
	r.lastProgress = time.Now()
}
