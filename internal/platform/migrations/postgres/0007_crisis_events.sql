-- +goose Up
-- Crisis events for the counselor queue (created at high risk and above,
-- and for PHQ-9 item 9 above zero). No message text is kept.
CREATE TABLE crisis_events (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    level           TEXT NOT NULL,
    category        TEXT NOT NULL,
    signals         TEXT NOT NULL DEFAULT '[]',
    source          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open',
    acknowledged_by TEXT,
    acknowledged_at TIMESTAMPTZ,
    resolved_by     TEXT,
    resolved_at     TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX crisis_events_status_idx ON crisis_events (status, created_at);
CREATE INDEX crisis_events_user_idx ON crisis_events (user_id, created_at);

CREATE TABLE crisis_event_notes (
    id          TEXT PRIMARY KEY,
    event_id    TEXT NOT NULL REFERENCES crisis_events (id) ON DELETE CASCADE,
    author_id   TEXT NOT NULL,
    note_sealed TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX crisis_event_notes_event_idx ON crisis_event_notes (event_id, created_at);

-- Every crisis notice shown (referral to professional help), without who.
CREATE TABLE crisis_notices (
    id         TEXT PRIMARY KEY,
    level      TEXT NOT NULL,
    source     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX crisis_notices_created_idx ON crisis_notices (created_at);

-- +goose Down
DROP TABLE crisis_notices;
DROP TABLE crisis_event_notes;
DROP TABLE crisis_events;
