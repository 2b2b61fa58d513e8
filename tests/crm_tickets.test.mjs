// The CRM ticket API: create, view, edit, the lifecycle, listing, stats.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, createStaff, login, ticket, rows } from "./helpers.mjs";

let w, agent, agentId, otherId, inactiveId;
before(async () => {
  w = await startWorker();
  agentId = await createStaff(w.db, { email: "agent@example.com", name: "Agent A" });
  otherId = await createStaff(w.db, { email: "other@example.com", name: "Agent B" });
  inactiveId = await createStaff(w.db, { email: "inactive@example.com", active: 0 });
  agent = await login(w, "agent@example.com");
});
after(() => w.dispose());

const send = (method, path, body, headers = {}) =>
  w.call(path, {
    method,
    headers: { ...agent.auth, ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const crmCreate = (overrides = {}, headers) => send("POST", "/api/crm/tickets/create", ticket(overrides), headers);
const publicCreate = (overrides = {}, headers) => w.postJson("/api/tickets/create", ticket(overrides), headers);
const act = (id, action, body) => send("POST", `/api/crm/tickets/${id}/${action}`, body);

describe("create", () => {
  test("staff may assign, use urgent, and are recorded as creator", async () => {
    const res = await crmCreate({ priority: "urgent", assigned_to: otherId });
    assert.equal(res.status, 201, res.text);
    const t = res.body.data;
    assert.equal(res.body.message, "Support ticket created successfully");
    assert.match(t.ticket_number, /^TKT-\d{4}-\d{4}$/);
    assert.equal(t.status, "assigned");
    assert.equal(t.priority, "urgent");
    assert.equal(t.assigned_to, otherId);
    assert.equal(t.assigned_at, t.created_at);
    assert.equal(t.created_by, agentId);
    assert.equal(t.version, 1);
    assert.equal(res.headers.get("location"), `/api/crm/tickets/${t.id}`);
    const [event] = await rows(w.db, "SELECT * FROM ticket_events WHERE ticket_id = ?", t.id);
    assert.equal(event.actor_type, "staff");
    assert.equal(event.actor_id, agentId);
  });

  test("without an assignee it starts open; numbering is shared with the public endpoint", async () => {
    const a = await publicCreate();
    const b = await crmCreate();
    assert.equal(b.body.data.status, "open");
    assert.equal(b.body.data.assigned_at, null);
    const seq = (n) => Number(n.split("-")[2]);
    assert.equal(seq(b.body.data.ticket_number), seq(a.body.data.ticket_number) + 1);
  });

  test("the assignee must be active staff; nothing is written otherwise", async () => {
    const before = await rows(w.db, "SELECT count(*) AS n, (SELECT last_seq FROM ticket_counters) AS seq FROM support_tickets");
    for (const assignee of [inactiveId, 9999]) {
      const res = await crmCreate({ assigned_to: assignee });
      assert.equal(res.status, 400);
      assert.equal(res.body.details[0].field, "assigned_to");
      assert.equal(res.body.details[0].code, "inactive_staff");
    }
    const bad = await crmCreate({ assigned_to: "x", subject: "" });
    assert.deepEqual(bad.body.details.map((d) => d.field).sort(), ["assigned_to", "subject"]);
    assert.deepEqual(await rows(w.db, "SELECT count(*) AS n, (SELECT last_seq FROM ticket_counters) AS seq FROM support_tickets"), before);
  });
});

describe("view", () => {
  test("by id or ticket number, with the timeline", async () => {
    const { body } = await publicCreate();
    const { id, ticket_number } = body.data;
    await act(id, "assign", { staff_id: agentId });
    for (const ref of [id, ticket_number]) {
      const res = await send("GET", `/api/crm/tickets/${ref}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.data.ticket.id, id);
      assert.deepEqual(res.body.data.events.map((e) => e.kind), ["created", "assigned"]);
      assert.deepEqual(res.body.data.events[1].data, { from: "open", to: "assigned", assigned_to: agentId, previous_assignee: null });
    }
  });

  test("unknown tickets are 404", async () => {
    assert.equal((await send("GET", "/api/crm/tickets/999999")).status, 404);
    assert.equal((await send("GET", "/api/crm/tickets/TKT-1999-0001")).status, 404);
  });
});

describe("lifecycle", () => {
  test("open -> assigned -> resolved -> closed, with timestamps and events", async () => {
    const { id } = (await publicCreate()).body.data;
    const at = (t) => ({ "X-Test-Now": t });
    const step = (action, body, time) =>
      w.call(`/api/crm/tickets/${id}/${action}`, {
        method: "POST",
        headers: { ...agent.auth, "Content-Type": "application/json", ...at(time) },
        body: JSON.stringify(body ?? {}),
      });
    let res = await step("assign", { staff_id: otherId, version: 1 }, "2026-05-01T10:00:00Z");
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.ticket.status, "assigned");
    assert.equal(res.body.data.ticket.assigned_at, "2026-05-01T10:00:00.000Z");
    assert.equal(res.body.data.ticket.version, 2);
    res = await step("resolve", { version: 2 }, "2026-05-01T11:00:00Z");
    assert.equal(res.body.data.ticket.status, "resolved");
    assert.equal(res.body.data.ticket.resolved_at, "2026-05-01T11:00:00.000Z");
    res = await step("close", {}, "2026-05-01T12:00:00Z");
    assert.equal(res.body.data.ticket.status, "closed");
    assert.equal(res.body.data.ticket.closed_at, "2026-05-01T12:00:00.000Z");
    assert.equal(res.body.data.ticket.updated_at, "2026-05-01T12:00:00.000Z");
    res = await step("reopen", {}, "2026-05-02T09:00:00Z");
    assert.equal(res.body.data.ticket.status, "assigned", "reopens to the assignee");
    assert.equal(res.body.data.ticket.resolved_at, null);
    assert.equal(res.body.data.ticket.closed_at, null);
    res = await step("unassign", {}, "2026-05-02T09:30:00Z");
    assert.equal(res.body.data.ticket.status, "open");
    assert.equal(res.body.data.ticket.assigned_to, null);
    const events = await rows(w.db, "SELECT kind, actor_id, data FROM ticket_events WHERE ticket_id = ? ORDER BY id", id);
    assert.deepEqual(events.map((e) => e.kind), ["created", "assigned", "resolved", "closed", "reopened", "unassigned"]);
    assert.ok(events.slice(1).every((e) => e.actor_id === agentId));
    assert.deepEqual(JSON.parse(events[4].data), { from: "closed", to: "assigned" });
  });

  test("every invalid transition is a 409 naming the allowed actions", async () => {
    const allowed = {
      open: ["assign", "resolve", "close"],
      assigned: ["assign", "unassign", "resolve", "close"],
      resolved: ["close", "reopen"],
      closed: ["reopen"],
    };
    const reach = { open: [], assigned: ["assign"], resolved: ["resolve"], closed: ["close"] };
    for (const [status, path] of Object.entries(reach)) {
      for (const action of ["assign", "unassign", "resolve", "close", "reopen"]) {
        const { id } = (await publicCreate({ customer_email: "t@example.com" })).body.data;
        for (const p of path) await act(id, p, p === "assign" ? { staff_id: agentId } : {});
        const before = await rows(w.db, "SELECT version, status FROM support_tickets WHERE id = ?", id);
        assert.equal(before[0].status, status);
        const res = await act(id, action, action === "assign" ? { staff_id: otherId } : {});
        if (allowed[status].includes(action)) {
          assert.equal(res.status, 200, `${action} from ${status}: ${res.text}`);
        } else {
          assert.equal(res.status, 409, `${action} from ${status}`);
          assert.equal(res.body.code, "invalid_transition");
          assert.deepEqual(res.body.details, { status, allowed_actions: allowed[status] });
          assert.deepEqual(await rows(w.db, "SELECT version, status FROM support_tickets WHERE id = ?", id), before);
        }
      }
    }
  });

  test("a stale version is a 409 and changes nothing", async () => {
    const { id } = (await publicCreate()).body.data;
    assert.equal((await act(id, "resolve", { version: 1 })).status, 200);
    const stale = await act(id, "close", { version: 1 });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.code, "stale_version");
    assert.equal(stale.body.details.current_version, 2);
    assert.equal((await act(id, "close", { version: 2 })).status, 200);
  });

  test("assign needs an active staff id", async () => {
    const { id } = (await publicCreate()).body.data;
    const missing = await act(id, "assign", {});
    assert.equal(missing.status, 400);
    assert.equal(missing.body.details[0].field, "staff_id");
    const inactive = await act(id, "assign", { staff_id: inactiveId });
    assert.equal(inactive.status, 400);
    assert.equal(inactive.body.details[0].code, "inactive_staff");
  });

  test("actions on unknown tickets are 404; unknown actions are no route", async () => {
    assert.equal((await act(999999, "resolve", {})).status, 404);
    assert.equal((await act(1, "explode", {})).status, 404);
  });

  test("a ticket number addresses a ticket wherever an id does", async () => {
    const t = (await publicCreate()).body.data;
    const n = t.ticket_number;
    const edited = await send("PATCH", `/api/crm/tickets/${n}`, { priority: "high", version: 1 });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.body.data.ticket.priority, "high");
    const note = await send("POST", `/api/crm/tickets/${n}/messages`, { body: "by number", internal: true });
    assert.equal(note.status, 201, note.text);
    assert.equal((await act(n, "assign", { staff_id: agentId })).status, 200);
    const view = await send("GET", `/api/crm/tickets/${t.id}`);
    assert.equal(view.body.data.ticket.status, "assigned");
    assert.equal(view.body.data.messages[0].body, "by number");
    const unknown = `TKT-${n.slice(4, 8)}-9999`;
    assert.equal((await send("PATCH", `/api/crm/tickets/${unknown}`, { priority: "low" })).status, 404);
    assert.equal((await send("POST", `/api/crm/tickets/${unknown}/messages`, { body: "x" })).status, 404);
    assert.equal((await act(unknown, "resolve")).status, 404);
  });

  test("an action needs no body at all", async () => {
    const { id } = (await publicCreate()).body.data;
    const res = await w.call(`/api/crm/tickets/${id}/resolve`, { method: "POST", headers: agent.auth });
    assert.equal(res.status, 200, res.text);
  });

  test("concurrent actions with the same version: exactly one wins", async () => {
    const { id } = (await publicCreate()).body.data;
    const results = await Promise.all(Array.from({ length: 10 }, () => act(id, "assign", { staff_id: otherId, version: 1 })));
    assert.equal(results.filter((r) => r.status === 200).length, 1);
    assert.ok(results.filter((r) => r.status !== 200).every((r) => r.body.code === "stale_version"));
    const events = await rows(w.db, "SELECT count(*) AS n FROM ticket_events WHERE ticket_id = ? AND kind = 'assigned'", id);
    assert.equal(events[0].n, 1);
  });
});

describe("edit", () => {
  test("changes fields, bumps the version and records from/to", async () => {
    const { id } = (await publicCreate({ subject: "Old subject", priority: "low" })).body.data;
    const res = await send("PATCH", `/api/crm/tickets/${id}`, { subject: "New subject", priority: "urgent", version: 1 });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.ticket.subject, "New subject");
    assert.equal(res.body.data.ticket.priority, "urgent");
    assert.equal(res.body.data.ticket.version, 2);
    const [event] = await rows(w.db, "SELECT data FROM ticket_events WHERE ticket_id = ? AND kind = 'updated'", id);
    assert.deepEqual(JSON.parse(event.data), {
      changes: { subject: { from: "Old subject", to: "New subject" }, priority: { from: "low", to: "urgent" } },
    });
  });

  test("validation, stale versions and closed tickets", async () => {
    const { id } = (await publicCreate()).body.data;
    assert.equal((await send("PATCH", `/api/crm/tickets/${id}`, {})).status, 400);
    assert.equal((await send("PATCH", `/api/crm/tickets/${id}`, { subject: "x".repeat(201) })).status, 400);
    assert.equal((await send("PATCH", `/api/crm/tickets/${id}`, { category: "nope" })).status, 400);
    assert.equal((await send("PATCH", `/api/crm/tickets/${id}`, { subject: "ok", version: 0 })).status, 400);
    const stale = await send("PATCH", `/api/crm/tickets/${id}`, { subject: "ok", version: 7 });
    assert.equal(stale.status, 409);
    assert.equal(stale.body.code, "stale_version");
    await act(id, "close", {});
    const closed = await send("PATCH", `/api/crm/tickets/${id}`, { subject: "too late" });
    assert.equal(closed.status, 409);
    assert.equal(closed.body.code, "ticket_closed");
    assert.equal((await send("PATCH", "/api/crm/tickets/999999", { subject: "x" })).status, 404);
  });
});

describe("list", () => {
  let list;
  before(async () => {
    list = await startWorker();
    const a = await createStaff(list.db, { email: "a@example.com" });
    await createStaff(list.db, { email: "b@example.com" });
    const session = await login(list, "a@example.com");
    list.auth = session.auth;
    list.me = a;
    const mk = (o, time) =>
      list.call("/api/crm/tickets/create", {
        method: "POST",
        headers: { ...session.auth, "Content-Type": "application/json", "X-Test-Now": time },
        body: JSON.stringify(ticket(o)),
      });
    await mk({ subject: "Printer on fire", priority: "urgent", category: "technical", assigned_to: a }, "2026-01-01T00:00:00Z");
    await mk({ subject: "100% refund_please", priority: "low", category: "billing", customer_email: "Pay@Example.com" }, "2026-01-02T00:00:00Z");
    await mk({ subject: "Login broken", priority: "high", category: "account" }, "2026-01-03T00:00:00Z");
    await mk({ subject: "General question", priority: "medium", category: "general", assigned_to: a }, "2026-01-04T00:00:00Z");
  });
  after(() => list.dispose());

  const get = (query) => list.call(`/api/crm/tickets?${query}`, { headers: list.auth });
  const subjects = (res) => res.body.data.tickets.map((t) => t.subject);

  test("newest first by default, with combined filters", async () => {
    const all = await get("");
    assert.equal(all.status, 200);
    assert.deepEqual(subjects(all), ["General question", "Login broken", "100% refund_please", "Printer on fire"]);
    assert.equal(all.body.data.next_cursor, null);
    assert.deepEqual(subjects(await get("assigned_to=me&priority=urgent,medium")), ["General question", "Printer on fire"]);
    assert.deepEqual(subjects(await get("assigned_to=none&status=open")), ["Login broken", "100% refund_please"]);
    assert.deepEqual(subjects(await get("status=assigned&status=resolved&category=technical")), ["Printer on fire"]);
    assert.deepEqual(subjects(await get("customer_email=pay@example.COM")), ["100% refund_please"]);
    assert.deepEqual(subjects(await get("created_after=2026-01-01T12:00:00Z&created_before=2026-01-03T12:00:00Z")), ["Login broken", "100% refund_please"]);
  });

  test("q searches number, subject, description, customer; % and _ are literal", async () => {
    assert.deepEqual(subjects(await get("q=printer")), ["Printer on fire"]);
    assert.deepEqual(subjects(await get("q=100%25")), ["100% refund_please"]);
    assert.deepEqual(subjects(await get("q=d_p")), ["100% refund_please"]);
    assert.deepEqual(subjects(await get("q=%25%25")), []);
    assert.equal((await get("q=TKT-2026-0003")).body.data.tickets[0].subject, "Login broken");
    assert.equal((await get("q=' OR 1=1 --")).body.data.tickets.length, 0);
  });

  test("sort by priority, both ways, with a total", async () => {
    const desc = await get("sort=priority&include_total=true");
    assert.deepEqual(subjects(desc), ["Printer on fire", "Login broken", "General question", "100% refund_please"]);
    assert.equal(desc.body.data.total, 4);
    assert.deepEqual(subjects(await get("sort=priority&order=asc")).at(0), "100% refund_please");
  });

  test("bad parameters are 400s naming the parameter", async () => {
    for (const [query, field] of [
      ["status=pending", "status"],
      ["limit=500", "limit"],
      ["sort=subject", "sort"],
      ["assigned_to=someone", "assigned_to"],
      ["created_after=yesterday", "created_after"],
      ["cursor=garbage", "cursor"],
    ]) {
      const res = await get(query);
      assert.equal(res.status, 400, query);
      assert.equal(res.body.details[0].field, field, query);
    }
  });

  test("stats count by status and priority, and unassigned open tickets", async () => {
    const res = await list.call("/api/crm/stats", { headers: list.auth });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, {
      total: 4,
      by_status: { open: 2, assigned: 2, resolved: 0, closed: 0 },
      by_priority: { low: 1, medium: 1, high: 1, urgent: 1 },
      unassigned_open: 2,
    });
  });
});

test("pagination over 250 tickets: no duplicates, none missing, while new ones arrive", async () => {
  const pages = await startWorker();
  try {
    await createStaff(pages.db, { email: "p@example.com" });
    const { auth } = await login(pages, "p@example.com");
    const created = [];
    for (let batch = 0; batch < 5; batch++) {
      const res = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          pages.postJson("/api/tickets/create", ticket({ subject: `Page test ${batch * 50 + i}`, customer_email: `p${batch * 50 + i}@example.com` }), {
            // Many share a timestamp, so the id breaks ties.
            "X-Test-Now": `2026-02-0${batch + 1}T00:00:00Z`,
          }),
        ),
      );
      created.push(...res.map((r) => r.body.data.id));
    }
    for (const order of ["desc", "asc"]) {
      const seen = [];
      let cursor = null;
      let round = 0;
      do {
        const res = await pages.call(`/api/crm/tickets?limit=30&order=${order}${cursor ? `&cursor=${cursor}` : ""}`, { headers: auth });
        assert.equal(res.status, 200, res.text);
        seen.push(...res.body.data.tickets.map((t) => t.id));
        cursor = res.body.data.next_cursor;
        // New tickets arrive while the client pages (later timestamps).
        await pages.postJson("/api/tickets/create", ticket({ customer_email: `late${order}${round}@example.com` }), {
          "X-Test-Now": `2026-03-01T00:00:${String(round).padStart(2, "0")}Z`,
        });
        round++;
      } while (cursor && round < 50);
      const unique = new Set(seen);
      assert.equal(unique.size, seen.length, `${order}: duplicates`);
      for (const id of created) assert.ok(unique.has(id), `${order}: ticket ${id} missing`);
      if (order === "desc") assert.ok(seen.length >= 250);
    }
  } finally {
    await pages.dispose();
  }
});
