package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

var tableNames = map[string]string{
	"gunzip":             "gunzip, klauspost (1 core, floor)",
	"stdlib_split":       rowStdlib,
	"pdata_floor":        "gunzip + the pdata of body json alone, no JSON work (1 core, ceiling of json)",
	"receiver_body=map":  "receiver reader, body map (1 core)",
	"receiver_body=json": "receiver reader, body json (1 core)",
	"receiver_body=none": "receiver reader, body none (1 core)",
}

// readerRows runs objectreader's BenchmarkTable on the files of dir with
// GOMAXPROCS=1 and reads its metrics.
func readerRows(dir string) ([]row, error) {
	goBin := os.Getenv("GO")
	if goBin == "" {
		goBin = "go"
	}
	// Each row is the best of 5 runs: the machine is shared, and the
	// fastest run is the one least disturbed.
	cmd := exec.Command(goBin, "test", "-run", "^$", "-bench", "^BenchmarkTable$", "-benchtime", "2x", "-count", "5",
		"./receiver/awscloudtrailreceiver/internal/objectreader/")
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "BENCH_FILES="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("BenchmarkTable: %w\n%s", err, out)
	}
	var rows []row
	best := map[string]int{} // row name → index in rows
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "BenchmarkTable/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkTable/")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // a -N suffix when GOMAXPROCS > 1
		}
		r := row{name: tableNames[name]}
		for i := 2; i+1 < len(f); i += 2 {
			v, _ := strconv.ParseFloat(f[i], 64)
			switch f[i+1] {
			case "records/cpu-s":
				r.rate = v
			case "allocs/record":
				r.allocs = v
			}
		}
		if r.name == "" || r.rate == 0 {
			return nil, fmt.Errorf("BenchmarkTable: cannot read %q", line)
		}
		if i, ok := best[r.name]; !ok {
			best[r.name] = len(rows)
			rows = append(rows, r)
		} else if r.rate > rows[i].rate {
			rows[i] = r
		}
	}
	if len(rows) != len(tableNames) {
		return nil, fmt.Errorf("BenchmarkTable printed %d rows, want %d:\n%s", len(rows), len(tableNames), out)
	}
	return rows, nil
}
