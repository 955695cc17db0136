package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
)

// retryMax caps the backoff of an object that keeps failing; the first
// retry waits one poll interval.
const retryMax = 30 * time.Minute

// poller is the polling source: it finds the trails' folders (refresh, in
// folders.go) and polls each folder in a loop of its own (pollfolder.go),
// so that a slow or failing folder does not hold the others back. The
// objects are read by the receiver's reader pool; each folder's checkpoint
// writes itself (checkpoint.Folder). design.md numbers the cycle.
type poller struct {
	cfg    *Config
	tel    *telemetry
	pool   *readerPool
	store  *checkpoint.Store
	finder *trailFinder
	tune   tuning

	// folders is touched only by the run goroutine; folderCount is its
	// length, for the folders' loops (see dispatch).
	folders     map[string]*folder
	folderCount atomic.Int64
	startFloor  time.Time

	cancel context.CancelFunc
	doneCh chan struct{}
}

// folder is one account/kind/region folder of a trail bucket, with its
// checkpoint and its loop.
type folder struct {
	cp     *checkpoint.Folder
	bucket string
	prefix keylayout.Prefix
	// source names the trail (bucket and prefix) the folder belongs to.
	source string
	// s3 is the folder's S3 client (its bucket's region), replaced at refreshes.
	s3 atomic.Pointer[storeRef]
	// reading counts the readers the folder holds (see dispatch).
	reading atomic.Int64

	// cancel stops the folder's loop; done is closed when it has stopped
	// (its reads ended and its state was written).
	cancel context.CancelFunc
	done   chan struct{}
}

// storeRef holds an objectStore for atomic replacement.
type storeRef struct{ objectStore }

func (f *folder) store() objectStore { return f.s3.Load().objectStore }

func newPoller(cfg *Config, tel *telemetry, pool *readerPool, clients *awsClients, store *checkpoint.Store, tune tuning) *poller {
	return &poller{
		cfg: cfg, tel: tel, pool: pool, store: store, tune: tune,
		finder:     &trailFinder{cfg: cfg, tel: tel, clients: clients, wrapS3: tune.wrapS3},
		folders:    map[string]*folder{},
		startFloor: cfg.startTime(time.Now()).UTC(),
		doneCh:     make(chan struct{}),
	}
}

func (p *poller) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.run(ctx)
}

func (p *poller) stop()                 { p.cancel() }
func (p *poller) abort()                {}
func (p *poller) done() <-chan struct{} { return p.doneCh }

// run refreshes the folder list when due (which starts and stops the
// folders' loops) and reports the component status every poll interval.
// When the poller stops it waits for every folder's loop.
func (p *poller) run(ctx context.Context) {
	defer close(p.doneCh)
	ticker := time.NewTicker(p.cfg.PollInterval)
	defer ticker.Stop()
	var lastRefresh time.Time
	for {
		if lastRefresh.IsZero() || time.Since(lastRefresh) >= p.cfg.Discovery.RefreshInterval {
			if p.refresh(ctx) {
				lastRefresh = time.Now()
			}
		}
		select {
		case <-ctx.Done():
			for _, f := range p.folders {
				<-f.done
			}
			p.tel.logProgress(true)
			return
		case <-ticker.C:
		}
		p.tel.logProgress(true)
		if n := p.failingObjects(); n > 0 {
			// Between the retries of failing objects the polls are clean:
			// the status stays in error until they are read.
			p.tel.noteError(fmt.Errorf("%d CloudTrail objects failed and wait for a retry", n))
		}
		p.tel.reportStatus()
	}
}

// failingObjects counts the objects of every folder whose last attempt failed.
func (p *poller) failingObjects() int {
	n := 0
	for _, f := range p.folders {
		n += f.cp.Failing()
	}
	return n
}

// startFolder starts the loop of a folder.
func (p *poller) startFolder(ctx context.Context, f *folder) {
	fctx, cancel := context.WithCancel(ctx)
	f.cancel, f.done = cancel, make(chan struct{})
	p.pool.integrity.watch(f)
	go p.pollLoop(fctx, f)
}

// stopFolder stops the loop of a folder and waits until its reads ended
// and its state was written.
func (p *poller) stopFolder(f *folder) {
	p.pool.integrity.unwatch(f)
	f.cancel()
	<-f.done
}

// pollLoop polls one folder every poll interval until ctx ends, then waits
// for its reads and writes its state.
func (p *poller) pollLoop(ctx context.Context, f *folder) {
	defer close(f.done)
	var reads sync.WaitGroup
	defer func() {
		reads.Wait()
		f.cp.Close()
	}()
	ticker := time.NewTicker(p.cfg.PollInterval)
	defer ticker.Stop()
	for {
		p.pollFolder(ctx, f, &reads)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
