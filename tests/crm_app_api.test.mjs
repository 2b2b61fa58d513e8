// What the staff app asks of the API beyond the CRM's basics: the assignee list any
// staff member may read, the queue counts in stats, and the actions a ticket allows.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, createStaff, login, ticket } from "./helpers.mjs";

let w, admin, agent, adminId, agentId, goneId;
before(async () => {
  w = await startWorker();
  adminId = await createStaff(w.db, { email: "admin@example.com", name: "Zoe Admin", role: "admin" });
  agentId = await createStaff(w.db, { email: "agent@example.com", name: "Al Agent" });
  goneId = await createStaff(w.db, { email: "gone@example.com", name: "Gone Person", active: 0 });
  admin = await login(w, "admin@example.com");
  agent = await login(w, "agent@example.com");
});
after(() => w.dispose());

const as = (who) => (method, path, body) =>
  w.call(path, {
    method,
    headers: { ...who.auth, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body && JSON.stringify(body),
  });

describe("GET /api/crm/assignees", () => {
  test("an agent gets the active staff as {id, name, role}, by name, and nothing more", async () => {
    const res = await as(agent)("GET", "/api/crm/assignees");
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.data.assignees, [
      { id: agentId, name: "Al Agent", role: "agent" },
      { id: adminId, name: "Zoe Admin", role: "admin" },
    ]);
    assert.doesNotMatch(res.text, /@example\.com|password|Gone Person/);
    // The admin-only list stays admin-only.
    assert.equal((await as(agent)("GET", "/api/crm/staff")).status, 403);
    assert.ok(goneId > 0);
  });

  test("needs a session", async () => {
    const res = await w.call("/api/crm/assignees");
    assert.equal(res.status, 401);
    assert.equal(res.body.code, "unauthorized");
    const forged = await w.call("/api/crm/assignees", { headers: { Authorization: "Bearer forged-token" } });
    assert.equal(forged.status, 401);
    assert.equal((await w.call("/api/crm/assignees", { method: "POST" })).status, 405);
  });
});

describe("queue counts and allowed actions", () => {
  test("each caller's Mine, and Unassigned, Open, Waiting and All follow the tickets", async () => {
    const create = async (overrides) => (await as(admin)("POST", "/api/crm/tickets/create", ticket(overrides))).body.data;
    const mine = await create({ assigned_to: agentId });
    await create({ assigned_to: adminId });
    await create({});
    const waiting = await create({});
    assert.equal((await as(admin)("POST", `/api/crm/tickets/${waiting.id}/resolve`)).status, 200);
    const closed = await create({ assigned_to: agentId });
    assert.equal((await as(admin)("POST", `/api/crm/tickets/${closed.id}/close`)).status, 200);

    const queues = async (who) => (await as(who)("GET", "/api/crm/stats")).body.data.queues;
    assert.deepEqual(await queues(agent), { mine: 1, unassigned: 1, open: 3, waiting: 1, all: 5 });
    assert.deepEqual(await queues(admin), { mine: 1, unassigned: 1, open: 3, waiting: 1, all: 5 });
    // Each count is what the queue's list filter returns.
    const count = async (query) => (await as(agent)("GET", `/api/crm/tickets?${query}`)).body.data.tickets.length;
    assert.equal(await count("assigned_to=me&status=open,assigned"), 1);
    assert.equal(await count("assigned_to=none&status=open"), 1);
    assert.equal(await count("status=open,assigned"), 3);
    assert.equal(await count("status=resolved"), 1);
    assert.equal(await count(""), 5);
    assert.equal((await as(agent)("POST", `/api/crm/tickets/${mine.id}/resolve`)).status, 200);
    assert.deepEqual(await queues(agent), { mine: 0, unassigned: 1, open: 2, waiting: 2, all: 5 });
  });

  test("the ticket view lists exactly the actions the lifecycle allows now", async () => {
    const t = (await as(agent)("POST", "/api/crm/tickets/create", ticket())).body.data;
    const allowed = async () => (await as(agent)("GET", `/api/crm/tickets/${t.ticket_number}`)).body.data.allowed_actions;
    assert.deepEqual(await allowed(), ["assign", "resolve", "close"]);
    await as(agent)("POST", `/api/crm/tickets/${t.id}/assign`, { staff_id: agentId });
    assert.deepEqual(await allowed(), ["assign", "unassign", "resolve", "close"]);
    await as(agent)("POST", `/api/crm/tickets/${t.id}/resolve`);
    assert.deepEqual(await allowed(), ["close", "reopen"]);
    await as(agent)("POST", `/api/crm/tickets/${t.id}/close`);
    assert.deepEqual(await allowed(), ["reopen"]);
    // And an action outside the list is refused with the same list.
    const refused = await as(agent)("POST", `/api/crm/tickets/${t.id}/resolve`);
    assert.equal(refused.status, 409);
    assert.deepEqual(refused.body.details.allowed_actions, ["reopen"]);
  });
});
