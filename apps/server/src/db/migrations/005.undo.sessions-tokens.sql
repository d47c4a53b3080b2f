ALTER TABLE tokens DROP COLUMN session_id;
ALTER TABLE tokens DROP COLUMN expires_at;
DROP INDEX sessions_public_id;
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN client_ip;
ALTER TABLE sessions DROP COLUMN last_seen_at;
ALTER TABLE sessions DROP COLUMN public_id;
