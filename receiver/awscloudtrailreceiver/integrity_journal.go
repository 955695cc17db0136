package awscloudtrailreceiver // import "github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver"

// Integrity validation: how a folder's state is kept in storage. The
// state is a snapshot (key integrity/<folder>) and a journal of the changes
// made since (keys integrity/<folder>/j/<n>, n counting up from the
// snapshot's "journal"): a state change (a file read, a digest) writes one
// journal entry holding the entries it changed, so that saving costs the
// size of the change, not of the state. When the journal outgrows the
// snapshot, a new snapshot is written and the entries it includes are
// deleted, in one batch; the writes per change stay bounded on average and
// the keys by the size of the state. Loading reads the snapshot and
// replays the journal from its position until an entry is missing.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
)

// minCompaction is the journal size below which no snapshot is written
// (the state is small: its snapshot would cost as much as the journal).
const minCompaction = 64 << 10

// snapshot is what the key integrity/<folder> holds: the state and the
// journal position it includes (a state saved before the journal existed
// has none: its journal starts at 0).
type snapshot struct {
	*integrity.FolderState
	// Journal is the first journal entry not included.
	Journal uint64 `json:"journal,omitempty"`
	// Compacted is the first journal entry of the previous snapshot: the
	// entries from it to Journal are included and deleted with the
	// snapshot, but may remain where a batch is not atomic (they are
	// deleted again at load).
	Compacted uint64 `json:"compacted,omitempty"`
}

// journal is where a folder's state stands in storage.
type journal struct {
	// first is the first entry after the snapshot; next the next entry.
	first, next uint64
	// bytes is the size of the entries first to next; snapshotBytes of
	// the snapshot.
	bytes, snapshotBytes int
}

func stateKey(id string) string { return "integrity/" + id }

func journalKey(id string, n uint64) string {
	return "integrity/" + id + "/j/" + strconv.FormatUint(n, 10)
}

// load reads the saved integrity state of a log folder: the snapshot, then
// the journal entries after it.
func (v *verifier) load(ctx context.Context, id string) (*integrity.FolderState, journal, error) {
	snap := snapshot{FolderState: integrity.NewFolderState()}
	var j journal
	b, err := v.client.Get(ctx, stateKey(id))
	if err != nil {
		return nil, j, err
	}
	if b != nil {
		if err := json.Unmarshal(b, &snap); err != nil {
			return nil, j, fmt.Errorf("decode integrity state %s: %w", id, err)
		}
		j.snapshotBytes = len(b)
	}
	st := snap.FolderState
	j.first, j.next = snap.Journal, snap.Journal
	for ; ; j.next++ {
		e, err := v.client.Get(ctx, journalKey(id, j.next))
		if err != nil {
			return nil, j, err
		}
		if e == nil {
			break
		}
		var c integrity.Changes
		if err := json.Unmarshal(e, &c); err != nil {
			return nil, j, fmt.Errorf("decode integrity journal entry %s: %w", journalKey(id, j.next), err)
		}
		st.Apply(&c)
		j.bytes += len(e)
	}
	if snap.Compacted < snap.Journal {
		// Left by a snapshot whose batch was cut short.
		ops := make([]*storage.Operation, 0, snap.Journal-snap.Compacted)
		for n := snap.Compacted; n < snap.Journal; n++ {
			ops = append(ops, storage.DeleteOperation(journalKey(id, n)))
		}
		if err := v.client.Batch(ctx, ops...); err != nil {
			v.logger.Warn("Cannot delete integrity journal entries a snapshot includes", zap.String("folder", id), zap.Error(err))
		}
	}
	st.TrackChanges()
	return st, j, nil
}

// save saves the changes of a folder's state (f.mu held): one journal
// entry, and a snapshot when the journal outgrows the last one. A change
// that cannot be saved stays recorded and goes with the next entry.
func (v *verifier) save(ctx context.Context, f *integrityFolder) error {
	c := f.state.Changed()
	if c == nil {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := v.client.Set(ctx, journalKey(f.id, f.journal.next), b); err != nil {
		return err
	}
	f.state.ResetChanges()
	f.journal.next++
	f.journal.bytes += len(b)
	if f.journal.bytes < max(f.journal.snapshotBytes, minCompaction) {
		return nil
	}
	return v.compact(ctx, f)
}

// compact writes a snapshot of a folder's state and deletes the journal
// entries it includes, in one batch.
func (v *verifier) compact(ctx context.Context, f *integrityFolder) error {
	j := f.journal
	b, err := json.Marshal(snapshot{FolderState: f.state, Journal: j.next, Compacted: j.first})
	if err != nil {
		return err
	}
	ops := make([]*storage.Operation, 0, 1+j.next-j.first)
	ops = append(ops, storage.SetOperation(stateKey(f.id), b))
	for n := j.first; n < j.next; n++ {
		ops = append(ops, storage.DeleteOperation(journalKey(f.id, n)))
	}
	if err := v.client.Batch(ctx, ops...); err != nil {
		// The journal still holds every change: the next save tries again.
		return err
	}
	f.journal = journal{first: j.next, next: j.next, snapshotBytes: len(b)}
	return nil
}
