// The CRM reads check the staff session inside their own D1 batch (src/store/guard.rs,
// app/sessions.rs `Claim`): one KV read and one D1 round trip per request, and every
// state a session can be in still gets the answer a check of its own gives: 401 for a
// deactivated, deleted, logged-out or re-keyed (role change, password reset) staff
// member, 403 for an agent on an admin route, and both before any 400 or 404.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, createStaff, login, ticket, waitFor } from "./helpers.mjs";

let w, ticketId;
before(async () => {
  w = await startWorker();
  await createStaff(w.db, { email: "boss@example.com", role: "admin" });
  const created = await w.postJson("/api/tickets/create", ticket());
  assert.equal(created.status, 201, created.text);
  ticketId = created.body.data.id;
});
after(() => w.dispose());

/** The routes that check the session in their batch, and the role each needs. */
const STAFF_READS = [
  "/api/crm/tickets",
  "/api/crm/tickets?status=open&include_total=true",
  () => `/api/crm/tickets/${ticketId}`,
  () => `/api/crm/tickets/TKT-${new Date().getUTCFullYear()}-0001`,
  "/api/crm/stats",
  "/api/crm/assignees",
];
const ADMIN_READS = ["/api/crm/staff", "/api/crm/api-keys", "/api/crm/notifications"];
const paths = (list) => list.map((p) => (typeof p === "function" ? p() : p));

let staffCount = 0;
/** A fresh staff member (agent or admin) and a session of theirs. */
async function someone(role = "agent") {
  const email = `staff${++staffCount}@example.com`;
  const id = await createStaff(w.db, { email, role });
  const { auth, token } = await login(w, email);
  return { id, auth, token };
}

/** The worker's log line for an answer (its request id). */
async function lineOf(res) {
  const id = res.headers.get("x-request-id");
  return waitFor(
    () => w.logs.map((l) => l.line).filter((l) => l.includes(id)).map((l) => JSON.parse(l))[0],
    5000,
    `the log line of ${id}`,
  );
}

function assert401(res, what) {
  assert.equal(res.status, 401, `${what}: ${res.text}`);
  assert.equal(res.body.code, "unauthorized", what);
}

describe("a CRM read is one KV read and one D1 round trip", () => {
  test("for an agent and for an admin", async () => {
    const agent = await someone("agent");
    const admin = await someone("admin");
    for (const [who, list] of [
      [agent, paths(STAFF_READS)],
      [admin, [...paths(STAFF_READS), ...ADMIN_READS]],
    ]) {
      for (const path of list) {
        const res = await w.call(path, { headers: who.auth });
        assert.equal(res.status, 200, `${path}: ${res.text}`);
        const line = await lineOf(res);
        assert.deepEqual([line.kv, line.d1], [1, 1], `${path}: kv and d1 round trips`);
      }
    }
  });

  test("and answers what the route answers", async () => {
    const agent = await someone("agent");
    const view = await w.call(`/api/crm/tickets/${ticketId}`, { headers: agent.auth });
    assert.equal(view.body.data.ticket.id, ticketId);
    assert.deepEqual(view.body.data.events.map((e) => e.kind), ["created"]);
    const list = await w.call("/api/crm/tickets?include_total=true", { headers: agent.auth });
    assert.equal(list.body.data.total, 1);
    assert.deepEqual(list.body.data.tickets.map((t) => t.id), [ticketId]);
    const stats = await w.call("/api/crm/stats", { headers: agent.auth });
    assert.equal(stats.body.data.total, 1);
    assert.equal(stats.body.data.by_status.open, 1);
    const assignees = await w.call("/api/crm/assignees", { headers: agent.auth });
    assert.ok(assignees.body.data.assignees.some((a) => a.id === agent.id));
  });
});

describe("every session state gets the answer a check of its own gives", () => {
  test("a deactivated staff member: 401 at once", async () => {
    const agent = await someone("agent");
    await w.db.prepare("UPDATE crm_staff SET active = 0 WHERE id = ?").bind(agent.id).run();
    for (const path of paths(STAFF_READS)) assert401(await w.call(path, { headers: agent.auth }), path);
  });

  test("a deleted staff member: 401", async () => {
    const agent = await someone("agent");
    await w.db.prepare("DELETE FROM crm_staff WHERE id = ?").bind(agent.id).run();
    for (const path of paths(STAFF_READS)) assert401(await w.call(path, { headers: agent.auth }), path);
  });

  test("a session that was logged out: 401, even while KV still holds it", async () => {
    const agent = await someone("agent");
    const { createHash } = await import("node:crypto");
    const key = `session:${createHash("sha256").update(agent.token).digest("hex")}`;
    const record = await w.kv.get(key);
    const out = await w.call("/api/crm/auth/logout", { method: "POST", headers: agent.auth });
    assert.equal(out.status, 200, out.text);
    await w.kv.put(key, record);
    for (const path of paths(STAFF_READS)) assert401(await w.call(path, { headers: agent.auth }), path);
  });

  test("a session from before a password reset or role change (the epoch moved): 401", async () => {
    const admin = await someone("admin");
    await w.db.prepare("UPDATE crm_staff SET session_epoch = session_epoch + 1 WHERE id = ?").bind(admin.id).run();
    for (const path of [...paths(STAFF_READS), ...ADMIN_READS]) assert401(await w.call(path, { headers: admin.auth }), path);
  });

  test("an admin demoted through the API: 401 (the demotion ends the session)", async () => {
    const demoted = await someone("admin");
    const boss = await login(w, "boss@example.com");
    const res = await w.call(`/api/crm/staff/${demoted.id}`, {
      method: "PATCH",
      headers: { ...boss.auth, "Content-Type": "application/json" },
      body: JSON.stringify({ role: "agent" }),
    });
    assert.equal(res.status, 200, res.text);
    for (const path of ADMIN_READS) assert401(await w.call(path, { headers: demoted.auth }), path);
  });

  test("an agent on an admin route, or a role changed in the database alone: 403", async () => {
    const agent = await someone("agent");
    for (const path of ADMIN_READS) {
      const res = await w.call(path, { headers: agent.auth });
      assert.equal(res.status, 403, `${path}: ${res.text}`);
      assert.equal(res.body.code, "forbidden");
    }
    const admin = await someone("admin");
    await w.db.prepare("UPDATE crm_staff SET role = 'agent' WHERE id = ?").bind(admin.id).run();
    for (const path of ADMIN_READS) assert.equal((await w.call(path, { headers: admin.auth })).status, 403, path);
    // Agent routes still work for them.
    assert.equal((await w.call("/api/crm/stats", { headers: admin.auth })).status, 200);
  });

  test("a bad session's bad request is a 401, not a 400 or a 404", async () => {
    const agent = await someone("agent");
    const admin = await someone("admin");
    const bad = ["/api/crm/tickets?status=bogus", "/api/crm/tickets?limit=0", "/api/crm/notifications?status=bogus", "/api/crm/tickets/999999"];
    for (const path of bad) assert.ok([400, 404].includes((await w.call(path, { headers: admin.auth })).status), path);
    await w.db.prepare("UPDATE crm_staff SET active = 0 WHERE id = ?").bind(admin.id).run();
    for (const path of bad) assert401(await w.call(path, { headers: admin.auth }), path);
  });

  test("a bad request from a good session stays a 400 (after its check, in a round trip of its own)", async () => {
    const agent = await someone("agent");
    const res = await w.call("/api/crm/tickets?status=bogus", { headers: agent.auth });
    assert.equal(res.status, 400, res.text);
    const line = await lineOf(res);
    assert.deepEqual([line.kv, line.d1], [1, 1]);
  });

  test("no token, or a forged one: 401 without a D1 round trip", async () => {
    for (const path of paths(STAFF_READS)) {
      const res = await w.call(path, { headers: { Authorization: `Bearer ${"F".repeat(43)}` } });
      assert401(res, path);
      const line = await lineOf(res);
      assert.deepEqual([line.kv, line.d1], [1, 0], path);
      assert401(await w.call(path), path);
    }
  });
});

describe("the CRM writes that check the session in their batch", () => {
  const post = (path, auth, body) =>
    w.call(path, { method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const patch = (path, auth, body) =>
    w.call(path, { method: "PATCH", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const eventsOf = async (id) => (await w.db.prepare("SELECT count(*) AS n FROM ticket_events WHERE ticket_id = ?").bind(id).first()).n;

  test("lifecycle actions and edits: one KV read and one D1 round trip", async () => {
    const agent = await someone("agent");
    const created = await w.postJson("/api/tickets/create", ticket({ customer_email: "writes@example.com" }));
    const id = created.body.data.id;
    for (const [res, what] of [
      [await post(`/api/crm/tickets/${id}/assign`, agent.auth, { staff_id: agent.id }), "assign"],
      [await patch(`/api/crm/tickets/${id}`, agent.auth, { priority: "high" }), "edit"],
      [await post(`/api/crm/tickets/${id}/resolve`, agent.auth), "resolve"],
      [await post(`/api/crm/tickets/${id}/resolve`, agent.auth), "a refused resolve (409)"],
    ]) {
      assert.ok([200, 409].includes(res.status), `${what}: ${res.text}`);
      const line = await lineOf(res);
      assert.deepEqual([line.kv, line.d1], [1, 1], what);
    }
    const row = await w.db.prepare("SELECT status, priority, assigned_to FROM support_tickets WHERE id = ?").bind(id).first();
    assert.deepEqual(row, { status: "resolved", priority: "high", assigned_to: agent.id });
  });

  test("a session that no longer holds writes nothing: 401, the ticket and its timeline as they were", async () => {
    const agent = await someone("agent");
    const created = await w.postJson("/api/tickets/create", ticket({ customer_email: "nowrite@example.com" }));
    const id = created.body.data.id;
    const before = await eventsOf(id);
    await w.db.prepare("UPDATE crm_staff SET active = 0 WHERE id = ?").bind(agent.id).run();
    assert401(await post(`/api/crm/tickets/${id}/resolve`, agent.auth), "resolve");
    assert401(await post(`/api/crm/tickets/${id}/assign`, agent.auth, { staff_id: agent.id }), "assign");
    assert401(await patch(`/api/crm/tickets/${id}`, agent.auth, { subject: "Changed" }), "edit");
    // Bad input from a bad session: still the 401.
    assert401(await post(`/api/crm/tickets/${id}/assign`, agent.auth, {}), "assign without staff_id");
    assert401(await patch(`/api/crm/tickets/${id}`, agent.auth, { priority: "bogus" }), "a bad edit");
    const row = await w.db.prepare("SELECT status, subject, assigned_to, version FROM support_tickets WHERE id = ?").bind(id).first();
    assert.equal(row.status, "open");
    assert.equal(row.assigned_to, null);
    assert.notEqual(row.subject, "Changed");
    assert.equal(row.version, 1);
    assert.equal(await eventsOf(id), before);
  });

  test("logout: the revocation is written in the batch that checks the session", async () => {
    const agent = await someone("agent");
    const res = await post("/api/crm/auth/logout", agent.auth);
    assert.equal(res.status, 200, res.text);
    const line = await lineOf(res);
    assert.deepEqual([line.kv, line.d1], [2, 1], "the KV read, the D1 batch, the KV delete");
    assert401(await w.call("/api/crm/auth/me", { headers: agent.auth }), "after logout");
    // Logging out again is a 401 (the session no longer holds), and writes nothing more.
    const { createHash } = await import("node:crypto");
    await w.kv.put(`session:${createHash("sha256").update(agent.token).digest("hex")}`, JSON.stringify({ staff_id: agent.id, epoch: 0, created_at: "2026-01-01T00:00:00.000Z", expires_at: "2999-01-01T00:00:00.000Z" }));
    assert401(await post("/api/crm/auth/logout", agent.auth), "a second logout");
  });

  test("a deactivated staff member's logout is a 401 and revokes nothing", async () => {
    const agent = await someone("agent");
    await w.db.prepare("UPDATE crm_staff SET active = 0 WHERE id = ?").bind(agent.id).run();
    assert401(await post("/api/crm/auth/logout", agent.auth), "logout");
    const { createHash } = await import("node:crypto");
    const hash = createHash("sha256").update(agent.token).digest("hex");
    assert.equal(await w.db.prepare("SELECT count(*) AS n FROM revoked_sessions WHERE token_hash = ?").bind(hash).first("n"), 0);
  });

  test("retrying a notification: 401 for a session that no longer holds, 403 for an agent, and nothing retried", async () => {
    const admin = await someone("admin");
    const created = await w.postJson("/api/tickets/create", ticket({ customer_email: "retry@example.com" }));
    const skipped = await w.db.prepare("SELECT id, status, attempts FROM notifications WHERE ticket_id = ? ORDER BY id LIMIT 1").bind(created.body.data.id).first();
    assert.equal(skipped.status, "skipped");
    await w.db.prepare("UPDATE crm_staff SET active = 0 WHERE id = ?").bind(admin.id).run();
    assert401(await post(`/api/crm/notifications/${skipped.id}/retry`, admin.auth), "retry");
    const after = await w.db.prepare("SELECT status, attempts FROM notifications WHERE id = ?").bind(skipped.id).first();
    assert.deepEqual(after, { status: "skipped", attempts: skipped.attempts });
    const notAdmin = await someone("agent");
    assert.equal((await post(`/api/crm/notifications/${skipped.id}/retry`, notAdmin.auth)).status, 403);
    assert.deepEqual(await w.db.prepare("SELECT status, attempts FROM notifications WHERE id = ?").bind(skipped.id).first(), { status: "skipped", attempts: skipped.attempts });
    const good = await someone("admin");
    const res = await post(`/api/crm/notifications/${skipped.id}/retry`, good.auth);
    assert.equal(res.status, 202, res.text);
    assert.deepEqual([(await lineOf(res)).kv, (await lineOf(res)).d1], [1, 1]);
  });
});
