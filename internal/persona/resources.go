package persona

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
)

// InternationalCountry is the country code of resources shown everywhere.
const InternationalCountry = "ZZ"

// Resource is a professional crisis service.
type Resource struct {
	ID          string    `json:"id"`
	Country     string    `json:"country" example:"ID" doc:"ISO 3166-1 alpha-2; ZZ for international"`
	Name        string    `json:"name" example:"Layanan SEJIWA (Kementerian Kesehatan)"`
	Phone       string    `json:"phone,omitempty" example:"119 ext 8"`
	SMS         string    `json:"sms,omitempty"`
	URL         string    `json:"url,omitempty"`
	Description string    `json:"description,omitempty"`
	Languages   []string  `json:"languages"`
	Hours       string    `json:"hours,omitempty" example:"24/7"`
	Priority    int       `json:"priority" doc:"Lower first; below 10 marks an emergency number"`
	Active      bool      `json:"active"`
	UpdatedAt   time.Time `json:"updated_at"`
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// NormalizeCountry upper-cases an ISO country code and checks it.
func NormalizeCountry(field, c string) (string, error) {
	c = strings.ToUpper(strings.TrimSpace(c))
	if !countryCode.MatchString(c) {
		return "", apperr.Field(field, "must be an ISO 3166-1 alpha-2 country code such as ID or IN")
	}
	return c, nil
}

const resourceColumns = `id, country, name, phone, sms, url, description, languages, hours, priority, active, updated_at`

func scanResource(s interface{ Scan(...any) error }) (Resource, error) {
	var r Resource
	var langs string
	if err := s.Scan(&r.ID, &r.Country, &r.Name, &r.Phone, &r.SMS, &r.URL, &r.Description, &langs, &r.Hours, &r.Priority, &r.Active, &r.UpdatedAt); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(langs), &r.Languages); err != nil {
		return r, err
	}
	return r, nil
}

// Resources returns the active resources of a country, most important
// first, followed by the international ones. A country without its own
// list still gets the international resources: nobody gets an empty list.
func (s *Service) Resources(ctx context.Context, country string) ([]Resource, error) {
	return s.queryResources(ctx, `SELECT `+resourceColumns+` FROM crisis_resources WHERE active = ? AND country IN (?, ?)
		ORDER BY CASE WHEN country = ? THEN 1 ELSE 0 END, priority, name`, true, country, InternationalCountry, InternationalCountry)
}

// AllResources lists every resource for administrators.
func (s *Service) AllResources(ctx context.Context) ([]Resource, error) {
	return s.queryResources(ctx, `SELECT `+resourceColumns+` FROM crisis_resources ORDER BY country, priority, name`)
}

func (s *Service) queryResources(ctx context.Context, query string, args ...any) ([]Resource, error) {
	rows, err := s.DB.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("persona: resources: %w", err)
	}
	defer rows.Close()
	out := []Resource{}
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, fmt.Errorf("persona: resources: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ResourceInput creates or replaces a resource.
type ResourceInput struct {
	Country     string   `json:"country" minLength:"2" maxLength:"2"`
	Name        string   `json:"name" minLength:"1" maxLength:"200"`
	Phone       string   `json:"phone,omitempty" maxLength:"40"`
	SMS         string   `json:"sms,omitempty" maxLength:"40"`
	URL         string   `json:"url,omitempty" maxLength:"300" format:"uri"`
	Description string   `json:"description,omitempty" maxLength:"1000"`
	Languages   []string `json:"languages,omitempty" maxItems:"20"`
	Hours       string   `json:"hours,omitempty" maxLength:"100"`
	Priority    int      `json:"priority,omitempty" minimum:"0" maximum:"10000"`
	Active      *bool    `json:"active,omitempty"`
}

func (in *ResourceInput) check() error {
	c, err := NormalizeCountry("body.country", in.Country)
	if err != nil {
		return err
	}
	in.Country = c
	if in.Phone == "" && in.URL == "" && in.SMS == "" {
		return apperr.Field("body", "give a phone, an SMS number or a URL")
	}
	if in.URL != "" && !strings.HasPrefix(in.URL, "https://") {
		return apperr.Field("body.url", "must be an https:// address")
	}
	if in.Languages == nil {
		in.Languages = []string{}
	}
	if in.Priority == 0 {
		in.Priority = 100
	}
	return nil
}

// PutResource creates (id "") or replaces a resource, audited.
func (s *Service) PutResource(ctx context.Context, id string, in ResourceInput) (*Resource, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	active := in.Active == nil || *in.Active
	langs, _ := json.Marshal(in.Languages)
	create := id == ""
	if create {
		id = ids.New()
	} else if !ids.Valid(id) {
		return nil, apperr.New(apperr.NotFound, "resource not found")
	}
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		now := s.Now()
		if create {
			if _, err := tx.Exec(ctx, `INSERT INTO crisis_resources (id, country, name, phone, sms, url, description, languages, hours, priority, active, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, in.Country, in.Name, in.Phone, in.SMS, in.URL, in.Description, string(langs), in.Hours, in.Priority, active, now); err != nil {
				return err
			}
		} else {
			res, err := tx.Exec(ctx, `UPDATE crisis_resources SET country = ?, name = ?, phone = ?, sms = ?, url = ?, description = ?, languages = ?, hours = ?, priority = ?, active = ?, updated_at = ? WHERE id = ?`,
				in.Country, in.Name, in.Phone, in.SMS, in.URL, in.Description, string(langs), in.Hours, in.Priority, active, now, id)
			if err != nil {
				return err
			}
			if res.RowsAffected() == 0 {
				return apperr.New(apperr.NotFound, "resource not found")
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "crisis.resource_saved", TargetType: "crisis_resource", TargetID: id,
			After: map[string]any{"country": in.Country, "name": in.Name, "phone": in.Phone, "active": active}})
	})
	if err != nil {
		return nil, err
	}
	r, err := scanResource(s.DB.QueryRow(ctx, `SELECT `+resourceColumns+` FROM crisis_resources WHERE id = ?`, id))
	if errors.Is(err, database.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "resource not found")
	}
	return &r, err
}

// DeleteResource removes a resource, audited.
func (s *Service) DeleteResource(ctx context.Context, id string) error {
	return s.deleteAudited(ctx, "crisis_resources", id, "crisis.resource_deleted", "crisis_resource", apperr.New(apperr.NotFound, "resource not found"))
}

// deleteAudited deletes the row id of table (a constant of this package)
// and records action in the audit log; notFound when there was no row.
func (s *Service) deleteAudited(ctx context.Context, table, id, action, targetType string, notFound error) error {
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return notFound
		}
		return audit.Record(ctx, tx, audit.Entry{Action: action, TargetType: targetType, TargetID: id})
	})
}
