// Ticket numbers: per-year, gap-free and unique under concurrency; the test clock.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ticket, rows } from "./helpers.mjs";

let w;
before(async () => {
  w = await startWorker();
});
after(() => w.dispose());

const createAt = (now, overrides = {}) =>
  w.postJson("/api/tickets/create", ticket(overrides), now ? { "X-Test-Now": now } : {});

test("200 concurrent creates get 200 distinct, gap-free numbers", async () => {
  const responses = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      createAt("2030-06-01T12:00:00Z", { subject: `Concurrent ${i}`, customer_email: `c${i}@example.com` }),
    ),
  );
  assert.deepEqual(
    responses.map((r) => r.status),
    Array(200).fill(201),
  );
  const numbers = responses.map((r) => r.body.data.ticket_number).sort();
  const expected = Array.from({ length: 200 }, (_, i) => `TKT-2030-${String(i + 1).padStart(4, "0")}`);
  assert.deepEqual(numbers, expected);
  const ids = new Set(responses.map((r) => r.body.data.id));
  assert.equal(ids.size, 200);
  // Every response matches what was stored, and every ticket has exactly one created event.
  const stored = await rows(
    w.db,
    `SELECT t.id, t.ticket_number, t.subject, count(e.id) AS events
     FROM support_tickets t LEFT JOIN ticket_events e ON e.ticket_id = t.id AND e.kind = 'created'
     WHERE t.ticket_number LIKE 'TKT-2030-%' GROUP BY t.id`,
  );
  assert.equal(stored.length, 200);
  const byId = new Map(stored.map((r) => [r.id, r]));
  for (const r of responses) {
    const row = byId.get(r.body.data.id);
    assert.equal(row.ticket_number, r.body.data.ticket_number);
    assert.equal(row.events, 1);
  }
});

test("a new year starts again at 0001; the old year continues", async () => {
  const last2031 = await createAt("2031-12-31T23:59:59.999Z");
  assert.equal(last2031.body.data.ticket_number, "TKT-2031-0001");
  assert.equal(last2031.body.data.created_at, "2031-12-31T23:59:59.999Z");
  const first2032 = await createAt("2032-01-01T00:00:00Z");
  assert.equal(first2032.body.data.ticket_number, "TKT-2032-0001");
  const second2032 = await createAt("2032-01-01T00:00:01Z");
  assert.equal(second2032.body.data.ticket_number, "TKT-2032-0002");
  // Offsets are converted to UTC: this instant is still 2031 in UTC.
  const late2031 = await createAt("2032-01-01T01:00:00+02:00");
  assert.equal(late2031.body.data.ticket_number, "TKT-2031-0002");
  assert.equal(late2031.body.data.created_at, "2031-12-31T23:00:00.000Z");
  // Ids keep increasing across years: never reused.
  assert.ok(second2032.body.data.id > first2032.body.data.id);
  assert.ok(late2031.body.data.id > second2032.body.data.id);
});

test("numbers grow past four digits", async () => {
  await w.db.prepare("INSERT INTO ticket_counters (year, last_seq) VALUES (2033, 9998)").run();
  const a = await createAt("2033-03-03T00:00:00Z");
  const b = await createAt("2033-03-03T00:00:00Z");
  assert.equal(a.body.data.ticket_number, "TKT-2033-9999");
  assert.equal(b.body.data.ticket_number, "TKT-2033-10000");
  assert.equal(b.headers.get("location"), "/api/tickets/TKT-2033-10000");
});

test("an invalid test clock is a 400", async () => {
  const res = await createAt("next tuesday");
  assert.equal(res.status, 400);
  assert.equal(res.body.code, "invalid_test_clock");
});

test("the test clock is ignored unless the harness enables it", async () => {
  const prod = await startWorker({ bindings: { ALLOW_TEST_CLOCK: "" } });
  try {
    const res = await prod.postJson("/api/tickets/create", ticket(), { "X-Test-Now": "1999-01-01T00:00:00Z" });
    assert.equal(res.status, 201);
    assert.equal(res.body.data.ticket_number, `TKT-${new Date().getUTCFullYear()}-0001`);
    const ms = Date.parse(res.body.data.created_at);
    assert.ok(Math.abs(ms - Date.now()) < 60_000, res.body.data.created_at);
  } finally {
    await prod.dispose();
  }
});
