// Turnstile (siteverify faked through Miniflare's outbound fetch) and the honeypot.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ticket, rows } from "./helpers.mjs";

// What the fake siteverify does next, and what it was sent.
let behaviour = "success";
let calls = [];
async function siteverify(request) {
  const url = new URL(request.url);
  if (url.hostname !== "turnstile.test") return new Response("unexpected outbound fetch", { status: 599 });
  calls.push(Object.fromEntries(new URLSearchParams(await request.text())));
  switch (behaviour) {
    case "success":
      return Response.json({ success: true, hostname: "www.example.com" });
    case "rejected":
      return Response.json({ success: false, "error-codes": ["invalid-input-response"] });
    case "wrong-host":
      return Response.json({ success: true, hostname: "evil.example" });
    case "server-error":
      return new Response("oops", { status: 500 });
    case "timeout":
      await new Promise((r) => setTimeout(r, 2000));
      return Response.json({ success: true, hostname: "www.example.com" });
    case "network-error":
      throw new Error("connection refused");
  }
}

let w;
before(async () => {
  w = await startWorker({
    bindings: {
      TURNSTILE_SECRET_KEY: "test-secret",
      TURNSTILE_VERIFY_URL: "https://turnstile.test/siteverify",
      TURNSTILE_ALLOWED_HOSTNAMES: "www.example.com",
      TURNSTILE_TIMEOUT_MS: "300",
    },
    outbound: siteverify,
  });
});
after(() => w.dispose());
beforeEach(() => {
  behaviour = "success";
  calls = [];
});

const create = (body, headers = {}) => w.postJson("/api/tickets/create", body, { "CF-Connecting-IP": "192.0.2.44", ...headers });
const tickets = async () => (await rows(w.db, "SELECT count(*) AS n FROM support_tickets"))[0].n;

test("a valid token passes, verified server side with the secret and client IP", async () => {
  const res = await create(ticket({ turnstile_token: "token-123" }));
  assert.equal(res.status, 201, res.text);
  assert.deepEqual(calls, [{ secret: "test-secret", response: "token-123", remoteip: "192.0.2.44" }]);
});

test("form posts carry the widget's cf-turnstile-response field", async () => {
  const res = await w.call("/api/tickets/create", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...ticket(), "cf-turnstile-response": "form-token" }).toString(),
  });
  assert.equal(res.status, 201, res.text);
  assert.equal(calls[0].response, "form-token");
});

test("every failure fails closed with the same 403", async () => {
  const before = await tickets();
  for (const [case_, body] of [
    ["missing token", ticket()],
    ["rejected", ticket({ turnstile_token: "t" })],
    ["wrong-host", ticket({ turnstile_token: "t" })],
    ["server-error", ticket({ turnstile_token: "t" })],
    ["timeout", ticket({ turnstile_token: "t" })],
    ["network-error", ticket({ turnstile_token: "t" })],
  ]) {
    behaviour = case_;
    const started = Date.now();
    const res = await create(body);
    assert.equal(res.status, 403, `${case_}: ${res.text}`);
    assert.equal(res.body.code, "bot_check_failed", case_);
    assert.match(res.body.message, /could not verify/);
    assert.doesNotMatch(res.text, /secret|siteverify|hostname|timed out/i);
    if (case_ === "timeout") assert.ok(Date.now() - started < 1800, "gave up at the timeout");
  }
  assert.equal(await tickets(), before);
  assert.equal(calls.length, 5, "no siteverify call without a token");
});

test("invalid input is refused before spending a token", async () => {
  const res = await create({ subject: "only", turnstile_token: "t" });
  assert.equal(res.status, 400);
  assert.equal(calls.length, 0);
});

test("a filled honeypot creates nothing and looks like success", async () => {
  const before = await tickets();
  const hits = (await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits"))[0].n;
  const res = await create(ticket({ website: "http://spam.example", turnstile_token: "t" }));
  assert.equal(res.status, 201);
  assert.equal(res.body.success, true);
  assert.equal(res.body.message, "Support ticket created successfully");
  assert.match(res.body.data.ticket_number, /^TKT-\d{4}-\d{4}$/);
  assert.match(res.headers.get("location"), /^\/api\/tickets\/TKT-/);
  assert.doesNotMatch(res.text, /honeypot|website|spam/i);
  assert.equal(res.headers.get("ratelimit-policy"), '"email";q=100000;w=3600, "ip";q=100000;w=3600', "headers like a real create");
  assert.equal(await tickets(), before);
  assert.equal((await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits"))[0].n, hits);
  assert.equal(calls.length, 0, "no siteverify call for a bot");
  // An empty honeypot is what people send.
  assert.equal((await create(ticket({ website: "", turnstile_token: "t" }))).status, 201);
});
