-- Customers in the loop: the conversation thread and the notification outbox.

CREATE TABLE ticket_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES support_tickets(id),
  author_type TEXT NOT NULL CHECK (author_type IN ('customer', 'staff', 'system')),
  staff_id INTEGER REFERENCES crm_staff(id),
  body TEXT NOT NULL,
  -- Internal notes are for staff only and never appear on a public route.
  internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
  created_at TEXT NOT NULL
);
CREATE INDEX idx_ticket_messages_ticket ON ticket_messages (ticket_id, id);

-- The outbox: written in the same batch as the change that causes it, delivered
-- right after the response and retried by the cron trigger with exponential backoff.
-- Rows hold references, not rendered messages: links and secrets are derived at
-- delivery time.
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
  ticket_id INTEGER REFERENCES support_tickets(id),
  message_id INTEGER REFERENCES ticket_messages(id),
  recipient TEXT,
  -- Where status links in this notification point (PUBLIC_BASE_URL, or the origin
  -- of the request that caused it), so a retry from the cron links correctly.
  link_base TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  -- When a pending row is due; a delivery in progress pushes it forward (a lease).
  next_attempt_at TEXT NOT NULL,
  last_error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  sent_at TEXT
);
CREATE INDEX idx_notifications_due ON notifications (status, next_attempt_at);
