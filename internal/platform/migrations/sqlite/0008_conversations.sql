-- +goose Up
-- Companion conversations; message content and summaries are sealed.
CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL,
    persona_id     TEXT,
    title          TEXT NOT NULL DEFAULT '',
    summary_sealed TEXT,
    summary_upto   TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE INDEX conversations_user_idx ON conversations (user_id, updated_at);

CREATE TABLE conversation_messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    content_sealed  TEXT NOT NULL,
    size            INTEGER NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX conversation_messages_conv_idx ON conversation_messages (conversation_id, id);

-- +goose Down
DROP TABLE conversation_messages;
DROP TABLE conversations;
