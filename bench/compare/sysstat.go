package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The machine may be shared (tests and fuzzers running beside the
// benchmark). These readings of /proc say how much: the CPU the registries
// spent, the bytes the target registry wrote to storage, and the CPU that
// neither the tools nor the registries spent during a run (someone else's).

// clockTick is USER_HZ, the unit of /proc/stat and /proc/PID/stat times; it
// is 100 on every Linux architecture Go supports.
const clockTick = 100

// machineBusy is the CPU time (all CPUs) spent in anything but idle and
// iowait since boot.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i := 1; i < len(f) && i <= 8; i++ {
		if i == 4 || i == 5 {
			continue
		}
		v, _ := strconv.ParseInt(f[i], 10, 64)
		busy += v
	}
	return ticks(busy)
}

// machineIdle samples the fraction of the machine's CPU that is idle over d.
func machineIdle(d time.Duration) float64 {
	b0 := machineBusy()
	time.Sleep(d)
	busy := machineBusy() - b0
	total := d * time.Duration(max(1, runtime.NumCPU()))
	return max(0, 1-float64(busy)/float64(total))
}

// procCPU is the user+system time of a running process.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, ok := strings.Cut(string(b), ") ") // the command name may hold spaces
	if !ok {
		return 0
	}
	f := strings.Fields(rest) // f[0] is field 3 (state); utime, stime are fields 14, 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return ticks(u + s)
}

// procWriteBytes is what a process has caused to be written to storage.
func procWriteBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "write_bytes: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / clockTick }

// sysSnap is what the harness reads before and after a timed run.
type sysSnap struct {
	busy, srcCPU, tgtCPU time.Duration
	self                 time.Duration // the harness: its proxies and toxiproxy
	tgtWrites            int64
}

func (h *harness) sysSnapshot(rc *runCtx) sysSnap {
	return sysSnap{
		busy:      machineBusy(),
		srcCPU:    procCPU(h.src.cmd.Process.Pid),
		tgtCPU:    procCPU(rc.tgt.cmd.Process.Pid),
		self:      procCPU(os.Getpid()),
		tgtWrites: procWriteBytes(rc.tgt.cmd.Process.Pid),
	}
}

// settle waits, at most -idle-wait, until at least -idle of the machine's
// CPU is idle, so a run does not start in the middle of someone else's
// burst. It returns the idle fraction it last saw.
func (h *harness) settle() float64 {
	deadline := time.Now().Add(h.opt.idleWait)
	for {
		idle := machineIdle(time.Second)
		if idle >= h.opt.idle || time.Now().After(deadline) {
			return idle
		}
	}
}
