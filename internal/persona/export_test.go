package persona

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// RunContactAlert runs the contact alert job's work directly (tests run
// several at once, which the queue's uniqueness would not allow).
func (s *Service) RunContactAlert(ctx context.Context, a CrisisContactAlertArgs) error {
	return (&contactAlertWorker{s: s}).Work(ctx, &river.Job[CrisisContactAlertArgs]{JobRow: &rivertype.JobRow{}, Args: a})
}

// RunCheckin runs the check-in job's work directly.
func (s *Service) RunCheckin(ctx context.Context, a CrisisCheckinArgs) error {
	return (&checkinWorker{s: s}).Work(ctx, &river.Job[CrisisCheckinArgs]{JobRow: &rivertype.JobRow{}, Args: a})
}
