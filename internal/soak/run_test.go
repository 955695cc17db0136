package soak

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
)

// One scenario's run: the trail tree, the faults, stops and crashes, and
// the wait for the system to quiesce.

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
