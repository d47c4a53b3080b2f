-- SMTP nodes registered with the console, and what each last reported.
CREATE TABLE nodes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'registered',
  running_version INTEGER,
  last_error TEXT,
  listen TEXT NOT NULL DEFAULT '[]',
  started_at TEXT,
  counters TEXT NOT NULL DEFAULT '{}',
  last_seen TEXT
);

-- The version the nodes were last told to run (a restart request), one row.
CREATE TABLE service_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  target_version INTEGER NOT NULL,
  requested_at TEXT NOT NULL,
  requested_by TEXT NOT NULL
);
