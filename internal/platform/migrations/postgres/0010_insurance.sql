-- +goose Up
-- Agent (insurance): providers with their plan master, agents and their
-- provider links, customers and policies. Money is in paise (INTEGER),
-- dates without a time are 'YYYY-MM-DD' text on both dialects.
CREATE TABLE providers (
    id            TEXT PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    irdai_reg_no  TEXT NOT NULL DEFAULT '',
    website       TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    logo_url      TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE provider_plans (
    id               TEXT PRIMARY KEY,
    provider_id      TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    plan_number      TEXT NOT NULL,
    name             TEXT NOT NULL,
    plan_type        TEXT NOT NULL,
    terms            TEXT NOT NULL,  -- JSON array of allowed policy terms (years)
    premium_terms    TEXT NOT NULL,  -- JSON array of allowed premium-paying terms (years)
    min_entry_age    INTEGER NOT NULL,
    max_entry_age    INTEGER NOT NULL,
    min_sum_assured  BIGINT NOT NULL, -- paise
    modes            TEXT NOT NULL,  -- JSON array of allowed premium modes
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (provider_id, plan_number)
);

-- A provider admin works for one provider.
CREATE TABLE provider_staff (
    user_id     TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX provider_staff_provider_idx ON provider_staff (provider_id);

-- An agent is a user with role agent; the agent id is the user id.
CREATE TABLE agents (
    user_id         TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    provider_id     TEXT NOT NULL REFERENCES providers (id),
    licence_number  TEXT NOT NULL UNIQUE,
    licence_expiry  TEXT NOT NULL,
    status          TEXT NOT NULL,
    status_reason   TEXT NOT NULL DEFAULT '',
    city            TEXT NOT NULL DEFAULT '',
    bio             TEXT NOT NULL DEFAULT '',
    photo_url       TEXT NOT NULL DEFAULT '',
    decided_by      TEXT,
    decided_at      TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX agents_status_idx ON agents (status, created_at, user_id);
CREATE INDEX agents_provider_idx ON agents (provider_id, status, created_at);

CREATE TABLE agent_providers (
    agent_id    TEXT NOT NULL REFERENCES agents (user_id) ON DELETE CASCADE,
    provider_id TEXT NOT NULL REFERENCES providers (id),
    commission  TEXT NOT NULL, -- JSON: plan type -> {first_year_bps, renewal_bps}
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agent_id, provider_id)
);
CREATE INDEX agent_providers_provider_idx ON agent_providers (provider_id);

-- +goose Down
DROP TABLE agent_providers;
DROP TABLE agents;
DROP TABLE provider_staff;
DROP TABLE provider_plans;
DROP TABLE providers;
