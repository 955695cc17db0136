package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/checkpoint"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

// trailWatch knows, per trail, what was delivered and where the reading of
// its folders stands. The lag gauges are computed from it when scraped
// (so that a trail that stops delivering shows a lag that grows) and the
// progress line from it every progressEvery.
type trailWatch struct {
	mu sync.Mutex
	// delivered: per trail, the newest eventTime and object LastModified
	// delivered downstream.
	delivered map[string]*trailDelivered
	// folders: per folder ID (polling mode), its trail and a view of its state.
	folders map[string]watchedFolder
	// listed: per folder ID, when the last listing that started every
	// object it found began (the folder was caught up to then).
	listed map[string]time.Time
	// expected: the trails known from the configuration or discovery, with
	// the floor their reading begins at, so that their lag exists (and
	// grows) before anything is delivered (see lagSince).
	expected map[string]time.Time
}

type trailDelivered struct {
	newestEvent, newestObject time.Time
}

type watchedFolder struct {
	trail string
	view  func() folderView
}

// folderView is what the watch needs of a folder's checkpoint.
type folderView struct {
	floor, newest time.Time
	// oldestPending is the name time of the oldest object listed but not
	// read to the end (zero when none).
	oldestPending time.Time
}

func newTrailWatch() *trailWatch {
	return &trailWatch{
		delivered: map[string]*trailDelivered{}, folders: map[string]watchedFolder{},
		listed: map[string]time.Time{}, expected: map[string]time.Time{},
	}
}

// trailName names the trail of a source as trailOf does its objects.
func trailName(bucket, prefix string) string {
	return trailOf(bucket, keylayout.Root(prefix))
}

// expectTrail makes the lag gauges of trail exist from now on, counting
// from floor while it delivers nothing. The first floor given is kept.
func (w *trailWatch) expectTrail(trail string, floor time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.expected[trail]; !ok {
		w.expected[trail] = floor
	}
}

// expectConfigured expects every trail of the configuration. Its floor is
// start_time (now − 1h by default) when polling: events before it are
// skipped on purpose; in SQS mode, where start_time is not used, now.
func (w *trailWatch) expectConfigured(cfg *Config, now time.Time) {
	floor := cfg.startTime(now)
	if cfg.SQS.HasValue() {
		floor = now
	}
	for _, tc := range cfg.Trails {
		w.expectTrail(trailName(tc.Bucket, tc.Prefix), floor)
	}
}

// trailOf names the trail of an object: bucket/prefix, the part of the key
// before AWSLogs/ (bucket/ for a trail without prefix).
func trailOf(bucket, key string) string {
	prefix, _, ok := strings.Cut(key, "AWSLogs/")
	if !ok {
		prefix = ""
	}
	return bucket + "/" + strings.TrimSuffix(prefix, "/")
}

// deliveredEvents records that records up to eventTime of trail were delivered.
func (w *trailWatch) deliveredEvents(trail string, eventTime time.Time) {
	w.update(trail, func(d *trailDelivered) {
		if eventTime.After(d.newestEvent) {
			d.newestEvent = eventTime
		}
	})
}

// deliveredObject records that an object of trail last modified at
// lastModified was read to the end.
func (w *trailWatch) deliveredObject(trail string, lastModified time.Time) {
	w.update(trail, func(d *trailDelivered) {
		if lastModified.After(d.newestObject) {
			d.newestObject = lastModified
		}
	})
}

func (w *trailWatch) update(trail string, f func(*trailDelivered)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.delivered[trail]
	if d == nil {
		d = &trailDelivered{}
		w.delivered[trail] = d
	}
	f(d)
}

// watchFolder adds a folder (polling mode) under its trail.
func (w *trailWatch) watchFolder(id, trail string, view func() folderView) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.folders[id] = watchedFolder{trail: trail, view: view}
}

// unwatchFolder removes a folder that is not polled any more.
func (w *trailWatch) unwatchFolder(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.folders, id)
	delete(w.listed, id)
}

// listedAll records that a listing of folder id that began at start
// started every object it found.
func (w *trailWatch) listedAll(id string, start time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.listed[id] = start
}

// trailPosition is where the reading of one trail stands.
type trailPosition struct {
	trail string
	// floor is where its reading began (the oldest floor of its folders).
	floor time.Time
	// position: every object named before it was read (the folder that is
	// furthest behind).
	position time.Time
	// oldestPending is the name time of its oldest object listed but not
	// read to the end (zero when none).
	oldestPending time.Time
}

// folderSnapshot is one watched folder as seen at one moment.
type folderSnapshot struct {
	trail  string
	view   folderView
	listed time.Time
}

// snapshot returns every watched folder's view. The views lock their
// folders, so they are taken outside w.mu.
func (w *trailWatch) snapshot() []folderSnapshot {
	w.mu.Lock()
	folders := make(map[string]watchedFolder, len(w.folders))
	listed := make(map[string]time.Time, len(w.listed))
	for id, f := range w.folders {
		folders[id] = f
		listed[id] = w.listed[id]
	}
	w.mu.Unlock()
	out := make([]folderSnapshot, 0, len(folders))
	for id, f := range folders {
		out = append(out, folderSnapshot{trail: f.trail, view: f.view(), listed: listed[id]})
	}
	return out
}

// positions returns the position of every trail with polled folders, by name.
func (w *trailWatch) positions() []trailPosition {
	byTrail := map[string]*trailPosition{}
	for _, fs := range w.snapshot() {
		v := fs.view
		pos := v.newest
		if pos.Before(v.floor) {
			pos = v.floor
		}
		if l := fs.listed; v.oldestPending.IsZero() && l.After(pos) {
			pos = l // caught up: nothing newer was there to read
		}
		if !v.oldestPending.IsZero() && v.oldestPending.Before(pos) {
			pos = v.oldestPending
		}
		tp := byTrail[fs.trail]
		if tp == nil {
			tp = &trailPosition{trail: fs.trail, floor: v.floor, position: pos, oldestPending: v.oldestPending}
			byTrail[fs.trail] = tp
			continue
		}
		if v.floor.Before(tp.floor) {
			tp.floor = v.floor
		}
		if pos.Before(tp.position) {
			tp.position = pos
		}
		if !v.oldestPending.IsZero() && (tp.oldestPending.IsZero() || v.oldestPending.Before(tp.oldestPending)) {
			tp.oldestPending = v.oldestPending
		}
	}
	out := make([]trailPosition, 0, len(byTrail))
	for _, tp := range byTrail {
		out = append(out, *tp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].trail < out[j].trail })
	return out
}

// lagSince returns, per trail, the time its lag counts from: pick of what
// it delivered; for a trail expected but with nothing delivered yet, the
// newest object its folders' checkpoints finished (an earlier run's
// reading), at least its floor — so that the lag of a trail whose bucket
// cannot be read exists from the start and grows.
func (w *trailWatch) lagSince(pick func(*trailDelivered) time.Time) map[string]time.Time {
	read := map[string]time.Time{}
	for _, fs := range w.snapshot() {
		if fs.view.newest.After(read[fs.trail]) {
			read[fs.trail] = fs.view.newest
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]time.Time, len(w.expected)+len(w.delivered))
	for trail, floor := range w.expected {
		if r := read[trail]; r.After(floor) {
			floor = r
		}
		out[trail] = floor
	}
	for trail, d := range w.delivered {
		if t := pick(d); !t.IsZero() {
			out[trail] = t
		}
	}
	return out
}

// expectedTrails returns the names of the trails expected.
func (w *trailWatch) expectedTrails() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.expected))
	for trail := range w.expected {
		out = append(out, trail)
	}
	return out
}

// registerLag registers the callbacks of the lag gauges, computed from the
// watch when the collector's telemetry is scraped.
func (w *trailWatch) registerLag(tb *metadata.TelemetryBuilder, now func() time.Time) error {
	since := func(t time.Time) float64 { return now().Sub(t).Seconds() }
	observe := func(pick func(*trailDelivered) time.Time) metric.Float64Callback {
		return func(_ context.Context, o metric.Float64Observer) error {
			for trail, t := range w.lagSince(pick) {
				o.Observe(since(t), metric.WithAttributes(attribute.String("trail", trail)))
			}
			return nil
		}
	}
	if err := tb.RegisterReceiverAwscloudtrailLagCallback(observe(func(d *trailDelivered) time.Time { return d.newestEvent })); err != nil {
		return err
	}
	if err := tb.RegisterReceiverAwscloudtrailObjectLagCallback(observe(func(d *trailDelivered) time.Time { return d.newestObject })); err != nil {
		return err
	}
	return tb.RegisterReceiverAwscloudtrailOldestUnreadAgeCallback(func(_ context.Context, o metric.Float64Observer) error {
		seen := map[string]bool{}
		for _, p := range w.positions() {
			seen[p.trail] = true
			age := 0.0
			if !p.oldestPending.IsZero() {
				age = since(p.oldestPending)
			}
			o.Observe(age, metric.WithAttributes(attribute.String("trail", p.trail)))
		}
		for _, trail := range w.expectedTrails() { // no folder found yet: nothing waits
			if !seen[trail] {
				o.Observe(0, metric.WithAttributes(attribute.String("trail", trail)))
			}
		}
		return nil
	})
}

// viewOf returns what the watch needs of a folder's checkpoint.
func viewOf(cp *checkpoint.Folder) func() folderView {
	return func() folderView {
		floor, newest, oldestPending := cp.Span()
		return folderView{floor: floor, newest: newest, oldestPending: oldestPending}
	}
}
