// POST /mcp with clients we did not write: the official TypeScript SDK (v2, in its
// legacy negotiation and pinned to the stateless 2026-07-28 revision; and v1, legacy),
// the official Inspector's headless CLI, and raw requests for the protocol's edges.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Client, StreamableHTTPClientTransport, ProtocolError } from "@modelcontextprotocol/client";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { startWorker, createStaff, login, ticket, rows } from "./helpers.mjs";

const root = path.resolve(import.meta.dirname, "..");
let w, staff, keyAuth, keyId, endpoint;

before(async () => {
  w = await startWorker({
    port: 0,
    bindings: { TICKET_TOKEN_SECRET: "mcp-secret", PUBLIC_BASE_URL: "https://help.example" },
  });
  endpoint = new URL("/mcp", w.url);
  await createStaff(w.db, { email: "admin@example.com", role: "admin", name: "Ada Admin" });
  staff = await login(w, "admin@example.com");
  const key = await w.postJson("/api/crm/api-keys", { name: "assistant", rate_limit: 5 }, staff.auth);
  keyAuth = { Authorization: `Bearer ${key.body.data.key}` };
  keyId = key.body.data.api_key.id;
});
after(() => w.dispose());

/** A connected v2 client: `era` legacy (initialize) or modern (pinned 2026-07-28). */
async function connect(era, headers) {
  const client = new Client(
    { name: "helpdesk-test", version: "1.0.0" },
    era === "modern" ? { versionNegotiation: { mode: { pin: "2026-07-28" } } } : {},
  );
  await client.connect(new StreamableHTTPClientTransport(endpoint, { requestInit: { headers } }));
  return client;
}

const data = (result) => {
  assert.notEqual(result.isError, true, JSON.stringify(result.content));
  assert.deepEqual(JSON.parse(result.content[0].text), result.structuredContent, "the text is the same JSON");
  return result.structuredContent;
};

for (const era of ["legacy", "modern"]) {
  describe(`the SDK, ${era}`, () => {
    test("an integration key: create, read the status, reply, resend the links", async () => {
      const client = await connect(era, keyAuth);
      try {
        assert.equal(client.getNegotiatedProtocolVersion(), era === "modern" ? "2026-07-28" : "2025-11-25");
        const { tools } = await client.listTools();
        assert.deepEqual(
          tools.map((t) => t.name),
          ["create_ticket", "get_ticket_status", "add_customer_reply", "resend_ticket_links"],
        );
        for (const t of tools) {
          assert.equal(t.inputSchema.type, "object");
          assert.equal(t.outputSchema.type, "object");
          assert.equal(typeof t.annotations.readOnlyHint, "boolean");
        }
        const created = data(
          await client.callTool({
            name: "create_ticket",
            arguments: { ...ticket({ customer_email: `${era}@example.com`, subject: "Printer on fire" }), idempotency_key: `${era}-1` },
          }),
        );
        assert.match(created.ticket_number, /^TKT-\d{4}-\d{4}$/);
        assert.match(created.status_url, /^https:\/\/help\.example\/t\//);
        // A retry with the same key never opens a second ticket.
        const again = data(
          await client.callTool({
            name: "create_ticket",
            arguments: { ...ticket({ customer_email: `${era}@example.com`, subject: "Printer on fire" }), idempotency_key: `${era}-1` },
          }),
        );
        assert.equal(again.ticket_number, created.ticket_number);
        const status = data(
          await client.callTool({ name: "get_ticket_status", arguments: { ticket_number: created.ticket_number, access_token: created.access_token } }),
        );
        assert.equal(status.subject, "Printer on fire");
        const reply = data(
          await client.callTool({
            name: "add_customer_reply",
            arguments: { ticket_number: created.ticket_number, access_token: created.access_token, body: "It smells of smoke" },
          }),
        );
        assert.equal(reply.message.body, "It smells of smoke");
        assert.deepEqual(data(await client.callTool({ name: "resend_ticket_links", arguments: { customer_email: `${era}@example.com` } })), {});
        // Refusals are results with the API's message, not protocol errors.
        const wrong = await client.callTool({ name: "get_ticket_status", arguments: { ticket_number: created.ticket_number, access_token: "nope" } });
        assert.equal(wrong.isError, true);
        assert.match(wrong.content[0].text, /No ticket matches/);
        const invalid = await client.callTool({ name: "create_ticket", arguments: { subject: "x" } });
        assert.equal(invalid.isError, true);
        assert.match(invalid.content[0].text, /required/i);
        assert.equal(JSON.parse(invalid.content[1].text).code, "validation_failed");
        // A staff tool is not this caller's.
        const forbidden = await client.callTool({ name: "search_tickets", arguments: {} });
        assert.equal(forbidden.isError, true);
        assert.match(forbidden.content[0].text, /staff/);
        await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), (e) => e instanceof ProtocolError && e.code === -32602);
      } finally {
        await client.close();
      }
    });

    test("a staff session: search, read, reply, assign, resolve, stats", async () => {
      const client = await connect(era, staff.auth);
      try {
        const { tools } = await client.listTools();
        assert.equal(tools.length, 10);
        const created = data(await client.callTool({ name: "create_ticket", arguments: ticket({ subject: `Staff ${era}`, priority: "urgent" }) }));
        assert.equal(created.priority, "urgent", "staff create with staff rules");
        const page = data(await client.callTool({ name: "search_tickets", arguments: { q: `Staff ${era}`, limit: 5 } }));
        assert.equal(page.tickets.length, 1);
        const id = page.tickets[0].id;
        const view = data(await client.callTool({ name: "get_ticket", arguments: { ticket: created.ticket_number } }));
        assert.equal(view.ticket.id, id);
        data(await client.callTool({ name: "reply_to_ticket", arguments: { ticket: id, body: "Looking into it", internal: true } }));
        const assigned = data(await client.callTool({ name: "assign_ticket", arguments: { ticket: id, staff_id: staff.body.data.staff.id } }));
        assert.equal(assigned.ticket.status, "assigned");
        const resolved = data(
          await client.callTool({ name: "change_ticket_status", arguments: { ticket: id, action: "resolve", version: assigned.ticket.version } }),
        );
        assert.equal(resolved.ticket.status, "resolved");
        const stale = await client.callTool({ name: "change_ticket_status", arguments: { ticket: id, action: "close", version: 1 } });
        assert.equal(stale.isError, true);
        assert.match(stale.content[0].text, /changed since version 1/);
        const stats = data(await client.callTool({ name: "ticket_stats", arguments: {} }));
        assert.ok(stats.total >= 1);
      } finally {
        await client.close();
      }
    });
  });
}

test("the v1 SDK (legacy) lists and calls tools", async () => {
  const client = new ClientV1({ name: "v1", version: "1.0.0" });
  await client.connect(new TransportV1(endpoint, { requestInit: { headers: keyAuth } }));
  try {
    const { tools } = await client.listTools();
    assert.equal(tools.length, 4);
    assert.deepEqual(await client.ping(), {});
  } finally {
    await client.close();
  }
});

test("a tool call counts against the key's rate limit, with the wait in the message", async () => {
  const limited = await w.postJson("/api/crm/api-keys", { name: "tiny", rate_limit: 1 }, staff.auth);
  const client = await connect("modern", { Authorization: `Bearer ${limited.body.data.key}` });
  try {
    data(await client.callTool({ name: "create_ticket", arguments: ticket({ customer_email: "one@example.com" }) }));
    const second = await client.callTool({ name: "create_ticket", arguments: ticket({ customer_email: "two@example.com" }) });
    assert.equal(second.isError, true);
    assert.match(second.content[0].text, /limit of 1 tickets per hour for this integration\. Please try again in/);
    const envelope = JSON.parse(second.content[1].text);
    assert.equal(envelope.code, "rate_limited");
    const hits = await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits WHERE bucket = ?", `key:${limited.body.data.api_key.id}`);
    assert.equal(hits[0].n, 1);
  } finally {
    await client.close();
  }
});

describe("the Inspector CLI", () => {
  const home = mkdtempSync(path.join(tmpdir(), "inspector-"));
  const inspector = (auth, ...args) => {
    const out = spawnSync(
      path.join(root, "node_modules/.bin/mcp-inspector"),
      ["--cli", endpoint.toString(), "--transport", "http", "--header", `Authorization: ${auth.Authorization}`, ...args],
      { encoding: "utf8", env: { ...process.env, HOME: home, NO_COLOR: "1" }, timeout: 60_000 },
    );
    return { status: out.status, result: out.stdout.trim() ? JSON.parse(out.stdout) : null, stderr: out.stderr };
  };

  for (const era of ["legacy", "modern"]) {
    test(`${era}: list, create, read the status, reply; staff search and resolve`, () => {
      const erArgs = ["--protocol-era", era];
      const list = inspector(keyAuth, ...erArgs, "--method", "tools/list");
      assert.equal(list.status, 0, list.stderr);
      assert.equal(list.result.tools.length, 4);
      const args = { ...ticket({ customer_email: `inspector-${era}@example.com`, subject: `Inspector ${era}` }) };
      const created = inspector(keyAuth, ...erArgs, "--method", "tools/call", "--tool-name", "create_ticket", "--tool-args-json", JSON.stringify(args));
      assert.equal(created.status, 0, created.stderr);
      const t = created.result.structuredContent;
      const status = inspector(keyAuth, ...erArgs, "--method", "tools/call", "--tool-name", "get_ticket_status", "--tool-args-json", JSON.stringify({ ticket_number: t.ticket_number, access_token: t.access_token }));
      assert.equal(status.status, 0, status.stderr);
      assert.equal(status.result.structuredContent.status, "open");
      const reply = inspector(keyAuth, ...erArgs, "--method", "tools/call", "--tool-name", "add_customer_reply", "--tool-args-json", JSON.stringify({ ticket_number: t.ticket_number, access_token: t.access_token, body: "Any news?" }));
      assert.equal(reply.status, 0, reply.stderr);
      const search = inspector(staff.auth, ...erArgs, "--method", "tools/call", "--tool-name", "search_tickets", "--tool-args-json", JSON.stringify({ q: `Inspector ${era}` }));
      assert.equal(search.status, 0, search.stderr);
      assert.equal(search.result.structuredContent.tickets[0].ticket_number, t.ticket_number);
      const resolve = inspector(staff.auth, ...erArgs, "--method", "tools/call", "--tool-name", "change_ticket_status", "--tool-args-json", JSON.stringify({ ticket: t.ticket_number, action: "resolve" }));
      assert.equal(resolve.status, 0, resolve.stderr);
      assert.equal(resolve.result.structuredContent.ticket.status, "resolved");
      // A refusal exits non-zero (5) with the isError result printed.
      const denied = inspector(keyAuth, ...erArgs, "--method", "tools/call", "--tool-name", "ticket_stats");
      assert.notEqual(denied.status, 0);
    });
  }
});

describe("the protocol's edges, raw", () => {
  const post = (body, headers = {}, auth = keyAuth) =>
    w.call("/mcp", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...auth, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const meta = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };

  test("GET and DELETE are 405; no credentials is 401; a foreign Origin is 403", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await w.call("/mcp", { method, headers: keyAuth });
      assert.equal(res.status, 405);
      assert.match(res.headers.get("allow"), /POST/);
    }
    const anonymous = await post({ jsonrpc: "2.0", id: 1, method: "tools/list" }, {}, {});
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get("www-authenticate"), /Bearer/);
    const forged = await post({ jsonrpc: "2.0", id: 1, method: "tools/list" }, {}, { Authorization: "Bearer hk_forged" });
    assert.equal(forged.status, 401);
    // A staff session token that happens to begin like an integration key (1 in
    // 262,144 random ones do) is still a session: planted in KV as login stores one.
    const token = "hk_" + "A".repeat(40);
    const staffId = staff.body.data.staff.id;
    const hash = createHash("sha256").update(token).digest("hex");
    const now = Date.now();
    const record = { staff_id: staffId, epoch: 0, created_at: new Date(now).toISOString(), expires_at: new Date(now + 3600_000).toISOString() };
    await w.kv.put(`session:${hash}`, JSON.stringify(record));
    const lucky = await post({ jsonrpc: "2.0", id: 1, method: "tools/list" }, {}, { Authorization: `Bearer ${token}` });
    assert.equal(lucky.status, 200, lucky.text);
    assert.ok(lucky.body.result.tools.some((t) => t.name === "ticket_stats"), "the staff tools");
    const foreign = await post({ jsonrpc: "2.0", id: 1, method: "tools/list" }, { Origin: "https://evil.example" });
    assert.equal(foreign.status, 403);
    const own = await post({ jsonrpc: "2.0", id: 1, method: "tools/list" }, { Origin: "http://localhost" });
    assert.equal(own.status, 200, own.text);
  });

  test("malformed messages and mismatched headers", async () => {
    const parse = await post("{not json");
    assert.equal(parse.status, 400);
    assert.equal(parse.body.error.code, -32700);
    const batch = await post([{ jsonrpc: "2.0", id: 1, method: "ping" }]);
    assert.equal(batch.status, 400);
    assert.equal(batch.body.error.code, -32600);
    const notice = await post({ jsonrpc: "2.0", method: "notifications/initialized" });
    assert.equal(notice.status, 202);
    assert.equal(notice.text, "");
    const mismatch = await post(
      { jsonrpc: "2.0", id: 7, method: "tools/list", params: { _meta: meta } },
      { "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call" },
    );
    assert.equal(mismatch.status, 400);
    assert.deepEqual([mismatch.body.id, mismatch.body.error.code], [7, -32020]);
    const noMeta = await post({ jsonrpc: "2.0", id: 8, method: "tools/list", params: {} }, { "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list" });
    assert.equal(noMeta.status, 400);
    assert.equal(noMeta.body.error.code, -32602);
    const old = await post({ jsonrpc: "2.0", id: 9, method: "tools/list" }, { "MCP-Protocol-Version": "1999-01-01" });
    assert.equal(old.status, 400);
    assert.equal(old.body.error.code, -32022);
    const gone = await post({ jsonrpc: "2.0", id: 10, method: "ping", params: { _meta: meta } }, { "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "ping" });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, -32601);
    const unknownMethod = await post({ jsonrpc: "2.0", id: 11, method: "resources/list" });
    assert.equal(unknownMethod.status, 200);
    assert.equal(unknownMethod.body.error.code, -32601);
    const wrongType = await w.call("/mcp", { method: "POST", headers: { ...keyAuth, "Content-Type": "text/plain" }, body: "{}" });
    assert.equal(wrongType.status, 415);
  });

  test("the key's use is recorded, as a keyed HTTP create would", async () => {
    const [key] = await rows(w.db, "SELECT last_used_at FROM api_keys WHERE id = ?", keyId);
    assert.ok(key.last_used_at);
  });
});
