package insurance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"mitra/internal/platform/apperr"
	"mitra/internal/platform/audit"
	"mitra/internal/platform/database"
	"mitra/internal/platform/ids"
	"mitra/internal/platform/page"
)

// Customer is a policyholder in an agent's book. Government identifiers
// are shown masked only: the PAN is kept sealed (and as a keyed hash), of
// the Aadhaar number only the last 4 digits are ever kept.
type Customer struct {
	ID                string     `json:"id"`
	AgentID           string     `json:"agent_id"`
	Name              string     `json:"name"`
	Phone             string     `json:"phone" doc:"E.164, empty when not given" example:"+919812345678"`
	Email             string     `json:"email"`
	DateOfBirth       string     `json:"date_of_birth" format:"date"`
	Age               int        `json:"age" doc:"Age last birthday, today in India"`
	Address           Address    `json:"address"`
	Nominees          []Nominee  `json:"nominees"`
	WhatsAppConsent   bool       `json:"whatsapp_consent"`
	WhatsAppConsentAt *time.Time `json:"whatsapp_consent_at" doc:"When consent was given; null without consent"`
	PANMasked         string     `json:"pan_masked" example:"XXXXX1234X" doc:"Only the four digits of the PAN; empty when none"`
	AadhaarMasked     string     `json:"aadhaar_masked" example:"XXXX XXXX 1234" doc:"Only the last 4 digits; empty when none"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// Address is a postal address in India.
type Address struct {
	Line1   string `json:"line1,omitempty" maxLength:"200"`
	Line2   string `json:"line2,omitempty" maxLength:"200"`
	City    string `json:"city,omitempty" maxLength:"100"`
	State   string `json:"state,omitempty" maxLength:"100"`
	Pincode string `json:"pincode,omitempty" pattern:"^[1-9][0-9]{5}$" doc:"Six-digit PIN code"`
}

// Nominee receives a share of the benefits. A minor nominee needs an
// appointee, who receives them until the nominee comes of age.
type Nominee struct {
	Name                  string `json:"name" minLength:"1" maxLength:"200"`
	Relationship          string `json:"relationship" enum:"spouse,child,parent,sibling,grandchild,grandparent,other"`
	SharePercent          int    `json:"share_percent" minimum:"1" maximum:"100" doc:"Shares of all nominees add up to 100"`
	DateOfBirth           string `json:"date_of_birth" format:"date"`
	AppointeeName         string `json:"appointee_name,omitempty" maxLength:"200" doc:"Required when the nominee is under 18"`
	AppointeeRelationship string `json:"appointee_relationship,omitempty" maxLength:"50"`
}

// CustomerInput creates or replaces a customer.
type CustomerInput struct {
	AgentID         string    `json:"agent_id,omitempty" maxLength:"36" doc:"Administrators name the agent; agents leave it out (their own book)"`
	Name            string    `json:"name" minLength:"1" maxLength:"200"`
	Phone           string    `json:"phone,omitempty" maxLength:"30" doc:"Indian numbers may be written without +91"`
	Email           string    `json:"email,omitempty" maxLength:"254"`
	DateOfBirth     string    `json:"date_of_birth" format:"date"`
	Address         Address   `json:"address,omitempty"`
	Nominees        []Nominee `json:"nominees,omitempty" maxItems:"10"`
	WhatsAppConsent bool      `json:"whatsapp_consent,omitempty" doc:"The customer agrees to WhatsApp messages; the server records when"`
	// The identifiers carry no length or pattern in the schema on purpose:
	// the framework's validation errors echo short values back.
	PAN     *string `json:"pan,omitempty" doc:"Write-only. On update: absent keeps the stored PAN, empty removes it"`
	Aadhaar *string `json:"aadhaar,omitempty" doc:"Write-only: the 12-digit number (check digit verified) or its last 4 digits; only the last 4 are kept. On update: absent keeps, empty removes"`
}

// Field locations of rule errors.
const (
	fieldAgentID = "body.agent_id"
)

var (
	errCustomerNotFound = &apperr.Error{Code: "customer_not_found", Status: 404, Message: "no such customer"}
	errBookReadOnly     = apperr.New(apperr.Forbidden, "provider admins may read this book, not change it")
)

// customerFields is a customer's validated, normalised data.
type customerFields struct {
	name, nameKey, phone, email, dob string
	address, nominees                string // JSON
	consent                          bool
	setPAN, setAadhaar               bool
	pan, aadhaarLast4                string
}

// formErrors gathers field errors so a form learns all its mistakes at
// once.
type formErrors []apperr.FieldError

func (f *formErrors) add(err error) {
	if e, ok := apperr.As(err); ok {
		*f = append(*f, e.Fields...)
	}
}

func (f *formErrors) addf(location, format string, args ...any) {
	*f = append(*f, apperr.FieldError{Location: location, Message: fmt.Sprintf(format, args...)})
}

func (f formErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "validation failed", Fields: f}
}

// check validates and normalises in as of date today.
func (in CustomerInput) check(today time.Time) (customerFields, error) {
	var c customerFields
	var fe formErrors
	c.name = strings.Join(strings.Fields(in.Name), " ")
	if c.name == "" {
		fe.addf("body.name", "must not be blank")
	}
	c.nameKey = strings.ToLower(c.name)
	var err error
	if c.phone, err = customerPhone("body.phone", in.Phone); err != nil {
		fe.add(err)
	}
	if c.email, err = customerEmail("body.email", in.Email); err != nil {
		fe.add(err)
	}
	if dob, err := parseDate("body.date_of_birth", in.DateOfBirth); err != nil {
		fe.add(err)
	} else if dob.After(today) {
		fe.addf("body.date_of_birth", "must not be in the future")
	} else if ageOn(dob, today) > 120 {
		fe.addf("body.date_of_birth", "must be less than 120 years ago")
	} else {
		c.dob = formatDate(dob)
	}
	if in.Address.Pincode != "" && (len(in.Address.Pincode) != 6 || !isDigits(in.Address.Pincode) || in.Address.Pincode[0] == '0') {
		fe.addf("body.address.pincode", "must be a six-digit PIN code")
	}
	addr, _ := json.Marshal(in.Address)
	c.address = string(addr)
	nominees := in.Nominees
	if nominees == nil {
		nominees = []Nominee{}
	}
	total := 0
	for i, n := range nominees {
		at := "body.nominees[" + strconv.Itoa(i) + "]"
		nominees[i].Name = strings.Join(strings.Fields(n.Name), " ")
		nominees[i].AppointeeName = strings.Join(strings.Fields(n.AppointeeName), " ")
		if nominees[i].Name == "" {
			fe.addf(at+".name", "must not be blank")
		}
		total += n.SharePercent
		dob, err := parseDate(at+".date_of_birth", n.DateOfBirth)
		switch {
		case err != nil:
			fe.add(err)
		case dob.After(today):
			fe.addf(at+".date_of_birth", "must not be in the future")
		case ageOn(dob, today) < 18 && nominees[i].AppointeeName == "":
			fe.addf(at+".appointee_name", "a nominee under 18 needs an appointee")
		}
	}
	if len(nominees) > 0 && total != 100 {
		fe.addf("body.nominees", "shares must add up to 100 (they add up to %d)", total)
	}
	nj, _ := json.Marshal(nominees)
	c.nominees = string(nj)
	c.consent = in.WhatsAppConsent
	if c.consent && strings.TrimSpace(in.Phone) == "" {
		fe.addf("body.whatsapp_consent", "WhatsApp consent needs a phone number")
	}
	if in.PAN != nil {
		c.setPAN = true
		if *in.PAN != "" {
			if c.pan, err = normalizePAN("body.pan", *in.PAN); err != nil {
				fe.add(err)
			}
		}
	}
	if in.Aadhaar != nil {
		c.setAadhaar = true
		if *in.Aadhaar != "" {
			if c.aadhaarLast4, err = aadhaarLast4("body.aadhaar", *in.Aadhaar); err != nil {
				fe.add(err)
			}
		}
	}
	return c, fe.err()
}

// ownerFor returns the agent a new object of the caller's belongs to: an
// agent's own book, or the agent an administrator names, who must be
// approved (a pending, rejected or suspended agent's book takes nothing
// new). Errors: forbidden (provider admins read only), invalid on
// body.agent_id; for a named agent agent_not_found and agent_not_approved
// (422 on body.agent_id: the body names an agent, the path does not, so
// these are field errors, not the 404 of /api/v1/agents/{agent_id}); for
// an agent's own book agent_not_approved (403, as at sign-in).
func (s *Service) ownerFor(ctx context.Context, q database.Querier, sc Scope, agentID string) (string, error) {
	switch {
	case !sc.mayWrite():
		return "", errBookReadOnly
	case sc.AgentID != "":
		if agentID != "" && agentID != sc.AgentID {
			return "", apperr.Field(fieldAgentID, "agents add to their own book: leave agent_id out")
		}
		agentID = sc.AgentID
	case agentID == "":
		return "", apperr.Field(fieldAgentID, "administrators name the agent whose book this is")
	}
	var status string
	err := database.ErrNoRows
	if ids.Valid(agentID) {
		err = q.QueryRow(ctx, `SELECT status FROM agents WHERE user_id = ?`, agentID).Scan(&status)
	}
	switch {
	case errors.Is(err, database.ErrNoRows):
		return "", refusal("agent_not_found", 422, fieldAgentID, "no agent with this id")
	case err != nil:
		return "", err
	case status == AgentApproved:
		return agentID, nil
	case sc.AgentID != "":
		// scope refuses agents who are not approved; this is the status
		// changing between the two reads.
		return "", &apperr.Error{Code: "agent_not_approved", Status: 403, Message: "only an approved agent works a book"}
	}
	return "", refusal("agent_not_approved", 422, fieldAgentID, "this agent is "+status+": only approved agents' books take new customers and policies")
}

// refusal is a business-rule refusal with its own code, about one field.
func refusal(code apperr.Code, status int, field, message string) *apperr.Error {
	return &apperr.Error{Code: code, Status: status, Message: message, Fields: []apperr.FieldError{{Location: field, Message: message}}}
}

func panAAD(customerID string) []byte { return []byte("customers.pan:" + customerID) }

const customerColumns = `c.id, c.agent_id, c.name, c.phone, c.email, c.date_of_birth, c.address, c.nominees, c.whatsapp_consent, c.whatsapp_consent_at, c.pan_masked, c.aadhaar_last4, c.created_at, c.updated_at`

func scanCustomer(r interface{ Scan(...any) error }, today time.Time) (*Customer, error) {
	var c Customer
	var addr, noms, last4 string
	if err := r.Scan(&c.ID, &c.AgentID, &c.Name, &c.Phone, &c.Email, &c.DateOfBirth, &addr, &noms, &c.WhatsAppConsent, &c.WhatsAppConsentAt,
		&c.PANMasked, &last4, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(addr), &c.Address); err != nil {
		return nil, fmt.Errorf("insurance: customer address: %w", err)
	}
	if err := json.Unmarshal([]byte(noms), &c.Nominees); err != nil {
		return nil, fmt.Errorf("insurance: customer nominees: %w", err)
	}
	c.AadhaarMasked = maskAadhaar(last4)
	if dob, err := time.Parse(DateLayout, c.DateOfBirth); err == nil {
		c.Age = ageOn(dob, today)
	}
	return &c, nil
}

// customerVisibility is the condition (on customers c) and its arguments
// that restrict customers to the scope: an agent's own, a provider admin's
// customers holding a policy with their provider, everything for admins.
// One customer is checked through the customer's policies, a list is
// driven by the provider's.
func customerVisibility(sc Scope, one bool) (string, []any) {
	switch {
	case sc.All:
		return "", nil
	case sc.AgentID != "":
		return "c.agent_id = ?", []any{sc.AgentID}
	case one:
		return "EXISTS (SELECT 1 FROM policies p WHERE p.customer_id = c.id AND p.provider_id = ?)", []any{sc.ProviderID}
	default:
		return "c.id IN (SELECT p.customer_id FROM policies p WHERE p.provider_id = ?)", []any{sc.ProviderID}
	}
}

// Customer returns one customer the caller may see. Errors:
// customer_not_found (also for another agent's customer), forbidden,
// unauthorized.
func (s *Service) Customer(ctx context.Context, id string) (*Customer, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	return s.customer(ctx, s.DB, sc, id)
}

func (s *Service) customer(ctx context.Context, q database.Querier, sc Scope, id string) (*Customer, error) {
	if !ids.Valid(id) {
		return nil, errCustomerNotFound
	}
	query, args := `SELECT `+customerColumns+` FROM customers c WHERE c.id = ?`, []any{id}
	if cond, a := customerVisibility(sc, true); cond != "" {
		query, args = query+" AND "+cond, append(args, a...)
	}
	c, err := scanCustomer(q.QueryRow(ctx, query, args...), todayIn(s.Now()))
	if errors.Is(err, database.ErrNoRows) {
		return nil, errCustomerNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("insurance: customer: %w", err)
	}
	return c, nil
}

// CreateCustomer adds a customer to the caller's book (an administrator
// names the agent), audited without personal data. Errors: invalid (field
// errors), those of ownerFor (agent_not_found, agent_not_approved),
// customer_pan_taken (409), forbidden.
func (s *Service) CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	if !sc.mayWrite() {
		return nil, errBookReadOnly
	}
	now := s.Now()
	f, err := in.check(todayIn(now))
	if err != nil {
		return nil, err
	}
	id := ids.New()
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		agentID, err := s.ownerFor(ctx, tx, sc, in.AgentID)
		if err != nil {
			return err
		}
		var consentAt *time.Time
		if f.consent {
			consentAt = &now
		}
		sealed, hash, masked := s.sealPAN(id, f.pan)
		_, err = tx.Exec(ctx, `INSERT INTO customers (id, agent_id, name, name_key, phone, email, date_of_birth, address, nominees,
			whatsapp_consent, whatsapp_consent_at, pan_sealed, pan_hash, pan_masked, aadhaar_last4, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, agentID, f.name, f.nameKey, f.phone, f.email, f.dob, f.address, f.nominees, f.consent, consentAt, sealed, hash, masked, f.aadhaarLast4, now, now)
		if database.IsUniqueViolation(err) {
			return refusal("customer_pan_taken", 409, "body.pan", "this agent already has a customer with this PAN")
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "customer.created", TargetType: "customer", TargetID: id,
			After: map[string]any{"agent_id": agentID, "pan": f.pan != "", "aadhaar": f.aadhaarLast4 != "", "whatsapp_consent": f.consent, "nominees": len(in.Nominees)}})
	})
	if err != nil {
		return nil, err
	}
	return s.customer(ctx, s.DB, Scope{All: true}, id)
}

// sealPAN returns the sealed PAN, its keyed hash and its masked form, or
// nils and "" for no PAN.
func (s *Service) sealPAN(customerID, pan string) (sealed, hash *string, masked string) {
	if pan == "" {
		return nil, nil, ""
	}
	sl := s.Vault.Seal([]byte(pan), panAAD(customerID))
	h := panHash(s.Vault.Derive("customers.pan_hash"), pan)
	return &sl, &h, maskPAN(pan)
}

// UpdateCustomer replaces a customer's data. The PAN and Aadhaar are kept
// when absent from the input and removed when empty. WhatsApp consent
// records the time it is given and forgets it when withdrawn. Audited with
// the names of the fields changed, not their values. Errors:
// customer_not_found, invalid, customer_pan_taken (409), forbidden
// (provider admins).
func (s *Service) UpdateCustomer(ctx context.Context, id string, in CustomerInput) (*Customer, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	var f customerFields
	err = s.DB.InTx(ctx, func(tx *database.Tx) error {
		cur, err := s.customer(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		if !sc.mayWrite() {
			return errBookReadOnly
		}
		if in.AgentID != "" && in.AgentID != cur.AgentID {
			return apperr.Field(fieldAgentID, "a customer stays with their agent")
		}
		if f, err = in.check(todayIn(now)); err != nil {
			return err
		}
		var oldHash *string
		if err := tx.QueryRow(ctx, `SELECT pan_hash FROM customers WHERE id = ?`, id).Scan(&oldHash); err != nil {
			return err
		}
		sets := []string{"name = ?", "name_key = ?", "phone = ?", "email = ?", "date_of_birth = ?", "address = ?", "nominees = ?", "whatsapp_consent = ?", "updated_at = ?"}
		args := []any{f.name, f.nameKey, f.phone, f.email, f.dob, f.address, f.nominees, f.consent, now}
		switch {
		case f.consent && !cur.WhatsAppConsent:
			sets, args = append(sets, "whatsapp_consent_at = ?"), append(args, now)
		case !f.consent:
			sets, args = append(sets, "whatsapp_consent_at = ?"), append(args, nil)
		}
		panChanged := false
		if f.setPAN {
			sealed, hash, masked := s.sealPAN(id, f.pan)
			sets, args = append(sets, "pan_sealed = ?", "pan_hash = ?", "pan_masked = ?"), append(args, sealed, hash, masked)
			panChanged = (hash == nil) != (oldHash == nil) || hash != nil && *hash != *oldHash
		}
		if f.setAadhaar {
			sets, args = append(sets, "aadhaar_last4 = ?"), append(args, f.aadhaarLast4)
		}
		_, err = tx.Exec(ctx, `UPDATE customers SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, id)...)
		if database.IsUniqueViolation(err) {
			return refusal("customer_pan_taken", 409, "body.pan", "this agent already has a customer with this PAN")
		}
		if err != nil {
			return err
		}
		var changed []string
		addr, _ := json.Marshal(cur.Address)
		noms, _ := json.Marshal(cur.Nominees)
		for _, c := range []struct {
			name    string
			changed bool
		}{
			{"name", f.name != cur.Name}, {"phone", f.phone != cur.Phone}, {"email", f.email != cur.Email},
			{"date_of_birth", f.dob != cur.DateOfBirth}, {"address", f.address != string(addr)}, {"nominees", f.nominees != string(noms)},
			{"whatsapp_consent", f.consent != cur.WhatsAppConsent}, {"pan", panChanged},
			{"aadhaar", f.setAadhaar && maskAadhaar(f.aadhaarLast4) != cur.AadhaarMasked},
		} {
			if c.changed {
				changed = append(changed, c.name)
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "customer.updated", TargetType: "customer", TargetID: id,
			After: map[string]any{"changed": changed}})
	})
	if err != nil {
		return nil, err
	}
	return s.customer(ctx, s.DB, Scope{All: true}, id)
}

// DeleteCustomer removes a customer who holds no policy (their personal
// data goes with the row; the audit log keeps only the id). Errors:
// customer_not_found, customer_has_policies (409), forbidden.
func (s *Service) DeleteCustomer(ctx context.Context, id string) error {
	sc, err := s.scope(ctx)
	if err != nil {
		return err
	}
	return s.DB.InTx(ctx, func(tx *database.Tx) error {
		cur, err := s.customer(ctx, tx, sc, id)
		if err != nil {
			return err
		}
		if !sc.mayWrite() {
			return errBookReadOnly
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM policies WHERE customer_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &apperr.Error{Code: "customer_has_policies", Status: 409,
				Message: fmt.Sprintf("this customer holds %d policies; a customer with policies cannot be deleted", n)}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM customers WHERE id = ?`, id); err != nil {
			if database.IsForeignKeyViolation(err) {
				return &apperr.Error{Code: "customer_has_policies", Status: 409, Message: "a customer with policies cannot be deleted"}
			}
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "customer.deleted", TargetType: "customer", TargetID: id,
			Before: map[string]any{"agent_id": cur.AgentID}})
	})
}

// CustomerQuery selects a page of customers.
type CustomerQuery struct {
	Q       string `query:"q" maxLength:"100" doc:"Part of the name, or digits of the phone number"`
	AgentID string `query:"agent_id" maxLength:"36" doc:"One agent's customers (administrators)"`
	Sort    string `query:"sort" enum:"name,-name,created_at,-created_at" default:"name"`
	Limit   int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Cursor  string `query:"cursor" maxLength:"500"`
}

// CustomerPage is a page of customers.
type CustomerPage struct {
	Customers  []*Customer `json:"customers"`
	NextCursor string      `json:"next_cursor,omitempty" doc:"Pass as cursor for the next page; absent on the last"`
}

// Customers lists the customers the caller may see, searched and sorted,
// one keyset page at a time. Errors: invalid (query.cursor), forbidden.
func (s *Service) Customers(ctx context.Context, in CustomerQuery) (*CustomerPage, error) {
	sc, err := s.scope(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := page.Decode(in.Cursor)
	if err != nil {
		return nil, err
	}
	l, err := customerListQuery(sc, in, cur)
	if err != nil {
		return nil, err
	}
	today := todayIn(s.Now())
	list, next, err := listPage(ctx, s.DB, l, func(rows *database.Rows, key *string) (*Customer, error) {
		return scanCustomer(scanWith(func(dest ...any) error { return rows.Scan(append(dest, key)...) }), today)
	}, func(c *Customer) (string, time.Time) { return c.ID, c.CreatedAt })
	if err != nil {
		return nil, fmt.Errorf("insurance: customers: %w", err)
	}
	return &CustomerPage{Customers: list, NextCursor: next}, nil
}

// customerListQuery builds the query of a page of customers in scope sc:
// one statement, on the index of its order.
func customerListQuery(sc Scope, in CustomerQuery, cur page.Cursor) (listQuery, error) {
	var l listQuery
	limit := page.Limit(in.Limit)
	col, desc := "name_key", false
	switch in.Sort {
	case "-name":
		desc = true
	case "created_at":
		col = "created_at"
	case "-created_at":
		col, desc = "created_at", true
	}
	var where []string
	var args []any
	if cond, a := customerVisibility(sc, false); cond != "" {
		where, args = append(where, cond), append(args, a...)
	}
	if in.AgentID != "" {
		where, args = append(where, "c.agent_id = ?"), append(args, in.AgentID)
	}
	if q := strings.TrimSpace(in.Q); q != "" {
		cond := "c.name_key LIKE ? ESCAPE '\\'"
		args = append(args, "%"+likeEscape(strings.ToLower(strings.Join(strings.Fields(q), " ")))+"%")
		if d := onlyDigits(q); len(d) >= 3 {
			cond = "(" + cond + " OR c.phone LIKE ?)"
			args = append(args, "%"+d+"%")
		}
		where = append(where, cond)
	}
	if cur.ID != "" {
		op := ">"
		if desc {
			op = "<"
		}
		var v any = cur.Sort
		if col == "created_at" {
			t, err := time.Parse(time.RFC3339Nano, cur.Sort)
			if err != nil {
				return l, apperr.Field("query.cursor", "malformed cursor")
			}
			v = t
		}
		where = append(where, fmt.Sprintf("(c.%s, c.id) %s (?, ?)", col, op))
		args = append(args, v, cur.ID)
	}
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	query := `SELECT ` + customerColumns + `, c.name_key FROM customers c`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY c.%s %s, c.id %s LIMIT %d", col, dir, dir, limit+1)
	l.sql, l.args, l.col, l.limit = query, args, col, limit
	return l, nil
}

// scanWith adapts a function to the Scan method scanners take.
type scanWith func(dest ...any) error

func (f scanWith) Scan(dest ...any) error { return f(dest...) }

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func onlyDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
