package main

import (
	"fmt"
	"strconv"
)

// row is one line of the table.
type row struct {
	name   string
	rate   float64 // records/s
	allocs float64 // per record; 0 when not measured
	rss    int64   // kB; 0 when not measured
	// cpuRate is records per second of the collector process's own CPU
	// time (end-to-end rows); 0 when not measured.
	cpuRate float64
	// serversCPU is the CPU seconds per record of the bench process (the
	// S3 server and the intake) during an end-to-end row; 0 otherwise.
	serversCPU float64
}

// printTable prints rows as a markdown table, each rate also as a ratio
// of the stdlib split's; bytesPerRecord is the uncompressed size of a
// record.
func printTable(rows []row, bytesPerRecord float64) {
	var base float64
	for _, r := range rows {
		if r.name == rowStdlib {
			base = r.rate
		}
	}
	fmt.Println()
	fmt.Println("| path | records/s | MB/s | allocs/record | × stdlib split | records per collector CPU-s | peak RSS |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		allocs, rss, cpu := "", "", ""
		if r.allocs > 0 {
			allocs = fmt.Sprintf("%.1f", r.allocs)
		}
		if r.rss > 0 {
			rss = fmt.Sprintf("%.0f MB", float64(r.rss)/1024)
		}
		if r.cpuRate > 0 {
			cpu = thousands(r.cpuRate)
		}
		fmt.Printf("| %s | %s | %.1f | %s | %.2f× | %s | %s |\n", r.name, thousands(r.rate),
			r.rate*bytesPerRecord/1e6, allocs, r.rate/base, cpu, rss)
	}
	// What the end-to-end rows share: the S3 server and the intake run on
	// the same cores as the collector.
	fmt.Println()
	for _, r := range rows {
		if r.cpuRate > 0 {
			fmt.Printf("%s: collector %.1f µs CPU per record, S3 server + intake %.1f µs\n",
				r.name, 1e6/r.cpuRate, r.serversCPU*1e6)
		}
	}
}

func thousands(v float64) string {
	s := strconv.FormatInt(int64(v+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
