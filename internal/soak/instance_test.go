package soak

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"
)

// One collector instance of a run (receiver, fan-out, both exporters), its
// graceful stop and its in-process crash.

// instance is one "process": a receiver, its exporters, and the gates
// through which it reaches S3, SQS and the intake.
type instance struct {
	s3gate, ddgate *devstack.Gate
	fan            *fanout
	rcv            receiver.Logs
	exps           []exporter.Logs
}

// fanout calls every exporter, as the collector's fan-out does, and
// refuses everything once its instance crashed.
type fanout struct {
	dead atomic.Bool
	next []consumer.Logs
}

var errCrashed = errors.New("soak: this instance crashed")

func (f *fanout) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }

func (f *fanout) ConsumeLogs(ctx context.Context, ld plog.Logs) error {
	if f.dead.Load() {
		return errCrashed
	}
	var errs []error
	for _, n := range f.next {
		errs = append(errs, n.ConsumeLogs(ctx, ld))
	}
	return errors.Join(errs...)
}

func (r *run) start() *instance {
	t, sc := r.t, r.sc
	in := &instance{fan: &fanout{}}
	in.s3gate = devstack.NewGate(r.s3f.Wrap(devstack.Proxy(r.s3.URL)))
	in.ddgate = devstack.NewGate(r.ddf.Wrap(devstack.Proxy(r.intake.URL)))
	host := r.storage.Host()
	id := r.storage.ID()
	ctx := context.Background()

	queue := configoptional.None[exporterhelper.QueueBatchConfig]()
	if sc.persistent {
		q := exporterhelper.NewDefaultQueueConfig()
		q.StorageID = &id
		q.NumConsumers = sc.numConsumers
		q.BlockOnOverflow = true
		q.Batch = configoptional.Some(exporterhelper.BatchConfig{FlushTimeout: 100 * time.Millisecond, Sizer: exporterhelper.RequestSizerTypeItems, MinSize: int64(min(200, sc.batch)), MaxSize: int64(sc.batch)})
		queue = configoptional.Some(q)
	}
	lf := datadoglogsexporter.NewFactory()
	lcfg := lf.CreateDefaultConfig().(*datadoglogsexporter.Config)
	lcfg.API.Key = configopaque.String(apiKey)
	lcfg.ClientConfig.Endpoint = in.ddgate.URL
	lcfg.ClientConfig.Timeout = sc.timeout
	lcfg.RetryConfig.InitialInterval = 20 * time.Millisecond
	lcfg.RetryConfig.MaxInterval = 300 * time.Millisecond
	lcfg.RetryConfig.MaxElapsedTime = 0
	lcfg.QueueConfig = queue
	lcfg.MaxEntries = sc.maxEntries
	lcfg.MaxPayloadBytes = sc.maxPayload
	in.exps = append(in.exps, r.exporter(lf, lcfg, host))
	if sc.fanout {
		ef := datadogeventsexporter.NewFactory()
		ecfg := ef.CreateDefaultConfig().(*datadogeventsexporter.Config)
		ecfg.API.Key = configopaque.String(apiKey)
		ecfg.ClientConfig.Endpoint = in.ddgate.URL
		ecfg.ClientConfig.Timeout = sc.timeout
		ecfg.RetryConfig.InitialInterval = 20 * time.Millisecond
		ecfg.RetryConfig.MaxInterval = 300 * time.Millisecond
		ecfg.RetryConfig.MaxElapsedTime = 0
		ecfg.QueueConfig = queue
		in.exps = append(in.exps, r.exporter(ef, ecfg, host))
	}
	for _, e := range in.exps {
		in.fan.next = append(in.fan.next, e)
	}

	rf := awscloudtrailreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig().(*awscloudtrailreceiver.Config)
	rcfg.Endpoint = in.s3gate.URL
	rcfg.S3ForcePathStyle = true
	rcfg.PollInterval = 200 * time.Millisecond
	rcfg.StartTime = r.tree.start.Format(time.RFC3339)
	rcfg.Workers = sc.workers
	rcfg.MaxBatchRecords = sc.maxBatch
	rcfg.Storage = &id
	if sc.sqs {
		rcfg.SQS.GetOrInsertDefault().QueueURL = r.queue
		rcfg.SQS.GetOrInsertDefault().WaitTime = time.Second
		rcfg.SQS.GetOrInsertDefault().VisibilityTimeout = 3 * time.Second
		rcfg.SQS.GetOrInsertDefault().MaxMessages = 1 + sc.rng.IntN(10)
		rcfg.SQS.GetOrInsertDefault().MaxReceiveCount = 1000
	} else {
		rcfg.Trails = []awscloudtrailreceiver.TrailConfig{{Bucket: bucket}}
	}
	if err := rcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	set := receivertest.NewNopSettings(rf.Type())
	set.ID = component.NewID(rf.Type())
	set.Logger = r.logger.With(zap.String("component", "receiver"))
	rcv, err := rf.CreateLogs(ctx, set, rcfg, in.fan)
	if err != nil {
		t.Fatal(err)
	}
	if err := rcv.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	in.rcv = rcv
	return in
}

func (r *run) exporter(f exporter.Factory, cfg component.Config, host component.Host) exporter.Logs {
	set := exportertest.NewNopSettings(f.Type())
	set.ID = component.NewID(f.Type())
	set.Logger = r.logger.With(zap.String("component", f.Type().String()))
	e, err := f.CreateLogs(context.Background(), set, cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	if err := e.Start(context.Background(), host); err != nil {
		r.t.Fatal(err)
	}
	return e
}

// stop is a graceful stop, in the collector's order: receiver, then exporters.
func (in *instance) stop(r *run) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began := time.Now()
	if err := in.rcv.Shutdown(ctx); err != nil {
		r.t.Errorf("receiver shutdown: %v", err)
	}
	if time.Since(began) >= receiverDrain {
		// The batches in hand were not accepted within the drain: they are
		// cut, and the restart sends them again (the README's limit).
		r.drainsRunOut++
	}
	for _, e := range in.exps {
		if err := e.Shutdown(ctx); err != nil {
			r.t.Errorf("exporter shutdown: %v", err)
		}
	}
	in.s3gate.Close()
	in.ddgate.Close()
}

// crash abandons the live instance without Shutdown at this instant: its
// storage writes from now on are discarded, its consumer refuses, and its
// connections to S3, SQS and the intake are cut.
func (r *run) crash() {
	in := r.live
	r.storage.Crash()
	in.fan.dead.Store(true)
	in.s3gate.Kill()
	in.ddgate.Kill()
	r.zombies = append(r.zombies, in)
}

// cleanup stops the abandoned instances' goroutines (they are inert), not
// waiting long for them.
func (r *run) cleanup() {
	if r.live != nil {
		r.zombies = append(r.zombies, r.live)
		r.live.fan.dead.Store(true)
		r.storage.Crash()
	}
	var wg sync.WaitGroup
	for _, in := range r.zombies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = in.rcv.Shutdown(ctx)
			for _, e := range in.exps {
				_ = e.Shutdown(ctx)
			}
			in.s3gate.Close()
			in.ddgate.Close()
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}
