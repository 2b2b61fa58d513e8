// Private status links, the customer's side of the conversation, internal notes, "lost my link".
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, createStaff, login, ticket, rows } from "./helpers.mjs";

let w, staff;
before(async () => {
  w = await startWorker({
    bindings: {
      TICKET_TOKEN_SECRET: "test-token-secret",
      PUBLIC_BASE_URL: "https://help.example",
      CUSTOMER_REPLIES_PER_TICKET: "3",
      LOOKUPS_PER_EMAIL: "2",
    },
  });
  await createStaff(w.db, { email: "agent@example.com", name: "Agent Smith" });
  staff = await login(w, "agent@example.com");
});
after(() => w.dispose());

const open = async (overrides = {}, headers = {}) => {
  const res = await w.postJson("/api/tickets/create", ticket(overrides), headers);
  assert.equal(res.status, 201, res.text);
  return res.body.data;
};
const status = (number, token, how = "header") =>
  w.call(
    how === "query" ? `/api/tickets/${number}?token=${encodeURIComponent(token)}` : `/api/tickets/${number}`,
    { headers: how === "header" && token !== undefined ? { "X-Ticket-Token": token } : {} },
  );
const crm = (method, path, body) =>
  w.call(path, { method, headers: { ...staff.auth, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });

describe("status links", () => {
  test("creates answer with a private token and link; a replay gives them again", async () => {
    const data = await open({ customer_email: "link@example.com" }, { "Idempotency-Key": "link-1" });
    assert.match(data.access_token, /^[A-Za-z0-9_-]{32}$/);
    assert.equal(data.status_url, `https://help.example/t/${data.ticket_number}?token=${data.access_token}`);
    const again = await w.postJson("/api/tickets/create", ticket({ customer_email: "link@example.com" }), { "Idempotency-Key": "link-1" });
    assert.equal(again.body.data.access_token, data.access_token);
    // Never stored.
    const dump = JSON.stringify(await rows(w.db, "SELECT * FROM support_tickets")) + JSON.stringify(await rows(w.db, "SELECT * FROM idempotency_keys"));
    assert.ok(!dump.includes(data.access_token));
    const crmCreated = await crm("POST", "/api/crm/tickets/create", ticket());
    assert.match(crmCreated.body.data.status_url, /^https:\/\/help\.example\/t\/TKT-/);
  });

  test("the token shows status, timestamps and the thread, by header or query", async () => {
    const t = await open({ subject: "Where is my order" });
    for (const how of ["header", "query"]) {
      const res = await status(t.ticket_number, t.access_token, how);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.data.ticket_number, t.ticket_number);
      assert.equal(res.body.data.subject, "Where is my order");
      assert.equal(res.body.data.status, "open");
      assert.equal(res.body.data.priority, "medium");
      assert.equal(res.body.data.created_at, t.created_at);
      assert.deepEqual(res.body.data.messages, []);
      assert.equal(res.body.data.id, undefined, "no internal ids");
    }
  });

  test("wrong, missing or another ticket's token look exactly like an unknown number", async () => {
    const a = await open();
    const b = await open();
    const unknown = await status("TKT-2099-0001", a.access_token);
    assert.equal(unknown.status, 404);
    for (const res of [
      await status(a.ticket_number, b.access_token),
      await status(a.ticket_number, undefined),
      await status(a.ticket_number, "x".repeat(32)),
      await status(a.ticket_number, a.access_token.slice(0, -1) + (a.access_token.endsWith("A") ? "B" : "A")),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(res.text, unknown.text);
    }
    assert.equal((await w.call("/api/tickets/not-a-number")).status, 404);
  });
});

describe("the status page", () => {
  test("is self-contained, escaped, private and uncached", async () => {
    const t = await open({ subject: `<script>alert("x")</script>`, description: "<img src=x onerror=alert(1)>" });
    const res = await w.fetch(t.status_url.replace("https://help.example", ""));
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^text\/html/);
    assert.match(res.headers.get("content-security-policy"), /default-src 'none'/);
    assert.match(res.headers.get("content-security-policy"), /form-action 'self'/);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer");
    assert.equal(res.headers.get("cache-control"), "no-store");
    assert.ok(!html.includes("<script>") && !html.includes("<img"));
    assert.ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    assert.ok(html.includes(`action="/api/tickets/${t.ticket_number}/messages"`));
    assert.ok(html.includes(`value="${t.access_token}"`));
    const wrong = await w.fetch(`/t/${t.ticket_number}?token=nope`);
    const unknown = await w.fetch(`/t/TKT-2099-0009?token=nope`);
    assert.equal(wrong.status, 404);
    assert.equal(await wrong.text(), await unknown.text());
  });
});

describe("the conversation", () => {
  test("customer replies by JSON or from the page's form; staff replies show up, internal notes never do", async () => {
    const t = await open();
    const reply = await w.postJson(`/api/tickets/${t.ticket_number}/messages`, { body: "Any news?" }, { "X-Ticket-Token": t.access_token });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.body.data.message.author, "customer");
    const form = await w.call(`/api/tickets/${t.ticket_number}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: t.access_token, body: "Sent from the page" }).toString(),
    });
    assert.equal(form.status, 303);
    assert.equal(form.headers.get("location"), `/t/${t.ticket_number}?token=${t.access_token}`);
    assert.equal((await crm("POST", `/api/crm/tickets/${t.id}/messages`, { body: "We are on it." })).status, 201);
    const note = await crm("POST", `/api/crm/tickets/${t.id}/messages`, { body: "SECRET-NOTE: customer is on the VIP list", internal: true });
    assert.equal(note.status, 201);
    assert.equal(note.body.data.message.internal, true);

    const view = await status(t.ticket_number, t.access_token);
    assert.deepEqual(view.body.data.messages.map((m) => [m.author, m.body]), [
      ["customer", "Any news?"],
      ["customer", "Sent from the page"],
      ["staff", "We are on it."],
    ]);
    const page = await (await w.fetch(`/t/${t.ticket_number}?token=${t.access_token}`)).text();
    assert.ok(page.includes("We are on it.") && !page.includes("SECRET-NOTE"));
    assert.doesNotMatch(view.text, /SECRET-NOTE/);
    const crmView = await crm("GET", `/api/crm/tickets/${t.id}`);
    assert.equal(crmView.body.data.messages.length, 4);
    assert.equal(crmView.body.data.messages[3].internal, true);
  });

  test("a reply reopens a resolved ticket; a closed one refuses with 409", async () => {
    const t = await open();
    await crm("POST", `/api/crm/tickets/${t.id}/resolve`);
    const res = await w.postJson(`/api/tickets/${t.ticket_number}/messages`, { body: "Still broken" }, { "X-Ticket-Token": t.access_token });
    assert.equal(res.status, 201);
    assert.equal(res.body.data.reopened, true);
    assert.equal((await status(t.ticket_number, t.access_token)).body.data.status, "open");
    const events = await rows(w.db, "SELECT kind, actor_type, data FROM ticket_events WHERE ticket_id = ? ORDER BY id", t.id);
    assert.deepEqual(events.at(-1).kind, "reopened");
    assert.equal(events.at(-1).actor_type, "customer");
    assert.deepEqual(JSON.parse(events.at(-1).data), { from: "resolved", to: "open", reason: "customer_reply" });

    await crm("POST", `/api/crm/tickets/${t.id}/close`);
    const closed = await w.postJson(`/api/tickets/${t.ticket_number}/messages`, { body: "Hello?" }, { "X-Ticket-Token": t.access_token });
    assert.equal(closed.status, 409);
    assert.equal(closed.body.code, "ticket_closed");
    assert.match(closed.body.message, /open a new ticket/);
  });

  test("replies need the token, are bounded in size and rate", async () => {
    const t = await open();
    const url = `/api/tickets/${t.ticket_number}/messages`;
    assert.equal((await w.postJson(url, { body: "no token" })).status, 404);
    assert.equal((await w.postJson(url, { body: "x".repeat(10_001) }, { "X-Ticket-Token": t.access_token })).status, 400);
    assert.equal((await w.postJson(url, { body: "   " }, { "X-Ticket-Token": t.access_token })).status, 400);
    for (let i = 0; i < 3; i++) {
      assert.equal((await w.postJson(url, { body: `reply ${i}` }, { "X-Ticket-Token": t.access_token })).status, 201);
    }
    const limited = await w.postJson(url, { body: "one too many" }, { "X-Ticket-Token": t.access_token });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM ticket_messages WHERE ticket_id = ?", t.id))[0].n, 3);
  });
});

describe("the status page's form, refused", () => {
  const post = (t, fields, headers = {}) =>
    w.call(`/api/tickets/${t.ticket_number}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "text/html,application/xhtml+xml,*/*;q=0.8", ...headers },
      body: new URLSearchParams(fields).toString(),
    });

  test("answers the page again with the reason and the text kept, at the error's status; JSON callers still get JSON", async () => {
    const t = await open();
    await crm("POST", `/api/crm/tickets/${t.id}/close`);
    const closed = await post(t, { token: t.access_token, body: "Is it <fixed>?" });
    assert.equal(closed.status, 409);
    assert.match(closed.headers.get("content-type"), /^text\/html/);
    assert.match(closed.headers.get("content-security-policy"), /default-src 'none'/);
    assert.match(closed.text, /role="alert"[^>]*><p><strong>Your reply was not sent.<\/strong> Ticket TKT-\d{4}-\d{4,} is closed/);
    assert.match(closed.text, /href="\/support">open a new ticket/);

    const u = await open();
    const tooLong = await post(u, { token: u.access_token, body: `<b>${"x".repeat(10_001)}` });
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.text, /Your reply was not sent.<\/strong> Message/);
    assert.ok(tooLong.text.includes(`aria-invalid="true">&lt;b&gt;xxx`), "the text is back in the box, escaped");

    for (let i = 0; i < 3; i++) assert.equal((await post(u, { token: u.access_token, body: `reply ${i}` })).status, 303);
    const limited = await post(u, { token: u.access_token, body: "one too many" });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("retry-after")) > 0);
    assert.match(limited.text, /Your reply was not sent/);
    assert.ok(limited.text.includes(">one too many</textarea>"));

    const wrong = await post(u, { token: "forged", body: "hello" });
    assert.equal(wrong.status, 404);
    assert.match(wrong.text, /<h1>Ticket not found<\/h1>/);
    assert.doesNotMatch(wrong.text, /hello/);

    // A script posting the form without asking for HTML still gets JSON.
    const script = await post(u, { token: "forged", body: "hello" }, { Accept: "*/*" });
    assert.equal(script.status, 404);
    assert.equal(script.body.code, "not_found");

    const json = await w.postJson(`/api/tickets/${t.ticket_number}/messages`, { body: "Hello?" }, { "X-Ticket-Token": t.access_token });
    assert.equal(json.status, 409);
    assert.equal(json.body.code, "ticket_closed");
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM ticket_messages WHERE ticket_id = ?", t.id))[0].n, 0);
  });
});

describe("lost my link", () => {
  test("always the same 202, and the same 429, whether or not the email has tickets", async () => {
    const t = await open({ customer_email: "known@example.com" });
    const ask = (email, ip) => w.postJson("/api/tickets/lookup", { customer_email: email }, { "CF-Connecting-IP": ip });
    const known = [await ask("known@example.com", "10.1.0.1"), await ask("KNOWN@example.com", "10.1.0.2")];
    const unknown = [await ask("nobody@example.com", "10.1.0.3"), await ask("nobody@example.com", "10.1.0.4")];
    for (const res of [...known, ...unknown]) {
      assert.equal(res.status, 202);
      assert.equal(res.text, known[0].text);
    }
    const queued = await rows(w.db, "SELECT recipient FROM notifications WHERE kind = 'lookup'");
    assert.deepEqual(queued.map((r) => r.recipient.toLowerCase()), ["known@example.com", "known@example.com"]);
    const k = await ask("known@example.com", "10.1.0.5");
    const u = await ask("nobody@example.com", "10.1.0.6");
    assert.equal(k.status, 429);
    assert.equal(u.status, 429);
    assert.equal(k.body.message, u.body.message);
    // Old links keep working.
    assert.equal((await status(t.ticket_number, t.access_token)).status, 200);
    assert.equal((await w.postJson("/api/tickets/lookup", { customer_email: "not an email" })).status, 400);
  });
});
