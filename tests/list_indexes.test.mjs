// The CRM list names the index its filters and sort need (store/tickets/listing.rs
// `pinned_index`, migrations/0007): every combination of status, assignee, sort, order
// and the filters beside them must answer 200 with exactly the tickets, in exactly the
// order, that a plain filter-and-sort over every row gives, page after page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, createStaff, login, rows } from "./helpers.mjs";

let w, auth, meId, otherId;
const RANK = { low: 1, medium: 2, high: 3, urgent: 4 };

before(async () => {
  w = await startWorker();
  meId = await createStaff(w.db, { email: "me@example.com" });
  otherId = await createStaff(w.db, { email: "other@example.com" });
  ({ auth } = await login(w, "me@example.com"));
  // 60 tickets over every status, priority, assignee and two customers, with clashing
  // timestamps (ties are broken by id).
  const statuses = ["open", "assigned", "resolved", "closed"];
  const priorities = ["low", "medium", "high", "urgent"];
  const insert = w.db.prepare(
    `INSERT INTO support_tickets (ticket_number, subject, description, customer_email, priority, category, status, assigned_to, created_at, updated_at)
     VALUES (?1, ?2, 'd', ?3, ?4, ?5, ?6, ?7, ?8, ?9)`,
  );
  const batch = [];
  for (let i = 0; i < 60; i++) {
    const status = statuses[i % 4];
    const assignee = status === "open" ? (i % 8 === 0 ? null : null) : [meId, otherId, null][i % 3];
    batch.push(
      insert.bind(
        `TKT-2026-${String(i + 1).padStart(4, "0")}`,
        `Subject ${i}`,
        i % 5 === 0 ? "vip@example.com" : `c${i}@example.com`,
        priorities[(i * 7) % 4],
        i % 2 ? "billing" : "technical",
        status,
        assignee,
        `2026-11-${String(1 + (i % 9)).padStart(2, "0")}T10:00:00.000Z`,
        `2026-11-${String(1 + ((i * 5) % 13)).padStart(2, "0")}T12:00:00.000Z`,
      ),
    );
  }
  await w.db.batch(batch);
});
after(() => w.dispose());

/** Every page of a list, walked with its cursor: the ids in order. */
async function walk(query) {
  const ids = [];
  let cursor = null;
  for (let page = 0; page < 50; page++) {
    const res = await w.call(`/api/crm/tickets?limit=7&${query}${cursor ? `&cursor=${cursor}` : ""}`, { headers: auth });
    assert.equal(res.status, 200, `${query}: ${res.text}`);
    ids.push(...res.body.data.tickets.map((t) => t.id));
    cursor = res.body.data.next_cursor;
    if (!cursor) return ids;
  }
  throw new Error(`${query}: more than 50 pages`);
}

test("every status, assignee, sort and order gives the plain filter-and-sort's tickets, page after page", async () => {
  const all = await rows(w.db, "SELECT id, status, priority, category, assigned_to, customer_email, created_at, updated_at FROM support_tickets");
  let checked = 0;
  for (const status of ["", "open", "open,assigned", "closed", "resolved,closed"]) {
    for (const assignee of ["", "me", "none", String(otherId)]) {
      for (const sort of ["created_at", "updated_at", "priority"]) {
        for (const order of ["desc", "asc"]) {
          for (const extra of ["", "priority=urgent,high", "category=billing", "customer_email=VIP%40example.com"]) {
            const query = [status && `status=${status}`, assignee && `assigned_to=${assignee}`, `sort=${sort}`, `order=${order}`, extra].filter(Boolean).join("&");
            const statuses = status ? status.split(",") : null;
            const key = (t) => (sort === "priority" ? RANK[t.priority] : t[sort]);
            const expected = all
              .filter((t) => !statuses || statuses.includes(t.status))
              .filter((t) => !assignee || (assignee === "me" ? t.assigned_to === meId : assignee === "none" ? t.assigned_to === null : t.assigned_to === otherId))
              .filter((t) => !extra.startsWith("priority") || ["urgent", "high"].includes(t.priority))
              .filter((t) => !extra.startsWith("category") || t.category === "billing")
              .filter((t) => !extra.startsWith("customer_email") || t.customer_email === "vip@example.com")
              .sort((a, b) => {
                const [ka, kb] = [key(a), key(b)];
                const byKey = ka < kb ? -1 : ka > kb ? 1 : a.id - b.id;
                return order === "asc" ? byKey : -byKey;
              })
              .map((t) => t.id);
            assert.deepEqual(await walk(query), expected, query);
            checked++;
          }
        }
      }
    }
  }
  assert.equal(checked, 480);
});

test("include_total counts the same tickets with a pinned index", async () => {
  for (const query of ["status=open,assigned", "status=closed&sort=updated_at", "status=open&assigned_to=none", "assigned_to=me&sort=priority"]) {
    const res = await w.call(`/api/crm/tickets?${query}&include_total=true&limit=100`, { headers: auth });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.total, res.body.data.tickets.length, query);
  }
});
