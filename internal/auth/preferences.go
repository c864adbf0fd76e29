package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones validate the same on every machine

	"mitra/internal/platform/access"
	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
)

// Channels are the notification channels a user accepts.
type Channels struct {
	Push     bool `json:"push"`
	SMS      bool `json:"sms"`
	WhatsApp bool `json:"whatsapp"`
	Email    bool `json:"email"`
}

// QuietHours is a daily window (local time) without notifications.
type QuietHours struct {
	Start string `json:"start" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"22:00"`
	End   string `json:"end" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$" example:"07:00"`
}

// Preferences are a user's notification and locale settings.
type Preferences struct {
	Channels   Channels    `json:"channels"`
	Language   string      `json:"language" enum:"id,en,hi,bn,ta,te,mr,gu,kn,ml,pa" example:"id"`
	TimeZone   string      `json:"time_zone" maxLength:"64" example:"Asia/Jakarta" doc:"IANA time zone"`
	QuietHours *QuietHours `json:"quiet_hours" required:"false" doc:"null for none"`
}

// defaultPreferences guesses the locale from the phone's country.
func defaultPreferences(u *User) Preferences {
	p := Preferences{Channels: Channels{Push: true, SMS: true, WhatsApp: true, Email: true}, Language: "en", TimeZone: "UTC"}
	switch phone := deref(u.Phone); {
	case strings.HasPrefix(phone, "+62"):
		p.Language, p.TimeZone = "id", "Asia/Jakarta"
	case strings.HasPrefix(phone, "+91"):
		p.TimeZone = "Asia/Kolkata"
	}
	return p
}

func (s *Service) loadPreferences(ctx context.Context, q database.Querier, u *User) (Preferences, error) {
	var p Preferences
	var channels string
	var qs, qe *string
	err := q.QueryRow(ctx, `SELECT channels, language, time_zone, quiet_start, quiet_end FROM user_preferences WHERE user_id = ?`, u.ID).
		Scan(&channels, &p.Language, &p.TimeZone, &qs, &qe)
	if errors.Is(err, database.ErrNoRows) {
		return defaultPreferences(u), nil
	}
	if err != nil {
		return p, fmt.Errorf("auth: preferences: %w", err)
	}
	if err := json.Unmarshal([]byte(channels), &p.Channels); err != nil {
		return p, fmt.Errorf("auth: preferences: %w", err)
	}
	if qs != nil && qe != nil {
		p.QuietHours = &QuietHours{Start: *qs, End: *qe}
	}
	return p, nil
}

// GetPreferences returns a user's preferences (the caller's, or anyone's
// for administrators).
func (s *Service) GetPreferences(ctx context.Context, p access.Principal, id string) (*Preferences, error) {
	u, err := s.visibleUser(ctx, s.DB, p, id, access.UsersReadAny)
	if err != nil {
		return nil, err
	}
	prefs, err := s.loadPreferences(ctx, s.DB, u)
	return &prefs, err
}

// PutPreferences replaces a user's preferences.
func (s *Service) PutPreferences(ctx context.Context, p access.Principal, id string, in Preferences) (*Preferences, error) {
	if _, err := time.LoadLocation(in.TimeZone); err != nil || in.TimeZone == "" || in.TimeZone == "Local" {
		return nil, apperr.Field("body.time_zone", "must be an IANA time zone such as Asia/Jakarta")
	}
	if q := in.QuietHours; q != nil && q.Start == q.End {
		return nil, apperr.Field("body.quiet_hours", "start and end must differ")
	}
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		u, err := s.visibleUser(ctx, tx, p, id, access.UsersUpdateAny)
		if err != nil {
			return err
		}
		if !p.Owns(u.ID) && !mayManage(p, u) {
			return apperr.New(apperr.Forbidden, "only an administrator above this user may change them")
		}
		ch, _ := json.Marshal(in.Channels)
		var qs, qe *string
		if in.QuietHours != nil {
			qs, qe = &in.QuietHours.Start, &in.QuietHours.End
		}
		if _, err := tx.Exec(ctx, `INSERT INTO user_preferences (user_id, channels, language, time_zone, quiet_start, quiet_end, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET channels = excluded.channels, language = excluded.language, time_zone = excluded.time_zone,
				quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, updated_at = excluded.updated_at`,
			u.ID, string(ch), in.Language, in.TimeZone, qs, qe, s.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "user.preferences_updated", TargetType: "user", TargetID: u.ID})
	})
	if err != nil {
		return nil, err
	}
	return &in, nil
}
