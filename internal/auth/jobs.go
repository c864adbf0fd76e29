package auth

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"mitra/internal/platform/sms"
)

// RegisterJobs adds identity's workers (code delivery, cleanup) and returns
// its periodic jobs.
func (s *Service) RegisterJobs(workers *river.Workers, sender sms.OTPSender) []*river.PeriodicJob {
	river.AddWorker(workers, &OTPDeliveryWorker{Service: s, Sender: sender})
	river.AddWorker(workers, &CleanupWorker{Service: s})
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour), func() (river.JobArgs, *river.InsertOpts) {
			return CleanupArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "auth_cleanup"}),
	}
}

// CleanupArgs is the hourly removal of dead identity rows.
type CleanupArgs struct{}

// Kind names the job.
func (CleanupArgs) Kind() string { return "auth_cleanup" }

// CleanupWorker deletes expired one-time codes and reset tokens (after a
// day), and refresh tokens of sessions that ended more than a day ago.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	Service *Service
}

// Work deletes the rows.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	s := w.Service
	cutoff := s.Now().Add(-24 * time.Hour)
	steps := []struct {
		query string
		args  []any
	}{
		{`DELETE FROM otp_codes WHERE expires_at < ?`, []any{cutoff}},
		{`DELETE FROM password_resets WHERE expires_at < ?`, []any{cutoff}},
		{`DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE revoked_at < ? OR expires_at < ?)`, []any{cutoff, cutoff}},
		// Rotated tokens older than the previous one are never accepted
		// again. Kept for a day they still reveal a replay (ending the
		// session); after that a replay is merely refused, which bounds the
		// table to about a day of refreshes per session.
		{`DELETE FROM refresh_tokens WHERE created_at < ? AND seq < (SELECT s.refresh_seq - 1 FROM sessions s WHERE s.id = refresh_tokens.session_id)`, []any{cutoff}},
	}
	for _, st := range steps {
		if _, err := s.DB.Exec(ctx, st.query, st.args...); err != nil {
			return err
		}
	}
	return nil
}
