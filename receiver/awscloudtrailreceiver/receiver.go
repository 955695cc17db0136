package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

// drainTimeout is how long Shutdown lets the work in progress finish: the
// batch in hand (polling) or the messages being processed (SQS).
const drainTimeout = 15 * time.Second

// cloudtrailReceiver is the component: its lifecycle, the reader pool the
// sources read through, and the source (polling or SQS).
type cloudtrailReceiver struct {
	cfg     *Config
	set     receiver.Settings
	next    consumer.Logs
	tel     *telemetry
	obsrecv *receiverhelper.ObsReport

	clients *awsClients
	store   *checkpoint.Store
	pool    *readerPool
	src     source

	// drain is how long Shutdown lets the work in progress finish (tests
	// shorten it).
	drain time.Duration
	// tune holds what tests adjust before Start.
	tune tuning
}

// tuning holds the settings tests adjust before Start.
type tuning struct {
	// retryBase is the first wait before a failed object is tried again
	// (the poll interval).
	retryBase time.Duration
	// wrapS3, in tests, wraps the S3 client of every folder (fault injection).
	wrapS3 func(objectStore) objectStore
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
	zeroCounters(tb, cfg)
	watch := newTrailWatch()
	watch.expectConfigured(cfg, time.Now())
	if err := watch.registerLag(tb, time.Now); err != nil {
		return nil, err
	}
	tel := &telemetry{logger: set.Logger, tb: tb, watch: watch, progress: newProgressLog(time.Now(), 2*cfg.PollInterval, watch.positions)}
	return &cloudtrailReceiver{
		cfg:     cfg,
		set:     set,
		next:    next,
		tel:     tel,
		obsrecv: obsrecv,
		drain:   drainTimeout,
		tune:    tuning{retryBase: cfg.PollInterval},
	}, nil
}

// Start opens the checkpoint storage, builds the AWS clients and the
// reader pool, and starts the source.
func (r *cloudtrailReceiver) Start(ctx context.Context, host component.Host) error {
	r.tel.host = host
	client, err := r.storageClient(ctx, host)
	if err != nil {
		return err
	}
	r.store = checkpoint.NewStore(client)
	if r.clients, err = newAWSClients(ctx, r.cfg, r.tel.logger); err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	r.pool = newReaderPool(r.cfg, r.set, r.next, r.obsrecv, r.tel)
	r.pool.integrity = newVerifier(r.cfg, r.set, r.tel, r.store, r.clients, r.pool)
	if r.cfg.SQS.HasValue() {
		if r.cfg.Discovery.Enabled {
			r.tel.logger.Warn("the sqs section is set: notifications drive the receiver, and discovery is not used")
		}
		r.src = newSQSSource(r.cfg, r.tel, r.pool, r.clients, r.store)
	} else {
		r.src = newPoller(r.cfg, r.tel, r.pool, r.clients, r.store, r.tune)
	}
	r.pool.integrity.start(!r.cfg.SQS.HasValue())
	r.src.start()
	return nil
}

// storageClient opens the configured storage extension's client, or an
// in-memory one: one code path either way.
func (r *cloudtrailReceiver) storageClient(ctx context.Context, host component.Host) (storage.Client, error) {
	if r.cfg.Storage == nil {
		r.tel.logger.Info("No storage extension configured: checkpoints are kept in memory only, a restart starts again at start_time")
		return memstorage.NewClient(), nil
	}
	ext, ok := host.GetExtensions()[*r.cfg.Storage]
	if !ok {
		return nil, fmt.Errorf("storage extension %q not found", r.cfg.Storage)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("extension %q is not a storage extension", r.cfg.Storage)
	}
	client, err := se.GetClient(ctx, component.KindReceiver, r.set.ID, "")
	if err != nil {
		return nil, fmt.Errorf("open storage %q: %w", r.cfg.Storage, err)
	}
	return client, nil
}

// Shutdown stops the source, lets the work in progress drain, and closes
// the AWS clients and the storage.
func (r *cloudtrailReceiver) Shutdown(ctx context.Context) error {
	if r.pool != nil {
		r.pool.integrity.stop()
	}
	if r.src != nil {
		r.src.stop()
		select {
		case <-r.src.done():
		case <-time.After(r.drain):
		case <-ctx.Done():
		}
		r.src.abort()
		r.pool.stopConsume()
		select {
		case <-r.src.done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if r.pool != nil {
		r.pool.integrity.wait()
	}
	if r.clients != nil {
		r.clients.close()
	}
	r.tel.tb.Shutdown()
	if r.store != nil {
		return r.store.Close(ctx)
	}
	return nil
}
