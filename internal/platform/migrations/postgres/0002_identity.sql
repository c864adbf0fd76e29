-- +goose Up
CREATE TABLE users (
    id                TEXT PRIMARY KEY,
    email             TEXT UNIQUE,
    phone             TEXT UNIQUE,
    agent_code        TEXT UNIQUE,
    name              TEXT NOT NULL,
    password_hash     TEXT,
    role              TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'active',
    email_verified_at TIMESTAMPTZ,
    phone_verified_at TIMESTAMPTZ,
    last_login_at     TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_created_idx ON users (created_at, id);
CREATE INDEX users_role_idx ON users (role, created_at);

CREATE TABLE user_preferences (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    channels      TEXT NOT NULL,
    language      TEXT NOT NULL,
    time_zone     TEXT NOT NULL,
    quiet_start   TEXT,
    quiet_end     TEXT,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_seq    BIGINT NOT NULL DEFAULT 0,
    rotated_at     TIMESTAMPTZ,
    user_agent     TEXT NOT NULL DEFAULT '',
    ip             TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    last_used_at   TIMESTAMPTZ NOT NULL,
    expires_at     TIMESTAMPTZ NOT NULL,
    revoked_at     TIMESTAMPTZ,
    revoked_reason TEXT
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id, seq);

CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    algorithm    TEXT NOT NULL,
    private_key  TEXT NOT NULL,
    public_jwk   TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    retired_at   TIMESTAMPTZ
);

CREATE TABLE otp_codes (
    id          TEXT PRIMARY KEY,
    phone       TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    code_hash   TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    ip          TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    consumed_at TIMESTAMPTZ
);
CREATE INDEX otp_codes_phone_idx ON otp_codes (phone, purpose, created_at);

CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

CREATE TABLE feature_flags (
    key             TEXT PRIMARY KEY,
    description     TEXT NOT NULL DEFAULT '',
    enabled         BOOLEAN NOT NULL,
    rollout_percent INTEGER NOT NULL DEFAULT 100,
    roles           TEXT NOT NULL DEFAULT '[]',
    updated_at      TIMESTAMPTZ NOT NULL,
    updated_by      TEXT
);

CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    TEXT,
    actor_role  TEXT,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    before_data TEXT,
    after_data  TEXT,
    ip          TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_actor_idx ON audit_log (actor_id, id);
CREATE INDEX audit_target_idx ON audit_log (target_id, id);
CREATE INDEX audit_action_idx ON audit_log (action, id);

-- The audit log is append-only: the database refuses changes and deletions.
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE feature_flags;
DROP TABLE password_resets;
DROP TABLE otp_codes;
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE user_preferences;
DROP TABLE users;
