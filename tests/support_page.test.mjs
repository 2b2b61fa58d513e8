// The public support page (`GET /support`) and how the public create answers a
// browser's form post: a 303 to a page, and the form again (HTML) when refused.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, rows } from "./helpers.mjs";

// What Chromium sends when it submits a form.
const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

const formPost = (w, fields, headers = {}) =>
  w.fetch("/api/tickets/create", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: BROWSER_ACCEPT, ...headers },
    body: new URLSearchParams(fields).toString(),
  });

const valid = (overrides = {}) => ({
  subject: "Printer on fire",
  description: "It smells of toast.",
  customer_email: "form@example.com",
  customer_name: "Carla",
  priority: "high",
  category: "billing",
  website: "",
  ...overrides,
});

function assertPageHeaders(res) {
  assert.match(res.headers.get("content-type"), /^text\/html/);
  const csp = res.headers.get("content-security-policy");
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'[;]/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /base-uri 'none'/);
  assert.match(csp, /form-action 'self'/);
  assert.doesNotMatch(csp, /unsafe|challenges\.cloudflare\.com/);
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.equal(res.headers.get("cache-control"), "no-store");
}

describe("the support page, with status links", () => {
  let w;
  before(async () => {
    w = await startWorker({
      bindings: {
        TICKET_TOKEN_SECRET: "support-secret",
        PUBLIC_BASE_URL: "https://help.example",
        CATEGORIES: "General,Billing,<b>Odd</b>",
        RATE_LIMIT_PER_EMAIL: "2",
      },
    });
  });
  after(() => w.dispose());

  test("is a plain form with the configured categories, escaped, and strict headers", async () => {
    const res = await w.fetch("/support");
    assert.equal(res.status, 200);
    assertPageHeaders(res);
    const html = await res.text();
    assert.match(html, /<form id="support-form" method="post" action="\/api\/tickets\/create">/);
    assert.match(html, /<option value="general" selected>General<\/option>/);
    assert.match(html, /<option value="billing">Billing<\/option>/);
    assert.match(html, /<option value="&lt;b&gt;odd&lt;\/b&gt;">&lt;b&gt;odd&lt;\/b&gt;<\/option>/);
    assert.match(html, /<option value="medium" selected>Medium<\/option>/);
    assert.doesNotMatch(html, /urgent/i, "urgent is for staff");
    assert.match(html, /<div class="hp" aria-hidden="true">.*tabindex="-1" autocomplete="off">/);
    assert.match(html, /<script type="module" src="\/assets\/support.js"><\/script>/);
    assert.doesNotMatch(html, /<script>|<style|style="|cf-turnstile/);
    assert.equal((await w.fetch("/support", { method: "POST" })).status, 405);
  });

  test("a browser's form post lands on the new ticket's status page with a confirmation", async () => {
    const res = await formPost(w, valid());
    assert.equal(res.status, 303);
    const location = res.headers.get("location");
    const [, number, token] = location.match(/^\/t\/(TKT-\d{4}-\d{4,})\?token=([A-Za-z0-9_-]{32})&created=1$/);
    const [saved] = await rows(w.db, "SELECT subject, priority, category, customer_email FROM support_tickets WHERE ticket_number = ?", number);
    assert.deepEqual(saved, { subject: "Printer on fire", priority: "high", category: "billing", customer_email: "form@example.com" });

    const page = await w.fetch(location);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, new RegExp(`role="status"[^>]*><h2 id="created-title">Ticket ${number} is open</h2>`));
    const link = `https://help.example/t/${number}?token=${token}`;
    assert.ok(html.includes(`<a href="${link}">${link}</a>`), "the private link to keep");
    assert.ok(html.includes(`<a href="/support">Open another ticket</a>`));
    // Without created=1 the page is as it always was.
    const plain = await (await w.fetch(`/t/${number}?token=${token}`)).text();
    assert.doesNotMatch(plain, /created-title/);
    assert.ok(plain.includes(`<a href="/support">Open another ticket</a>`));
  });

  test("API clients keep their answers: JSON bodies, and form posts that do not ask for HTML", async () => {
    const json = await w.postJson("/api/tickets/create", valid({ customer_email: "json@example.com" }), { Accept: BROWSER_ACCEPT });
    assert.equal(json.status, 201);
    assert.equal(json.body.success, true);
    for (const accept of [undefined, "*/*", "application/json", "application/json, text/html"]) {
      const res = await formPost(w, valid({ customer_email: `f${accept?.length ?? 0}@example.com` }), accept ? { Accept: accept } : { Accept: "" });
      assert.equal(res.status, 201, `Accept: ${accept}`);
      assert.match(res.headers.get("content-type"), /^application\/json/);
    }
  });

  test("a refused form post shows the form again with the messages, what was typed, and no ticket", async () => {
    const before = (await rows(w.db, "SELECT count(*) AS n FROM support_tickets"))[0].n;
    const res = await formPost(w, valid({ subject: "   ", customer_email: "ann@", description: "Keep <this> & that" }));
    assert.equal(res.status, 400);
    assertPageHeaders(res);
    const html = await res.text();
    assert.match(html, /<title>Error: Contact support<\/title>/);
    assert.match(html, /<div class="error-summary" id="form-problem" role="alert" tabindex="-1">/);
    assert.match(html, /<a href="#subject">Subject is required<\/a>/);
    assert.match(html, /<a href="#customer_email">Customer email is not a valid email address<\/a>/);
    assert.match(html, /id="customer_email"[^>]*aria-describedby="customer_email-hint customer_email-error" aria-invalid="true" value="ann@"/);
    assert.ok(html.includes(">Keep &lt;this&gt; &amp; that</textarea>"));
    assert.match(html, /<option value="high" selected>High<\/option>/);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM support_tickets"))[0].n, before);
  });

  test("a rate-limited form post says so on the page, with Retry-After", async () => {
    const email = { customer_email: "often@example.com" };
    for (let i = 0; i < 2; i++) assert.equal((await formPost(w, valid(email))).status, 303);
    const res = await formPost(w, valid(email));
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get("retry-after")) > 0);
    const html = await res.text();
    assert.match(html, /role="alert"/);
    assert.match(html, /limit of 2 tickets per hour for this email address/);
    assert.ok(html.includes('value="often@example.com"'));
  });

  test("a body over the cap gets the page with the 413's message", async () => {
    const res = await formPost(w, valid({ description: "x".repeat(70_000) }));
    assert.equal(res.status, 413);
    assert.match(await res.text(), /The body must be at most 65536 bytes/);
  });

  test("a bot that fills the honeypot is sent on as if it worked, and nothing is written", async () => {
    const before = (await rows(w.db, "SELECT count(*) AS n FROM support_tickets"))[0].n;
    const res = await formPost(w, valid({ website: "http://spam.example", customer_email: "bot@example.com" }));
    assert.equal(res.status, 303);
    assert.match(res.headers.get("location"), /^\/t\/TKT-\d{4}-\d{4,}\?token=[A-Za-z0-9_-]{32}&created=1$/);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM support_tickets"))[0].n, before);
  });

  test("?created= shows a number only when it is one", async () => {
    const ok = await (await w.fetch("/support?created=TKT-2026-0042")).text();
    assert.match(ok, /Ticket TKT-2026-0042 is open/);
    for (const bad of ["<script>", "TKT-2026-42", ""]) {
      const html = await (await w.fetch(`/support?created=${encodeURIComponent(bad)}`)).text();
      assert.doesNotMatch(html, /created-title|<script>alert/, bad);
    }
  });
});

describe("the support page without status links", () => {
  let w;
  before(async () => {
    w = await startWorker();
  });
  after(() => w.dispose());

  test("a browser's form post lands back on /support with the number", async () => {
    const res = await formPost(w, valid());
    assert.equal(res.status, 303);
    const [, number] = res.headers.get("location").match(/^\/support\?created=(TKT-\d{4}-\d{4,})$/);
    const html = await (await w.fetch(res.headers.get("location"))).text();
    assert.match(html, new RegExp(`Ticket ${number} is open`));
  });
});

describe("the support page with FORM_SUCCESS_URL and Turnstile", () => {
  let w;
  before(async () => {
    w = await startWorker({
      bindings: {
        FORM_SUCCESS_URL: "https://www.example.com/thanks",
        TURNSTILE_SITE_KEY: "0x4AAAAAAAtestkey",
        TICKET_TOKEN_SECRET: "support-secret",
      },
    });
  });
  after(() => w.dispose());

  test("another site's form goes to the configured success URL; our own /support page keeps its pages", async () => {
    for (const site of [{}, { "Sec-Fetch-Site": "cross-site" }]) {
      const res = await formPost(w, valid(), site);
      assert.equal(res.status, 303);
      assert.match(res.headers.get("location"), /^https:\/\/www\.example\.com\/thanks\?ticket=TKT-\d{4}-\d{4,}$/);
    }
    const ours = { "Sec-Fetch-Site": "same-origin" };
    const created = await formPost(w, valid(), ours);
    assert.equal(created.status, 303);
    assert.match(created.headers.get("location"), /^\/t\/TKT-\d{4}-\d{4,}\?token=[\w-]+&created=1$/);
    const refused = await formPost(w, valid({ customer_email: "not an email" }), ours);
    assert.equal(refused.status, 400);
    assert.match(refused.headers.get("content-type"), /^text\/html/);
    assert.match(await refused.text(), /<form id="support-form"/);
  });

  test("the widget shows, and the CSP allows exactly Cloudflare's challenge origin for it", async () => {
    const res = await w.fetch("/support");
    const csp = res.headers.get("content-security-policy");
    assert.match(csp, /script-src 'self' https:\/\/challenges\.cloudflare\.com;/);
    assert.match(csp, /frame-src https:\/\/challenges\.cloudflare\.com(;|$)/);
    assert.doesNotMatch(csp, /unsafe/);
    const html = await res.text();
    assert.ok(html.includes('<div class="cf-turnstile" data-sitekey="0x4AAAAAAAtestkey"></div>'));
    assert.ok(html.includes('<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>'));
  });
});
