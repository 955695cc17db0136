package awscloudtrailreceiver

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

// journalEnv drives one folder's integrity state through the verifier as
// the receiver does (state change, sweep, conclude: findings out, state
// saved), over a storage that a test crashes.
type journalEnv struct {
	t        testing.TB
	v        *verifier
	f        *integrityFolder
	findings []string // "status key"
}

var journalPrefix = keylayout.Prefix{Root: "AWSLogs/", Account: "111111111111", Kind: keylayout.KindLog, Region: "us-east-1"}

// newJournalEnv starts a verifier on client and loads the folder.
func newJournalEnv(t testing.TB, client storage.Client) *journalEnv {
	t.Helper()
	tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	accept := consumerFunc(func(context.Context, plog.Logs) error { return nil })
	v := &verifier{cfg: IntegrityConfig{GracePeriod: time.Hour, Window: 48 * time.Hour}, client: client, logger: zap.NewNop(), tb: tb,
		pool: &readerPool{next: accept, consumeCtx: context.Background()}, folders: map[string]*integrityFolder{}}
	f, err := v.folder(context.Background(), "b", journalPrefix)
	require.NoError(t, err)
	return &journalEnv{t: t, v: v, f: f}
}

func journalFile(h, i int) (string, time.Time) {
	at := t0.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Second)
	return trailgen.Key("", "", journalPrefix.Account, "CloudTrail", journalPrefix.Region, at, fmt.Sprintf("f%05d", i)), at
}

func journalHash(s string) string { return fmt.Sprintf("%064x", len(s)*7919+int(s[len(s)-12])) }

// conclude sweeps and concludes out as the receiver does.
func (e *journalEnv) conclude(out integrity.Outcome) {
	out.Findings = append(out.Findings, e.f.state.Sweep(e.v.cfg.GracePeriod, e.v.cfg.Window).Findings...)
	for _, fd := range out.Findings {
		e.findings = append(e.findings, fd.Status+" "+fd.Key)
	}
	require.True(e.t, e.v.conclude(context.Background(), e.f, out))
}

// read reads a log file with the given hash.
func (e *journalEnv) read(key string, at time.Time, hash string) {
	e.f.mu.Lock()
	defer e.f.mu.Unlock()
	e.conclude(e.f.state.FileRead("b", key, at, hash))
}

// digest applies the verified digest of hour h listing files (key → hash).
func (e *journalEnv) digest(h int, files map[string]string) {
	e.f.mu.Lock()
	defer e.f.mu.Unlock()
	end := t0.Add(time.Duration(h+1) * time.Hour)
	key := trailgen.DigestKey("", "", journalPrefix.Account, journalPrefix.Region, "trail", journalPrefix.Region, end, false)
	d := integrity.Digest{Start: end.Add(-time.Hour), End: end}
	for k, hash := range files {
		d.LogFiles = append(d.LogFiles, integrity.LogFile{S3Bucket: "b", S3Object: k, HashValue: hash})
	}
	sort.Slice(d.LogFiles, func(i, j int) bool { return d.LogFiles[i].S3Object < d.LogFiles[j].S3Object })
	dk, ok := integrity.ParseDigestKey(key)
	require.True(e.t, ok)
	sd := integrity.Signed{Bucket: "b", Key: key, Digest: d}
	out, unseen := e.f.state.ApplyDigest(sd, dk)
	for _, lf := range unseen {
		e.f.state.Expect(lf, sd)
	}
	e.conclude(out)
}

// stateJSON is the folder's state in memory.
func (e *journalEnv) stateJSON() string {
	b, err := json.Marshal(e.f.state)
	require.NoError(e.t, err)
	return string(b)
}

// TestIntegritySaveCostPerFileRead: what a file read writes to storage
// does not grow with the folder's state (it was the whole state, encoded
// and written again at every read).
func TestIntegritySaveCostPerFileRead(t *testing.T) {
	const reads = 400
	perRead := func(stateFiles int) float64 {
		st := memstorage.New()
		e := newJournalEnv(t, st.Client(""))
		files := map[string]string{}
		for i := range stateFiles {
			k, at := journalFile(0, i)
			files[k] = journalHash(k)
			e.read(k, at, files[k])
		}
		e.digest(0, files) // every file verified, in the state for the window
		_, before := st.Written()
		for i := range reads {
			k, at := journalFile(1, i)
			e.read(k, at, journalHash(k))
		}
		_, after := st.Written()
		require.Empty(t, e.findings)
		return float64(after-before) / reads
	}
	small, large := perRead(100), perRead(4000)
	t.Logf("bytes written per file read: %.0f with 100 files in the state, %.0f with 4000", small, large)
	assert.Less(t, large, 2*small, "the bytes written per file read grow with the state")
}

// cutBatch is a storage whose batches are not atomic, crashed in the
// middle of one: the snapshot is written, the journal entries it includes
// are not deleted.
type cutBatch struct {
	storage.Client
	batches int
}

func (c *cutBatch) Batch(ctx context.Context, ops ...*storage.Operation) error {
	c.batches++
	for _, op := range ops {
		if op.Type == storage.Set {
			if err := c.Set(ctx, op.Key, op.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestIntegrityJournalCrash: the collector crashes after a file read's
// journal entry was written, or after a snapshot was written but before
// the journal entries it includes were deleted. The state loaded is the
// state saved, the injected file is reported unsigned and the modified
// one modified when their digests come, and nothing else is reported.
func TestIntegrityJournalCrash(t *testing.T) {
	for _, tc := range []struct {
		name string
		// files is the number of files read before the crash.
		files int
		cut   bool
	}{
		{name: "after a journal entry", files: 20},
		{name: "after a snapshot, its journal entries not deleted", files: 600, cut: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memstorage.New()
			cut := &cutBatch{Client: st.Client("")}
			e := newJournalEnv(t, cut)
			listed := map[string]string{}
			var injected, modified string
			for i := range tc.files {
				k, at := journalFile(0, i)
				hash := journalHash(k)
				switch i {
				case 3:
					injected = k
				case 5:
					modified = k
					listed[k] = hash
					hash = journalHash(k + "tampered")
				default:
					listed[k] = hash
				}
				e.read(k, at, hash)
				if tc.cut && cut.batches > 0 {
					break
				}
			}
			if tc.cut {
				require.Positive(t, cut.batches, "no snapshot was written")
				for k := range listed { // the files not read before the crash
					if _, ok := e.f.state.Seen["b/"+k]; !ok {
						delete(listed, k)
					}
				}
				listed[modified] = journalHash(modified)
			}
			saved := e.stateJSON()
			st.Crash()

			e = newJournalEnv(t, st.Client(""))
			require.JSONEq(t, saved, e.stateJSON(), "the state loaded differs from the state saved")
			entries := 0
			for k := range st.Data() {
				if n, ok := strings.CutPrefix(k, stateKey(e.f.id)+"/j/"); ok {
					entries++
					seq, err := strconv.ParseUint(n, 10, 64)
					require.NoError(t, err)
					assert.GreaterOrEqual(t, seq, e.f.journal.first, "journal entry %d, included in the snapshot, left in storage", seq)
				}
			}
			assert.Equal(t, int(e.f.journal.next-e.f.journal.first), entries, "journal entries in storage")
			require.Empty(t, e.findings)
			e.digest(0, listed)
			for h := 1; h <= 3; h++ {
				e.digest(h, nil)
			}
			sort.Strings(e.findings)
			assert.Equal(t, []string{"modified " + modified, "unsigned " + injected}, e.findings)
		})
	}
}

// TestIntegrityStateBeforeJournal: the state a receiver saved before the
// journal existed (the whole state under integrity/<folder>) loads as a
// snapshot, and the changes made next are kept after it.
func TestIntegrityStateBeforeJournal(t *testing.T) {
	st := memstorage.New()
	old := integrity.NewFolderState()
	k, at := journalFile(0, 1)
	old.FileRead("b", k, at, journalHash(k))
	b, err := json.Marshal(old)
	require.NoError(t, err)
	e := newJournalEnv(t, st.Client(""))
	require.NoError(t, st.Client("").Set(context.Background(), stateKey(e.f.id), b))

	e = newJournalEnv(t, st.Client(""))
	require.JSONEq(t, string(b), e.stateJSON())
	k2, at2 := journalFile(0, 2)
	e.read(k2, at2, journalHash(k2))
	saved := e.stateJSON()
	e = newJournalEnv(t, st.Client(""))
	require.JSONEq(t, saved, e.stateJSON())
	assert.Len(t, e.f.state.Seen, 2)
}
