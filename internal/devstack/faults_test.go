package devstack

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"
)

func get(t *testing.T, url string) (int, []byte, error) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func TestS3FaultsThroughGate(t *testing.T) {
	s3, err := StartS3("")
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	if err := s3.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("0123456789"), 10_000)
	if err := s3.Put("b", "k", body); err != nil {
		t.Fatal(err)
	}
	f := NewS3Faults(1)
	g := NewGate(f.Wrap(Proxy(s3.URL)))
	defer g.Close()

	if st, b, err := get(t, g.URL+"/b/k"); err != nil || st != 200 || !bytes.Equal(b, body) {
		t.Fatalf("no fault: status %d, %d bytes, %v", st, len(b), err)
	}
	f.SetRates(S3FaultRates{Cut: 1})
	if _, b, err := get(t, g.URL+"/b/k"); err == nil || len(b) >= len(body) {
		t.Fatalf("cut: want a read error after part of the body, got %d bytes, %v", len(b), err)
	}
	f.SetRates(S3FaultRates{Error: 1})
	if st, _, _ := get(t, g.URL+"/b/k"); st != 500 && st != 503 {
		t.Fatalf("error: status %d", st)
	}
	f.Clear()
	f.Deny("b", "k")
	if st, b, _ := get(t, g.URL+"/b/k"); st != 403 || !bytes.Contains(b, []byte("AccessDenied")) {
		t.Fatalf("denied: status %d %s", st, b)
	}
	f.Clear()
	if st, _, err := get(t, g.URL+"/b/k"); err != nil || st != 200 {
		t.Fatalf("cleared: status %d, %v", st, err)
	}
	c := f.Counts()
	if c[FaultS3Cut] != 1 || c[FaultS3Internal]+c[FaultS3SlowDown] != 1 || c[FaultAccessDenied] != 1 {
		t.Fatalf("counts %v", c)
	}
	g.Kill()
	if _, _, err := get(t, g.URL+"/b/k"); err == nil {
		t.Fatal("a killed gate answered")
	}
}

func TestIntakeFaultsSlowAndTooLarge(t *testing.T) {
	in, err := StartIntake("", "k")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f := NewIntakeFaults(1)
	g := NewGate(f.Wrap(Proxy(in.URL)))
	defer g.Close()
	post := func(body string, timeout time.Duration) (int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL+"/api/v2/logs", bytes.NewReader([]byte(body)))
		req.Header.Set("DD-API-KEY", "k")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("DD-EVP-ORIGIN", "test")
		req.Header.Set("DD-EVP-ORIGIN-VERSION", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	// The requests that must be answered may take their time on a loaded
	// machine; the slow one is held far longer than its client waits, so
	// that it cannot reach the intake before the check below.
	f.SetRates(IntakeFaultRates{TooLarge: 1})
	if st, err := post(`[{"a":1},{"a":2}]`, 30*time.Second); st != 413 {
		t.Fatalf("two entries: %d %v", st, err)
	}
	if st, err := post(`[{"a":1}]`, 30*time.Second); st != 202 {
		t.Fatalf("one entry is spared: %d %v", st, err)
	}
	f.SetRates(IntakeFaultRates{Slow: 1, SlowDelay: 10 * time.Second})
	if _, err := post(`[{"a":3}]`, 100*time.Millisecond); err == nil {
		t.Fatal("a slow answer should time out")
	}
	f.Clear()
	if n := len(in.Logs()); n != 1 {
		t.Fatalf("the intake accepted %d entries, want 1 (the timed-out request never reached it)", n)
	}
}
