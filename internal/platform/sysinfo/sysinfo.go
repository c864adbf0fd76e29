// Package sysinfo reports the figures of the machine and the process that
// the health endpoints show: CPU, memory, disk, goroutines and uptime.
package sysinfo

import (
	"context"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"
	"github.com/shirou/gopsutil/v4/process"
)

// Snapshot is one reading.
type Snapshot struct {
	CPU           CPU     `json:"cpu"`
	Memory        Memory  `json:"memory"`
	Disk          *Disk   `json:"disk,omitempty"`
	Goroutines    int     `json:"goroutines" example:"42"`
	UptimeSeconds float64 `json:"uptime_seconds" example:"3600.5"`
	GoVersion     string  `json:"go_version" example:"go1.26.8"`
}

// CPU usage since the previous reading (or since start for the first).
type CPU struct {
	Cores          int     `json:"cores" example:"2"`
	SystemPercent  float64 `json:"system_percent" example:"12.5" doc:"Whole machine, 0-100"`
	ProcessPercent float64 `json:"process_percent" example:"3.1" doc:"This process, 0-100 per core times cores"`
}

// Memory of the machine and of the process.
type Memory struct {
	SystemTotalBytes  uint64  `json:"system_total_bytes"`
	SystemUsedBytes   uint64  `json:"system_used_bytes"`
	SystemUsedPercent float64 `json:"system_used_percent"`
	ProcessRSSBytes   uint64  `json:"process_rss_bytes"`
	GoHeapBytes       uint64  `json:"go_heap_bytes"`
	GoSysBytes        uint64  `json:"go_sys_bytes"`
}

// Disk is the usage of the file system holding the data directory.
type Disk struct {
	Path        string  `json:"path"`
	TotalBytes  uint64  `json:"total_bytes"`
	FreeBytes   uint64  `json:"free_bytes"`
	UsedPercent float64 `json:"used_percent"`
}

// Sampler takes snapshots, keeping the previous CPU reading so each
// snapshot reports usage over the interval since the last one.
type Sampler struct {
	start   time.Time
	dataDir string
	proc    *process.Process

	mu       sync.Mutex
	lastSys  cpu.TimesStat
	lastProc float64
	lastAt   time.Time
}

// NewSampler returns a sampler for this process; dataDir is the directory
// whose file system is reported ("" for none).
func NewSampler(dataDir string) *Sampler {
	s := &Sampler{start: time.Now(), dataDir: dataDir}
	s.proc, _ = process.NewProcess(int32(os.Getpid()))
	s.lastAt = s.start
	if t, err := cpu.Times(false); err == nil && len(t) > 0 {
		s.lastSys = t[0]
	}
	if s.proc != nil {
		if t, err := s.proc.Times(); err == nil {
			s.lastProc = t.User + t.System
		}
	}
	return s
}

// Uptime is the time since the sampler (the server) started.
func (s *Sampler) Uptime() time.Duration { return time.Since(s.start) }

// Snapshot reads the figures now.
func (s *Sampler) Snapshot(ctx context.Context) Snapshot {
	snap := Snapshot{
		Goroutines:    runtime.NumGoroutine(),
		UptimeSeconds: time.Since(s.start).Seconds(),
		GoVersion:     runtime.Version(),
	}
	snap.CPU = s.cpu(ctx)
	if vm, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		snap.Memory.SystemTotalBytes, snap.Memory.SystemUsedBytes, snap.Memory.SystemUsedPercent = vm.Total, vm.Used, round(vm.UsedPercent)
	}
	if s.proc != nil {
		if mi, err := s.proc.MemoryInfoWithContext(ctx); err == nil {
			snap.Memory.ProcessRSSBytes = mi.RSS
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	snap.Memory.GoHeapBytes, snap.Memory.GoSysBytes = ms.HeapAlloc, ms.Sys
	if s.dataDir != "" {
		if u, err := disk.UsageWithContext(ctx, s.dataDir); err == nil {
			snap.Disk = &Disk{Path: s.dataDir, TotalBytes: u.Total, FreeBytes: u.Free, UsedPercent: round(u.UsedPercent)}
		}
	}
	return snap
}

func (s *Sampler) cpu(ctx context.Context) CPU {
	c := CPU{Cores: runtime.NumCPU()}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if t, err := cpu.TimesWithContext(ctx, false); err == nil && len(t) > 0 {
		cur := t[0]
		busy := (cur.Total() - cur.Idle - cur.Iowait) - (s.lastSys.Total() - s.lastSys.Idle - s.lastSys.Iowait)
		total := cur.Total() - s.lastSys.Total()
		if total > 0 {
			c.SystemPercent = round(100 * busy / total)
		}
		s.lastSys = cur
	}
	if s.proc != nil {
		if t, err := s.proc.TimesWithContext(ctx); err == nil {
			used := t.User + t.System
			if wall := now.Sub(s.lastAt).Seconds(); wall > 0 {
				c.ProcessPercent = round(100 * (used - s.lastProc) / wall)
			}
			s.lastProc = used
		}
	}
	s.lastAt = now
	return c
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
