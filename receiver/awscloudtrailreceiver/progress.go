package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

import (
	"fmt"
	"math"
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// progressEvery is how often progress is logged while objects are read.
const progressEvery = 30 * time.Second

// progressLog writes the progress line: totals since the start, the rate
// since the previous line and, per trail, how far the reading has come
// from where it began towards now, with an estimate of when it catches up.
type progressLog struct {
	mu               sync.Mutex
	objects, records int64
	// lastAt, lastObjects, lastRecords, lastPositions: at the previous line.
	lastAt         time.Time
	lastObjects    int64
	lastRecords    int64
	lastPositions  map[string]time.Time
	caughtUpWithin time.Duration
	positions      func() []trailPosition
}

// newProgressLog returns a progress log whose first line comes progressEvery
// after start. A trail less than caughtUpWithin behind now is caught up.
func newProgressLog(start time.Time, caughtUpWithin time.Duration, positions func() []trailPosition) *progressLog {
	return &progressLog{lastAt: start, caughtUpWithin: caughtUpWithin, positions: positions, lastPositions: map[string]time.Time{}}
}

// add counts objects read to the end and records delivered.
func (p *progressLog) add(objects, records int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.objects += objects
	p.records += records
}

// line returns the fields of the progress line due at now, or nil when it
// is not due (less than progressEvery since the last one, or nothing read
// since).
func (p *progressLog) line(now time.Time) []zap.Field {
	p.mu.Lock()
	defer p.mu.Unlock()
	elapsed := now.Sub(p.lastAt)
	if elapsed < progressEvery || (p.objects == p.lastObjects && p.records == p.lastRecords) {
		return nil
	}
	rate := float64(p.records-p.lastRecords) / elapsed.Seconds()
	fields := []zap.Field{
		zap.Int64("objects_total", p.objects), zap.Int64("records_total", p.records),
		zap.Float64("records_per_second", math.Round(rate*10)/10),
	}
	var trails []trailProgress
	for _, tp := range p.positions() {
		trails = append(trails, p.trailLine(tp, now, p.lastPositions[tp.trail], elapsed))
		p.lastPositions[tp.trail] = tp.position
	}
	if len(trails) > 0 {
		fields = append(fields, zap.Array("trails", trailProgressList(trails)))
	}
	p.lastAt, p.lastObjects, p.lastRecords = now, p.objects, p.records
	return fields
}

// trailProgress is one trail in the progress line.
type trailProgress struct {
	trail    string
	position time.Time
	behind   time.Duration
	percent  float64
	eta      string
}

// trailLine computes how far trail has come: percent of the time from its
// floor to now that is read, and, from how far it moved since the previous
// line, when it will catch up.
func (p *progressLog) trailLine(tp trailPosition, now, prev time.Time, elapsed time.Duration) trailProgress {
	behind := max(now.Sub(tp.position), 0)
	tl := trailProgress{trail: tp.trail, position: tp.position, behind: behind.Truncate(time.Second)}
	if behind <= p.caughtUpWithin {
		tl.percent, tl.eta = 100, "caught up"
		return tl
	}
	if span := now.Sub(tp.floor); span > 0 {
		tl.percent = math.Round(1000*float64(tp.position.Sub(tp.floor))/float64(span)) / 10
	}
	tl.eta = "unknown"
	if !prev.IsZero() {
		// Trail time read per wall second, minus the second now moves on.
		speed := float64(tp.position.Sub(prev))/float64(elapsed) - 1
		if speed > 0 {
			tl.eta = time.Duration(float64(behind) / speed).Round(time.Second).String()
		} else {
			tl.eta = "not catching up"
		}
	}
	return tl
}

type trailProgressList []trailProgress

// MarshalLogArray writes the trails of the progress line.
func (l trailProgressList) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, t := range l {
		if err := enc.AppendObject(t); err != nil {
			return err
		}
	}
	return nil
}

// MarshalLogObject writes one trail of the progress line.
func (t trailProgress) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	enc.AddString("trail", t.trail)
	enc.AddTime("position", t.position.UTC())
	enc.AddString("behind", t.behind.String())
	enc.AddString("backfill", fmt.Sprintf("%.1f%%", t.percent))
	enc.AddString("eta", t.eta)
	return nil
}

// addProgress counts what was read and writes the progress line when due.
func (t *telemetry) addProgress(objects, records int64, _ time.Time) {
	t.progress.add(objects, records)
	t.logProgress(false)
}

// logProgress writes the progress line when due (see progressLog.line).
func (t *telemetry) logProgress(bool) {
	if fields := t.progress.line(time.Now()); fields != nil {
		t.logger.Info("CloudTrail progress", fields...)
	}
}
