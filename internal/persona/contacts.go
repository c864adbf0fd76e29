package persona

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/phone"
	"mitra/internal/platform/sms"
)

// Contact statuses. Only confirmed contacts ever receive an alert.
const (
	ContactPending   = "pending"
	ContactConfirmed = "confirmed"
	ContactDeclined  = "declined"
)

// Contact channels.
const (
	ChannelSMS      = "sms"
	ChannelWhatsApp = "whatsapp"
)

// Limits of emergency contacts.
const (
	maxContacts        = 3                  // per user
	inviteLinkLife     = 7 * 24 * time.Hour // the confirmation link
	inviteCodeLife     = 24 * time.Hour     // the code the contact reads out
	maxCodeAttempts    = 5                  // wrong codes before the code dies
	maxCodeGuesses     = 15                 // codes tried over a contact's life, whatever the invitations
	resendCooldown     = time.Minute        // between two invitations of one contact
	maxInvitesPerPhone = 5                  // invitations to one number, whoever sends them...
	invitesWindow      = 7 * 24 * time.Hour // ...in this window
	maxInvitesPerDay   = 10                 // invitations one user sends in a day...
	maxInvitesPerWeek  = 20                 // ...and in a week, to any numbers
)

// Fingerprint purposes (vault.Fingerprints).
const (
	fpPhone  = "emergency_contacts.phone"
	fpToken  = "emergency_contacts.token"
	fpCode   = "emergency_contacts.code"
	fpOptOut = "emergency_contacts.opt_out"
)

// Contact is an emergency contact as its owner sees it.
type Contact struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name" example:"Ibu Sari"`
	Phone               string     `json:"phone" example:"+6281234567890"`
	Relationship        string     `json:"relationship" enum:"parent,partner,sibling,child,relative,friend,other"`
	Channel             string     `json:"channel" enum:"sms,whatsapp"`
	Language            string     `json:"language" enum:"id,en"`
	Status              string     `json:"status" enum:"pending,confirmed,declined" doc:"Only confirmed contacts receive alerts"`
	InviteStatus        string     `json:"invite_status" enum:"queued,sent,failed" doc:"Delivery of the latest invitation"`
	InvitedAt           *time.Time `json:"invited_at,omitempty"`
	InvitationExpiresAt *time.Time `json:"invitation_expires_at,omitempty" doc:"The link's expiry (the code lasts 24 hours)"`
	ConfirmedAt         *time.Time `json:"confirmed_at,omitempty"`
	ConfirmedBy         *string    `json:"confirmed_by,omitempty" enum:"link,code"`
	DeclinedAt          *time.Time `json:"declined_at,omitempty"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// ContactInput creates or replaces a contact.
type ContactInput struct {
	Name         string `json:"name" minLength:"1" maxLength:"100" example:"Ibu Sari"`
	Phone        string `json:"phone" minLength:"6" maxLength:"24" example:"0812-3456-7890" doc:"Indonesian and Indian numbers may be written the local way"`
	Relationship string `json:"relationship" enum:"parent,partner,sibling,child,relative,friend,other"`
	Channel      string `json:"channel" enum:"sms,whatsapp"`
	Language     string `json:"language,omitempty" enum:"id,en" doc:"Language of messages to the contact; default id for Indonesian numbers, else en"`
}

var (
	errContactNotFound = apperr.New(apperr.NotFound, "emergency contact not found")
	errInvalidLink     = &apperr.Error{Code: "invalid_link", Status: 404, Message: "this link is not valid or has been used"}
	errLinkExpired     = &apperr.Error{Code: "link_expired", Status: 410, Message: "this link has expired; ask for a new invitation"}
)

func contactNameAAD(id string) []byte  { return []byte("emergency_contacts.name:" + id) }
func contactPhoneAAD(id string) []byte { return []byte("emergency_contacts.phone:" + id) }
func inviteAAD(id string, n int) []byte {
	return []byte(fmt.Sprintf("emergency_contacts.invite:%s:%d", id, n))
}

// normalizePhone returns a mobile number in E.164, read as the identity
// service reads phones, and refuses numbers that cannot receive text
// messages.
func normalizePhone(field, s string) (string, error) {
	p, ok := phone.Normalize(s)
	if !ok {
		return "", apperr.Field(field, "must be a mobile number such as +6281234567890 or +919812345678")
	}
	if !phone.IsMobile(p) {
		return "", apperr.Field(field, "must be a mobile number (one that can receive SMS or WhatsApp)")
	}
	return p, nil
}

func (in *ContactInput) check(s *Service) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return apperr.Field("body.name", "must not be blank")
	}
	p, err := normalizePhone("body.phone", in.Phone)
	if err != nil {
		return err
	}
	in.Phone = p
	if in.Language == "" {
		in.Language = "en"
		if strings.HasPrefix(p, "+62") {
			in.Language = "id"
		}
	}
	if !s.channelAvailable(in.Channel, in.Language) {
		return apperr.Field("body.channel", in.Channel+" is not available on this server in this language; choose another channel")
	}
	return nil
}

// channelAvailable tells whether ch can carry both contact messages in
// lang.
func (s *Service) channelAvailable(ch, lang string) bool {
	switch ch {
	case ChannelSMS:
		if s.Texts.SMS == nil {
			return false
		}
		if s.Texts.SMSTemplates == nil {
			return true
		}
		for _, t := range ContactTemplates {
			if s.Texts.SMSTemplates[sms.TemplateKey(t, lang)] == "" {
				return false
			}
		}
		return true
	case ChannelWhatsApp:
		return s.Texts.WhatsApp != nil
	}
	return false
}

const contactColumns = `id, user_id, name_sealed, phone_sealed, relationship, channel, language, status, invite_status, invited_at, token_expires_at, confirmed_at, confirmed_by, declined_at, created_at, updated_at`

// contactRow is a stored contact with its owner.
type contactRow struct {
	Contact
	UserID string
}

func (s *Service) scanContact(sc interface{ Scan(...any) error }) (contactRow, error) {
	var c contactRow
	var name, phone string
	err := sc.Scan(&c.ID, &c.UserID, &name, &phone, &c.Relationship, &c.Channel, &c.Language, &c.Status, &c.InviteStatus,
		&c.InvitedAt, &c.InvitationExpiresAt, &c.ConfirmedAt, &c.ConfirmedBy, &c.DeclinedAt, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return c, err
	}
	if c.Name, err = s.Vault.OpenString(name, string(contactNameAAD(c.ID))); err != nil {
		return c, fmt.Errorf("persona: contact %s: %w", c.ID, err)
	}
	if c.Phone, err = s.Vault.OpenString(phone, string(contactPhoneAAD(c.ID))); err != nil {
		return c, fmt.Errorf("persona: contact %s: %w", c.ID, err)
	}
	if c.Status != ContactPending {
		c.InvitationExpiresAt = nil
	}
	for _, t := range []*time.Time{c.InvitedAt, c.InvitationExpiresAt, c.ConfirmedAt, c.DeclinedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, nil
}

// contact loads a contact of the caller; another user's id is not found.
func (s *Service) contact(ctx context.Context, q database.Querier, userID, id string) (contactRow, error) {
	if !ids.Valid(id) {
		return contactRow{}, errContactNotFound
	}
	c, err := s.scanContact(q.QueryRow(ctx, `SELECT `+contactColumns+` FROM emergency_contacts WHERE id = ? AND user_id = ?`, id, userID))
	if errors.Is(err, database.ErrNoRows) {
		return c, errContactNotFound
	}
	return c, err
}

// Contacts lists the caller's emergency contacts, oldest first.
func (s *Service) Contacts(ctx context.Context) ([]Contact, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT `+contactColumns+` FROM emergency_contacts WHERE user_id = ? ORDER BY created_at, id`, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("persona: contacts: %w", err)
	}
	defer rows.Close()
	out := []Contact{}
	for rows.Next() {
		c, err := s.scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c.Contact)
	}
	return out, rows.Err()
}

// GetContact returns one of the caller's contacts (404 for anyone else's).
func (s *Service) GetContact(ctx context.Context, id string) (*Contact, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.contact(ctx, s.DB, p.UserID, id)
	if err != nil {
		return nil, err
	}
	return &c.Contact, nil
}

// optedOut reports whether the number's owner asked for no messages.
func (s *Service) optedOut(ctx context.Context, q database.Querier, phone string) (bool, error) {
	fps := s.Vault.Fingerprints(fpPhone, []byte(phone))
	var n int
	err := q.QueryRow(ctx, `SELECT count(*) FROM contact_opt_outs WHERE phone_fp IN (`+placeholders(len(fps))+`)`, anys(fps)...).Scan(&n)
	return n > 0, err
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

var errOptedOut = &apperr.Error{Code: "contact_opted_out", Status: 409, Message: "the owner of this number asked not to receive messages from Mitra"}

// checkPhone refuses a number that opted out or that the user already has
// (except on the contact except).
func (s *Service) checkPhone(ctx context.Context, tx *database.Tx, userID, phone, except string) error {
	out, err := s.optedOut(ctx, tx, phone)
	if err != nil {
		return err
	}
	if out {
		return errOptedOut
	}
	fps := s.Vault.Fingerprints(fpPhone, []byte(phone))
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM emergency_contacts WHERE user_id = ? AND id <> ? AND phone_fp IN (`+placeholders(len(fps))+`)`,
		append([]any{userID, except}, anys(fps)...)...).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return &apperr.Error{Code: "contact_exists", Status: 409, Message: "you already have an emergency contact with this number"}
	}
	return nil
}

// AddContact adds an emergency contact for the caller and sends them an
// invitation (a durable job). It returns 422 for invalid input or an
// unavailable channel, 409 contact_limit (more than 3), contact_exists or
// contact_opted_out, and 429 when the number was invited too often.
func (s *Service) AddContact(ctx context.Context, in ContactInput) (*Contact, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.check(s); err != nil {
		return nil, err
	}
	id := ids.New()
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM emergency_contacts WHERE user_id = ?`, p.UserID).Scan(&n); err != nil {
			return err
		}
		if n >= maxContacts {
			return &apperr.Error{Code: "contact_limit", Status: 409, Message: fmt.Sprintf("you can have at most %d emergency contacts", maxContacts)}
		}
		if err := s.checkPhone(ctx, tx, p.UserID, in.Phone, ""); err != nil {
			return err
		}
		now := s.Now()
		if _, err := tx.Exec(ctx, `INSERT INTO emergency_contacts (id, user_id, name_sealed, phone_sealed, phone_fp, relationship, channel, language, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, p.UserID, s.Vault.Seal([]byte(in.Name), contactNameAAD(id)), s.Vault.Seal([]byte(in.Phone), contactPhoneAAD(id)),
			s.Vault.Fingerprint(fpPhone, []byte(in.Phone)), in.Relationship, in.Channel, in.Language, ContactPending, now, now); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{Action: "emergency_contact.created", TargetType: "emergency_contact", TargetID: id,
			After: map[string]any{"relationship": in.Relationship, "channel": in.Channel, "language": in.Language}}); err != nil {
			return err
		}
		return s.invite(ctx, tx, p.UserID, id, in.Phone, 0)
	})
	if err != nil {
		return nil, err
	}
	return s.GetContact(ctx, id)
}

// invite makes a new link token and code for a contact (the previous ones
// die), stores their fingerprints, and queues the invitation job with the
// secrets sealed. prev is the number of invitations sent so far.
func (s *Service) invite(ctx context.Context, tx *database.Tx, userID, id, phone string, prev int) error {
	now := s.Now()
	fps := s.Vault.Fingerprints(fpPhone, []byte(phone))
	var recent int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM emergency_contact_invites WHERE created_at > ? AND phone_fp IN (`+placeholders(len(fps))+`)`,
		append([]any{now.Add(-invitesWindow)}, anys(fps)...)...).Scan(&recent); err != nil {
		return err
	}
	if recent >= maxInvitesPerPhone {
		return &apperr.Error{Code: apperr.RateLimited, Message: "this number has had enough invitations for now; try again in a few days", RetryAfter: 24 * time.Hour}
	}
	// A user's own budget, whatever the numbers: adding, deleting and adding
	// again, or changing the number, must not make Mitra a free sender of
	// messages to strangers.
	for _, b := range []struct {
		window time.Duration
		max    int
	}{{24 * time.Hour, maxInvitesPerDay}, {invitesWindow, maxInvitesPerWeek}} {
		var sent int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM emergency_contact_invites WHERE user_id = ? AND created_at > ?`,
			userID, now.Add(-b.window)).Scan(&sent); err != nil {
			return err
		}
		if sent >= b.max {
			var oldest time.Time
			if err := tx.QueryRow(ctx, `SELECT created_at FROM emergency_contact_invites WHERE user_id = ? AND created_at > ? ORDER BY created_at LIMIT 1`,
				userID, now.Add(-b.window)).Scan(&oldest); err != nil {
				return err
			}
			wait := max(oldest.Add(b.window).Sub(now), time.Minute)
			return &apperr.Error{Code: "invite_budget_exhausted", Status: 429, RetryAfter: wait,
				Message: fmt.Sprintf("you have sent %d invitations in %s; try again later", sent, map[bool]string{true: "a day", false: "a week"}[b.window == 24*time.Hour])}
		}
	}
	token, code := newToken(), newCode()
	n := prev + 1
	if _, err := tx.Exec(ctx, `UPDATE emergency_contacts SET token_fp = ?, token_expires_at = ?, code_fp = ?, code_expires_at = ?, code_attempts = 0,
		invites_sent = ?, invited_at = ?, invite_status = 'queued', updated_at = ? WHERE id = ?`,
		s.Vault.Fingerprint(fpToken, []byte(token)), now.Add(inviteLinkLife), s.Vault.Fingerprint(fpCode, []byte(id+":"+code)), now.Add(inviteCodeLife),
		n, now, now, id); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO emergency_contact_invites (id, phone_fp, user_id, created_at) VALUES (?, ?, ?, ?)`,
		ids.New(), fps[0], userID, now); err != nil {
		return err
	}
	if s.Jobs == nil {
		return nil
	}
	_, err := s.Jobs.InsertTx(ctx, tx, ContactInviteArgs{ContactID: id, Invite: n, Sealed: s.Vault.Seal([]byte(token+" "+code), inviteAAD(id, n))},
		&river.InsertOpts{MaxAttempts: 10, UniqueOpts: river.UniqueOpts{ByArgs: true}})
	return err
}

// newToken returns 32 random bytes in base64url: the link's secret.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newCode returns six random digits.
func newCode() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	return fmt.Sprintf("%06d", n.Int64())
}

// UpdateContact replaces a contact's details. A new number starts over:
// the contact is pending again and gets a new invitation (a consent given
// for one number is not one for another). Errors as AddContact, and 404.
func (s *Service) UpdateContact(ctx context.Context, id string, in ContactInput) (*Contact, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.check(s); err != nil {
		return nil, err
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		c, err := s.contact(ctx, tx, p.UserID, id)
		if err != nil {
			return err
		}
		now := s.Now()
		changed := []string{}
		for f, diff := range map[string]bool{"name": c.Name != in.Name, "phone": c.Phone != in.Phone, "relationship": c.Relationship != in.Relationship,
			"channel": c.Channel != in.Channel, "language": c.Language != in.Language} {
			if diff {
				changed = append(changed, f)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE emergency_contacts SET name_sealed = ?, relationship = ?, channel = ?, language = ?, updated_at = ? WHERE id = ?`,
			s.Vault.Seal([]byte(in.Name), contactNameAAD(id)), in.Relationship, in.Channel, in.Language, now, id); err != nil {
			return err
		}
		if c.Phone != in.Phone {
			if err := s.checkPhone(ctx, tx, p.UserID, in.Phone, id); err != nil {
				return err
			}
			if c.InvitedAt != nil {
				if wait := c.InvitedAt.Add(resendCooldown).Sub(now); wait > 0 {
					return &apperr.Error{Code: apperr.RateLimited, Message: "an invitation was just sent; wait a minute", RetryAfter: wait}
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE emergency_contacts SET phone_sealed = ?, phone_fp = ?, status = ?, confirmed_at = NULL, confirmed_by = NULL, declined_at = NULL WHERE id = ?`,
				s.Vault.Seal([]byte(in.Phone), contactPhoneAAD(id)), s.Vault.Fingerprint(fpPhone, []byte(in.Phone)), ContactPending, id); err != nil {
				return err
			}
			var prev int
			if err := tx.QueryRow(ctx, `SELECT invites_sent FROM emergency_contacts WHERE id = ?`, id).Scan(&prev); err != nil {
				return err
			}
			if err := s.invite(ctx, tx, p.UserID, id, in.Phone, prev); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "emergency_contact.updated", TargetType: "emergency_contact", TargetID: id,
			Before: map[string]any{"status": c.Status}, After: map[string]any{"changed": slices.Sorted(slices.Values(changed)), "relationship": in.Relationship, "channel": in.Channel, "language": in.Language}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetContact(ctx, id)
}

// DeleteContact removes one of the caller's contacts (404 otherwise),
// audited. Alerts already sent stay recorded without the number.
func (s *Service) DeleteContact(ctx context.Context, id string) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		if _, err := s.contact(ctx, tx, p.UserID, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM emergency_contacts WHERE id = ?`, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "emergency_contact.deleted", TargetType: "emergency_contact", TargetID: id})
	})
}

// ResendInvite sends a pending contact a new invitation (new link and
// code; the old ones stop working). It returns 404, 409 contact_not_pending
// for a confirmed or declined contact, and 429 when asked again within a
// minute or when the number has had 5 invitations in 7 days.
func (s *Service) ResendInvite(ctx context.Context, id string) (*Contact, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		c, err := s.contact(ctx, tx, p.UserID, id)
		if err != nil {
			return err
		}
		if c.Status != ContactPending {
			return &apperr.Error{Code: "contact_not_pending", Status: 409, Message: "only a contact who has not answered yet can be invited again"}
		}
		if out, err := s.optedOut(ctx, tx, c.Phone); err != nil || out {
			if err == nil {
				err = errOptedOut
			}
			return err
		}
		if c.InvitedAt != nil {
			if wait := c.InvitedAt.Add(resendCooldown).Sub(s.Now()); wait > 0 {
				return &apperr.Error{Code: apperr.RateLimited, Message: "an invitation was just sent; wait a minute", RetryAfter: wait}
			}
		}
		var prev int
		if err := tx.QueryRow(ctx, `SELECT invites_sent FROM emergency_contacts WHERE id = ?`, id).Scan(&prev); err != nil {
			return err
		}
		if err := s.invite(ctx, tx, p.UserID, id, c.Phone, prev); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "emergency_contact.invitation_resent", TargetType: "emergency_contact", TargetID: id,
			After: map[string]any{"invite": prev + 1}})
	})
	if err != nil {
		return nil, err
	}
	return s.GetContact(ctx, id)
}

// VerifyContact confirms a pending contact with the code the contact read
// out to the caller. It returns 404, 409 contact_not_pending, 410
// code_expired (expired, or too many wrong codes: send a new invitation),
// 409 code_locked (15 codes tried over the contact's life: the link still
// works), 409 contact_changed (answered or replaced meanwhile)
// and 422 invalid_code (with the attempts left).
func (s *Service) VerifyContact(ctx context.Context, id, code string) (*Contact, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var wrong error
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		c, err := s.contact(ctx, tx, p.UserID, id)
		if err != nil {
			return err
		}
		if c.Status != ContactPending {
			return &apperr.Error{Code: "contact_not_pending", Status: 409, Message: "this contact is already " + c.Status}
		}
		// The try is counted before the code is compared, in one statement
		// that holds the row: parallel guesses cannot all read the same
		// count and each get a try.
		now := s.Now()
		expired := &apperr.Error{Code: "code_expired", Status: 410, Message: "this code has expired or had too many wrong tries; send a new invitation"}
		res, err := tx.Exec(ctx, `UPDATE emergency_contacts SET code_attempts = code_attempts + 1, code_guesses = code_guesses + 1, updated_at = ?
			WHERE id = ? AND status = ? AND code_fp IS NOT NULL AND code_expires_at > ? AND code_attempts < ? AND code_guesses < ?`,
			now, id, ContactPending, now, maxCodeAttempts, maxCodeGuesses)
		if err != nil {
			return err
		}
		var fp *string
		var attempts, guesses int
		if err := tx.QueryRow(ctx, `SELECT code_fp, code_attempts, code_guesses FROM emergency_contacts WHERE id = ?`, id).Scan(&fp, &attempts, &guesses); err != nil {
			return err
		}
		if res.RowsAffected() == 0 || fp == nil {
			if guesses >= maxCodeGuesses {
				return errCodeLocked
			}
			return expired
		}
		if !matchesAny(*fp, s.Vault.Fingerprints(fpCode, []byte(id+":"+strings.TrimSpace(code)))) {
			if err := audit.Record(ctx, tx, audit.Entry{Action: "emergency_contact.code_failed", TargetType: "emergency_contact", TargetID: id,
				After: map[string]any{"attempts": attempts, "guesses": guesses}}); err != nil {
				return err
			}
			left := min(maxCodeAttempts-attempts, maxCodeGuesses-guesses)
			switch {
			case guesses >= maxCodeGuesses:
				wrong = errCodeLocked
			case left <= 0:
				wrong = expired
			default:
				wrong = &apperr.Error{Code: "invalid_code", Status: 422, Message: fmt.Sprintf("wrong code; %d tries left", left)}
			}
			return nil // the attempt is counted
		}
		return s.confirm(ctx, tx, id, "code", "code_fp", *fp)
	})
	if err == nil {
		err = wrong
	}
	if err != nil {
		return nil, err
	}
	return s.GetContact(ctx, id)
}

// matchesAny compares a stored fingerprint with each candidate in
// constant time.
func matchesAny(stored string, candidates []string) bool {
	ok := false
	for _, c := range candidates {
		if hmac.Equal([]byte(stored), []byte(c)) {
			ok = true
		}
	}
	return ok
}

var (
	errContactChanged = &apperr.Error{Code: "contact_changed", Status: 409, Message: "this invitation was answered or replaced meanwhile"}
	errCodeLocked     = &apperr.Error{Code: "code_locked", Status: 409, Message: "too many wrong codes for this contact; they can still agree with the link of their invitation"}
)

// confirm marks a pending contact confirmed; the link and code die. It
// confirms only the invitation that was checked: the row must still be
// pending with the fingerprint (column token_fp or code_fp) that matched,
// so a confirmation racing a change of number or a "no" confirms nothing
// (409 contact_changed).
func (s *Service) confirm(ctx context.Context, tx *database.Tx, id, by, column string, fps ...string) error {
	if column != "token_fp" && column != "code_fp" {
		return fmt.Errorf("persona: confirm by %q", column)
	}
	now := s.Now()
	res, err := tx.Exec(ctx, `UPDATE emergency_contacts SET status = ?, confirmed_at = ?, confirmed_by = ?, token_fp = NULL, token_expires_at = NULL,
		code_fp = NULL, code_expires_at = NULL, updated_at = ? WHERE id = ? AND status = ? AND `+column+` IN (`+placeholders(len(fps))+`)`,
		append([]any{ContactConfirmed, now, by, now, id, ContactPending}, anys(fps)...)...)
	if err != nil {
		return err
	}
	if res.RowsAffected() == 0 {
		return errContactChanged
	}
	return audit.Record(ctx, tx, audit.Entry{Action: "emergency_contact.confirmed", TargetType: "emergency_contact", TargetID: id,
		After: map[string]any{"by": by}})
}

// Invitation is what the page of a confirmation link shows.
type Invitation struct {
	ContactID  string
	UserName   string
	Language   string
	OptOutLink string
}

// invitationByToken finds the pending contact of a live link token.
func (s *Service) invitationByToken(ctx context.Context, q database.Querier, token string) (contactRow, error) {
	token = strings.TrimSpace(token)
	if len(token) < 20 || len(token) > 100 {
		return contactRow{}, errInvalidLink
	}
	fps := s.Vault.Fingerprints(fpToken, []byte(token))
	row := q.QueryRow(ctx, `SELECT `+contactColumns+` FROM emergency_contacts WHERE status = ? AND token_fp IN (`+placeholders(len(fps))+`)`,
		append([]any{ContactPending}, anys(fps)...)...)
	c, err := s.scanContact(row)
	if errors.Is(err, database.ErrNoRows) {
		return c, errInvalidLink
	}
	if err != nil {
		return c, err
	}
	if c.InvitationExpiresAt == nil || !s.Now().Before(*c.InvitationExpiresAt) {
		return c, errLinkExpired
	}
	return c, nil
}

// Invitation describes the invitation of a link token, for its page. It
// returns 404 invalid_link and 410 link_expired (then with the contact's
// id and language only).
func (s *Service) Invitation(ctx context.Context, token string) (*Invitation, error) {
	c, err := s.invitationByToken(ctx, s.DB, token)
	if errors.Is(err, errLinkExpired) {
		// The language, for the expired page (which still offers "No").
		return &Invitation{ContactID: c.ID, Language: c.Language}, err
	}
	if err != nil {
		return nil, err
	}
	return &Invitation{ContactID: c.ID, UserName: s.userName(ctx, c.UserID, c.Language), Language: c.Language, OptOutLink: s.optOutLink(c.ID)}, nil
}

// ConfirmContact confirms the contact of a link token (public: the
// contact has no account). The token works once. It returns 404
// invalid_link and 410 link_expired.
func (s *Service) ConfirmContact(ctx context.Context, token string) (*Invitation, error) {
	var c contactRow
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if c, err = s.invitationByToken(ctx, tx, token); err != nil {
			return err
		}
		return s.confirm(ctx, tx, c.ID, "link", "token_fp", s.Vault.Fingerprints(fpToken, []byte(strings.TrimSpace(token)))...)
	})
	if err != nil {
		return nil, err
	}
	return &Invitation{ContactID: c.ID, UserName: s.userName(ctx, c.UserID, c.Language), Language: c.Language, OptOutLink: s.optOutLink(c.ID)}, nil
}

// optOutToken is the contact's lasting "stop" token: its id and an HMAC of
// it, so it needs no storage and works until the contact is deleted.
func (s *Service) optOutToken(contactID string) string {
	fp := s.Vault.Fingerprint(fpOptOut, []byte(contactID))
	kid, hexsum, _ := strings.Cut(fp, ".")
	return contactID + "." + kid + "." + hexsum[:32]
}

func (s *Service) optOutLink(contactID string) string {
	return s.workflow.PublicURL + "/api/v1/emergency-contacts/decline?token=" + url.QueryEscape(s.optOutToken(contactID))
}

func (s *Service) confirmLink(token string) string {
	return s.workflow.PublicURL + "/api/v1/emergency-contacts/confirm?token=" + url.QueryEscape(token)
}

// contactOfOptOut returns the contact id of a stop token, "" if it is not
// one of ours.
func (s *Service) contactOfOptOut(token string) string {
	id, rest, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok || !ids.Valid(id) {
		return ""
	}
	kid, sum, ok := strings.Cut(rest, ".")
	if !ok || len(sum) != 32 {
		return ""
	}
	for _, fp := range s.Vault.Fingerprints(fpOptOut, []byte(id)) {
		k, h, _ := strings.Cut(fp, ".")
		if k == kid && hmac.Equal([]byte(h[:32]), []byte(sum)) {
			return id
		}
	}
	return ""
}

// DeclineContact records that the person behind a number wants no
// messages from Mitra: the contact (and any other contact with that
// number) becomes declined, the number is put on the opt-out list, and
// nothing is ever sent to it again. token is a stop token or a live
// confirmation token. It returns 404 invalid_link.
func (s *Service) DeclineContact(ctx context.Context, token string) (*Invitation, error) {
	var inv *Invitation
	err := s.DB.InTx(ctx, func(tx *database.Tx) error {
		var c contactRow
		var err error
		if id := s.contactOfOptOut(token); id != "" {
			c, err = s.scanContact(tx.QueryRow(ctx, `SELECT `+contactColumns+` FROM emergency_contacts WHERE id = ?`, id))
			if errors.Is(err, database.ErrNoRows) {
				return errInvalidLink
			}
		} else {
			c, err = s.invitationByToken(ctx, tx, token)
			if errors.Is(err, errLinkExpired) {
				err = nil // saying no is always possible
			}
		}
		if err != nil {
			return err
		}
		inv = &Invitation{ContactID: c.ID, Language: c.Language}
		now := s.Now()
		fps := s.Vault.Fingerprints(fpPhone, []byte(c.Phone))
		if _, err := tx.Exec(ctx, `INSERT INTO contact_opt_outs (phone_fp, created_at) VALUES (?, ?) ON CONFLICT (phone_fp) DO NOTHING`, fps[0], now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id FROM emergency_contacts WHERE status <> ? AND phone_fp IN (`+placeholders(len(fps))+`)`,
			append([]any{ContactDeclined}, anys(fps)...)...)
		if err != nil {
			return err
		}
		var affected []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			affected = append(affected, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range affected {
			if _, err := tx.Exec(ctx, `UPDATE emergency_contacts SET status = ?, declined_at = ?, token_fp = NULL, token_expires_at = NULL,
				code_fp = NULL, code_expires_at = NULL, updated_at = ? WHERE id = ?`, ContactDeclined, now, now, id); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Entry{Action: "emergency_contact.declined", TargetType: "emergency_contact", TargetID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}
