package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"mitra/internal/platform/database"
)

// OptimizeArgs is the periodic database upkeep job.
type OptimizeArgs struct{}

// Kind names the job.
func (OptimizeArgs) Kind() string { return "db_optimize" }

// OptimizeWorker keeps SQLite's query planner statistics fresh (PRAGMA
// optimize, as SQLite recommends for long-running processes) and folds the
// WAL back into the database file. PostgreSQL's autovacuum does this on its
// own, so there the job does nothing.
type OptimizeWorker struct {
	river.WorkerDefaults[OptimizeArgs]
	DB *database.DB
}

// Work runs the upkeep.
func (w *OptimizeWorker) Work(ctx context.Context, _ *river.Job[OptimizeArgs]) error {
	if w.DB.Dialect() != database.SQLite {
		return nil
	}
	if _, err := w.DB.Exec(ctx, `PRAGMA optimize`); err != nil {
		return err
	}
	_, err := w.DB.Exec(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// Platform registers the platform's own workers and returns its periodic
// jobs.
func Platform(workers *river.Workers, db *database.DB) []*river.PeriodicJob {
	river.AddWorker(workers, &OptimizeWorker{DB: db})
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(6*time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return OptimizeArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "db_optimize"}),
	}
}
