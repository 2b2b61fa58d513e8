// The outbox: delivery after the response, signed webhooks, retries with backoff,
// giving up, skipped targets, and the CRM's view of it. The worker's outbound fetch
// is intercepted; crons are fired through Miniflare's API.
import { test, before, after, beforeEach, describe } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { startWorker, createStaff, login, ticket, rows, waitFor } from "./helpers.mjs";

const WEBHOOK_SECRET = "whsec-test";
let emailMode = "ok";
let webhookMode = "ok";
let emails = [];
let hooks = [];

async function outbound(request) {
  const url = new URL(request.url);
  const body = await request.text();
  if (url.hostname === "email.test") {
    emails.push({ auth: request.headers.get("authorization"), body: JSON.parse(body) });
    if (emailMode === "down") return new Response("unavailable", { status: 503 });
    if (emailMode === "slow") await new Promise((r) => setTimeout(r, 1500));
    return Response.json({ id: "email-1" });
  }
  if (url.hostname === "hooks.test") {
    hooks.push({ headers: Object.fromEntries(request.headers), body });
    if (webhookMode === "down") return new Response("no", { status: 500 });
    return new Response("ok");
  }
  throw new Error(`unexpected outbound fetch to ${url.hostname}`);
}

let w, staff, admin;
before(async () => {
  w = await startWorker({
    bindings: {
      TICKET_TOKEN_SECRET: "token-secret",
      PUBLIC_BASE_URL: "https://help.example",
      EMAIL_API_URL: "https://email.test/emails",
      EMAIL_API_KEY: "re_test_key",
      EMAIL_FROM: "Support <support@help.example>",
      WEBHOOK_URL: "https://hooks.test/helpdesk",
      WEBHOOK_SECRET,
      NOTIFY_BACKOFF_SECONDS: "1",
      NOTIFY_MAX_ATTEMPTS: "3",
      NOTIFY_TIMEOUT_MS: "400",
    },
    outbound,
  });
  await createStaff(w.db, { email: "agent@example.com", name: "Agent Smith" });
  staff = await login(w, "agent@example.com");
  await createStaff(w.db, { email: "boss@example.com", name: "Bea Boss", role: "admin" });
  admin = await login(w, "boss@example.com");
});
after(() => w.dispose());
beforeEach(() => {
  emailMode = "ok";
  webhookMode = "ok";
  emails = [];
  hooks = [];
});

const notificationsOf = (ticketId) => rows(w.db, "SELECT * FROM notifications WHERE ticket_id = ? ORDER BY id", ticketId);
const settled = (ticketId, n = 2) =>
  waitFor(async () => {
    const list = await notificationsOf(ticketId);
    return list.length >= n && list.every((x) => x.status !== "pending") && list;
  }, 5000, "deliveries");
const cron = async () => (await w.mf.getWorker()).scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });
const create = async (overrides) => {
  const res = await w.postJson("/api/tickets/create", ticket(overrides));
  assert.equal(res.status, 201, res.text);
  return res.body.data;
};

describe("delivery right after the response", () => {
  test("the customer's confirmation and the team's signed webhook", async () => {
    const t = await create({ customer_email: "buyer@example.com", subject: "Broken fan" });
    const list = await waitFor(async () => {
      const l = await notificationsOf(t.id);
      return l.length === 2 && l.every((n) => n.status === "sent") && l;
    }, 5000, "both sent");
    assert.deepEqual(list.map((n) => [n.kind, n.channel, n.attempts]), [["ticket_created", "email", 1], ["new_ticket", "webhook", 1]]);

    const [mail] = emails;
    assert.equal(mail.auth, "Bearer re_test_key");
    assert.deepEqual(mail.body.to, ["buyer@example.com"]);
    assert.equal(mail.body.from, "Support <support@help.example>");
    // The address is not proven yet: nothing the requester wrote is relayed.
    assert.equal(mail.body.subject, `[${t.ticket_number}] We received your support request`);
    assert.ok(!mail.body.text.includes("Broken fan"));
    const link = mail.body.text.match(/https:\/\/help\.example\/t\/\S+/)?.[0];
    assert.ok(link?.startsWith(`https://help.example/t/${t.ticket_number}?token=`), "the email carries a status link");
    // The link in the email works.
    const page = await w.fetch(link.replace("https://help.example", ""));
    assert.equal(page.status, 200);

    const [hook] = hooks;
    const ts = hook.headers["x-helpdesk-timestamp"];
    assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60);
    assert.equal(hook.headers["x-helpdesk-delivery"], String(list[1].id));
    const expected = createHmac("sha256", WEBHOOK_SECRET).update(`${ts}.${hook.body}`).digest("hex");
    assert.equal(hook.headers["x-helpdesk-signature"], `sha256=${expected}`);
    const payload = JSON.parse(hook.body);
    assert.equal(payload.type, "new_ticket");
    assert.equal(payload.ticket.ticket_number, t.ticket_number);
    assert.ok(!hook.body.includes(t.access_token), "no secrets in webhooks");
  });

  test("a staff reply is emailed to the customer; an internal note is not", async () => {
    const t = await create({ customer_email: "reply@example.com" });
    await settled(t.id);
    emails = [];
    const send = (body) =>
      w.call(`/api/crm/tickets/${t.id}/messages`, { method: "POST", headers: { ...staff.auth, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    assert.equal((await send({ body: "Internal: check logs", internal: true })).status, 201);
    assert.equal((await send({ body: "Please restart the machine." })).status, 201);
    await waitFor(async () => emails.length === 1, 5000, "reply email");
    assert.ok(emails[0].body.text.includes("Please restart the machine."));
    assert.ok(emails[0].body.text.includes("Agent Smith"));
    assert.ok(!emails[0].body.text.includes("Internal"));
    const list = await notificationsOf(t.id);
    assert.equal(list.filter((n) => n.kind === "staff_reply").length, 1);
  });

  test("a customer reply notifies the team; a lookup emails the links", async () => {
    const t = await create({ customer_email: "lookup@example.com" });
    await settled(t.id);
    hooks = [];
    emails = [];
    await w.postJson(`/api/tickets/${t.ticket_number}/messages`, { body: "Hello again" }, { "X-Ticket-Token": t.access_token });
    await waitFor(async () => hooks.length === 1, 5000, "reply webhook");
    assert.equal(JSON.parse(hooks[0].body).type, "customer_reply");
    assert.equal(JSON.parse(hooks[0].body).message.body, "Hello again");
    await w.postJson("/api/tickets/lookup", { customer_email: "Lookup@Example.com" });
    await waitFor(async () => emails.length === 1, 5000, "lookup email");
    assert.equal(emails[0].body.subject, "Your support tickets");
    assert.ok(emails[0].body.text.includes(`https://help.example/t/${t.ticket_number}?token=`));
  });
});

describe("retries", () => {
  test("a 5xx is retried with backoff by the cron until it succeeds", async () => {
    emailMode = "down";
    const t = await create({ customer_email: "flaky@example.com" });
    const [first] = await waitFor(async () => {
      const l = (await notificationsOf(t.id)).filter((n) => n.channel === "email");
      return l[0]?.attempts === 1 && l[0].last_error && l;
    }, 5000, "first failure");
    assert.equal(first.status, "pending");
    assert.equal(first.last_error, "email API answered 503");
    const delay = Date.parse(first.next_attempt_at) - Date.parse(first.updated_at);
    assert.ok(delay >= 900 && delay <= 1100, `backoff of about 1 s, got ${delay} ms`);
    // Not due yet: the cron leaves it alone.
    await cron();
    assert.equal((await notificationsOf(t.id)).find((n) => n.channel === "email").attempts, 1);
    // Due and still failing: the backoff doubles.
    await new Promise((r) => setTimeout(r, 1100));
    await cron();
    const second = (await notificationsOf(t.id)).find((n) => n.channel === "email");
    assert.equal(second.attempts, 2);
    const delay2 = Date.parse(second.next_attempt_at) - Date.parse(second.updated_at);
    assert.ok(delay2 >= 1900 && delay2 <= 2100, `backoff of about 2 s, got ${delay2} ms`);
    emailMode = "ok";
    await new Promise((r) => setTimeout(r, 2100));
    await cron();
    const done = (await notificationsOf(t.id)).find((n) => n.channel === "email");
    assert.equal(done.status, "sent");
    const linkOf = (mail) => mail.body.text.match(/https:\/\/help\.example\/t\/\S+/)?.[0];
    assert.ok(linkOf(emails[0]), "the first attempt's email has a link");
    assert.equal(linkOf(emails.at(-1)), linkOf(emails[0]), "the cron's email links where the first would have");
    assert.equal(done.attempts, 3);
    assert.ok(done.sent_at);
  });

  test("a timeout counts as a failure", async () => {
    emailMode = "slow";
    const t = await create({ customer_email: "slow@example.com" });
    const row = await waitFor(async () => {
      const n = (await notificationsOf(t.id)).find((x) => x.channel === "email");
      return n?.last_error && n;
    }, 5000, "timeout recorded");
    assert.equal(row.last_error, "timed out after 400 ms");
  });

  test("after the last attempt it is marked failed, listed in the CRM, and can be retried", async () => {
    webhookMode = "down";
    const t = await create({ customer_email: "givesup@example.com" });
    const hook = () => notificationsOf(t.id).then((l) => l.find((n) => n.channel === "webhook"));
    await waitFor(async () => (await hook())?.attempts === 1, 5000, "attempt 1");
    for (let attempt = 2; attempt <= 3; attempt++) {
      await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 2) + 100));
      await cron();
    }
    const failed = await hook();
    assert.equal(failed.status, "failed");
    assert.equal(failed.attempts, 3);
    assert.equal(failed.last_error, "webhook answered 500");

    // The outbox (recipients, subjects, errors) is the admins': an agent is refused.
    assert.equal((await w.call("/api/crm/notifications?status=failed", { headers: staff.auth })).status, 403);
    assert.equal((await w.call(`/api/crm/notifications/${failed.id}/retry`, { method: "POST", headers: staff.auth })).status, 403);
    const list = await w.call("/api/crm/notifications?status=failed", { headers: admin.auth });
    assert.equal(list.status, 200);
    assert.ok(list.body.data.notifications.some((n) => n.id === failed.id));
    webhookMode = "ok";
    const retry = await w.call(`/api/crm/notifications/${failed.id}/retry`, { method: "POST", headers: admin.auth });
    assert.equal(retry.status, 202);
    await waitFor(async () => (await hook()).status === "sent", 5000, "retried delivery");
    assert.equal((await w.call(`/api/crm/notifications/${failed.id}/retry`, { method: "POST", headers: admin.auth })).status, 404);
    assert.equal((await w.call("/api/crm/notifications?status=nope", { headers: admin.auth })).status, 400);
  });
});

test("unconfigured targets are recorded as skipped and the request still succeeds", async () => {
  const bare = await startWorker();
  try {
    const res = await bare.postJson("/api/tickets/create", ticket());
    assert.equal(res.status, 201);
    assert.equal(res.body.data.access_token, undefined, "no links without TICKET_TOKEN_SECRET");
    const list = await waitFor(async () => {
      const l = await rows(bare.db, "SELECT status, last_error FROM notifications");
      return l.length === 2 && l.every((n) => n.status === "skipped") && l;
    }, 5000, "skipped");
    assert.deepEqual(list.map((n) => n.last_error), ["EMAIL_API_KEY is not set", "WEBHOOK_URL or WEBHOOK_SECRET is not set"]);
  } finally {
    await bare.dispose();
  }
});
