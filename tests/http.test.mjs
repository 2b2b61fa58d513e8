// Cross-cutting HTTP behaviour: 404/405 envelopes, CORS, request ids, health, 500s.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ticket, rows } from "./helpers.mjs";

let w;
before(async () => {
  w = await startWorker();
});
after(() => w.dispose());

const isEnvelope = (body, code) => {
  assert.equal(body.success, false);
  assert.equal(body.code, code);
  assert.equal(typeof body.error, "string");
  assert.equal(typeof body.message, "string");
};

describe("routing", () => {
  test("unknown paths get a JSON 404", async () => {
    for (const p of ["/", "/api", "/api/tickets", "/api/tickets/create/", "/nope?x=1", "/api/crm/unknown"]) {
      const res = await w.call(p);
      assert.equal(res.status, 404, p);
      assert.match(res.headers.get("content-type"), /^application\/json/);
      isEnvelope(res.body, "not_found");
    }
  });

  test("a known path with the wrong method gets 405 with Allow", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const res = await w.call("/api/tickets/create", { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get("allow"), "POST, OPTIONS");
      isEnvelope(res.body, "method_not_allowed");
    }
    const health = await w.call("/api/health", { method: "POST" });
    assert.equal(health.status, 405);
    assert.equal(health.headers.get("allow"), "GET, OPTIONS");
  });

  test("every answer carries a unique X-Request-Id", async () => {
    const ids = new Set();
    for (const p of ["/api/health", "/missing", "/api/tickets/create"]) {
      const res = await w.fetch(p);
      await res.arrayBuffer();
      assert.match(res.headers.get("x-request-id"), /^[0-9a-f]{32}$/);
      ids.add(res.headers.get("x-request-id"));
    }
    assert.equal(ids.size, 3);
  });
});

describe("health", () => {
  test("reports D1 reachability", async () => {
    const res = await w.call("/api/health");
    assert.equal(res.status, 200);
    assert.equal(res.body.success, true);
    assert.equal(res.body.data.database, "ok");
    assert.equal(res.headers.get("cache-control"), "no-store");
  });
});

describe("CORS", () => {
  test("preflight allows the headers clients send", async () => {
    const res = await w.fetch("/api/tickets/create", {
      method: "OPTIONS",
      headers: {
        Origin: "https://widget.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, idempotency-key",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(res.headers.get("access-control-allow-methods"), "POST, OPTIONS");
    const allowed = res.headers.get("access-control-allow-headers").toLowerCase();
    for (const h of ["content-type", "authorization", "idempotency-key", "x-ticket-token"]) {
      assert.ok(allowed.includes(h), h);
    }
    assert.equal(res.headers.get("access-control-allow-credentials"), null);
  });

  test("responses expose the headers clients read", async () => {
    const res = await w.postJson("/api/tickets/create", ticket(), { Origin: "https://widget.example" });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const exposed = res.headers.get("access-control-expose-headers");
    for (const h of ["Location", "Retry-After", "RateLimit", "X-Request-Id"]) assert.ok(exposed.includes(h), h);
    const err = await w.postJson("/api/tickets/create", {}, { Origin: "https://widget.example" });
    assert.equal(err.headers.get("access-control-allow-origin"), "*");
  });

  test("a configured origin list is enforced", async () => {
    const strict = await startWorker({ bindings: { PUBLIC_ALLOWED_ORIGINS: "https://shop.example, https://help.example" } });
    try {
      const ok = await strict.fetch("/api/tickets/create", { method: "OPTIONS", headers: { Origin: "https://help.example" } });
      assert.equal(ok.status, 204);
      assert.equal(ok.headers.get("access-control-allow-origin"), "https://help.example");
      assert.match(ok.headers.get("vary"), /Origin/);
      const evil = await strict.fetch("/api/tickets/create", { method: "OPTIONS", headers: { Origin: "https://evil.example" } });
      assert.equal(evil.headers.get("access-control-allow-origin"), null);
      const post = await strict.postJson("/api/tickets/create", ticket(), { Origin: "https://evil.example" });
      assert.equal(post.headers.get("access-control-allow-origin"), null);
    } finally {
      await strict.dispose();
    }
  });

  test("OPTIONS on an unknown path is a 404", async () => {
    const res = await w.call("/api/nothing", { method: "OPTIONS" });
    assert.equal(res.status, 404);
  });
});

describe("form redirects", () => {
  test("with FORM_SUCCESS_URL a form post answers 303 to it", async () => {
    const site = await startWorker({ bindings: { FORM_SUCCESS_URL: "https://www.example.com/thanks?from=form" } });
    try {
      const res = await site.call("/api/tickets/create", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ subject: "s", description: "d", customer_email: "f@example.com" }).toString(),
      });
      assert.equal(res.status, 303);
      const year = new Date().getUTCFullYear();
      assert.equal(res.headers.get("location"), `https://www.example.com/thanks?from=form&ticket=TKT-${year}-0001`);
      // JSON clients of the same deployment still get 201 JSON.
      const json = await site.postJson("/api/tickets/create", ticket());
      assert.equal(json.status, 201);
      assert.equal(json.body.data.ticket_number, `TKT-${year}-0002`);
    } finally {
      await site.dispose();
    }
  });
});

describe("internal errors", () => {
  test("a failing database gives a generic 500, nothing half-written", async () => {
    const broken = await startWorker();
    try {
      await broken.db.prepare("DROP TABLE ticket_events").run();
      const res = await broken.postJson("/api/tickets/create", ticket());
      assert.equal(res.status, 500);
      isEnvelope(res.body, "internal_error");
      assert.doesNotMatch(res.text, /ticket_events|D1|SQL|sqlite/i);
      // The batch is one transaction: the ticket and its number were rolled back.
      assert.deepEqual(await rows(broken.db, "SELECT count(*) AS n FROM support_tickets"), [{ n: 0 }]);
      assert.deepEqual(await rows(broken.db, "SELECT count(*) AS n FROM ticket_counters"), [{ n: 0 }]);
      const health = await broken.call("/api/health");
      assert.equal(health.status, 200);
    } finally {
      await broken.dispose();
    }
  });

  test("without a database, health answers 503 and creates a generic 500", async () => {
    const broken = await startWorker({ database: false });
    try {
      const health = await broken.call("/api/health");
      assert.equal(health.status, 503);
      isEnvelope(health.body, "service_unavailable");
      const res = await broken.postJson("/api/tickets/create", ticket());
      assert.equal(res.status, 500);
      isEnvelope(res.body, "internal_error");
      assert.doesNotMatch(res.text, /binding|DB|D1/);
    } finally {
      await broken.dispose();
    }
  });
});
