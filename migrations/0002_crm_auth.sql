-- CRM sign-in support.

-- Login attempts per key ('email:<address>' or 'ip:<address>') in a fixed window,
-- counted before the password is checked so parallel guesses are throttled exactly.
-- A successful login clears its email's row and gives its attempt back to the IP.
CREATE TABLE login_attempts (
  key TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  window_started_at TEXT NOT NULL
);

-- Sessions live in KV, which takes up to a minute to forget a deleted key at other
-- locations; a logout also lands here so it takes effect at once everywhere. Rows
-- are only useful until the session would have expired anyway.
CREATE TABLE revoked_sessions (
  token_hash TEXT PRIMARY KEY,
  expires_at TEXT NOT NULL
);
