// Package ratelog limits repeated log lines: the first line of a kind is
// written at once, the repetitions within an interval are counted and
// written as one line with their count when the interval ends.
package ratelog // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/ratelog"

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Limiter writes each message at most once per interval, with the number
// of times it was repeated.
type Limiter struct {
	logger   *zap.Logger
	interval time.Duration
	mu       sync.Mutex
	entries  map[string]*entry
}

type entry struct {
	level  zapcore.Level
	last   time.Time
	count  int
	fields []zap.Field
	timer  *time.Timer
}

// New returns a limiter writing to logger at most once per interval per message.
func New(logger *zap.Logger, interval time.Duration) *Limiter {
	return &Limiter{logger: logger, interval: interval, entries: map[string]*entry{}}
}

// Warn writes msg at warning level, or counts it if it was written less
// than an interval ago.
func (l *Limiter) Warn(msg string, fields ...zap.Field) { l.log(zapcore.WarnLevel, msg, fields) }

func (l *Limiter) log(level zapcore.Level, msg string, fields []zap.Field) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	e := l.entries[msg]
	if e == nil || now.Sub(e.last) >= l.interval && e.count == 0 {
		l.entries[msg] = &entry{level: level, last: now}
		l.logger.Log(level, msg, fields...)
		return
	}
	e.count++
	e.fields = fields
	if e.timer == nil {
		e.timer = time.AfterFunc(e.last.Add(l.interval).Sub(now), func() { l.flush(msg) })
	}
}

// flush writes the repetitions of msg counted during the interval.
func (l *Limiter) flush(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[msg]
	if e == nil || e.count == 0 {
		return
	}
	l.logger.Log(e.level, msg, append(e.fields, zap.Int("repeated", e.count), zap.Duration("in_last", l.interval))...)
	l.entries[msg] = &entry{level: e.level, last: time.Now()}
}

// Stop writes the repetitions still counted and stops the timers.
func (l *Limiter) Stop() {
	l.mu.Lock()
	msgs := make([]string, 0, len(l.entries))
	for msg, e := range l.entries {
		if e.timer != nil {
			e.timer.Stop()
		}
		msgs = append(msgs, msg)
	}
	l.mu.Unlock()
	for _, msg := range msgs {
		l.flush(msg)
	}
}
