// No bad input gets a 5xx: a sweep of malformed, oversized, wrongly typed and hostile
// requests across every route, each answered with the JSON envelope (or the HTML 404).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, createStaff, login, ticket } from "./helpers.mjs";

let w, auth;
before(async () => {
  w = await startWorker({ bindings: { TICKET_TOKEN_SECRET: "s", TURNSTILE_SECRET_KEY: "t", TURNSTILE_VERIFY_URL: "http://127.0.0.1:9/x", TURNSTILE_TIMEOUT_MS: "200" } });
  await createStaff(w.db, { email: "admin@example.com", role: "admin" });
  auth = (await login(w, "admin@example.com")).auth;
});
after(() => w.dispose());

const bodies = [
  "",
  "{",
  "null",
  "[]",
  '"str"',
  "1e999",
  "\uFEFF{}",
  '{"subject": {"$gt": ""}}',
  '{"subject": "' + "x".repeat(30000) + '"}',
  "[".repeat(5000) + "]".repeat(5000),
  '{"user_id": 1e308, "staff_id": -0, "version": "1; DROP TABLE support_tickets", "limit": [], "body": null}',
  '{"email": "a@b.co", "password": ' + JSON.stringify("p".repeat(5000)) + "}",
  JSON.stringify({ ...ticket(), customer_email: "x@y.z\u0000", subject: "\uD800" }),
  "subject=%E0%A4%A&description=%ZZ",
];
const routes = [
  ["POST", "/api/tickets/create"],
  ["POST", "/api/tickets/lookup"],
  ["POST", "/api/tickets/TKT-2026-0001/messages"],
  ["GET", "/api/tickets/TKT-2026-0001?token=%00%FF"],
  ["GET", "/t/TKT-2026-0001?token=<script>"],
  ["POST", "/api/crm/auth/login"],
  ["POST", "/api/crm/tickets/create"],
  ["PATCH", "/api/crm/tickets/1"],
  ["POST", "/api/crm/tickets/1/assign"],
  ["POST", "/api/crm/tickets/1/messages"],
  ["GET", "/api/crm/tickets?limit=abc&cursor=%FF&created_after=%00&q=" + "%25".repeat(300)],
  ["POST", "/api/crm/staff"],
  ["PATCH", "/api/crm/staff/1"],
  ["POST", "/api/crm/api-keys"],
  ["GET", "/api/crm/notifications?status=%27"],
  ["GET", "/%F0%9F%98%80/..%2F..%2Fetc%2Fpasswd"],
];

test("every route answers bad input without a 5xx", async () => {
  let checked = 0;
  for (const [method, path] of routes) {
    for (const body of method === "GET" ? [undefined] : bodies) {
      for (const type of method === "GET" ? [undefined] : ["application/json", "application/x-www-form-urlencoded", "text/plain"]) {
        const headers = { ...(path.startsWith("/api/crm/") ? auth : {}), ...(type ? { "Content-Type": type } : {}), "X-Ticket-Token": "bad" };
        const res = await w.call(path, { method, headers, body });
        assert.ok(res.status < 500, `${method} ${path} ${type} ${String(body).slice(0, 40)} -> ${res.status} ${res.text.slice(0, 200)}`);
        if (!path.startsWith("/t/")) {
          assert.equal(typeof res.body, "object", `${method} ${path}: not JSON`);
          assert.equal(res.body.success, res.status < 400);
        }
        checked++;
      }
    }
  }
  assert.ok(checked > 400);
});

test("hostile headers: forged bearer tokens, huge idempotency keys, bogus clocks", async () => {
  for (const headers of [
    { Authorization: "Bearer " + "A".repeat(100_000) },
    { "Idempotency-Key": "k".repeat(10_000) },
    { "X-Test-Now": "9999-99-99T99:99:99Z" },
    { "CF-Connecting-IP": "' OR 1=1 --" },
  ]) {
    const res = await w.postJson("/api/tickets/create", ticket({ turnstile_token: "t" }), headers);
    assert.ok(res.status < 500, `${JSON.stringify(headers).slice(0, 60)} -> ${res.status}`);
    const crm = await w.call("/api/crm/tickets", { headers });
    assert.ok(crm.status < 500);
  }
});
