-- Sessions an administrator can list and revoke: a public id (the cookie's
-- secret stays hashed), when it was last seen, and from where.
ALTER TABLE sessions ADD COLUMN public_id TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
ALTER TABLE sessions ADD COLUMN client_ip TEXT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
UPDATE sessions SET public_id = lower(hex(randomblob(12))), last_seen_at = created_at;
CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id);

-- Tokens may expire, and remember the session that created them: revoking
-- that session revokes them too.
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN session_id TEXT;
