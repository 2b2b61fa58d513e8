// The logs: every line the worker prints is one JSON object; each request writes
// exactly one, with its route's name (never the path), status, duration, D1 and KV
// round trips and the error code; and no secret, token, password, key or customer
// email ever reaches them. A whole run of varied requests (public, customer, staff,
// admin, integration, forged and malformed ones, an internal error, a cron run) is
// captured from the runtime's stdout and stderr and scanned for every secret it used.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { startWorker, createStaff, ticket, waitFor } from "./helpers.mjs";

const secret = (prefix) => `${prefix}${randomBytes(18).toString("base64url")}`;
const SECRETS = {
  TICKET_TOKEN_SECRET: secret("tts-"),
  EMAIL_API_KEY: secret("re_"),
  WEBHOOK_SECRET: secret("whsec_"),
  TURNSTILE_SECRET_KEY: secret("0x4AAA"),
};
const ADMIN_PASSWORD = secret("admin-pw-");
const AGENT_PASSWORD = secret("agent-pw-");
const WRONG_PASSWORD = secret("wrong-pw-");
const TURNSTILE_TOKEN = secret("turnstile-");
const CUSTOMER = `Ana.Secret+${randomBytes(4).toString("hex")}@Customer.example`;
const OTHER_CUSTOMER = `bob.${randomBytes(4).toString("hex")}@customer.example`;

const emails = [];
let failedOnce = false;
async function outbound(request) {
  const url = new URL(request.url);
  const body = await request.text();
  if (url.hostname === "turnstile.test") {
    const form = new URLSearchParams(body);
    const good = form.get("response") === TURNSTILE_TOKEN;
    return Response.json(good ? { success: true, hostname: "help.example" } : { success: false, "error-codes": ["invalid-input-response"] });
  }
  if (url.hostname === "email.test") {
    const mail = JSON.parse(body);
    emails.push(mail);
    // The first email to the second customer fails: the cron retries it.
    if (mail.to?.[0] === OTHER_CUSTOMER && !failedOnce) {
      failedOnce = true;
      return new Response("unavailable", { status: 503 });
    }
    return Response.json({ id: "email-1" });
  }
  if (url.hostname === "hooks.test") return new Response("ok");
  throw new Error(`unexpected outbound fetch to ${url.hostname}`);
}

let w, broken;
/** Every request made: { res, route (expected name or null), what }. */
const made = [];
/** Values that must never appear in a log line. */
const forbidden = new Set([...Object.values(SECRETS), ADMIN_PASSWORD, AGENT_PASSWORD, WRONG_PASSWORD, TURNSTILE_TOKEN]);

async function record(route, what, promise) {
  const res = await promise;
  made.push({ res, route, what });
  return res;
}

before(async () => {
  const bindings = {
    ...SECRETS,
    PUBLIC_BASE_URL: "https://help.example",
    EMAIL_API_URL: "https://email.test/emails",
    EMAIL_FROM: "Support <support@help.example>",
    WEBHOOK_URL: "https://hooks.test/helpdesk",
    TURNSTILE_VERIFY_URL: "https://turnstile.test/siteverify",
    NOTIFY_BACKOFF_SECONDS: "1",
  };
  w = await startWorker({ bindings, outbound });
  broken = await startWorker({ bindings, outbound, database: false });
  await createStaff(w.db, { email: "admin@help.example", role: "admin", password: ADMIN_PASSWORD });
  await createStaff(w.db, { email: "agent@help.example", password: AGENT_PASSWORD });

  // The public side: a create with a Turnstile token and an Idempotency-Key, its replay,
  // a refused bot check, the honeypot, bad input.
  const body = ticket({ customer_email: CUSTOMER, turnstile_token: TURNSTILE_TOKEN });
  const idem = { "Idempotency-Key": secret("idem-") };
  const created = await record("create_ticket", "create", w.postJson("/api/tickets/create", body, idem));
  assert.equal(created.status, 201, created.text);
  await record("create_ticket", "replay", w.postJson("/api/tickets/create", body, idem));
  await record("create_ticket", "bot check refused", w.postJson("/api/tickets/create", { ...body, turnstile_token: "nope" }));
  await record("create_ticket", "honeypot", w.postJson("/api/tickets/create", { ...body, website: "http://spam.example" }));
  await record("create_ticket", "malformed JSON", w.postJson("/api/tickets/create", `{"customer_email": "${CUSTOMER}",`));
  await record("create_ticket", "invalid fields", w.postJson("/api/tickets/create", { customer_email: CUSTOMER }));
  await record("create_ticket", "too large", w.postJson("/api/tickets/create", { ...body, description: "x".repeat(70_000) }));
  const { ticket_number: number, access_token: token } = created.body.data;
  forbidden.add(token);
  forbidden.add(created.body.data.status_url);

  // The customer's side: status, page, reply, a wrong token, "lost my link".
  await record("get_ticket_status", "status", w.call(`/api/tickets/${number}?token=${token}`));
  await record("get_ticket_status", "status, header token", w.call(`/api/tickets/${number}`, { headers: { "X-Ticket-Token": token } }));
  await record("status_page", "page", w.call(`/t/${number}?token=${token}`));
  await record("status_page", "page, wrong token", w.call(`/t/${number}?token=${secret("forged")}`));
  await record("add_customer_reply", "reply", w.postJson(`/api/tickets/${number}/messages?token=${token}`, { body: "Any news? My phone is 555-0199" }));
  await record("request_status_links", "lookup", w.postJson("/api/tickets/lookup", { customer_email: CUSTOMER }));

  // Staff: logins (one wrong), the list filtered by the customer's email, a reply, actions.
  await record("login", "wrong password", w.postJson("/api/crm/auth/login", { email: "agent@help.example", password: WRONG_PASSWORD }));
  const signIn = async (email, password) => {
    const res = await record("login", `login ${email}`, w.postJson("/api/crm/auth/login", { email, password }));
    assert.equal(res.status, 200, res.text);
    forbidden.add(res.body.data.token);
    return { Authorization: `Bearer ${res.body.data.token}` };
  };
  const agent = { auth: await signIn("agent@help.example", AGENT_PASSWORD) };
  const admin = { auth: await signIn("admin@help.example", ADMIN_PASSWORD) };
  await record("list_tickets", "list", w.call(`/api/crm/tickets?customer_email=${encodeURIComponent(CUSTOMER)}&q=${encodeURIComponent(OTHER_CUSTOMER)}`, { headers: agent.auth }));
  const id = created.body.data.id;
  await record("get_ticket", "view", w.call(`/api/crm/tickets/${number}`, { headers: agent.auth }));
  await record("add_staff_message", "staff reply", w.postJson(`/api/crm/tickets/${id}/messages`, { body: "We are on it" }, agent.auth));
  await record("assign_ticket", "assign", w.postJson(`/api/crm/tickets/${id}/assign`, { staff_id: 2 }, agent.auth));
  await record("close_ticket", "stale version", w.postJson(`/api/crm/tickets/${id}/close`, { version: 1 }, agent.auth));
  await record("list_staff", "agent on an admin route", w.call("/api/crm/staff", { headers: agent.auth }));
  await record("get_session", "forged session", w.call("/api/crm/auth/me", { headers: { Authorization: `Bearer ${secret("forged-session-").padEnd(43, "x").slice(0, 43)}` } }));

  // Admin: an integration key, used, then a forged one.
  const key = await record("create_api_key", "new key", w.postJson("/api/crm/api-keys", { name: "AI assistant" }, admin.auth));
  forbidden.add(key.body.data.key);
  const keyed = { Authorization: `Bearer ${key.body.data.key}` };
  await record("create_ticket", "keyed create", w.postJson("/api/tickets/create", ticket({ customer_email: OTHER_CUSTOMER }), keyed));
  await record("create_ticket", "forged key", w.postJson("/api/tickets/create", ticket({ customer_email: OTHER_CUSTOMER }), { Authorization: `Bearer hk_${secret("")}` }));
  await record("create_staff", "new staff", w.postJson("/api/crm/staff", { email: "new@help.example", name: "New", role: "agent", password: secret("new-staff-pw-") }, admin.auth));
  await record("logout", "logout", w.postJson("/api/crm/auth/logout", {}, agent.auth));

  // Paths that match no route, including one carrying a token-like value; a 405; a preflight.
  await record(null, "no route", w.call(`/api/tickets/${number}/secret/${token}`));
  await record(null, "wrong method", w.call("/api/tickets/create"));
  await record(null, "preflight", w.call("/api/tickets/create", { method: "OPTIONS", headers: { Origin: "https://www.example.com", "Access-Control-Request-Method": "POST" } }));
  await record("health", "health", w.call("/api/health"));

  // An internal error: a worker whose D1 binding is missing.
  await record("create_ticket", "internal error", broken.postJson("/api/tickets/create", body));
  await record("health", "health without D1", broken.call("/api/health"));

  // Emailed links carry tokens too; wait for the deliveries after the responses.
  await waitFor(() => emails.length >= 3, 5000, "the emails");
  for (const mail of emails) for (const [, t] of JSON.stringify(mail).matchAll(/token=([A-Za-z0-9_-]+)/g)) forbidden.add(t);
  for (const t of [number, created.body.data.status_url]) forbidden.add(t);

  // One cron run, two days on: the failed email is due again, and the hour's rate-limit
  // hits and the day's idempotency records have expired.
  assert.ok(failedOnce, "the second customer's email failed once");
  await (await w.mf.getWorker()).scheduled({ cron: "*/10 * * * *", scheduledTime: new Date(Date.now() + 2 * 86_400_000) });
  // Let the runtime's output reach us.
  await new Promise((r) => setTimeout(r, 300));
});
after(async () => {
  await w?.dispose();
  await broken?.dispose();
});

const allLines = () => [...w.logs, ...broken.logs].filter((l) => l.line.trim() !== "");
const parsed = () => allLines().map((l) => ({ ...l, json: JSON.parse(l.line) }));
const requestLines = () => parsed().filter((l) => l.json.event === "request");

test("every line the worker prints is one JSON object", () => {
  const lines = allLines();
  assert.ok(lines.length >= made.length, `${lines.length} lines for ${made.length} requests`);
  for (const { line } of lines) {
    let value;
    assert.doesNotThrow(() => (value = JSON.parse(line)), `not JSON: ${line}`);
    assert.equal(typeof value, "object", line);
    assert.ok(["request", "cron", "delivery", "config"].includes(value.event), line);
  }
});

test("each request writes exactly one line, with its route's name, status, duration and round trips", () => {
  const byId = new Map();
  for (const l of requestLines()) {
    assert.ok(!byId.has(l.json.request_id), `two lines for ${l.json.request_id}`);
    byId.set(l.json.request_id, l);
  }
  for (const { res, route, what } of made) {
    const id = res.headers.get("x-request-id");
    assert.match(id ?? "", /^[0-9a-f]{32}$/, what);
    const l = byId.get(id);
    assert.ok(l, `no log line for ${what}`);
    const j = l.json;
    assert.equal(j.route, route, what);
    assert.equal(j.status, res.status, what);
    assert.match(j.method, /^[A-Z]+$/, what);
    assert.ok(Number.isInteger(j.duration_ms) && j.duration_ms >= 0, what);
    assert.ok(Number.isInteger(j.d1) && Number.isInteger(j.kv), what);
    if (res.status >= 400) {
      assert.equal(j.code, typeof res.body === "object" ? res.body.code : "not_found", what);
    } else {
      assert.equal(j.code, undefined, what);
    }
    // Only a 5xx carries its internal cause, and at level error (stderr).
    assert.equal(j.cause !== undefined, res.status >= 500, what);
    assert.equal(l.stream, res.status >= 500 ? "stderr" : "stdout", what);
  }
  assert.equal(byId.size, made.length, "no line without a request");
});

test("round trips are counted per request", () => {
  const line = (what) => {
    const { res } = made.find((m) => m.what === what);
    return requestLines().find((l) => l.json.request_id === res.headers.get("x-request-id")).json;
  };
  assert.deepEqual([line("health").d1, line("health").kv], [1, 0]);
  // With Turnstile on, a create with an Idempotency-Key first looks for an earlier
  // answer (a retry's token is already spent), then creates: two. Its replay: one.
  assert.deepEqual([line("create").d1, line("create").kv], [2, 0]);
  assert.deepEqual([line("replay").d1, line("replay").kv], [1, 0]);
  assert.deepEqual([line("bot check refused").d1, line("honeypot").d1], [0, 0]);
  assert.deepEqual([line("keyed create").d1, line("keyed create").kv], [2, 0]);
  // The CRM view checks the session in its own batch: one KV read and one D1 batch.
  assert.deepEqual([line("view").d1, line("view").kv], [1, 1]);
  assert.deepEqual([line("forged session").d1, line("forged session").kv], [0, 1]);
  assert.deepEqual([line("no route").d1, line("no route").kv], [0, 0]);
  assert.equal(line("bot check refused").note, "turnstile refused: token rejected: invalid-input-response");
  assert.equal(line("honeypot").note, "honeypot filled: no ticket created");
  assert.match(line("internal error").cause, /D1 binding `DB` is missing/);
});

test("the cron writes one summary line", () => {
  const crons = parsed().filter((l) => l.json.event === "cron");
  assert.equal(crons.length, 1);
  const { json } = crons[0];
  for (const field of ["delivered", "skipped", "retried", "given_up", "failed"]) assert.ok(Number.isInteger(json.notifications[field]), field);
  assert.equal(json.notifications.failed, json.notifications.retried + json.notifications.given_up);
  assert.ok(json.notifications.delivered >= 1, "the retried email");
  assert.ok(json.pruned.rate_limit_hits > 0 && json.pruned.idempotency_keys > 0, JSON.stringify(json.pruned));
  for (const table of ["rate_limit_hits", "idempotency_keys", "revoked_sessions", "login_attempts", "notifications"]) {
    assert.ok(Number.isInteger(json.pruned[table]), table);
  }
  assert.ok(Number.isInteger(json.d1) && json.d1 >= 2, "claim and cleanup");
});

test("no secret, token, password, key or customer email reaches the logs", () => {
  const text = allLines().map((l) => l.line).join("\n");
  const lower = text.toLowerCase();
  assert.ok(forbidden.size >= 12, `${forbidden.size} values`);
  for (const value of forbidden) assert.ok(!text.includes(value), `a log line holds ${value}`);
  for (const email of [CUSTOMER, OTHER_CUSTOMER, CUSTOMER.replace(/\+[^@]*/, "")]) {
    assert.ok(!lower.includes(email.toLowerCase()), `a log line holds ${email}`);
  }
  assert.doesNotMatch(text, /[\w.+-]+@[\w-]+\.[\w.-]+/, "no email address at all (staff's neither)");
  assert.doesNotMatch(text, /\/api\/|\/t\/|token=/, "no paths or queries");
});
