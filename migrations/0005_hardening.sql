-- Hardening the public edge (issue 11).

-- Whether the requester proved control of the ticket's email address: they opened a
-- link that was emailed to them, or a trusted integration key vouched for its
-- logged-in user. Staff see it; confirmations to unproven addresses carry no text the
-- requester wrote (the service must not relay it to any address typed into a form).
ALTER TABLE support_tickets ADD COLUMN requester_verified INTEGER NOT NULL DEFAULT 0
  CHECK (requester_verified IN (0, 1));

-- Staff emails are stored in lower case (Unicode rules, applied by the worker and by
-- `make admin`); SQLite's lower() folds ASCII only, which covers the rows written
-- before this migration by any path that did not normalize.
UPDATE crm_staff SET email = lower(email);
