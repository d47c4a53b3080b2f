-- The person behind a token: an entry written with a token names the user
-- who created that token, so the log reads "admin via token deploy".
ALTER TABLE audit_log ADD COLUMN person TEXT;
