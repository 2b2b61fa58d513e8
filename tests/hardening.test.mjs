// The public edge under attack (issue 11): no silent loss, no spam relay, no lockout, no
// oracle. Each test here failed on the code before the fix it names.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { routeTable } from "../scripts/openapi.mjs";
import { startWorker, createStaff, login, ticket, rows, waitFor } from "./helpers.mjs";
import { hashPassword } from "../scripts/password-hash.mjs";

const json = { "Content-Type": "application/json" };

describe("data is never lost silently", () => {
  // A fake siteverify that, like the real one, refuses a token it has seen before.
  const seen = new Set();
  async function outbound(request) {
    const url = new URL(request.url);
    if (url.hostname !== "turnstile.test") throw new Error(`unexpected fetch to ${url.hostname}`);
    const token = new URLSearchParams(await request.text()).get("response");
    if (seen.has(token)) return Response.json({ success: false, "error-codes": ["timeout-or-duplicate"] });
    seen.add(token);
    return Response.json({ success: true, hostname: "www.example.com" });
  }
  let w, admin;
  before(async () => {
    w = await startWorker({
      bindings: { TURNSTILE_SECRET_KEY: "s", TURNSTILE_VERIFY_URL: "https://turnstile.test/siteverify" },
      outbound,
    });
    await createStaff(w.db, { email: "admin@example.com", role: "admin" });
    admin = await login(w, "admin@example.com");
  });
  after(() => w.dispose());
  const count = async () => (await rows(w.db, "SELECT count(*) AS n FROM support_tickets"))[0].n;

  test("1. the honeypot catches only anonymous non-empty strings; keys and staff keep a website field", async () => {
    const key = await w.postJson("/api/crm/api-keys", { name: "assistant" }, admin.auth);
    const auth = { Authorization: `Bearer ${key.body.data.key}` };
    const before = await count();
    const keyed = await w.postJson("/api/tickets/create", ticket({ website: "https://acme.example" }), auth);
    assert.equal(keyed.status, 201, keyed.text);
    const staff = await w.postJson("/api/crm/tickets/create", ticket({ website: "https://acme.example" }), admin.auth);
    assert.equal(staff.status, 201, staff.text);
    for (const website of [false, 0, "", "   ", null]) {
      const res = await w.postJson("/api/tickets/create", ticket({ website, turnstile_token: `t-${Math.random()}` }));
      assert.equal(res.status, 201, `${JSON.stringify(website)}: ${res.text}`);
    }
    assert.equal(await count(), before + 7, "every one of them is stored");
    const bot = await w.postJson("/api/tickets/create", ticket({ website: "http://spam.example", turnstile_token: "t-bot" }));
    assert.equal(bot.status, 201);
    assert.equal(await count(), before + 7, "a filled honeypot from an anonymous caller stores nothing");
  });

  test("2. an idempotent retry replays with Turnstile on, without spending the token again", async () => {
    const body = ticket({ customer_email: "retry@example.com", turnstile_token: "single-use-1" });
    const headers = { "Idempotency-Key": "assistant-retry-1" };
    const first = await w.postJson("/api/tickets/create", body, headers);
    assert.equal(first.status, 201, first.text);
    const retry = await w.postJson("/api/tickets/create", body, headers);
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal(retry.body.data.ticket_number, first.body.data.ticket_number);
    const reused = await w.postJson("/api/tickets/create", { ...body, subject: "other" }, headers);
    assert.equal(reused.status, 422, "another body with the key is still a 422, not a 403");
    const fresh = await w.postJson("/api/tickets/create", { ...body, turnstile_token: "single-use-1" }, { "Idempotency-Key": "new" });
    assert.equal(fresh.status, 403, "a spent token is still refused for a new create");
  });
});

describe("the public endpoint serves no attacker", () => {
  let emails = [];
  async function outbound(request) {
    const url = new URL(request.url);
    if (url.hostname === "email.test") {
      emails.push({ headers: Object.fromEntries(request.headers), body: JSON.parse(await request.text()) });
      return Response.json({ id: "e" });
    }
    throw new Error(`unexpected fetch to ${url.hostname}`);
  }
  const bindings = {
    TICKET_TOKEN_SECRET: "token-secret",
    EMAIL_API_URL: "https://email.test/emails",
    EMAIL_API_KEY: "re_test",
  };
  let w, admin, apiKey;
  before(async () => {
    w = await startWorker({ bindings: { ...bindings, PUBLIC_BASE_URL: "https://help.example" }, outbound });
    await createStaff(w.db, { email: "admin@example.com", role: "admin" });
    admin = await login(w, "admin@example.com");
    apiKey = (await w.postJson("/api/crm/api-keys", { name: "assistant" }, admin.auth)).body.data.key;
    await w.db.prepare("INSERT INTO users (id, email, name) VALUES (7, 'member@example.com', 'Member')").run();
  });
  after(() => w.dispose());
  const mailTo = (to) => waitFor(() => emails.find((e) => e.body.to[0] === to), 5000, `an email to ${to}`);

  test("3. a confirmation to an unproven address carries no requester-written text", async () => {
    const phishing = "Your account is locked: verify at http://evil.example/login";
    const res = await w.postJson("/api/tickets/create", ticket({ customer_email: "victim@example.com", subject: phishing, customer_name: "Bank Security Team" }));
    assert.equal(res.status, 201);
    const mail = await mailTo("victim@example.com");
    const text = `${mail.body.subject}\n${mail.body.text}`;
    assert.ok(!text.includes("evil.example") && !text.includes("Bank Security"), text);
    assert.ok(text.includes(res.body.data.ticket_number));
    assert.match(mail.body.text, /https:\/\/help\.example\/t\/TKT-\d{4}-\d{4}\?token=/);
    // ... and a "lost my link" email lists no such subject either.
    emails = [];
    assert.equal((await w.postJson("/api/tickets/lookup", { customer_email: "victim@example.com" })).status, 202);
    const links = await mailTo("victim@example.com");
    assert.ok(!links.body.text.includes("evil.example"), links.body.text);
  });

  test("4. an anonymous unmatched user_id is indistinguishable from none; keyed callers keep the 400", async () => {
    const matched = await w.postJson("/api/tickets/create", ticket({ customer_email: "member@example.com", user_id: 7 }));
    const unmatched = await w.postJson("/api/tickets/create", ticket({ customer_email: "stranger@example.com", user_id: 7 }));
    const none = await w.postJson("/api/tickets/create", ticket({ customer_email: "nobody@example.com" }));
    for (const res of [matched, unmatched, none]) assert.equal(res.status, 201, res.text);
    const shape = (r) => Object.keys(r.body.data).sort().join(",");
    assert.equal(shape(unmatched), shape(none));
    assert.equal(shape(matched), shape(none));
    const [a, b] = await rows(w.db, "SELECT user_id FROM support_tickets WHERE id IN (?, ?) ORDER BY id", matched.body.data.id, unmatched.body.data.id);
    assert.equal(a.user_id, 7);
    assert.equal(b.user_id, null, "stored unlinked");
    const keyed = await w.postJson("/api/tickets/create", ticket({ user_id: 99 }), { Authorization: `Bearer ${apiKey}` });
    assert.equal(keyed.status, 400);
    assert.equal(keyed.body.details[0].code, "unknown_user");
  });

  test("5. staff see whether the requester proved the address; the emailed link proves it", async () => {
    const anon = await w.postJson("/api/tickets/create", ticket({ customer_email: "proof@example.com" }));
    const keyed = await w.postJson("/api/tickets/create", ticket({ customer_email: "member@example.com", user_id: 7 }), { Authorization: `Bearer ${apiKey}` });
    const view = async (id) => (await w.call(`/api/crm/tickets/${id}`, { headers: admin.auth })).body.data.ticket;
    assert.equal((await view(anon.body.data.id)).requester_verified, false);
    assert.equal((await view(keyed.body.data.id)).requester_verified, true, "a key vouched for its logged-in user");
    // A key naming its user with someone else's email proves nothing about that email
    // (an assistant told "my email is cfo@..." by a logged-in user): linked, not verified.
    const other = await w.postJson("/api/tickets/create", ticket({ customer_email: "CFO@victim.example", user_id: 7 }), { Authorization: `Bearer ${apiKey}` });
    assert.equal(other.status, 201, other.text);
    const otherTicket = await view(other.body.data.id);
    assert.equal(otherTicket.requester_verified, false);
    assert.equal(otherTicket.user_id, 7);
    // The same email in another case is the user's own.
    const cased = await w.postJson("/api/tickets/create", ticket({ customer_email: "Member@Example.com", user_id: 7 }), { Authorization: `Bearer ${apiKey}` });
    assert.equal((await view(cased.body.data.id)).requester_verified, true);
    const list = await w.call("/api/crm/tickets?customer_email=proof@example.com", { headers: admin.auth });
    assert.equal(list.body.data.tickets[0].requester_verified, false);
    // The link returned to the caller proves nothing; the one in the email does.
    await w.call(anon.body.data.status_url.replace("https://help.example", ""));
    assert.equal((await view(anon.body.data.id)).requester_verified, false);
    const mail = await mailTo("proof@example.com");
    const emailed = mail.body.text.match(/https:\/\/help\.example(\/t\/\S+)/)[1];
    assert.notEqual(emailed, anon.body.data.status_url.replace("https://help.example", ""));
    const page = await w.call(emailed);
    assert.equal(page.status, 200);
    assert.equal((await view(anon.body.data.id)).requester_verified, true);
    const events = (await w.call(`/api/crm/tickets/${anon.body.data.id}`, { headers: admin.auth })).body.data.events;
    assert.ok(events.some((e) => e.kind === "requester_verified"));
  });

  test("6. IPv6 clients share a bucket per /64", async () => {
    const w6 = await startWorker({ bindings: { RATE_LIMIT_PER_IP: "20" } });
    try {
      const statuses = [];
      for (let i = 1; i <= 21; i++) {
        const res = await w6.postJson("/api/tickets/create", ticket({ customer_email: `rotate${i}@example.com` }), {
          "CF-Connecting-IP": `2001:db8:1:2:${i.toString(16)}::${i}`,
        });
        statuses.push(res.status);
      }
      assert.deepEqual(statuses.slice(0, 20), Array(20).fill(201));
      assert.equal(statuses[20], 429);
      const other = await w6.postJson("/api/tickets/create", ticket({ customer_email: "x@example.com" }), { "CF-Connecting-IP": "2001:db8:1:3::1" });
      assert.equal(other.status, 201, "another /64 has its own bucket");
    } finally {
      await w6.dispose();
    }
  });

  test("7. without PUBLIC_BASE_URL, emails carry no link to whatever Host was sent", async () => {
    const bare = await startWorker({ bindings, outbound });
    try {
      emails = [];
      const res = await bare.call("http://evil.example/api/tickets/create", {
        method: "POST",
        headers: json,
        body: JSON.stringify(ticket({ customer_email: "host@example.com" })),
      });
      assert.equal(res.status, 201);
      const mail = await mailTo("host@example.com");
      assert.ok(!/https?:\/\//.test(mail.body.text), mail.body.text);
      assert.ok(mail.body.text.includes(res.body.data.ticket_number));
    } finally {
      await bare.dispose();
    }
  });
});

describe("staff are neither locked out nor enumerated", () => {
  let w;
  before(async () => {
    w = await startWorker({ bindings: { LOGIN_MAX_FAILURES_PER_EMAIL: "3", PASSWORD_ITERATIONS: "1000" } });
    await createStaff(w.db, { email: "boss@example.com", role: "admin" });
  });
  after(() => w.dispose());
  const attempt = (email, password, ip) =>
    w.postJson("/api/crm/auth/login", { email, password }, { "CF-Connecting-IP": ip });

  test("8. a stranger's failures do not lock the right password out from another client", async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await attempt("boss@example.com", "wrong password!", "198.51.100.7")).status);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
    const mine = await attempt("boss@example.com", "correct horse battery", "203.0.113.9");
    assert.equal(mine.status, 200, mine.text);
    const theirs = await attempt("boss@example.com", "correct horse battery", "198.51.100.7");
    assert.equal(theirs.status, 429, "the throttled client stays throttled");
  });

  test("9. an unknown email costs what a stored hash costs, whatever PASSWORD_ITERATIONS says", async () => {
    const now = new Date().toISOString();
    await w.db
      .prepare("INSERT INTO crm_staff (email, name, role, password_hash, active, created_at, updated_at) VALUES (?, 'Slow', 'agent', ?, 1, ?, ?)")
      .bind("slow@example.com", hashPassword("correct horse battery", 100000), now, now)
      .run();
    await w.db.prepare("UPDATE crm_staff SET password_hash = ? WHERE email = 'boss@example.com'").bind(hashPassword("x".repeat(12), 100000)).run();
    const time = async (email, ip) => {
      const start = performance.now();
      const res = await attempt(email, "not the password", ip);
      assert.equal(res.status, 401);
      return performance.now() - start;
    };
    const known = [];
    const unknown = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time("slow@example.com", `192.0.2.${10 + i}`));
      unknown.push(await time(`ghost${i}@example.com`, `192.0.2.${20 + i}`));
    }
    const median = (xs) => xs.sort((a, b) => a - b)[1];
    const ratio = median(unknown) / median(known);
    assert.ok(ratio > 0.5, `unknown ${median(unknown).toFixed(1)} ms vs known ${median(known).toFixed(1)} ms`);
  });

  test("10. staff emails are one case everywhere, Unicode included", async () => {
    const admin = await login(w, "boss@example.com", "x".repeat(12), { "CF-Connecting-IP": "192.0.2.99" });
    const created = await w.postJson(
      "/api/crm/staff",
      { email: "ÉLISE@Example.com", name: "Élise", role: "agent", password: "correct horse battery" },
      admin.auth,
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.data.staff.email, "élise@example.com");
    for (const spelled of ["ÉLISE@EXAMPLE.COM", "élise@example.com", " Élise@example.com "]) {
      const res = await attempt(spelled, "correct horse battery", "192.0.2.98");
      assert.equal(res.status, 200, `${spelled}: ${res.text}`);
    }
    const taken = await w.postJson("/api/crm/staff", { email: "élise@EXAMPLE.com", name: "Twin", password: "correct horse battery" }, admin.auth);
    assert.equal(taken.status, 409);
  });
});

describe("text that people read", () => {
  let w;
  before(async () => {
    w = await startWorker({ bindings: { TICKET_TOKEN_SECRET: "s" } });
  });
  after(() => w.dispose());

  test("11. one-line fields refuse bidi controls and zero-width characters; long text keeps them, isolated", async () => {
    for (const [field, value] of [
      ["subject", "Invoice \u202Egnp.exe"],
      ["subject", "a\u2066b"],
      ["customer_name", "Ad\u200Bmin"],
      ["customer_name", "\uFEFFSupport"],
      ["subject", "x\u2060y"],
    ]) {
      const res = await w.postJson("/api/tickets/create", ticket({ [field]: value }));
      assert.equal(res.status, 400, `${field} ${JSON.stringify(value)}: ${res.text}`);
      const detail = res.body.details.find((d) => d.field === field);
      assert.equal(detail?.code, "invalid_characters");
    }
    const ok = await w.postJson("/api/tickets/create", ticket({ description: "right-to-left \u202E text stays" }));
    assert.equal(ok.status, 201, ok.text);
    const page = await w.call(`/t/${ok.body.data.ticket_number}?token=${ok.body.data.access_token}`);
    assert.match(page.text, /<bdi[^>]*>right-to-left \u202E text stays<\/bdi>|dir="auto"[^>]*>right-to-left \u202E text stays/);
  });

  test("11. JSON and form bodies both refuse a repeated field", async () => {
    const jsonDup = await w.call("/api/tickets/create", {
      method: "POST",
      headers: json,
      body: '{"subject":"a","description":"d","customer_email":"a@b.co","subject":"b"}',
    });
    const formDup = await w.call("/api/tickets/create", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "subject=a&description=d&customer_email=a%40b.co&subject=b",
    });
    for (const res of [jsonDup, formDup]) {
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.code, "duplicate_field");
      assert.match(res.body.message, /subject/);
    }
  });
});

describe("notifications: at least once, not five times", () => {
  let emails = [];
  let slow = false;
  async function outbound(request) {
    emails.push({ headers: Object.fromEntries(request.headers), body: JSON.parse(await request.text()) });
    if (slow) await new Promise((r) => setTimeout(r, 300));
    return Response.json({ id: "e" });
  }
  let w;
  before(async () => {
    w = await startWorker({
      bindings: {
        TICKET_TOKEN_SECRET: "s",
        PUBLIC_BASE_URL: "https://help.example",
        EMAIL_API_URL: "https://email.test/emails",
        EMAIL_API_KEY: "re_test",
        NOTIFY_TIMEOUT_MS: "30000",
        NOTIFY_MAX_ATTEMPTS: "2",
        NOTIFY_RETENTION_DAYS: "30",
      },
      outbound,
    });
  });
  after(() => w.dispose());
  const cron = async (at = new Date()) => (await w.mf.getWorker()).scheduled({ cron: "*/10 * * * *", scheduledTime: at });

  test("12. the provider gets an Idempotency-Key, and a lease covers a whole batch", async () => {
    const res = await w.postJson("/api/tickets/create", ticket({ customer_email: "lease@example.com" }));
    const mail = await waitFor(() => emails.find((e) => e.body.to[0] === "lease@example.com"), 5000, "the email");
    const [row] = await rows(w.db, "SELECT * FROM notifications WHERE ticket_id = ? AND channel = 'email'", res.body.data.id);
    assert.equal(mail.headers["idempotency-key"], `helpdesk-notification-${row.id}`);
    // A lease must outlast 25 rows at NOTIFY_TIMEOUT_MS each (30 s): over 12.5 minutes.
    await w.db.prepare("UPDATE notifications SET status = 'pending', next_attempt_at = '2000-01-01T00:00:00.000Z', attempts = 0 WHERE id = ?").bind(row.id).run();
    const claimedAt = Date.now();
    slow = true;
    const cronRun = cron();
    const leased = await waitFor(async () => {
      const [r] = await rows(w.db, "SELECT * FROM notifications WHERE id = ?", row.id);
      return r.attempts === 1 && r;
    }, 5000, "the claim");
    assert.ok(Date.parse(leased.next_attempt_at) - claimedAt >= 25 * 30_000, leased.next_attempt_at);
    await cronRun;
    slow = false;
  });

  test("12. attempts are capped even when a row's context cannot be loaded", async () => {
    await w.db
      .prepare(
        "INSERT INTO notifications (kind, channel, ticket_id, recipient, status, attempts, next_attempt_at, created_at, updated_at) VALUES ('staff_reply', 'email', NULL, 'x@example.com', 'pending', 5, '2000-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z')",
      )
      .run();
    await cron();
    const [row] = await rows(w.db, "SELECT * FROM notifications WHERE recipient = 'x@example.com'");
    assert.equal(row.status, "failed", JSON.stringify(row));
    assert.equal(row.attempts, 5, "no attempt past the cap");
  });

  test("12. the cron prunes sent and skipped rows after NOTIFY_RETENTION_DAYS, keeps failed and recent ones", async () => {
    const old = "2026-01-01T00:00:00.000Z";
    for (const status of ["sent", "skipped", "failed"]) {
      await w.db
        .prepare("INSERT INTO notifications (kind, channel, recipient, status, attempts, next_attempt_at, created_at, updated_at) VALUES ('lookup', 'email', ?, ?, 1, ?, ?, ?)")
        .bind(`prune-${status}@example.com`, status, old, old, old)
        .run();
    }
    await cron(new Date("2026-03-01T00:00:00Z"));
    const left = (await rows(w.db, "SELECT status FROM notifications WHERE recipient LIKE 'prune-%' ORDER BY status")).map((r) => r.status);
    assert.deepEqual(left, ["failed"]);
    assert.ok((await rows(w.db, "SELECT count(*) AS n FROM notifications WHERE status = 'sent'"))[0].n > 0, "recent sent rows stay");
  });
});

describe("13. every CRM route from the route table", () => {
  // The route table, read from its source: a route added there is covered here.
  const routes = routeTable();
  const sample = (path) => path.replace("{id}", "1").replace("{ticket_number}", "TKT-2026-0001").replace("{ticket}", "1");
  let w, agent;
  before(async () => {
    w = await startWorker();
    await createStaff(w.db, { email: "agent@example.com" });
    agent = await login(w, "agent@example.com");
  });
  after(() => w.dispose());

  test("the table was read", () => {
    assert.ok(routes.length >= 25, `${routes.length} routes`);
    assert.ok(routes.some((r) => r.access === "admin"));
  });

  test("every /api/crm/* route but login answers 401 without a session", async () => {
    for (const r of routes.filter((r) => r.path.startsWith("/api/crm/") && r.name !== "login")) {
      const res = await w.call(sample(r.path), { method: r.method, headers: json, body: r.method === "GET" ? undefined : "{}" });
      assert.equal(res.status, 401, `${r.method} ${r.path}: ${res.text}`);
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="crm"');
    }
  });

  test("an agent gets 403 on every admin route", async () => {
    const admin = routes.filter((r) => r.access === "admin");
    assert.ok(admin.length >= 7);
    for (const r of admin) {
      const res = await w.call(sample(r.path), { method: r.method, headers: { ...json, ...agent.auth }, body: r.method === "GET" ? undefined : "{}" });
      assert.equal(res.status, 403, `${r.method} ${r.path}: ${res.text}`);
      assert.equal(res.body.code, "forbidden");
    }
  });
});

describe("13. internal notes and the cron", () => {
  let hooks = [];
  async function outbound(request) {
    hooks.push(await request.text());
    return new Response("ok");
  }
  let w, agent;
  before(async () => {
    w = await startWorker({
      bindings: { TICKET_TOKEN_SECRET: "s", WEBHOOK_URL: "https://hooks.test/h", WEBHOOK_SECRET: "whsec" },
      outbound,
    });
    await createStaff(w.db, { email: "agent@example.com" });
    agent = await login(w, "agent@example.com");
  });
  after(() => w.dispose());

  test("an internal note never appears in a webhook payload", async () => {
    const t = (await w.postJson("/api/tickets/create", ticket())).body.data;
    const note = "INTERNAL: customer is on the fraud watch list";
    assert.equal((await w.postJson(`/api/crm/tickets/${t.id}/messages`, { body: note, internal: true }, agent.auth)).status, 201);
    assert.equal((await w.postJson(`/api/crm/tickets/${t.id}/messages`, { body: "Public reply" }, agent.auth)).status, 201);
    const reply = await w.postJson(`/api/tickets/${t.ticket_number}/messages`, { body: "Thanks!" }, { "X-Ticket-Token": t.access_token });
    assert.equal(reply.status, 201);
    await waitFor(() => hooks.filter((h) => h.includes("customer_reply")).length === 1, 5000, "the reply webhook");
    await (await w.mf.getWorker()).scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });
    assert.ok(hooks.length >= 2);
    for (const h of hooks) assert.ok(!h.includes("fraud watch"), h);
  });

  test("the cron prunes expired login attempts", async () => {
    for (let i = 0; i < 2; i++) {
      await w.postJson("/api/crm/auth/login", { email: "agent@example.com", password: "wrong password!" }, { "CF-Connecting-IP": "192.0.2.77" });
    }
    assert.ok((await rows(w.db, "SELECT count(*) AS n FROM login_attempts"))[0].n > 0);
    const later = new Date(Date.now() + 2 * 3600 * 1000);
    await (await w.mf.getWorker()).scheduled({ cron: "*/10 * * * *", scheduledTime: later });
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM login_attempts"))[0].n, 0);
  });
});
