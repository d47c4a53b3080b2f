-- The local directory: the mailboxes this service delivers to, and whose
-- credentials SMTP AUTH checks. Addresses are stored canonical and lower-case;
-- passwords only as scrypt hashes.
CREATE TABLE mailboxes (
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
