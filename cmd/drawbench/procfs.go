package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// clockTick is the unit of utime and stime in /proc/PID/stat: USER_HZ,
// which Linux fixes at 100 for user space whatever the kernel's HZ.
const clockTick = 10 * time.Millisecond

// usage is what a process group has used so far.
type usage struct {
	cpu time.Duration // user + system, every process and thread
	rss int64         // resident bytes now, summed over the processes
}

// groupUsage sums the usage of every process in process group pgid: one
// process for a Go child, the master and its workers for nginx. Every
// child runs in its own group (Setpgid), whose ID is its PID.
func groupUsage(pgid int) (usage, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return usage{}, err
	}
	var u usage
	found := false
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended between the glob and the read
		}
		st, err := parseStat(b)
		if err != nil || st.pgrp != pgid {
			continue
		}
		found = true
		u.cpu += time.Duration(st.ticks) * clockTick
		u.rss += st.rssPages * int64(os.Getpagesize())
	}
	if !found {
		return usage{}, fmt.Errorf("no process in group %d", pgid)
	}
	return u, nil
}

// selfCPU is this process's CPU time, to the microsecond.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type procStat struct {
	ppid, pgrp int
	ticks      int64 // utime + stime
	rssPages   int64
}

// parseStat reads /proc/PID/stat (proc(5)). The command name, field 2,
// may hold spaces and parentheses, so fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("stat: no command name")
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, state
	field := func(n int) (int64, error) {
		if n-3 >= len(f) {
			return 0, fmt.Errorf("stat: %d fields", len(f)+2)
		}
		return strconv.ParseInt(string(f[n-3]), 10, 64)
	}
	ppid, err0 := field(4)
	pgrp, err1 := field(5)
	utime, err2 := field(14)
	stime, err3 := field(15)
	rss, err4 := field(24)
	for _, err := range []error{err0, err1, err2, err3, err4} {
		if err != nil {
			return procStat{}, err
		}
	}
	return procStat{ppid: int(ppid), pgrp: int(pgrp), ticks: utime + stime, rssPages: rss}, nil
}

// treeCPU is, by PID, the CPU time used so far by process root and its
// children (not theirs: a PostgreSQL server's processes are all the
// postmaster's own).
func treeCPU(root int) map[int]time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	out := map[int]time.Duration{}
	for _, path := range stats {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		st, err := parseStat(b)
		if err != nil || pid != root && st.ppid != root {
			continue
		}
		out[pid] = time.Duration(st.ticks) * clockTick
	}
	return out
}

// foreignCPU is, by PID, the CPU time used so far by every process
// outside the process groups in ours and this process: the machine's
// other work, which disturbs a round. It misses processes that both start
// and end within a round, so it is a floor. (Neither /proc/stat's totals,
// which a VM samples differently from the processes' own times, nor the
// times of ended children, which count a child's whole life when it ends,
// can be set against the processes' times without counting too much.)
func foreignCPU(ours map[int]bool) map[int]time.Duration {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	self := os.Getpid()
	out := make(map[int]time.Duration, len(stats))
	for _, path := range stats {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		st, err := parseStat(b)
		if err != nil || ours[st.pgrp] {
			continue
		}
		out[pid] = time.Duration(st.ticks) * clockTick
	}
	return out
}

// foreignDelta is what the processes of after used since before; a process
// new since before counts whole.
func foreignDelta(before, after map[int]time.Duration) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += max(0, t-before[pid])
	}
	return d
}

// stealTime is the time the hypervisor has given other machines while
// this one's cores wanted to run, since boot.
func stealTime() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || string(f[0]) != "cpu" {
		return 0
	}
	steal, _ := strconv.ParseInt(string(f[8]), 10, 64)
	return time.Duration(steal) * clockTick
}

// loadAverage is /proc/loadavg's first three fields: how busy the
// machine was besides the benchmark.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := bytes.Fields(b)
	if len(f) < 3 {
		return "unknown"
	}
	return string(bytes.Join(f[:3], []byte(" ")))
}

// cpuModel is the first model name in /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range bytes.Lines(b) {
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && string(bytes.TrimSpace(k)) == "model name" {
			return string(bytes.TrimSpace(v))
		}
	}
	return "unknown"
}
