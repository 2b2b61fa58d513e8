// Integration keys and idempotent creates.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startWorker, createStaff, login, ticket, rows } from "./helpers.mjs";

let w, admin;
before(async () => {
  w = await startWorker({ bindings: { RATE_LIMIT_PER_EMAIL: "5", RATE_LIMIT_PER_IP: "1000" } });
  await createStaff(w.db, { email: "admin@example.com", role: "admin" });
  await createStaff(w.db, { email: "agent@example.com", role: "agent" });
  admin = await login(w, "admin@example.com");
  await w.db.prepare("INSERT INTO users (id, email, name) VALUES (7, 'member@example.com', 'Member')").run();
});
after(() => w.dispose());

const newKey = async (body) => {
  const res = await w.call("/api/crm/api-keys", {
    method: "POST",
    headers: { ...admin.auth, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
};
const create = (body, headers = {}) => w.postJson("/api/tickets/create", body, headers);

describe("integration keys", () => {
  test("shown once, stored hashed, listed without secrets", async () => {
    const { key, api_key } = await newKey({ name: "AI assistant" });
    assert.match(key, /^hk_[A-Za-z0-9_-]{43}$/);
    assert.equal(api_key.key_prefix, key.slice(0, 10));
    assert.equal(api_key.rate_limit, 1000);
    const [row] = await rows(w.db, "SELECT key_hash FROM api_keys WHERE id = ?", api_key.id);
    assert.equal(row.key_hash, createHash("sha256").update(key).digest("hex"));
    const list = await w.call("/api/crm/api-keys", { headers: admin.auth });
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes(key) && !list.text.includes(row.key_hash));
    const agent = await login(w, "agent@example.com");
    assert.equal((await w.call("/api/crm/api-keys", { headers: agent.auth })).status, 403);
  });

  test("a keyed create skips email limits, may name any user, and records the integration", async () => {
    const { key, api_key } = await newKey({ name: "Assistant", rate_limit: 50 });
    const auth = { Authorization: `Bearer ${key}` };
    for (let i = 0; i < 7; i++) {
      const res = await create(ticket({ customer_email: "busy@example.com", user_id: 7 }), auth);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get("ratelimit-policy"), '"key";q=50;w=3600');
    }
    const [event] = await rows(
      w.db,
      "SELECT e.actor_type, e.actor_id, t.user_id FROM ticket_events e JOIN support_tickets t ON t.id = e.ticket_id ORDER BY e.id DESC LIMIT 1",
    );
    assert.deepEqual(event, { actor_type: "integration", actor_id: api_key.id, user_id: 7 });
    const [used] = await rows(w.db, "SELECT last_used_at FROM api_keys WHERE id = ?", api_key.id);
    assert.ok(used.last_used_at);
  });

  test("an anonymous caller's ticket is linked only to the user whose email is the ticket's", async () => {
    const member = await create(ticket({ customer_email: "MEMBER@example.com", user_id: 7 }));
    assert.equal(member.status, 201);
    // Another email: stored unlinked, answered the same (no "is this a user?" oracle).
    const other = await create(ticket({ customer_email: "someone@example.com", user_id: 7 }));
    assert.equal(other.status, 201, other.text);
    const linked = await rows(w.db, "SELECT id, user_id FROM support_tickets WHERE id IN (?, ?) ORDER BY id", member.body.data.id, other.body.data.id);
    assert.deepEqual(linked.map((r) => r.user_id), [7, null]);
  });

  test("unknown, malformed and revoked keys get 401, never anonymous treatment", async () => {
    for (const value of ["Bearer hk_nope", "Bearer ", "Basic abc", `Bearer ${"x".repeat(5000)}`]) {
      const res = await create(ticket(), { Authorization: value });
      assert.equal(res.status, 401, value.slice(0, 20));
    }
    const { key, api_key } = await newKey({ name: "Old" });
    assert.equal((await create(ticket(), { Authorization: `Bearer ${key}` })).status, 201);
    const revoke = await w.call(`/api/crm/api-keys/${api_key.id}`, { method: "DELETE", headers: admin.auth });
    assert.equal(revoke.status, 200);
    assert.ok(revoke.body.data.api_key.revoked_at);
    const res = await create(ticket(), { Authorization: `Bearer ${key}` });
    assert.equal(res.status, 401);
    assert.equal(res.body.code, "unauthorized");
    assert.equal((await w.call("/api/crm/api-keys/9999", { method: "DELETE", headers: admin.auth })).status, 404);
  });

  test("a key has its own exact limit", async () => {
    const { key } = await newKey({ name: "Small", rate_limit: 3 });
    const auth = { Authorization: `Bearer ${key}` };
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => create(ticket({ customer_email: `k${i}@example.com` }), auth)));
    assert.equal(results.filter((r) => r.status === 201).length, 3);
    const refused = results.find((r) => r.status === 429);
    assert.match(refused.body.message, /limit of 3 tickets per hour for this integration/);
  });

  test("key input is validated", async () => {
    for (const body of [{}, { name: "x", rate_limit: 0 }, { name: "x", rate_limit: "5" }]) {
      const res = await w.call("/api/crm/api-keys", { method: "POST", headers: { ...admin.auth, "Content-Type": "application/json" }, body: JSON.stringify(body) });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
  });
});

describe("idempotent create", () => {
  const idem = (key, extra = {}) => ({ "Idempotency-Key": key, ...extra });

  test("a retry returns the same answer, creates nothing, and says it was replayed", async () => {
    const body = ticket({ customer_email: "retry@example.com" });
    const first = await create(body, idem("attempt-1"));
    assert.equal(first.status, 201);
    assert.equal(first.headers.get("idempotent-replayed"), null);
    const again = await create(body, idem("attempt-1"));
    assert.equal(again.status, 201);
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get("location"), first.headers.get("location"));
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM support_tickets WHERE customer_email = 'retry@example.com'"))[0].n, 1);
    // A replay is not another ticket for the rate limit either.
    for (let i = 0; i < 10; i++) assert.equal((await create(body, idem("attempt-1"))).status, 201);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits WHERE bucket = 'email:retry@example.com'"))[0].n, 1);
  });

  test("the same key with a different body is a 422", async () => {
    await create(ticket({ customer_email: "diff@example.com", subject: "First" }), idem("k-422"));
    const res = await create(ticket({ customer_email: "diff@example.com", subject: "Second" }), idem("k-422"));
    assert.equal(res.status, 422);
    assert.equal(res.body.code, "idempotency_key_reused");
  });

  test("concurrent duplicates never produce two tickets", async () => {
    const body = ticket({ customer_email: "race@example.com" });
    const results = await Promise.all(Array.from({ length: 12 }, () => create(body, idem("race-1"))));
    assert.ok(results.every((r) => r.status === 201));
    assert.equal(new Set(results.map((r) => r.body.data.ticket_number)).size, 1);
    assert.equal(results.filter((r) => r.headers.get("idempotent-replayed") === "true").length, 11);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM support_tickets WHERE customer_email = 'race@example.com'"))[0].n, 1);
  });

  test("keys are scoped to the caller", async () => {
    const a = await create(ticket({ customer_email: "a-scope@example.com" }), idem("shared"));
    const b = await create(ticket({ customer_email: "b-scope@example.com" }), idem("shared"));
    assert.notEqual(a.body.data.ticket_number, b.body.data.ticket_number);
    const { key } = await newKey({ name: "Scoped" });
    const keyed = await create(ticket({ customer_email: "a-scope@example.com" }), idem("shared", { Authorization: `Bearer ${key}` }));
    assert.equal(keyed.status, 201);
    assert.notEqual(keyed.body.data.ticket_number, a.body.data.ticket_number);
  });

  test("after 24 hours the key starts afresh", async () => {
    const body = ticket({ customer_email: "later@example.com" });
    const first = await create(body, idem("day", { "X-Test-Now": "2026-06-01T10:00:00Z" }));
    const within = await create(body, idem("day", { "X-Test-Now": "2026-06-02T09:59:59Z" }));
    assert.equal(within.body.data.ticket_number, first.body.data.ticket_number);
    const after = await create(body, idem("day", { "X-Test-Now": "2026-06-02T10:00:01Z" }));
    assert.equal(after.status, 201);
    assert.notEqual(after.body.data.ticket_number, first.body.data.ticket_number);
    assert.equal(after.headers.get("idempotent-replayed"), null);
  });

  test("malformed keys are a 400", async () => {
    for (const key of ["k".repeat(256), "tab\there"]) {
      const res = await create(ticket(), idem(key));
      assert.equal(res.status, 400);
      assert.equal(res.body.code, "invalid_idempotency_key");
    }
  });

  test("the CRM create is idempotent per staff member", async () => {
    const headers = { ...admin.auth, "Content-Type": "application/json", "Idempotency-Key": "crm-1" };
    const body = JSON.stringify(ticket({ customer_email: "crm-idem@example.com", priority: "urgent" }));
    const first = await w.call("/api/crm/tickets/create", { method: "POST", headers, body });
    assert.equal(first.status, 201, first.text);
    // The ticket changes afterwards: the replay still shows it as first created.
    await w.call(`/api/crm/tickets/${first.body.data.id}/resolve`, { method: "POST", headers: admin.auth });
    const again = await w.call("/api/crm/tickets/create", { method: "POST", headers, body });
    assert.equal(again.text, first.text);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
  });
});
