-- The public create under abuse and retries: integration keys, exact rate limits,
-- idempotent creates.

-- Keys for trusted integrations (the AI assistant's backend). Only the SHA-256 of a
-- key is stored; the key itself is shown once, when it is created.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  -- The first characters of the key, so people can tell keys apart.
  key_prefix TEXT NOT NULL,
  rate_limit INTEGER NOT NULL CHECK (rate_limit > 0),
  created_by INTEGER REFERENCES crm_staff(id),
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);

-- One row per accepted create per bucket ('email:<normalized>', 'ip:<address>',
-- 'key:<api key id>'): a sliding window is a count of rows newer than now - window. The
-- check and the insert share the create's D1 batch, so limits are exact.
CREATE TABLE rate_limit_hits (
  bucket TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX idx_rate_limit_hits ON rate_limit_hits (bucket, at);

-- The first answer (always a 201) to a create that carried an Idempotency-Key, per
-- caller scope. `ticket` is the created ticket as it was then (JSON), so a replay
-- renders the very same body; secrets in it are derived again, never stored.
CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  ticket TEXT NOT NULL CHECK (json_valid(ticket)),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idx_idempotency_expires ON idempotency_keys (expires_at);
