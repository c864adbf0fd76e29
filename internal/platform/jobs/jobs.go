// Package jobs wires the durable job queue (River) to Mitra's database:
// riversqlite on SQLite and riverpgxv5 on PostgreSQL, the same River
// version for both. Jobs are rows in the database, so they survive
// restarts, retry with backoff, and run once across nodes; a job inserted
// with InsertTx exists only if the caller's transaction commits.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"mitra/internal/platform/database"
	"mitra/internal/platform/logging"
)

// Options configure New.
type Options struct {
	// Workers holds every job worker. Register workers with river.AddWorker
	// before calling New.
	Workers *river.Workers
	// Periodic jobs, scheduled by the elected leader only.
	Periodic []*river.PeriodicJob
	// MaxWorkers is the number of jobs worked at once (default 10).
	MaxWorkers int
	// PollInterval is how often the queue looks for new jobs when the
	// database cannot notify (SQLite). Default 500ms.
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Queue is the job queue of one node.
type Queue struct {
	db     *database.DB
	sqlite *river.Client[*sql.Tx]
	pg     *river.Client[pgx.Tx]
}

// New returns a queue on db. It starts nothing: call Start.
func New(db *database.DB, o Options) (*Queue, error) {
	if o.Workers == nil {
		return nil, errors.New("jobs: no workers")
	}
	if o.MaxWorkers <= 0 {
		o.MaxWorkers = 10
	}
	var middleware []rivertype.Middleware
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	} else {
		// Workers log through logging.FromContext: give them the node's
		// logger, with the job's kind and id.
		base := o.Logger
		middleware = append(middleware, river.WorkerMiddlewareFunc(func(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
			return doInner(logging.WithLogger(ctx, base.With("job", job.Kind, "job_id", job.ID)))
		}))
	}
	cfg := &river.Config{
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.MaxWorkers}},
		Workers:      o.Workers,
		PeriodicJobs: o.Periodic,
		Logger:       o.Logger,
		MaxAttempts:  10,
		Middleware:   middleware,
	}
	q := &Queue{db: db}
	var err error
	if db.Dialect() == database.Postgres {
		q.pg, err = river.NewClient(riverpgxv5.New(db.PgxPool()), cfg)
	} else {
		cfg.PollOnly = true
		// River's index names are PostgreSQL's; SQLite needs no reindexing.
		cfg.ReindexerIndexNames = []string{}
		cfg.FetchPollInterval = o.PollInterval
		if cfg.FetchPollInterval <= 0 {
			cfg.FetchPollInterval = 500 * time.Millisecond
		}
		if cfg.FetchPollInterval < river.FetchCooldownDefault {
			cfg.FetchCooldown = cfg.FetchPollInterval
		}
		q.sqlite, err = river.NewClient(riversqlite.New(db.SQL()), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return q, nil
}

// Start starts the workers (and, on the leader, periodic jobs and queue
// maintenance). It returns once they run; they stop with Stop.
func (q *Queue) Start(ctx context.Context) error {
	if q.pg != nil {
		return q.pg.Start(ctx)
	}
	return q.sqlite.Start(ctx)
}

// Stop stops fetching new jobs and waits for running ones until ctx ends;
// then it cancels them (they will be retried after a restart).
func (q *Queue) Stop(ctx context.Context) error {
	var err error
	if q.pg != nil {
		err = q.pg.Stop(ctx)
	} else {
		err = q.sqlite.Stop(ctx)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if q.pg != nil {
			return q.pg.StopAndCancel(cctx)
		}
		return q.sqlite.StopAndCancel(cctx)
	}
	return err
}

// Insert enqueues a job outside any transaction.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	var res *rivertype.JobInsertResult
	var err error
	if q.pg != nil {
		res, err = q.pg.Insert(ctx, args, opts)
	} else {
		res, err = q.sqlite.Insert(ctx, args, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res.Job, nil
}

// InsertTx enqueues a job inside tx: it becomes visible to workers when tx
// commits and vanishes if tx rolls back.
func (q *Queue) InsertTx(ctx context.Context, tx *database.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobRow, error) {
	var res *rivertype.JobInsertResult
	var err error
	if q.pg != nil {
		res, err = q.pg.InsertTx(ctx, tx.PgxTx(), args, opts)
	} else {
		res, err = q.sqlite.InsertTx(ctx, tx.SQLTx(), args, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: insert %s: %w", args.Kind(), err)
	}
	return res.Job, nil
}

// JobsOfKind lists up to 100 jobs of one kind in any state, oldest first
// (for operations and tests).
func (q *Queue) JobsOfKind(ctx context.Context, kind string) ([]*rivertype.JobRow, error) {
	params := river.NewJobListParams().Kinds(kind).First(100)
	var res *river.JobListResult
	var err error
	if q.pg != nil {
		res, err = q.pg.JobList(ctx, params)
	} else {
		res, err = q.sqlite.JobList(ctx, params)
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: list %s: %w", kind, err)
	}
	return res.Jobs, nil
}

// RunNow makes a scheduled, retryable, completed, cancelled or discarded
// job available at once (River's JobRetry); a running job is left alone.
func (q *Queue) RunNow(ctx context.Context, id int64) error {
	var err error
	if q.pg != nil {
		_, err = q.pg.JobRetry(ctx, id)
	} else {
		_, err = q.sqlite.JobRetry(ctx, id)
	}
	if err != nil {
		return fmt.Errorf("jobs: run %d now: %w", id, err)
	}
	return nil
}

// Subscribe returns a channel of queue events of the given kinds (for
// tests and metrics) and a function that ends the subscription.
func (q *Queue) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	if q.pg != nil {
		return q.pg.Subscribe(kinds...)
	}
	return q.sqlite.Subscribe(kinds...)
}

// Counts are the numbers of jobs in each waiting or notable state.
type Counts struct {
	Available int64 `json:"available"`
	Scheduled int64 `json:"scheduled"`
	Retryable int64 `json:"retryable"`
	Running   int64 `json:"running"`
	Discarded int64 `json:"discarded"`
}

// Backlog reads the queue's job counts from the database.
func Backlog(ctx context.Context, db database.Querier) (Counts, error) {
	var b Counts
	rows, err := db.Query(ctx, `SELECT state, count(*) FROM river_job WHERE state IN ('available', 'scheduled', 'retryable', 'running', 'discarded') GROUP BY state`)
	if err != nil {
		return b, fmt.Errorf("jobs: backlog: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return b, fmt.Errorf("jobs: backlog: %w", err)
		}
		switch state {
		case "available":
			b.Available = n
		case "scheduled":
			b.Scheduled = n
		case "retryable":
			b.Retryable = n
		case "running":
			b.Running = n
		case "discarded":
			b.Discarded = n
		}
	}
	return b, rows.Err()
}
