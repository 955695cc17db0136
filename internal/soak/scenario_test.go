package soak

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// A soak scenario: what one seed composes, and the duplicate bounds it allows.

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
