package awscloudtrailreceiver

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
)

// deliveryStatusHost records each status with whether the records were
// delivered when it was reported.
type deliveryStatusHost struct {
	component.Host
	delivered func() bool
	mu        sync.Mutex
	events    []deliveryStatus
}

type deliveryStatus struct {
	status    componentstatus.Status
	delivered bool
}

func (h *deliveryStatusHost) Report(ev *componentstatus.Event) {
	d := h.delivered()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, deliveryStatus{ev.Status(), d})
}

func (h *deliveryStatusHost) all() []deliveryStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]deliveryStatus(nil), h.events...)
}

// TestPollingStatusWhileObjectsFail: while an object fails and waits for
// its backoff, the receiver stays in recoverable error; it is OK again
// once the object is read.
func TestPollingStatusWhileObjectsFail(t *testing.T) {
	s3srv := startS3(t)
	keys, ids := putFolder(t, s3srv, "333333333333", t0, 1, 1)
	s3srv.FailGet(testBucket, keys[0], devstack.Fault{Status: 403, Code: "AccessDenied", Times: 4})
	sk := newSink()
	host := &deliveryStatusHost{Host: componenttest.NewNopHost(), delivered: func() bool { return hasAll(sk, ids) }}
	cfg := testConfig(s3srv.URL)
	h := startReceiver(t, cfg, sk, host)
	require.Eventually(t, func() bool {
		ev := host.all()
		return hasAll(sk, ids) && len(ev) > 0 && ev[len(ev)-1].status == componentstatus.StatusOK
	}, waitFor, 5*time.Millisecond)
	require.NoError(t, h.stop())
	assert.Equal(t, 4, s3srv.Gets(testBucket, keys[0])-1, "four failed attempts, then the read")
	for _, ev := range host.all() {
		if ev.status == componentstatus.StatusOK {
			assert.True(t, ev.delivered, "OK is reported only once the failing object is read: %v", host.all())
		}
	}
}
