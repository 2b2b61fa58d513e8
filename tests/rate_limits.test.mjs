// Exact sliding-window rate limits on the public create, and the cron cleanup.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ticket, rows, waitFor } from "./helpers.mjs";

let w;
before(async () => {
  w = await startWorker({ bindings: { RATE_LIMIT_PER_EMAIL: "5", RATE_LIMIT_PER_IP: "20" } });
});
after(() => w.dispose());

const create = (overrides, headers = {}) => w.postJson("/api/tickets/create", ticket(overrides), headers);
const count = async (email) =>
  (await rows(w.db, "SELECT count(*) AS n FROM support_tickets WHERE lower(customer_email) LIKE ?", email))[0].n;

test("the sixth ticket in an hour for one email is refused, with the headers a client needs", async () => {
  const at = (minute) => ({ "X-Test-Now": `2026-04-01T10:${String(minute).padStart(2, "0")}:00Z`, "CF-Connecting-IP": "198.51.100.1" });
  // Case, surrounding space and +tags are the same person.
  const variants = ["ann@example.com", "ANN@example.com", " ann+ai@example.com ", "Ann+retry@Example.COM", "ann@example.com"];
  for (const [i, email] of variants.entries()) {
    const res = await create({ customer_email: email }, at(i * 10));
    assert.equal(res.status, 201, res.text);
    assert.equal(res.headers.get("ratelimit-policy"), '"email";q=5;w=3600, "ip";q=20;w=3600');
    // The oldest hit (minute 0) frees its slot at 11:00.
    const resetSeconds = 3600 - i * 600;
    assert.equal(res.headers.get("ratelimit"), `"email";r=${4 - i};t=${resetSeconds}, "ip";r=${19 - i};t=${resetSeconds}`);
  }
  const refused = await create({ customer_email: "ann+sixth@example.com" }, at(45));
  assert.equal(refused.status, 429);
  assert.equal(refused.body.code, "rate_limited");
  assert.equal(refused.headers.get("retry-after"), String(15 * 60));
  assert.equal(refused.body.message, "You have reached the limit of 5 tickets per hour for this email address. Please try again in 15 minutes.");
  assert.match(refused.headers.get("ratelimit"), /^"email";r=0;t=900/);
  assert.equal(await count("ann%"), 5);
  // Someone else is not affected.
  assert.equal((await create({ customer_email: "bob@example.com" }, at(45))).status, 201);
});

test("the window slides: a slot frees exactly when the oldest hit is an hour old", async () => {
  const h = (time) => ({ "X-Test-Now": time, "CF-Connecting-IP": "198.51.100.2" });
  for (let i = 0; i < 5; i++) {
    assert.equal((await create({ customer_email: "slide@example.com" }, h(`2026-04-02T10:0${i}:00Z`))).status, 201);
  }
  const early = await create({ customer_email: "slide@example.com" }, h("2026-04-02T10:59:59Z"));
  assert.equal(early.status, 429);
  assert.equal(early.headers.get("retry-after"), "1");
  assert.equal((await create({ customer_email: "slide@example.com" }, h("2026-04-02T11:00:00.001Z"))).status, 201);
  // The second-oldest (10:01) now limits.
  const next = await create({ customer_email: "slide@example.com" }, h("2026-04-02T11:00:30Z"));
  assert.equal(next.status, 429);
  assert.equal(next.headers.get("retry-after"), "30");
});

test("20 simultaneous creates for one email give exactly 5 tickets", async () => {
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      create({ customer_email: "burst@example.com", subject: `Burst ${i}` }, { "X-Test-Now": "2026-04-03T10:00:00Z", "CF-Connecting-IP": `198.51.100.${10 + i}` }),
    ),
  );
  assert.equal(results.filter((r) => r.status === 201).length, 5);
  assert.equal(results.filter((r) => r.status === 429).length, 15);
  assert.equal(await count("burst@example.com"), 5);
  const numbers = results.filter((r) => r.status === 201).map((r) => Number(r.body.data.ticket_number.split("-")[2]));
  numbers.sort((a, b) => a - b);
  assert.deepEqual(numbers, numbers.map((_, i) => numbers[0] + i), "numbers stay gap-free");
});

test("per client IP: 20 an hour across emails, exactly, even in a concurrent burst", async () => {
  const ip = { "X-Test-Now": "2026-04-04T10:00:00Z", "CF-Connecting-IP": "203.0.113.50" };
  const results = await Promise.all(
    Array.from({ length: 30 }, (_, i) => create({ customer_email: `ip${i}@example.com` }, ip)),
  );
  assert.equal(results.filter((r) => r.status === 201).length, 20);
  const refused = results.find((r) => r.status === 429);
  assert.match(refused.body.message, /limit of 20 tickets per hour for your network/);
  assert.match(refused.headers.get("ratelimit"), /"ip";r=0;t=3600/);
  // Another address is fine.
  assert.equal((await create({ customer_email: "ip-other@example.com" }, { ...ip, "CF-Connecting-IP": "203.0.113.51" })).status, 201);
});

test("with the email and the IP both full, Retry-After waits for the later one", async () => {
  const both = await startWorker({ bindings: { RATE_LIMIT_PER_EMAIL: "1", RATE_LIMIT_PER_IP: "1" } });
  try {
    const ip = "198.51.100.200";
    // The IP's slot is taken at 10:00, the email's at 10:30.
    await both.postJson("/api/tickets/create", ticket({ customer_email: "first@example.com" }), { "X-Test-Now": "2026-04-06T10:00:00Z", "CF-Connecting-IP": ip });
    await both.postJson("/api/tickets/create", ticket({ customer_email: "both@example.com" }), { "X-Test-Now": "2026-04-06T10:30:00Z", "CF-Connecting-IP": "198.51.100.201" });
    const res = await both.postJson("/api/tickets/create", ticket({ customer_email: "both@example.com" }), { "X-Test-Now": "2026-04-06T10:40:00Z", "CF-Connecting-IP": ip });
    assert.equal(res.status, 429);
    // The IP frees at 11:00 (20 min), the email at 11:30 (50 min): wait for both.
    assert.equal(res.headers.get("retry-after"), String(50 * 60));
  } finally {
    await both.dispose();
  }
});

test("refused creates are not counted", async () => {
  const h = { "X-Test-Now": "2026-04-05T10:00:00Z", "CF-Connecting-IP": "198.51.100.77" };
  for (let i = 0; i < 8; i++) await create({ customer_email: "counted@example.com" }, h);
  const hits = await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits WHERE bucket = 'email:counted@example.com'");
  assert.equal(hits[0].n, 5);
  // Invalid input is refused before any counting.
  await create({ customer_email: "counted@example.com", subject: "" }, h);
  assert.equal((await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits WHERE bucket = 'ip:198.51.100.77'"))[0].n, 5);
});

test("the cron trigger removes expired hits and keeps live ones", async () => {
  const old = new Date(Date.now() - 2 * 3600_000).toISOString();
  const fresh = new Date(Date.now() - 60_000).toISOString();
  await w.db.batch([
    w.db.prepare("INSERT INTO rate_limit_hits (bucket, at) VALUES ('email:old@example.com', ?)").bind(old),
    w.db.prepare("INSERT INTO rate_limit_hits (bucket, at) VALUES ('email:fresh@example.com', ?)").bind(fresh),
    w.db.prepare("INSERT INTO idempotency_keys (scope, key, request_hash, ticket, created_at, expires_at) VALUES ('s', 'old', 'h', '{}', ?, ?)").bind(old, old),
    w.db.prepare("INSERT INTO revoked_sessions (token_hash, expires_at) VALUES ('gone', ?)").bind(old),
  ]);
  const worker = await w.mf.getWorker();
  await worker.scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });
  assert.equal((await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits WHERE bucket = 'email:old@example.com'"))[0].n, 0);
  assert.equal((await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits WHERE bucket = 'email:fresh@example.com'"))[0].n, 1);
  assert.equal((await rows(w.db, "SELECT count(*) AS n FROM idempotency_keys WHERE key = 'old'"))[0].n, 0);
  assert.equal((await rows(w.db, "SELECT count(*) AS n FROM revoked_sessions WHERE token_hash = 'gone'"))[0].n, 0);
});

test("a create is one D1 round trip; a refusal pays a second for its explanation, a replay too", async () => {
  const d1Of = async (res) => {
    const id = res.headers.get("x-request-id");
    const line = await waitFor(() => w.logs.map((l) => l.line).find((l) => l.includes(id)), 5000, `the log line of ${id}`);
    return JSON.parse(line).d1;
  };
  const h = { "X-Test-Now": "2026-04-05T10:00:00Z", "CF-Connecting-IP": "198.51.100.90" };
  const created = await create({ customer_email: "trips@example.com" }, { ...h, "Idempotency-Key": "trips-1" });
  assert.equal(created.status, 201, created.text);
  assert.equal(await d1Of(created), 1);
  const replay = await create({ customer_email: "trips@example.com" }, { ...h, "Idempotency-Key": "trips-1" });
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
  assert.equal(replay.body.data.ticket_number, created.body.data.ticket_number);
  assert.equal(await d1Of(replay), 2);
  for (let i = 0; i < 4; i++) assert.equal((await create({ customer_email: "trips@example.com" }, h)).status, 201);
  const refused = await create({ customer_email: "trips@example.com" }, h);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "3600");
  assert.match(refused.headers.get("ratelimit"), /^"email";r=0;t=3600, "ip";r=15;t=3600$/);
  assert.equal(await d1Of(refused), 2);
});
