-- +goose Up
-- Agent (I3, I4): an agent's customers and their policies. Dates without a
-- time are 'YYYY-MM-DD' text on both dialects, '9999-12-31' standing for
-- "none" in next_due_date and grace_end_date (so keysets need no NULLs);
-- money is in paise. See docs/decisions/0013-policies-and-customers.md.
CREATE TABLE customers (
    id                  TEXT PRIMARY KEY,
    agent_id            TEXT NOT NULL REFERENCES agents (user_id),
    name                TEXT NOT NULL,
    name_key            TEXT NOT NULL,               -- lower-cased name: search and sort
    phone               TEXT NOT NULL DEFAULT '',    -- E.164
    email               TEXT NOT NULL DEFAULT '',
    date_of_birth       TEXT NOT NULL,
    address             TEXT NOT NULL DEFAULT '{}',  -- JSON object
    nominees            TEXT NOT NULL DEFAULT '[]',  -- JSON array
    whatsapp_consent    INTEGER NOT NULL DEFAULT 0,
    whatsapp_consent_at TEXT,
    pan_sealed          TEXT,                        -- vault-sealed PAN
    pan_hash            TEXT,                        -- keyed hash: one customer per PAN per agent
    pan_masked          TEXT NOT NULL DEFAULT '',
    aadhaar_last4       TEXT NOT NULL DEFAULT '',    -- never more than the last 4 digits
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX customers_agent_name_idx ON customers (agent_id, name_key, id);
CREATE INDEX customers_agent_created_idx ON customers (agent_id, created_at, id);
CREATE UNIQUE INDEX customers_agent_pan_idx ON customers (agent_id, pan_hash);
-- Administrators' list of every customer, by name or by creation.
CREATE INDEX customers_name_idx ON customers (name_key, id);
CREATE INDEX customers_created_idx ON customers (created_at, id);

CREATE TABLE policies (
    id                 TEXT PRIMARY KEY,
    agent_id           TEXT NOT NULL REFERENCES agents (user_id),
    provider_id        TEXT NOT NULL REFERENCES providers (id),
    plan_id            TEXT NOT NULL REFERENCES provider_plans (id),
    customer_id        TEXT NOT NULL REFERENCES customers (id),
    policy_number      TEXT NOT NULL,
    sum_assured        INTEGER NOT NULL,  -- paise
    premium            INTEGER NOT NULL,  -- paise, per instalment
    premium_mode       TEXT NOT NULL,
    term_years         INTEGER NOT NULL,
    premium_term_years INTEGER NOT NULL,
    commencement_date  TEXT NOT NULL,
    maturity_date      TEXT NOT NULL,
    premiums_paid      INTEGER NOT NULL,
    next_due_date      TEXT NOT NULL,    -- first unpaid instalment, or 9999-12-31
    grace_end_date     TEXT NOT NULL,    -- next_due_date + grace, or 9999-12-31
    nominee            TEXT NOT NULL DEFAULT 'null', -- JSON object or null
    status             TEXT NOT NULL,
    status_reason      TEXT NOT NULL DEFAULT '',
    status_changed_at  TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX policies_provider_number_idx ON policies (provider_id, policy_number);
CREATE INDEX policies_agent_status_due_idx ON policies (agent_id, status, next_due_date, id);
CREATE INDEX policies_agent_due_idx ON policies (agent_id, next_due_date, id);
CREATE INDEX policies_agent_created_idx ON policies (agent_id, created_at, id);
CREATE INDEX policies_agent_provider_idx ON policies (agent_id, provider_id);
-- A customer belongs to one agent, so customer_id leads: the customer
-- filter, and the foreign-key check when a customer is deleted.
CREATE INDEX policies_customer_idx ON policies (customer_id, next_due_date, id);
-- Provider admins: due lists by status, the whole list by due date or by
-- creation, and the customers holding their provider's policies.
CREATE INDEX policies_provider_status_due_idx ON policies (provider_id, status, next_due_date, id);
CREATE INDEX policies_provider_due_idx ON policies (provider_id, next_due_date, id);
CREATE INDEX policies_provider_created_idx ON policies (provider_id, created_at, id);
CREATE INDEX policies_provider_customer_idx ON policies (provider_id, customer_id);
CREATE INDEX policies_plan_idx ON policies (plan_id);
-- Administrators' list of every policy, by due date or by creation, and
-- by creation within a status.
CREATE INDEX policies_due_idx ON policies (next_due_date, id);
CREATE INDEX policies_created_idx ON policies (created_at, id);
CREATE INDEX policies_status_created_idx ON policies (status, created_at, id);
-- The daily status job walks (status, column, id) keysets: lapses after
-- grace, maturities, lapsed policies whose revival period is over (this
-- one also serves administrators' lists filtered by status).
CREATE INDEX policies_lapse_idx ON policies (status, grace_end_date, id);
CREATE INDEX policies_maturity_idx ON policies (status, maturity_date, id);
CREATE INDEX policies_status_due_idx ON policies (status, next_due_date, id);

-- +goose Down
DROP TABLE policies;
DROP TABLE customers;
