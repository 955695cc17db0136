package soak

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
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
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadogeventsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/exporter/datadoglogsexporter"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"
)

const (
	apiKey = "soak0123456789abcdef0123456789ab"
	bucket = "soak-trail"
	// shortScenarios is how many scenarios `make test` runs.
	shortScenarios = 6
)

// totals are the counts a run reports (the lead quotes them).
type totals struct {
	mu                                   sync.Mutex
	scenarios, failed                    int
	polling, sqsMode, fanout, persistent int
	stops, crashes, lateFiles            int
	records, logDups, eventDups          int
	faults                               map[string]int
	failures                             []string
}

func (t *totals) add(f func(t *totals)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(t)
}

func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	seed := uint64(time.Now().UnixNano() % 1_000_000_000)
	if s := os.Getenv("SOAK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: %v", s, err)
		}
		seed = v
	}
	var duration time.Duration
	if s := os.Getenv("SOAK_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("SOAK_DURATION=%q: %v", s, err)
		}
		duration = d
	}
	maxScenarios := shortScenarios
	if duration > 0 {
		maxScenarios = 1 << 30
	}
	if s := os.Getenv("SOAK_SCENARIOS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("SOAK_SCENARIOS=%q: %v", s, err)
		}
		maxScenarios = n
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSOAK")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	tot := &totals{faults: map[string]int{}}
	start := time.Now()
	t.Logf("soak: first seed %d, %s", seed, map[bool]string{true: "for " + duration.String(), false: fmt.Sprintf("%d scenarios", maxScenarios)}[duration > 0])
	for i := 0; i < maxScenarios; i++ {
		if duration > 0 && time.Since(start) > duration {
			break
		}
		s := seed + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) { runScenario(t, s, tot) })
	}
	tot.mu.Lock()
	defer tot.mu.Unlock()
	var kinds []string
	for k := range tot.faults {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var fs []string
	for _, k := range kinds {
		fs = append(fs, fmt.Sprintf("%s=%d", k, tot.faults[k]))
	}
	t.Logf("soak summary: first seed %d, %s: %d scenarios (%d polling, %d SQS; %d fan-out to both exporters, %d persistent queues), %d failed; %d graceful stops, %d crashes, %d late files; faults injected: %s; %d records checked, %d log duplicates, %d event duplicates",
		seed, time.Since(start).Round(time.Second), tot.scenarios, tot.polling, tot.sqsMode, tot.fanout, tot.persistent, tot.failed,
		tot.stops, tot.crashes, tot.lateFiles, strings.Join(fs, " "), tot.records, tot.logDups, tot.eventDups)
	for _, f := range tot.failures {
		t.Logf("FAILED %s", f)
	}
}

// scenario is what one seed composes.
type scenario struct {
	seed uint64
	rng  *rand.Rand
	sqs  bool
	// fanout sends to both exporters (else the logs exporter only).
	fanout bool
	// persistent: both exporters have a sending queue in the crash storage,
	// with batching (requests of several resources); else no queue (the
	// exporter sends synchronously: the receiver's checkpoint moves only
	// after the intake accepted).
	persistent          bool
	workers, maxBatch   int
	maxEntries          int
	maxPayload          int
	numConsumers, batch int
	actions             []string
	s3Rates             devstack.S3FaultRates
	intakeRates         devstack.IntakeFaultRates
	denied              int
	timeout             time.Duration
}

func (sc *scenario) String() string {
	mode := "polling"
	if sc.sqs {
		mode = "sqs"
	}
	pipe := "logs"
	if sc.fanout {
		pipe = "logs+events"
	}
	q := "no queue"
	if sc.persistent {
		q = fmt.Sprintf("persistent queue (%d consumers, batch ≤ %d)", sc.numConsumers, sc.batch)
	}
	return fmt.Sprintf("%s → %s, %s, workers %d, max_batch_records %d, max_entries %d, actions %v, S3 faults %+v, intake faults %+v, %d denied keys",
		mode, pipe, q, sc.workers, sc.maxBatch, sc.maxEntries, sc.actions, sc.s3Rates, sc.intakeRates, sc.denied)
}

func newScenario(seed uint64) *scenario {
	r := rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15+1))
	sc := &scenario{seed: seed, rng: r}
	sc.sqs = r.IntN(3) == 0
	sc.persistent = r.IntN(3) != 0
	sc.fanout = sc.persistent && r.IntN(2) == 0 // a fan-out without queues re-sends to one exporter what the other refused
	sc.workers = 1 + r.IntN(4)
	sc.maxBatch = []int{7, 50, 200, 1000}[r.IntN(4)]
	sc.maxEntries = []int{10, 100, 1000}[r.IntN(3)]
	sc.maxPayload = []int{1_100_000, 5_000_000}[r.IntN(2)]
	sc.numConsumers = 1 + r.IntN(3)
	sc.batch = []int{100, 500, 2000}[r.IntN(3)]
	sc.timeout = 2 * time.Second
	n := 1 + r.IntN(4)
	for range n {
		sc.actions = append(sc.actions, []string{"stop", "crash", "crash", "late", "faults"}[r.IntN(5)])
	}
	if r.IntN(4) != 0 {
		sc.s3Rates = devstack.S3FaultRates{Latency: 0.2, MaxLatency: 100 * time.Millisecond}
		if r.IntN(2) == 0 {
			sc.s3Rates.Error = 0.05
		}
		if r.IntN(2) == 0 {
			sc.s3Rates.Cut = 0.05
		}
		sc.denied = r.IntN(3)
	}
	if r.IntN(4) != 0 {
		sc.intakeRates = devstack.IntakeFaultRates{ServerError: 0.05}
		if r.IntN(2) == 0 {
			sc.intakeRates.TooMany = 0.02
		}
		if r.IntN(2) == 0 {
			sc.intakeRates.TooLarge = 0.05
		}
		if r.IntN(2) == 0 {
			sc.intakeRates.Slow, sc.intakeRates.SlowDelay = 0.03, 3*sc.timeout
		}
	}
	return sc
}

// crashBound is how many records one crash may send again: the receiver
// batches in flight and the requests the queue consumers are sending (the
// README's contract).
func (sc *scenario) crashBound() int {
	b := sc.workers * sc.maxBatch
	if sc.persistent {
		b += sc.numConsumers * max(sc.batch, sc.maxBatch)
	}
	return b
}

// stopBound is how many records one graceful stop may send again: none
// without a sending queue (the receiver lets the batch in hand finish and
// records it). With a persistent sending queue, a stop that interrupts the
// retries of a request leaves that request whole in the queue, and the
// restart sends all of it again — including what the intake had accepted
// when the request took several calls (the Events API takes one event per
// call; the logs intake max_entries or max_payload per call). That is the
// queue consumers' requests (the README's contract).
func (sc *scenario) stopBound() int {
	if !sc.persistent {
		return 0
	}
	return sc.numConsumers * max(sc.batch, sc.maxBatch)
}

// receiverDrain is how long the receiver's Shutdown lets the batches in
// hand finish downstream.
const receiverDrain = 15 * time.Second

// run is one scenario's servers and state.
type run struct {
	// drainsRunOut counts the graceful stops whose drain ran out.
	drainsRunOut int
	t            *testing.T
	sc           *scenario
	s3           *devstack.S3Server
	intake       *devstack.Intake
	s3f          *devstack.S3Faults
	ddf          *devstack.IntakeFaults
	storage      *memstorage.Storage
	tree         *tree
	queue        string
	logs         *observer.ObservedLogs
	logger       *zap.Logger
	live         *instance
	zombies      []*instance
	started      time.Time
}

func runScenario(t *testing.T, seed uint64, tot *totals) {
	sc := newScenario(seed)
	t.Logf("scenario %d: %s", seed, sc)
	r := &run{t: t, sc: sc, storage: memstorage.New(), started: time.Now()}
	var err error
	r.s3, err = devstack.StartS3("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.s3.Close)
	r.intake, err = devstack.StartIntake("127.0.0.1:0", apiKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.intake.Close)
	r.s3f = devstack.NewS3Faults(seed)
	r.ddf = devstack.NewIntakeFaults(seed + 1)
	core, observed := observer.New(zapcore.WarnLevel)
	r.logs, r.logger = observed, zap.New(core)
	t.Cleanup(r.cleanup)

	r.tree = newTree(r.s3, sc.rng)
	if sc.sqs {
		r.queue = r.createQueue()
		r.notify(r.tree.keys)
	}
	keys := r.tree.keys
	for range sc.denied {
		k := keys[sc.rng.IntN(len(keys))]
		r.s3f.Deny(bucket, k)
	}
	r.s3f.SetRates(sc.s3Rates)
	r.ddf.SetRates(sc.intakeRates)

	r.live = r.start()
	stops, crashes, late := 0, 0, 0
	for i, a := range sc.actions {
		// A random moment: once a random share of the records arrived (the
		// stops and crashes land in the middle of the backfill), or after
		// a while if delivery is slow.
		target := int(float64(len(r.tree.ids)) * (float64(i) + sc.rng.Float64()) / float64(len(sc.actions)+1))
		deadline := time.Now().Add(time.Duration(500+sc.rng.IntN(3000)) * time.Millisecond)
		for time.Now().Before(deadline) && r.logCount() < target {
			time.Sleep(20 * time.Millisecond)
		}
		switch a {
		case "stop":
			r.live.stop(r)
			r.live = r.start()
			stops++
		case "crash":
			r.crash()
			r.live = r.start()
			crashes++
		case "late":
			late += r.lateFiles()
		case "faults":
			// Faults change: a burst of intake errors and slow answers,
			// and the denied keys are granted.
			r.ddf.SetRates(devstack.IntakeFaultRates{ServerError: 0.3, TooMany: 0.05, Slow: 0.1, SlowDelay: 3 * sc.timeout})
			r.s3f.Clear()
			r.s3f.SetRates(sc.s3Rates)
		}
	}

	// Quiesce: every fault cleared, then wait for every expected record
	// (and event), failing if nothing progresses for a long while.
	r.s3f.Clear()
	r.ddf.Clear()
	complete := r.waitComplete()
	if sc.sqs && complete {
		r.waitQueueDrained()
	}
	r.live.stop(r)
	r.live = nil

	// Checks, by eventID.
	got := logIDs(r.intake)
	events := eventIDs(r.intake)
	var problems []string
	lost, dups := compare(r.tree.ids, got)
	evWant := r.tree.eventIDs()
	if !sc.fanout {
		evWant = nil
	}
	evLost, evDups := compare(evWant, events)
	// A request the client gave up on (timeout, cut connection) may have
	// been accepted all the same: its records may rightly arrive twice.
	amb := r.ddf.Ambiguous()
	inHand := r.drainsRunOut * sc.workers * sc.maxBatch
	bound := crashes*sc.crashBound() + stops*sc.stopBound() + inHand + amb["/api/v2/logs"]
	evBound := crashes*sc.crashBound() + stops*sc.stopBound() + inHand + amb["/api/v1/events"]
	if len(lost) > 0 {
		// In a fan-out, a record whose event arrived reached the exporters:
		// the logs exporter lost it, not the receiver.
		withEvent := 0
		for _, id := range lost {
			if events[id] > 0 {
				withEvent++
			}
		}
		problems = append(problems, fmt.Sprintf("%d of %d records lost (logs; %d of them arrived as events), e.g. %s", len(lost), len(r.tree.ids), withEvent, sample(lost, r.tree)))
	}
	if len(evLost) > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d events lost, e.g. %s", len(evLost), len(evWant), sample(evLost, r.tree)))
	}
	if dups > bound {
		problems = append(problems, fmt.Sprintf("%d duplicate log records, bound %d (%d crashes × %d + %d stops × %d + %d in batches cut when a drain ran out + %d in requests the client gave up on); %s",
			dups, bound, crashes, sc.crashBound(), stops, sc.stopBound(), inHand, amb["/api/v2/logs"], dupKeys(got, r.tree)))
	}
	if evDups > evBound {
		problems = append(problems, fmt.Sprintf("%d duplicate events, bound %d", evDups, evBound))
	}
	if n := unknown(r.tree.ids, got); n > 0 {
		problems = append(problems, fmt.Sprintf("%d log entries with an eventID that was never stored", n))
	}
	faults := r.s3f.Counts()
	for k, v := range r.ddf.Counts() {
		faults[k] = v
	}
	t.Logf("scenario %d: %d records (%d events), %d stops, %d crashes, %d late files; %d log duplicates (bound %d), %d event duplicates (bound %d); faults %v; %s",
		seed, len(r.tree.ids), len(evWant), stops, crashes, late, dups, bound, evDups, evBound, faults, time.Since(r.started).Round(100*time.Millisecond))
	tot.add(func(tt *totals) {
		tt.scenarios++
		if sc.sqs {
			tt.sqsMode++
		} else {
			tt.polling++
		}
		if sc.fanout {
			tt.fanout++
		}
		if sc.persistent {
			tt.persistent++
		}
		tt.stops += stops
		tt.crashes += crashes
		tt.lateFiles += late
		tt.records += len(r.tree.ids)
		tt.logDups += dups
		tt.eventDups += evDups
		for k, v := range faults {
			tt.faults[k] += v
		}
		if len(problems) > 0 {
			tt.failed++
			tt.failures = append(tt.failures, fmt.Sprintf("seed %d (%s, %d stops, %d crashes): %s — replay: SOAK_SEED=%d SOAK_SCENARIOS=1 make soak",
				seed, map[bool]string{true: "sqs", false: "polling"}[sc.sqs], stops, crashes, strings.Join(problems, "; "), seed))
		}
	})
	if len(problems) > 0 {
		r.dumpLogs()
		for _, p := range problems {
			t.Error(p)
		}
		t.Logf("replay: SOAK_SEED=%d SOAK_SCENARIOS=1 make soak", seed)
	}
}

// waitComplete waits until every expected record (and event) arrived; it
// gives up when nothing progressed for 15 s (or after 3 minutes).
func (r *run) waitComplete() bool {
	evWant := 0
	if r.sc.fanout {
		evWant = len(r.tree.eventIDs())
	}
	last, lastChange := -1, time.Now()
	hardStop := time.Now().Add(3 * time.Minute)
	for time.Now().Before(hardStop) {
		logs := logIDs(r.intake)
		n := len(logs)
		ev := len(eventIDs(r.intake))
		if covered(r.tree.ids, logs) && ev >= evWant && (evWant == 0 || covered(r.tree.eventIDs(), eventIDs(r.intake))) {
			return true
		}
		if progress := n + ev; progress != last {
			last, lastChange = progress, time.Now()
		} else if time.Since(lastChange) > 15*time.Second {
			r.t.Logf("no progress for 15 s: %d of %d records, %d of %d events", n, len(r.tree.ids), ev, evWant)
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Log("not complete after 3 minutes")
	return false
}

// waitQueueDrained waits until the receiver deleted every message.
func (r *run) waitQueueDrained() {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st := r.s3.SQS().Stats("soak")
		if st.Visible+st.InFlight == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Errorf("the queue still holds messages: %+v", r.s3.SQS().Stats("soak"))
}

func (r *run) logCount() int { return len(r.intake.Logs()) }

func (r *run) dumpLogs() {
	counts := map[string]int{}
	var order []string
	for _, e := range r.logs.All() {
		msg := e.Message
		for _, f := range e.Context {
			if f.Key == "error" || f.Key == "reason" {
				if f.Interface != nil {
					msg += " " + f.Key + "=" + fmt.Sprint(f.Interface)
				} else {
					msg += " " + f.Key + "=" + f.String
				}
			}
		}
		if len(msg) > 300 {
			msg = msg[:300]
		}
		if counts[msg] == 0 {
			order = append(order, msg)
		}
		counts[msg]++
	}
	for i, m := range order {
		if i == 25 {
			r.t.Logf("… %d more distinct warnings", len(order)-i)
			break
		}
		r.t.Logf("component warning ×%d: %s", counts[m], m)
	}
}

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
		rcfg.SQS.QueueURL = r.queue
		rcfg.SQS.WaitTime = time.Second
		rcfg.SQS.VisibilityTimeout = 3 * time.Second
		rcfg.SQS.MaxMessages = 1 + sc.rng.IntN(10)
		rcfg.SQS.MaxReceiveCount = 1000
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

// compare returns the expected IDs missing from got and how many extra
// copies of expected IDs got holds.
func compare(want []string, got map[string]int) (lost []string, dups int) {
	for _, id := range want {
		switch n := got[id]; {
		case n == 0:
			lost = append(lost, id)
		case n > 1:
			dups += n - 1
		}
	}
	return lost, dups
}

func covered(want []string, got map[string]int) bool {
	for _, id := range want {
		if got[id] == 0 {
			return false
		}
	}
	return true
}

func unknown(want []string, got map[string]int) int {
	known := make(map[string]bool, len(want))
	for _, id := range want {
		known[id] = true
	}
	n := 0
	for id := range got {
		if !known[id] {
			n++
		}
	}
	return n
}

// dupKeys says in which objects the duplicated records are.
func dupKeys(got map[string]int, tr *tree) string {
	byKey := map[string]int{}
	for id, n := range got {
		if n > 1 {
			byKey[tr.keyOf[id]] += n - 1
		}
	}
	var keys []string
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys[:min(4, len(keys))] {
		out = append(out, fmt.Sprintf("%d in %s", byKey[k], k[strings.LastIndex(k, "/")+1:]))
	}
	return fmt.Sprintf("duplicates in %d objects: %s", len(keys), strings.Join(out, ", "))
}

func sample(ids []string, tr *tree) string {
	var out []string
	for _, id := range ids[:min(3, len(ids))] {
		out = append(out, id+" (in "+tr.keyOf[id]+")")
	}
	return strings.Join(out, ", ")
}

func logIDs(in *devstack.Intake) map[string]int {
	ids := map[string]int{}
	for _, e := range in.Logs() {
		id, _ := e["eventID"].(string)
		ids[id]++
	}
	return ids
}

func eventIDs(in *devstack.Intake) map[string]int {
	ids := map[string]int{}
	for _, ev := range in.Events() {
		_, after, ok := strings.Cut(ev.Text, "| Event ID | ")
		if !ok {
			ids[""]++
			continue
		}
		id, _, _ := strings.Cut(after, " |")
		ids[id]++
	}
	return ids
}
