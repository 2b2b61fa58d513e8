// CRM sessions: login, every auth state, throttling, revocation that does not wait for KV.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startWorker, createStaff, login } from "./helpers.mjs";

let w;
before(async () => {
  w = await startWorker();
  await createStaff(w.db, { email: "admin@example.com", role: "admin", name: "Ada Admin" });
  await createStaff(w.db, { email: "agent@example.com", role: "agent", name: "Alan Agent" });
  await createStaff(w.db, { email: "gone@example.com", active: 0 });
});
after(() => w.dispose());

const me = (headers) => w.call("/api/crm/auth/me", { headers });
const assert401 = (res) => {
  assert.equal(res.status, 401, res.text);
  assert.equal(res.body.code, "unauthorized");
  assert.match(res.headers.get("www-authenticate"), /^Bearer/);
};

describe("login", () => {
  test("gives a token, its expiry and the staff member", async () => {
    const res = await w.postJson(
      "/api/crm/auth/login",
      { email: " Admin@Example.com ", password: "correct horse battery" },
      { "X-Test-Now": "2026-11-24T10:00:00Z" },
    );
    assert.equal(res.status, 200, res.text);
    const { token, expires_at, staff } = res.body.data;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(expires_at, "2026-11-24T22:00:00.000Z");
    assert.equal(staff.email, "admin@example.com");
    assert.equal(staff.role, "admin");
    assert.equal(staff.active, true);
    assert.equal(staff.password_hash, undefined);
    assert.doesNotMatch(res.text, /pbkdf2/);
  });

  test("KV holds only the token's SHA-256, with an expiry", async () => {
    const { token } = await login(w, "agent@example.com");
    const hash = createHash("sha256").update(token).digest("hex");
    const { keys } = await w.kv.list();
    assert.ok(keys.every((k) => !k.name.includes(token)));
    const key = keys.find((k) => k.name === `session:${hash}`);
    assert.ok(key, "session key by hash");
    assert.ok(key.expiration > Date.now() / 1000);
    const record = JSON.parse(await w.kv.get(`session:${hash}`));
    assert.deepEqual(Object.keys(record).sort(), ["created_at", "epoch", "expires_at", "staff_id"]);
    assert.ok(!JSON.stringify(record).includes(token));
  });

  test("unknown email, wrong password and deactivated account get the same 401", async () => {
    const bodies = [];
    for (const [email, password] of [
      ["nobody@example.com", "correct horse battery"],
      ["agent@example.com", "wrong password here"],
      ["gone@example.com", "correct horse battery"],
    ]) {
      const res = await w.postJson("/api/crm/auth/login", { email, password }, { "CF-Connecting-IP": `10.0.0.${bodies.length}` });
      assert401(res);
      bodies.push({ error: res.body.error, message: res.body.message, code: res.body.code });
    }
    assert.deepEqual(bodies[0], bodies[1]);
    assert.deepEqual(bodies[1], bodies[2]);
  });

  test("missing fields are a 400, other media types a 415", async () => {
    const res = await w.postJson("/api/crm/auth/login", { email: "agent@example.com" });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.details.map((d) => d.field), ["password"]);
    const form = await w.call("/api/crm/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "email=a&password=b",
    });
    assert.equal(form.status, 415);
  });
});

describe("every auth state", () => {
  test("a valid session", async () => {
    const { auth } = await login(w, "agent@example.com");
    const res = await me(auth);
    assert.equal(res.status, 200);
    assert.equal(res.body.data.staff.email, "agent@example.com");
  });

  test("no header, malformed header, wrong token", async () => {
    assert401(await me({}));
    for (const value of ["Bearer", "Bearer short", "Basic YWdlbnQ6cHc=", `Bearer ${"a".repeat(42)}=`, "a".repeat(43)]) {
      assert401(await me({ Authorization: value }));
    }
    assert401(await me({ Authorization: `Bearer ${"A".repeat(43)}` }));
  });

  test("an expired session, by its own deadline even if KV still has it", async () => {
    const { auth } = await login(w, "agent@example.com", undefined, { "X-Test-Now": "2026-01-01T00:00:00Z" });
    assert.equal((await me({ ...auth, "X-Test-Now": "2026-01-01T11:59:59Z" })).status, 200);
    assert401(await me({ ...auth, "X-Test-Now": "2026-01-01T12:00:00Z" }));
  });

  test("a forged KV entry for an unknown token hash does not help", async () => {
    const token = "B".repeat(43);
    const hash = createHash("sha256").update("something else").digest("hex");
    await w.kv.put(`session:${hash}`, JSON.stringify({ staff_id: 1, epoch: 0, created_at: "x", expires_at: "2999-01-01T00:00:00.000Z" }));
    assert401(await me({ Authorization: `Bearer ${token}` }));
  });

  test("a garbled KV record is a 401, not a 500", async () => {
    const token = "C".repeat(43);
    const hash = createHash("sha256").update(token).digest("hex");
    await w.kv.put(`session:${hash}`, "{not json");
    assert401(await me({ Authorization: `Bearer ${token}` }));
  });

  test("logout revokes at once, even if KV still held the session", async () => {
    const { token, auth } = await login(w, "agent@example.com");
    const hash = createHash("sha256").update(token).digest("hex");
    const record = await w.kv.get(`session:${hash}`);
    const res = await w.call("/api/crm/auth/logout", { method: "POST", headers: auth });
    assert.equal(res.status, 200);
    assert401(await me(auth));
    // Simulate a KV location that has not seen the delete yet: D1 still says revoked.
    await w.kv.put(`session:${hash}`, record);
    assert401(await me(auth));
  });

  test("deactivated staff can do nothing, at once", async () => {
    const id = await createStaff(w.db, { email: "leaver@example.com" });
    const { auth } = await login(w, "leaver@example.com");
    const admin = await login(w, "admin@example.com");
    const res = await w.call(`/api/crm/staff/${id}`, {
      method: "PATCH",
      headers: { ...admin.auth, "Content-Type": "application/json" },
      body: JSON.stringify({ active: false }),
    });
    assert.equal(res.status, 200, res.text);
    assert401(await me(auth));
    assert401(await w.postJson("/api/crm/auth/login", { email: "leaver@example.com", password: "correct horse battery" }, { "CF-Connecting-IP": "10.9.9.9" }));
  });

  test("an agent on an admin route gets 403", async () => {
    const { auth } = await login(w, "agent@example.com");
    const res = await w.call("/api/crm/staff", { headers: auth });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, "forbidden");
  });

  test("every CRM route but login requires a session", async () => {
    for (const [method, path] of [
      ["GET", "/api/crm/tickets"],
      ["POST", "/api/crm/tickets/create"],
      ["GET", "/api/crm/tickets/1"],
      ["PATCH", "/api/crm/tickets/1"],
      ["POST", "/api/crm/tickets/1/resolve"],
      ["GET", "/api/crm/stats"],
      ["GET", "/api/crm/staff"],
      ["POST", "/api/crm/staff"],
      ["PATCH", "/api/crm/staff/1"],
      ["POST", "/api/crm/staff/1/password"],
      ["POST", "/api/crm/auth/logout"],
      ["GET", "/api/crm/auth/me"],
    ]) {
      const res = await w.call(path, { method, headers: { "Content-Type": "application/json" }, body: method === "GET" ? undefined : "{}" });
      assert.equal(res.status, 401, `${method} ${path}`);
    }
  });
});

describe("throttling", () => {
  test("the sixth failure for one email from one client within the window gets 429 with Retry-After", async () => {
    await createStaff(w.db, { email: "target@example.com" });
    const now = "2026-03-01T12:00:00Z";
    for (let i = 0; i < 5; i++) {
      const res = await w.postJson("/api/crm/auth/login", { email: "target@example.com", password: "guess number " + i }, { "X-Test-Now": now, "CF-Connecting-IP": "192.0.2.1" });
      assert.equal(res.status, 401);
    }
    // That client is throttled for that email even with the right password (other
    // clients are not: tests/hardening.test.mjs).
    const blocked = await w.postJson("/api/crm/auth/login", { email: "TARGET@example.com", password: "correct horse battery" }, { "X-Test-Now": "2026-03-01T12:05:00Z", "CF-Connecting-IP": "192.0.2.1" });
    assert.equal(blocked.status, 429);
    assert.equal(blocked.body.code, "rate_limited");
    assert.equal(blocked.headers.get("retry-after"), "600");
    assert.match(blocked.body.message, /10 minute/);
    // After the window, the right password works and clears the counter.
    const later = await w.postJson("/api/crm/auth/login", { email: "target@example.com", password: "correct horse battery" }, { "X-Test-Now": "2026-03-01T12:15:00Z", "CF-Connecting-IP": "192.0.2.1" });
    assert.equal(later.status, 200, later.text);
  });

  test("parallel guesses are throttled exactly, from one client and from many", async () => {
    await createStaff(w.db, { email: "parallel@example.com" });
    const guess = (i, ip) => w.postJson("/api/crm/auth/login", { email: "parallel@example.com", password: `guess ${i}` }, { "CF-Connecting-IP": ip });
    const one = await Promise.all(Array.from({ length: 20 }, (_, i) => guess(i, "198.18.1.1")));
    assert.equal(one.filter((r) => r.status === 401).length, 5);
    assert.equal(one.filter((r) => r.status === 429).length, 15);
    // A distributed guess meets the per-account ceiling (LOGIN_MAX_FAILURES_PER_ACCOUNT).
    const capped = await startWorker({ bindings: { LOGIN_MAX_FAILURES_PER_ACCOUNT: "10" } });
    try {
      await createStaff(capped.db, { email: "parallel@example.com" });
      const many = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          capped.postJson("/api/crm/auth/login", { email: "parallel@example.com", password: `guess ${i}` }, { "CF-Connecting-IP": `198.18.0.${i}` }),
        ),
      );
      assert.equal(many.filter((r) => r.status === 401).length, 10);
      assert.equal(many.filter((r) => r.status === 429).length, 10);
    } finally {
      await capped.dispose();
    }
  });

  test("a successful login gives its attempt back to the IP", async () => {
    const limited = await startWorker({ bindings: { LOGIN_MAX_FAILURES_PER_IP: "2" } });
    try {
      await createStaff(limited.db, { email: "office@example.com" });
      const office = { "CF-Connecting-IP": "203.0.113.9" };
      for (let i = 0; i < 5; i++) await login(limited, "office@example.com", undefined, office);
    } finally {
      await limited.dispose();
    }
  });

  test("failures per client IP are throttled across emails", async () => {
    const ipLimited = await startWorker({ bindings: { LOGIN_MAX_FAILURES_PER_IP: "3" } });
    try {
      await createStaff(ipLimited.db, { email: "real@example.com" });
      const headers = { "CF-Connecting-IP": "203.0.113.7" };
      for (let i = 0; i < 3; i++) {
        const res = await ipLimited.postJson("/api/crm/auth/login", { email: `spray${i}@example.com`, password: "password guess" }, headers);
        assert.equal(res.status, 401);
      }
      const blocked = await ipLimited.postJson("/api/crm/auth/login", { email: "real@example.com", password: "correct horse battery" }, headers);
      assert.equal(blocked.status, 429);
      const elsewhere = await ipLimited.postJson("/api/crm/auth/login", { email: "real@example.com", password: "correct horse battery" }, { "CF-Connecting-IP": "203.0.113.8" });
      assert.equal(elsewhere.status, 200);
    } finally {
      await ipLimited.dispose();
    }
  });
});

describe("CORS for the CRM", () => {
  test("no cross-origin access unless configured", async () => {
    const res = await w.fetch("/api/crm/auth/login", { method: "OPTIONS", headers: { Origin: "https://crm.example" } });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  });

  test("the configured admin panel origin may send Authorization", async () => {
    const panel = await startWorker({ bindings: { CRM_ALLOWED_ORIGINS: "https://crm.example" } });
    try {
      const res = await panel.fetch("/api/crm/tickets", {
        method: "OPTIONS",
        headers: { Origin: "https://crm.example", "Access-Control-Request-Headers": "authorization" },
      });
      assert.equal(res.headers.get("access-control-allow-origin"), "https://crm.example");
      assert.match(res.headers.get("access-control-allow-headers"), /Authorization/);
      const other = await panel.fetch("/api/crm/tickets", { method: "OPTIONS", headers: { Origin: "https://evil.example" } });
      assert.equal(other.headers.get("access-control-allow-origin"), null);
    } finally {
      await panel.dispose();
    }
  });
});
