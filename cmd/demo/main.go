// Command demo runs otelcol-cloudtrail against a local stack: an S3 server
// seeded with CloudTrail files and a Datadog intake emulator. It prints
// what the collector read and what "Datadog" received, then keeps running
// until Ctrl-C. It is what `make run` starts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/devstack"
	"github.com/otelcol-cloudtrail/otelcol-cloudtrail/internal/trailgen"
)

const apiKey = "demo-api-key-0000000000000000000"

// HealthFeatureGate makes the health_check extension report the components'
// status (the v2 configuration under http:) instead of a constant 200.
const HealthFeatureGate = "--feature-gates=+extension.healthcheck.useComponentStatus"

func main() {
	collector := flag.String("collector", "./dist/otelcol-cloudtrail", "the collector binary built by ocb")
	config := flag.String("config", "testdata/demo/config.yaml", "the collector configuration")
	logFile := flag.String("log", "dist/demo-collector.log", "where the collector's output goes")
	exitAfter := flag.Bool("exit-after-summary", false, "stop after printing the summary (for scripts)")
	timeout := flag.Duration("timeout", 2*time.Minute, "how long to wait for every record to arrive")
	flag.Parse()
	if err := run(*collector, *config, *logFile, *exitAfter, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(collector, config, logFile string, exitAfter bool, timeout time.Duration) error {
	defer takeTerminal()()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	s3srv, err := devstack.StartS3("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer s3srv.Close()
	intake, err := devstack.StartIntake("127.0.0.1:0", apiKey)
	if err != nil {
		return err
	}
	defer intake.Close()

	now := time.Now().UTC()
	// The trail has log file validation: its digests are signed with a
	// key the CloudTrail emulator serves (ListPublicKeys), so that
	// integrity.enabled can be tried on the demo.
	key, err := trailgen.NewKeyPair(now.Add(-48*time.Hour), time.Time{})
	if err != nil {
		return err
	}
	s3srv.AWS().AddPublicKey(key)
	tree, err := devstack.SeedTrailTree(s3srv, devstack.TreeSpec{
		Bucket: "demo-trail-bucket", Org: "o-demo123456", Accounts: []string{"111111111111", "222222222222"},
		Regions: []string{"us-east-1", "eu-west-1"}, Files: 6, End: now.Add(-2 * time.Minute),
		RecordsPerFile: 25, Insights: true, Seed: uint64(now.Unix()),
		Keys: []*trailgen.KeyPair{key}, Trail: "demo-trail",
	})
	if err != nil {
		return err
	}
	fmt.Printf("Local stack: S3 %s (bucket %s, %d CloudTrail files, %d records, organization layout o-demo123456)\n",
		s3srv.URL, tree.Bucket, tree.Objects, len(tree.IDs))
	fmt.Printf("             Datadog intake emulator %s\n", intake.URL)

	storage, err := makeStorage()
	if err != nil {
		return err
	}
	defer os.RemoveAll(storage)
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		return err
	}
	out, err := os.Create(logFile)
	if err != nil {
		return err
	}
	defer out.Close()
	healthPort, err := devstack.FreePort()
	if err != nil {
		return err
	}
	col, err := devstack.StartCollector(collector, config, map[string]string{
		"DEMO_S3_ENDPOINT": s3srv.URL, "DEMO_DD_ENDPOINT": intake.URL, "DD_API_KEY": apiKey,
		"DEMO_START_TIME": now.Add(-2 * time.Hour).Format(time.RFC3339), "DEMO_STORAGE_DIR": storage,
		"AWS_ACCESS_KEY_ID": "demo", "AWS_SECRET_ACCESS_KEY": "demo", "AWS_EC2_METADATA_DISABLED": "true",
		"DEMO_HEALTH_PORT": strconv.Itoa(healthPort),
	}, out, HealthFeatureGate)
	if err != nil {
		return err
	}
	defer func() { _ = col.Stop(syscall.SIGTERM, 30*time.Second) }()
	fmt.Printf("Collector:   %s --config %s (pid %d, output in %s)\n", collector, config, col.Pid(), logFile)
	fmt.Printf("             metrics http://127.0.0.1:%d/metrics, health http://127.0.0.1:%d/health/status\n\nWaiting for the records to reach the intake", col.MetricsPort, healthPort)

	deadline := time.Now().Add(timeout)
	for len(intake.Logs()) < len(tree.IDs) {
		select {
		case <-ctx.Done():
			fmt.Println()
			return nil
		case <-col.Done():
			return fmt.Errorf("the collector exited early; see %s", logFile)
		case <-time.After(500 * time.Millisecond):
			fmt.Print(".")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d records reached the intake in %s; see %s", len(intake.Logs()), len(tree.IDs), timeout, logFile)
		}
	}
	time.Sleep(2 * time.Second) // let events and metrics settle
	fmt.Println()
	if err := summary(ctx, col, intake, len(tree.IDs)); err != nil {
		return err
	}
	if exitAfter {
		return col.Stop(syscall.SIGTERM, 30*time.Second)
	}
	fmt.Println("\nThe collector keeps polling the bucket. Press Ctrl-C to stop.")
	select {
	case <-ctx.Done():
	case <-col.Done():
		return errors.New("the collector exited; see " + logFile)
	}
	fmt.Println("\nStopping.")
	return col.Stop(syscall.SIGTERM, 30*time.Second)
}

func summary(ctx context.Context, col *devstack.Collector, intake *devstack.Intake, records int) error {
	metric := func(name string, labels ...string) float64 {
		v, _ := col.Metrics(ctx, name, labels...)
		return v
	}
	fmt.Println("Summary")
	fmt.Printf("  objects read              %6.0f\n", metric("otelcol_receiver_awscloudtrail_objects_read"))
	fmt.Printf("  records (normal priority) %6.0f\n", metric("otelcol_receiver_awscloudtrail_records", `priority="normal"`))
	fmt.Printf("  records (low priority)    %6.0f\n", metric("otelcol_receiver_awscloudtrail_records", `priority="low"`))
	fmt.Printf("  logs accepted by intake   %6d (of %d records)\n", len(intake.Logs()), records)
	events := intake.Events()
	fmt.Printf("  events accepted by intake %6d (read-only calls make no event)\n", len(events))
	// integrity_findings is served (at 0) from the start when integrity is on.
	if _, n, _ := col.Series(ctx, "otelcol_receiver_awscloudtrail_integrity_findings"); n > 0 {
		if d := metric("otelcol_receiver_awscloudtrail_integrity_digests"); d > 0 {
			fmt.Printf("  integrity: %.0f digests checked, %.0f log files verified, %.0f findings\n", d,
				metric("otelcol_receiver_awscloudtrail_integrity_files_verified"), metric("otelcol_receiver_awscloudtrail_integrity_findings"))
		} else {
			fmt.Println("  integrity: on; the digests are checked a poll after their log files (see /metrics)")
		}
	}
	// Normal priority first, failed calls first.
	rank := func(e devstack.Event) int {
		r := 0
		if e.Priority != "normal" {
			r += 2
		}
		if e.AlertType != "error" {
			r++
		}
		return r
	}
	sort.SliceStable(events, func(i, j int) bool { return rank(events[i]) < rank(events[j]) })
	fmt.Println("\nExample events")
	shown := map[string]bool{}
	for _, ev := range events {
		k := ev.Priority + ev.AlertType
		if shown[k] || len(shown) == 3 {
			continue
		}
		shown[k] = true
		fmt.Printf("  [%s, %s] %s\n      tags: %s\n", ev.Priority, ev.AlertType, ev.Title, strings.Join(ev.Tags, ","))
	}
	return nil
}
