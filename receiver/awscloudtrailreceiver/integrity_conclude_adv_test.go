package awscloudtrailreceiver

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/memstorage"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/integrity"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/keylayout"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/receiver/awscloudtrailreceiver/internal/metadata"
)

// TestAdvConcludeFailureNotSavedByAnother: a digest's findings cannot be
// delivered (the receiver stops while the next consumer refuses them), so
// its state change must not be saved. A reader that got the same folder
// before and saves it next (a file read with no finding) must not save
// that change with it: the digest would be "processed" after a restart and
// its finding lost.
func TestAdvConcludeFailureNotSavedByAnother(t *testing.T) {
	client := memstorage.NewClient()
	refuse := consumerFunc(func(context.Context, plog.Logs) error { return errors.New("downstream busy") })
	newV := func() *verifier {
		tb, err := metadata.NewTelemetryBuilder(componenttest.NewNopTelemetrySettings())
		require.NoError(t, err)
		return &verifier{cfg: IntegrityConfig{GracePeriod: 2 * time.Hour, Window: 48 * time.Hour}, client: client, logger: zap.NewNop(), tb: tb,
			pool: &readerPool{next: refuse, consumeCtx: context.Background()}, folders: map[string]*integrityFolder{}}
	}
	v := newV()
	p := keylayout.Prefix{Root: "AWSLogs/", Account: "111111111111", Kind: keylayout.KindLog, Region: "us-east-1"}
	ctx := context.Background()
	fDigest, err := v.folder(ctx, "b", p)
	require.NoError(t, err)
	fReader, err := v.folder(ctx, "b", p) // a reader got the folder too
	require.NoError(t, err)

	// The digest worker: a bad signature, its finding not delivered (stopping).
	stopping, cancel := context.WithCancel(ctx)
	cancel()
	fDigest.mu.Lock()
	fDigest.state.MarkInvalid("digest-key", "etag", t0, t0.Add(time.Hour), nil)
	saved := v.conclude(stopping, fDigest, integrity.Outcome{Findings: []integrity.Finding{{Status: integrity.StatusBadSignature, Bucket: "b", Key: "digest-key"}}})
	fDigest.mu.Unlock()
	require.False(t, saved)

	// The reader, next: a file read, no finding, state saved.
	fReader.mu.Lock()
	out := fReader.state.FileRead("b", "some-file", t0, "hash")
	require.True(t, v.conclude(ctx, fReader, out))
	fReader.mu.Unlock()

	// After a restart the digest must be processed again (its finding is owed).
	f2, err := newV().folder(ctx, "b", p)
	require.NoError(t, err)
	require.False(t, f2.state.Processed("digest-key", "etag"), "the digest whose finding was never delivered was saved as processed: the finding is lost")
}
