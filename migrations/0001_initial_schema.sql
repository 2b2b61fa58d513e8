-- Initial schema: the seed's support_tickets, the users and crm_staff tables its
-- foreign keys reference, the per-year ticket number counter and the audit trail.
-- Landed migrations are never edited: constraints are written for the whole lifecycle.
-- Timestamps are RFC 3339 UTC text written by the worker (millisecond precision);
-- the DEFAULTs only cover rows inserted by hand.

CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE crm_staff (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('admin', 'agent')),
  password_hash TEXT NOT NULL,
  active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  -- Bumped on deactivation, role change or password reset: sessions carry the
  -- epoch they were issued under, so revocation does not wait for KV to propagate.
  session_epoch INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE support_tickets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_number TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  description TEXT NOT NULL,
  user_id INTEGER,
  customer_name TEXT,
  customer_email TEXT NOT NULL,
  priority TEXT DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  category TEXT,
  status TEXT DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'resolved', 'closed')),
  assigned_to INTEGER,
  assigned_at DATETIME,
  resolved_at DATETIME,
  closed_at DATETIME,
  created_by INTEGER,
  created_at DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  -- Optimistic concurrency for CRM edits: every change increments it.
  version INTEGER NOT NULL DEFAULT 1,
  FOREIGN KEY (user_id) REFERENCES users(id),
  FOREIGN KEY (assigned_to) REFERENCES crm_staff(id),
  FOREIGN KEY (created_by) REFERENCES crm_staff(id)
);

CREATE INDEX idx_tickets_status_created ON support_tickets (status, created_at, id);
CREATE INDEX idx_tickets_assigned_created ON support_tickets (assigned_to, created_at, id);
CREATE INDEX idx_tickets_email_created ON support_tickets (customer_email COLLATE NOCASE, created_at);
CREATE INDEX idx_tickets_created ON support_tickets (created_at, id);
CREATE INDEX idx_tickets_updated ON support_tickets (updated_at, id);

-- One row per year. A create claims the next number by incrementing last_seq and
-- writing its request id into claimed_by, in the same batch (one transaction) as the
-- ticket insert, so numbers are gap-free and never reused whatever the concurrency.
CREATE TABLE ticket_counters (
  year INTEGER PRIMARY KEY,
  last_seq INTEGER NOT NULL CHECK (last_seq >= 0),
  claimed_by TEXT
);

-- Append-only audit trail: every change to a ticket adds a row in the same batch.
CREATE TABLE ticket_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES support_tickets(id),
  kind TEXT NOT NULL,
  actor_type TEXT NOT NULL CHECK (actor_type IN ('public', 'customer', 'staff', 'integration', 'system')),
  actor_id INTEGER,
  data TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  created_at TEXT NOT NULL
);

CREATE INDEX idx_ticket_events_ticket ON ticket_events (ticket_id, id);
