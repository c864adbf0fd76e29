package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"mitra/internal/platform/database"
	"mitra/internal/platform/jobs"
)

// registerCollectors adds the runtime, process, connection pool and job
// queue collectors to the registry.
func (s *Server) registerCollectors() {
	reg := s.deps.Registry
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.deps.DB != nil {
		reg.MustRegister(&poolCollector{db: s.deps.DB})
		if s.deps.Jobs != nil {
			reg.MustRegister(&jobsCollector{db: s.deps.DB})
		}
	}
}

var (
	poolMaxDesc   = prometheus.NewDesc("mitra_db_pool_max_connections", "Maximum open connections of the pool.", []string{"pool"}, nil)
	poolOpenDesc  = prometheus.NewDesc("mitra_db_pool_open_connections", "Open connections of the pool.", []string{"pool"}, nil)
	poolInUseDesc = prometheus.NewDesc("mitra_db_pool_in_use_connections", "Connections in use.", []string{"pool"}, nil)
	poolIdleDesc  = prometheus.NewDesc("mitra_db_pool_idle_connections", "Idle connections.", []string{"pool"}, nil)
	poolWaitDesc  = prometheus.NewDesc("mitra_db_pool_waits_total", "Acquisitions that had to wait for a connection.", []string{"pool"}, nil)
	poolWaitSecs  = prometheus.NewDesc("mitra_db_pool_wait_seconds_total", "Time spent waiting for a connection.", []string{"pool"}, nil)
	jobsDesc      = prometheus.NewDesc("mitra_jobs", "Jobs in the queue by state.", []string{"state"}, nil)
)

type poolCollector struct{ db *database.DB }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolMaxDesc, poolOpenDesc, poolInUseDesc, poolIdleDesc, poolWaitDesc, poolWaitSecs} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.db.PoolStats() {
		ch <- prometheus.MustNewConstMetric(poolMaxDesc, prometheus.GaugeValue, float64(p.MaxOpen), p.Name)
		ch <- prometheus.MustNewConstMetric(poolOpenDesc, prometheus.GaugeValue, float64(p.Open), p.Name)
		ch <- prometheus.MustNewConstMetric(poolInUseDesc, prometheus.GaugeValue, float64(p.InUse), p.Name)
		ch <- prometheus.MustNewConstMetric(poolIdleDesc, prometheus.GaugeValue, float64(p.Idle), p.Name)
		ch <- prometheus.MustNewConstMetric(poolWaitDesc, prometheus.CounterValue, float64(p.WaitCount), p.Name)
		ch <- prometheus.MustNewConstMetric(poolWaitSecs, prometheus.CounterValue, p.WaitDuration.Seconds(), p.Name)
	}
}

type jobsCollector struct{ db *database.DB }

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := jobs.Backlog(ctx, c.db)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	for state, n := range map[string]int64{"available": b.Available, "scheduled": b.Scheduled, "retryable": b.Retryable, "running": b.Running, "discarded": b.Discarded} {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), state)
	}
}
