-- Attachments: files on both sides of the conversation. The bytes live in R2 (the
-- ATTACHMENTS bucket) under a random key; this table holds what the worker needs to
-- authorize, list and serve them. An upload is two steps: the file (a row reserved as
-- 'pending', the body streamed to R2, then 'uploaded'), then a message that references
-- it (message_id). Rows the cron finds still unreferenced after ATTACHMENT_ORPHAN_HOURS
-- (a crashed upload, a file never sent) are removed with their R2 object.

CREATE TABLE ticket_attachments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES support_tickets(id),
  -- The message it was sent with; NULL until then.
  message_id INTEGER REFERENCES ticket_messages(id),
  -- Who uploaded it: the customer (through the status link) or a staff member. Only the
  -- same party may send it with a message.
  uploader_type TEXT NOT NULL CHECK (uploader_type IN ('customer', 'staff')),
  staff_id INTEGER REFERENCES crm_staff(id),
  -- Sanitized (no controls, separators, bidi or zero-width characters; <= 255 bytes).
  filename TEXT NOT NULL,
  -- One of ATTACHMENT_TYPES, never the client's text as it came.
  content_type TEXT NOT NULL,
  -- The declared Content-Length while pending (reservations count against the
  -- ticket's total), R2's size once uploaded.
  size INTEGER NOT NULL CHECK (size >= 0),
  -- Random (att/<hex>), never derived from the filename.
  r2_key TEXT NOT NULL UNIQUE,
  etag TEXT,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'uploaded')),
  -- Set from the message it is sent with: a file on an internal note is internal and
  -- never appears on a public route.
  internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)),
  -- The request id of the last message batch that tried to send it (the batch's
  -- all-or-nothing check counts the rows it claimed).
  claimed_by TEXT,
  created_at TEXT NOT NULL,
  uploaded_at TEXT
);
CREATE INDEX idx_attachments_ticket ON ticket_attachments (ticket_id, id);
CREATE INDEX idx_attachments_message ON ticket_attachments (message_id);
CREATE INDEX idx_attachments_claim ON ticket_attachments (claimed_by);
-- The cron's orphan sweep: unreferenced rows by age.
CREATE INDEX idx_attachments_unsent ON ticket_attachments (created_at) WHERE message_id IS NULL;
