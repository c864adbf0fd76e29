-- +goose Up
-- Every AI call, streaming or not, successful or not.
CREATE TABLE ai_usage (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL,
    model             TEXT NOT NULL,
    endpoint          TEXT NOT NULL,
    stream            BOOLEAN NOT NULL,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    total_tokens      BIGINT NOT NULL DEFAULT 0,
    estimated         BOOLEAN NOT NULL DEFAULT FALSE,
    cost_micros       BIGINT,
    latency_ms        BIGINT NOT NULL,
    ttfb_ms           BIGINT,
    attempts          INTEGER NOT NULL DEFAULT 1,
    outcome           TEXT NOT NULL,
    request_id        TEXT NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX ai_usage_user_idx ON ai_usage (user_id, created_at);
CREATE INDEX ai_usage_created_idx ON ai_usage (created_at);

-- Running totals per user and period ('d2026-11-22', 'm2026-11'), read
-- before every call to enforce quotas.
CREATE TABLE ai_usage_counters (
    user_id  TEXT NOT NULL,
    period   TEXT NOT NULL,
    tokens   BIGINT NOT NULL DEFAULT 0,
    requests BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, period)
);

-- +goose Down
DROP TABLE ai_usage_counters;
DROP TABLE ai_usage;
