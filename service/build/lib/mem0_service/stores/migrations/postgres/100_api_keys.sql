-- Scoped API keys: only a SHA-256 digest of each key is kept; the key itself is shown once, at creation.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    name TEXT,
    user_id TEXT,
    agent_id TEXT,
    access TEXT NOT NULL CHECK (access IN ('read', 'read_write')),
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    CHECK (user_id IS NOT NULL OR agent_id IS NOT NULL)
);
