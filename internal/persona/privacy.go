package persona

import (
	"context"
	"fmt"

	"mitra/internal/platform/database"
)

// CrisisSupportData is the user's crisis-support data in privacy export and
// erasure (it satisfies auth.DataSource): their emergency contacts, which
// are third-party personal data, and their follow-up check-ins.
type CrisisSupportData struct{ S *Service }

// Name returns "crisis_support".
func (CrisisSupportData) Name() string { return "crisis_support" }

// CrisisSupportExport is what the export holds.
type CrisisSupportExport struct {
	EmergencyContacts []Contact `json:"emergency_contacts"`
	CheckIns          []CheckIn `json:"check_ins"`
}

// Export returns the user's contacts (opened) and check-ins (notes
// opened).
func (d CrisisSupportData) Export(ctx context.Context, q database.Querier, userID string) (any, error) {
	out := CrisisSupportExport{EmergencyContacts: []Contact{}, CheckIns: []CheckIn{}}
	rows, err := q.Query(ctx, `SELECT `+contactColumns+` FROM emergency_contacts WHERE user_id = ? ORDER BY created_at`, userID)
	if err != nil {
		return nil, fmt.Errorf("persona: export contacts: %w", err)
	}
	for rows.Next() {
		c, err := d.S.scanContact(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out.EmergencyContacts = append(out.EmergencyContacts, c.Contact)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT `+checkinColumns+` FROM crisis_checkins WHERE user_id = ? ORDER BY created_at`, userID)
	if err != nil {
		return nil, fmt.Errorf("persona: export check-ins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		c, err := d.S.scanCheckin(rows)
		if err != nil {
			return nil, err
		}
		out.CheckIns = append(out.CheckIns, c)
	}
	return out, rows.Err()
}

// Erase deletes the user's contacts (with the record of alerts sent to
// them and of invitations) and check-ins. The opt-out list stays: it is
// the contacts' own choice, and holds only keyed fingerprints.
func (d CrisisSupportData) Erase(ctx context.Context, tx *database.Tx, userID string) error {
	for _, q := range []string{
		`DELETE FROM crisis_contact_alerts WHERE contact_id IN (SELECT id FROM emergency_contacts WHERE user_id = ?)`,
		`DELETE FROM crisis_contact_alert_claims WHERE contact_id IN (SELECT id FROM emergency_contacts WHERE user_id = ?)`,
		`DELETE FROM emergency_contacts WHERE user_id = ?`,
		`DELETE FROM emergency_contact_invites WHERE user_id = ?`,
		`DELETE FROM crisis_checkins WHERE user_id = ?`,
	} {
		if _, err := tx.Exec(ctx, q, userID); err != nil {
			return fmt.Errorf("persona: erase crisis support: %w", err)
		}
	}
	return nil
}
