-- +goose Up
-- Crisis intervention: emergency contacts (third-party personal data:
-- name and phone sealed with the vault, the phone also kept as a keyed
-- fingerprint for look-ups), the rules of the workflow per level, the
-- record of each step done (so a step runs once), alerts sent to contacts,
-- and follow-up check-ins.
CREATE TABLE emergency_contacts (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL,
    name_sealed      TEXT NOT NULL,
    phone_sealed     TEXT NOT NULL,
    phone_fp         TEXT NOT NULL,
    relationship     TEXT NOT NULL,
    channel          TEXT NOT NULL,
    language         TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    token_fp         TEXT,
    token_expires_at TEXT,
    code_fp          TEXT,
    code_expires_at  TEXT,
    code_attempts    INTEGER NOT NULL DEFAULT 0,
    code_guesses     INTEGER NOT NULL DEFAULT 0,
    invites_sent     INTEGER NOT NULL DEFAULT 0,
    invited_at       TEXT,
    invite_status    TEXT NOT NULL DEFAULT 'queued',
    confirmed_at     TEXT,
    confirmed_by     TEXT,
    declined_at      TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE UNIQUE INDEX emergency_contacts_user_phone_idx ON emergency_contacts (user_id, phone_fp);
CREATE INDEX emergency_contacts_token_idx ON emergency_contacts (token_fp);
CREATE INDEX emergency_contacts_phone_idx ON emergency_contacts (phone_fp);

-- Every invitation sent, by phone fingerprint and sender: bounds how often
-- one number can be messaged, whoever adds it, and how many invitations one
-- user sends.
CREATE TABLE emergency_contact_invites (
    id         TEXT PRIMARY KEY,
    phone_fp   TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX emergency_contact_invites_phone_idx ON emergency_contact_invites (phone_fp, created_at);
CREATE INDEX emergency_contact_invites_user_idx ON emergency_contact_invites (user_id, created_at);

-- Numbers whose owner said no: nothing is ever sent to them again.
CREATE TABLE contact_opt_outs (
    phone_fp   TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

-- The intervention rules: what happens at each level. Minutes; a null
-- escalation uses MITRA_CRISIS_ESCALATE_AFTER.
CREATE TABLE crisis_rules (
    level                  TEXT PRIMARY KEY,
    actions                TEXT NOT NULL,
    checkin_after_minutes  INTEGER,
    escalate_after_minutes INTEGER,
    updated_by             TEXT,
    updated_at             TEXT NOT NULL
);
INSERT INTO crisis_rules (level, actions, checkin_after_minutes, escalate_after_minutes, updated_at) VALUES
 ('moderate', '["show_resources","schedule_checkin"]', 4320, NULL, '2026-11-22T00:00:00.000000Z'),
 ('high', '["show_resources","notify_counselor","schedule_checkin"]', 1440, NULL, '2026-11-22T00:00:00.000000Z'),
 ('imminent', '["show_resources","notify_counselor","alert_contacts","schedule_checkin"]', 240, 5, '2026-11-22T00:00:00.000000Z');

-- Each workflow step done, once per event.
CREATE TABLE crisis_steps (
    event_id TEXT NOT NULL,
    step     TEXT NOT NULL,
    done_at  TEXT NOT NULL,
    PRIMARY KEY (event_id, step)
);

-- Alerts to emergency contacts: one row per event and contact.
CREATE TABLE crisis_contact_alerts (
    event_id   TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    status     TEXT NOT NULL,
    channel    TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    message_id TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (event_id, contact_id)
);
CREATE INDEX crisis_contact_alerts_contact_idx ON crisis_contact_alerts (contact_id, created_at);

-- The 6-hour cooldown of alerts per contact, claimed before sending: one
-- row per contact, taken over by another event only once the cooldown has
-- passed, so two events cannot both alert a contact within it.
CREATE TABLE crisis_contact_alert_claims (
    contact_id TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    claimed_at TEXT NOT NULL
);

-- Follow-up check-ins; the note is sealed.
CREATE TABLE crisis_checkins (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    event_id    TEXT,
    level       TEXT NOT NULL,
    category    TEXT NOT NULL,
    language    TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    feeling     TEXT,
    note_sealed TEXT,
    expires_at  TEXT NOT NULL,
    answered_at TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX crisis_checkins_user_idx ON crisis_checkins (user_id, status, created_at);

ALTER TABLE crisis_events ADD COLUMN reopen_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE crisis_events ADD COLUMN alerts_failed INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE crisis_events DROP COLUMN alerts_failed;
ALTER TABLE crisis_events DROP COLUMN reopen_count;
DROP TABLE crisis_checkins;
DROP TABLE crisis_contact_alert_claims;
DROP TABLE crisis_contact_alerts;
DROP TABLE crisis_steps;
DROP TABLE crisis_rules;
DROP TABLE contact_opt_outs;
DROP TABLE emergency_contact_invites;
DROP TABLE emergency_contacts;
