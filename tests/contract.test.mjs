// The machine contract: the OpenAPI document and the MCP tools are generated from the
// route table and openapi/source.mjs, committed, and served as committed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import http from "node:http";
import { buildDocument, render, renderTools, routeTable, STATIC_ROUTES, OUTPUT, TOOLS_OUTPUT } from "../scripts/openapi.mjs";
import { startWorker } from "./helpers.mjs";

let w;
before(async () => {
  w = await startWorker({ port: 0, assets: true, bindings: { PUBLIC_ALLOWED_ORIGINS: "https://only.example" } });
});
after(() => w.dispose());

test("the committed document and tools are what the sources generate", () => {
  assert.equal(readFileSync(OUTPUT, "utf8"), render(), "run `node scripts/openapi.mjs` and commit openapi/");
  assert.equal(readFileSync(TOOLS_OUTPUT, "utf8"), renderTools(), "run `node scripts/openapi.mjs` and commit openapi/");
});

test("the document lists exactly the route table's (method, path) pairs, and the static contract", () => {
  const doc = buildDocument();
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  const routed = [...routeTable(), ...STATIC_ROUTES].map((r) => `${r.method} ${r.path}`);
  assert.deepEqual([...documented].sort(), [...routed].sort());
  // Operation ids are the route names, unique.
  const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
  assert.equal(new Set(ids).size, ids.length);
  // Staff routes declare the staff session; public ones do not require it.
  for (const r of routeTable()) {
    const op = doc.paths[r.path][r.method.toLowerCase()];
    const staffOnly = JSON.stringify(op.security) === JSON.stringify([{ staffSession: [] }]);
    assert.equal(staffOnly, r.access !== "public", `${r.method} ${r.path}`);
  }
});

test("GET /api/openapi.json serves it as a static file: cacheable, readable from any origin", async () => {
  const res = await w.call("/api/openapi.json", { headers: { Origin: "https://anywhere.example" } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/json/);
  assert.equal(res.headers.get("x-request-id"), null, "the assets answer, not the Worker");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("cache-control"), "public, max-age=300");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(res.body.openapi, "3.1.0");
  assert.deepEqual(res.body, buildDocument());
  // Other public routes keep the configured origins.
  const health = await w.call("/api/health", { headers: { Origin: "https://anywhere.example" } });
  assert.equal(health.headers.get("access-control-allow-origin"), null);
  assert.equal(health.headers.get("cache-control"), "no-store");
});

/** A raw HTTP request (fetch refuses methods such as TRACE). */
function raw(method, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(urlPath, w.url), { method }, (res) => {
      let text = "";
      res.on("data", (chunk) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a method the router does not know is a 405 with Allow, never a 5xx", async () => {
  for (const method of ["TRACE", "PUT", "PROPFIND"]) {
    const res = await raw(method, "/api/tickets/create");
    assert.equal(res.status, 405, `${method}: ${res.text}`);
    assert.equal(res.headers.allow, "POST, OPTIONS");
    assert.equal(JSON.parse(res.text).code, "method_not_allowed");
  }
});
