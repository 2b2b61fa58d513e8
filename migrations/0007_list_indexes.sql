-- Indexes for the CRM list's sorts and filters that had none, and for the dashboard's
-- counts (measured with `make capacity` at 100,000 tickets: README "Capacity",
-- docs/scaling.md). The list names the index it needs where several share a leading
-- column (store/tickets/listing.rs `pinned_index`): SQLite's planner picks among
-- those without weighing the sort.

-- sort=priority (and its next pages): the list orders by the priority's rank, an
-- expression, so only an index on that same expression serves it. It must stay the
-- expression store/tickets/listing.rs builds (a unit test there compares them).
CREATE INDEX idx_tickets_priority_rank ON support_tickets (
  (CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'urgent' THEN 4 END), id);

-- The queue by priority (status=open,assigned&sort=priority): each status's rows in
-- rank order, so a page reads a page's worth of rows per status.
CREATE INDEX idx_tickets_status_priority ON support_tickets (status,
  (CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 WHEN 'urgent' THEN 4 END), id);

-- A status by last change (status=closed&sort=updated_at: "recently closed").
CREATE INDEX idx_tickets_status_updated ON support_tickets (status, updated_at, id);

-- An agent's own queue (assigned_to=me&status=open,assigned): their open work, not
-- their whole history; also the dashboard's count of unassigned open tickets.
CREATE INDEX idx_tickets_assigned_status ON support_tickets (assigned_to, status, created_at, id);

-- priority=urgent (newest first), and the dashboard's count by priority, which
-- otherwise reads every ticket row.
CREATE INDEX idx_tickets_priority_created ON support_tickets (priority, created_at, id);
