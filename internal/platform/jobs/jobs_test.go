package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/goleak"

	"mitra/internal/platform/database"
	"mitra/internal/platform/database/dbtest"
	"mitra/internal/platform/jobs"
	"mitra/internal/platform/logging"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// The pure-Go SQLite driver and pgx keep no goroutines after Close;
		// these are the standard library's and the test framework's own.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
	)
}

type greetArgs struct {
	Name string `json:"name"`
}

func (greetArgs) Kind() string { return "test_greet" }

type greetWorker struct {
	river.WorkerDefaults[greetArgs]
	seen chan string
	runs *atomic.Int32
}

func (w *greetWorker) Work(_ context.Context, j *river.Job[greetArgs]) error {
	w.runs.Add(1)
	w.seen <- j.Args.Name
	return nil
}

func TestJobInsertedInTxRunsOnlyIfCommitted(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := &greetWorker{seen: make(chan string, 10), runs: new(atomic.Int32)}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q := startQueue(t, db, jobs.Options{Workers: workers, PollInterval: 50 * time.Millisecond})

		// Rolled back: the job must never run.
		rollback := errors.New("rollback")
		err := db.InTx(ctx, func(tx *database.Tx) error {
			if _, err := q.InsertTx(ctx, tx, greetArgs{Name: "rolled-back"}, nil); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("InTx: %v", err)
		}
		// Committed: the job runs.
		err = db.InTx(ctx, func(tx *database.Tx) error {
			_, err := q.InsertTx(ctx, tx, greetArgs{Name: "committed"}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case name := <-w.seen:
			if name != "committed" {
				t.Fatalf("worked %q, want committed", name)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("committed job did not run within 15s")
		}
		// Give the rolled-back job every chance to show up.
		time.Sleep(500 * time.Millisecond)
		if n := w.runs.Load(); n != 1 {
			t.Fatalf("worker ran %d times, want 1", n)
		}
		var count int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = ?`, "test_greet").Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != 1 {
			t.Fatalf("%d test_greet rows, want 1 (the rolled-back insert must leave none)", count)
		}
	})
}

func TestBacklogCountsWaitingJobs(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := &greetWorker{seen: make(chan string, 10), runs: new(atomic.Int32)}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q, err := jobs.New(db, jobs.Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		// Not started: inserted jobs wait.
		for range 3 {
			if _, err := q.Insert(ctx, greetArgs{Name: "x"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := q.Insert(ctx, greetArgs{Name: "later"}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		b, err := jobs.Backlog(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if b.Available != 3 || b.Scheduled != 1 {
			t.Fatalf("backlog %+v, want 3 available and 1 scheduled", b)
		}
	})
}

func TestOptimizeJob(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		w := &jobs.OptimizeWorker{DB: db}
		if err := w.Work(context.Background(), &river.Job[jobs.OptimizeArgs]{}); err != nil {
			t.Fatal(err)
		}
	})
}

// A job scheduled for later is listed by kind and runs at once when asked.
func TestRunNowRunsAScheduledJob(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := &greetWorker{seen: make(chan string, 10), runs: new(atomic.Int32)}
		workers := river.NewWorkers()
		river.AddWorker(workers, w)
		q := startQueue(t, db, jobs.Options{Workers: workers, PollInterval: 50 * time.Millisecond})
		if _, err := q.Insert(ctx, greetArgs{Name: "later"}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		list, err := q.JobsOfKind(ctx, "test_greet")
		if err != nil || len(list) != 1 || list[0].State != "scheduled" {
			t.Fatalf("list %v %v", list, err)
		}
		select {
		case n := <-w.seen:
			t.Fatalf("%s ran before its time", n)
		case <-time.After(300 * time.Millisecond):
		}
		if err := q.RunNow(ctx, list[0].ID); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-w.seen:
			if n != "later" {
				t.Fatalf("ran %s", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the job did not run")
		}
	})
}

type logArgs struct{}

func (logArgs) Kind() string { return "test_log" }

type logWorker struct {
	river.WorkerDefaults[logArgs]
	done chan struct{}
}

func (w *logWorker) Work(ctx context.Context, _ *river.Job[logArgs]) error {
	logging.FromContext(ctx).Info("working")
	close(w.done)
	return nil
}

// Workers log through the node's logger, tagged with the job, not through
// the process default.
func TestWorkersLogThroughTheQueueLogger(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) }), nil))
	w := &logWorker{done: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	q := startQueue(t, db, jobs.Options{Workers: workers, PollInterval: 50 * time.Millisecond, Logger: logger})
	if _, err := q.Insert(ctx, logArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(15 * time.Second):
		t.Fatal("job did not run")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(buf.String(), `"msg":"working","job":"test_log","job_id":`) {
		t.Fatalf("worker log line not on the queue's logger with the job: %s", buf.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// startQueue starts a queue on db and stops it, checked, when the test ends.
func startQueue(t *testing.T, db *database.DB, o jobs.Options) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(db, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := q.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return q
}
