package persona

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"mitra/internal/persona/crisis"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
)

// Questionnaires.
const (
	PHQ9 = "phq9"
	GAD7 = "gad7"
)

// AssessmentInput is a completed questionnaire: one answer per item, each
// 0 (not at all) to 3 (nearly every day), in the questionnaire's order.
type AssessmentInput struct {
	Type    string `json:"type" enum:"phq9,gad7"`
	Answers []int  `json:"answers" minItems:"7" maxItems:"9" example:"[1,2,1,0,1,2,1,0,0]"`
	Country string `json:"country,omitempty" maxLength:"2" example:"ID" doc:"For the crisis resources shown when item 9 is answered; default ID"`
}

// Assessment is a scored questionnaire.
type Assessment struct {
	ID        string       `json:"id"`
	Type      string       `json:"type"`
	Score     int          `json:"score"`
	Max       int          `json:"max"`
	Severity  string       `json:"severity" enum:"minimal,mild,moderate,moderately_severe,severe"`
	Answers   []int        `json:"answers"`
	CreatedAt time.Time    `json:"created_at"`
	Crisis    *CrisisCheck `json:"crisis,omitempty" doc:"Present when PHQ-9 item 9 (thoughts of being better off dead or of self-harm) is above zero"`
}

// CrisisCheck is what a positive PHQ-9 item 9 brings to the answer: the
// resources to reach now.
type CrisisCheck struct {
	Item9     int        `json:"item9" doc:"0-3"`
	Message   string     `json:"message"`
	Resources []Resource `json:"resources"`
}

// Score computes a questionnaire's total and severity band: PHQ-9 (Kroenke
// et al., 2001: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately
// severe, 20-27 severe) and GAD-7 (Spitzer et al., 2006: 0-4 minimal, 5-9
// mild, 10-14 moderate, 15-21 severe). It returns an Invalid error for a
// wrong number of answers or an answer outside 0-3.
func Score(kind string, answers []int) (score, maxScore int, severity string, err error) {
	want := 0
	switch kind {
	case PHQ9:
		want = 9
	case GAD7:
		want = 7
	default:
		return 0, 0, "", apperr.Field("body.type", "must be phq9 or gad7")
	}
	if len(answers) != want {
		return 0, 0, "", apperr.Field("body.answers", fmt.Sprintf("%s has %d items", kind, want))
	}
	for i, a := range answers {
		if a < 0 || a > 3 {
			return 0, 0, "", apperr.Field(fmt.Sprintf("body.answers[%d]", i), "must be 0, 1, 2 or 3")
		}
		score += a
	}
	maxScore = 3 * want
	switch {
	case score <= 4:
		severity = "minimal"
	case score <= 9:
		severity = "mild"
	case score <= 14:
		severity = "moderate"
	case kind == PHQ9 && score <= 19:
		severity = "moderately_severe"
	default:
		severity = "severe"
	}
	return score, maxScore, severity, nil
}

func assessmentAAD(id string) []byte { return []byte("assessments.answers:" + id) }

// AddAssessment scores and stores the caller's questionnaire. A PHQ-9 with
// item 9 above zero answers with the crisis resources of the country.
func (s *Service) AddAssessment(ctx context.Context, in AssessmentInput) (*Assessment, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	score, maxScore, severity, err := Score(in.Type, in.Answers)
	if err != nil {
		return nil, err
	}
	country := "ID"
	if in.Country != "" {
		if country, err = NormalizeCountry("body.country", in.Country); err != nil {
			return nil, err
		}
	}
	a := &Assessment{ID: ids.New(), Type: in.Type, Score: score, Max: maxScore, Severity: severity, Answers: in.Answers, CreatedAt: s.Now().UTC()}
	var item9 *int
	if in.Type == PHQ9 {
		v := in.Answers[8]
		item9 = &v
	}
	answers, _ := json.Marshal(in.Answers)
	positive := item9 != nil && *item9 > 0
	// PHQ-9 item 9 above zero starts the crisis flow: a notice now, and an
	// event for the counselor queue (1: moderate; 2-3: high), stored in the
	// assessment's transaction: never the answer without the event.
	level := crisis.LevelModerate
	if positive && *item9 >= 2 {
		level = crisis.LevelHigh
	}
	ctx = context.WithoutCancel(ctx) // the event does not depend on the client staying
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO assessments (id, user_id, type, answers_sealed, score, severity, item9, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, p.UserID, a.Type, s.Vault.Seal(answers, assessmentAAD(a.ID)), a.Score, a.Severity, item9, a.CreatedAt); err != nil {
			return err
		}
		if !positive {
			return nil
		}
		_, err := s.openEventTx(ctx, tx, p.UserID, level, crisis.SuicidalIdeation, []string{fmt.Sprintf("phq9:item9=%d", *item9)}, "assessment", "en")
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("persona: add assessment: %w", err)
	}
	if positive {
		s.recordNotice(ctx, level, "assessment")
		res, err := s.Resources(ctx, country)
		if err != nil {
			return nil, err
		}
		a.Crisis = &CrisisCheck{Item9: *item9, Resources: res,
			Message: "Thank you for telling us. You do not have to face these thoughts alone: the people below are there to listen, now. If you might act on them, call your local emergency number."}
	}
	return a, nil
}

// Assessments lists the caller's questionnaires, newest first.
func (s *Service) Assessments(ctx context.Context, kind string, limit int) ([]Assessment, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 100 {
		limit = 50
	}
	args := []any{p.UserID}
	cond := ""
	if kind != "" {
		cond, args = " AND type = ?", append(args, kind)
	}
	rows, err := s.DB.Query(ctx, fmt.Sprintf(`SELECT id, type, answers_sealed, score, severity, created_at FROM assessments WHERE user_id = ?%s ORDER BY id DESC LIMIT %d`, cond, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("persona: assessments: %w", err)
	}
	defer rows.Close()
	out := []Assessment{}
	for rows.Next() {
		var a Assessment
		var sealed string
		if err := rows.Scan(&a.ID, &a.Type, &sealed, &a.Score, &a.Severity, &a.CreatedAt); err != nil {
			return nil, fmt.Errorf("persona: assessments: %w", err)
		}
		if b, err := s.Vault.Open(sealed, assessmentAAD(a.ID)); err == nil {
			_ = json.Unmarshal(b, &a.Answers)
		}
		a.Max = 27
		if a.Type == GAD7 {
			a.Max = 21
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
