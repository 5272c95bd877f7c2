package bench

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPU says where processor time went during a measurement. On a shared
// machine a slow run can be a busy neighbour rather than a slow server; the
// difference between the machine's busy time and this process's is the
// neighbour (plus the server, when it runs in another process).
type CPU struct {
	// ProcessSeconds is this process's user and system time: the load
	// generator, and the server too when it runs in-process.
	ProcessSeconds float64 `json:"processSeconds"`
	// MachineBusySeconds is every process's time, from /proc/stat; -1 where
	// that is not available.
	MachineBusySeconds float64 `json:"machineBusySeconds"`
	// CapacitySeconds is wall time times the machine's CPUs.
	CapacitySeconds float64 `json:"capacitySeconds"`
}

type cpuMark struct {
	at      time.Time
	process time.Duration
	busy    float64 // seconds; -1 unknown
}

func markCPU() cpuMark {
	return cpuMark{at: time.Now(), process: processCPU(), busy: machineBusy()}
}

func (m cpuMark) since(cpus int) CPU {
	now := markCPU()
	c := CPU{
		ProcessSeconds:     (now.process - m.process).Seconds(),
		MachineBusySeconds: -1,
		CapacitySeconds:    now.at.Sub(m.at).Seconds() * float64(cpus),
	}
	if m.busy >= 0 && now.busy >= 0 {
		c.MachineBusySeconds = now.busy - m.busy
	}
	return c
}

// machineBusy is the non-idle time of all CPUs since boot, in seconds.
func machineBusy() float64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return -1
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 6 || fields[0] != "cpu" {
		return -1
	}
	var busy float64
	for i, s := range fields[1:] {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return -1
		}
		// idle and iowait are the 4th and 5th columns; guest time is
		// already counted in user, so stop before it.
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += v
	}
	// /proc/stat counts in USER_HZ, 100 on every Linux architecture Go
	// supports.
	return busy / 100
}
