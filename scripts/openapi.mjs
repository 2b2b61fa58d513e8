#!/usr/bin/env node
// Writes openapi/openapi.json from the route table (src/routes/table.rs: method, path,
// name, access) and openapi/source.mjs (what each route takes and answers), so the
// document's operations are exactly the worker's routes.
//
//   node scripts/openapi.mjs           write openapi/openapi.json
//   node scripts/openapi.mjs --check   fail if the committed file differs from a fresh one
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as source from "../openapi/source.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const OUTPUT = path.join(root, "openapi/openapi.json");

/** The routes of src/routes/table.rs: { method, path, name, access }. */
export function routeTable() {
  const table = readFileSync(path.join(root, "src/routes/table.rs"), "utf8");
  return [...table.matchAll(/route\("(\w+)",\s*"([^"]+)",\s*"(\w+)",\s*(\w+)!/g)].map(([, method, p, name, access]) => ({
    method,
    path: p,
    name,
    access,
  }));
}

const SECURITY = {
  public: [],
  staff: [{ staffSession: [] }],
  admin: [{ staffSession: [] }],
  action: [{ staffSession: [] }],
};

export function buildDocument() {
  const routes = routeTable();
  const names = new Set(routes.map((r) => r.name));
  const missing = routes.filter((r) => !source.operations[r.name]).map((r) => r.name);
  const extra = Object.keys(source.operations).filter((n) => !names.has(n));
  if (missing.length || extra.length) {
    throw new Error(
      `openapi/source.mjs and the route table disagree: no entry for [${missing.join(", ")}]; no route for [${extra.join(", ")}]`,
    );
  }
  const paths = {};
  for (const route of routes) {
    const op = source.operations[route.name];
    const forStaff = route.access !== "public";
    const responses = {
      ...op.responses,
      ...Object.fromEntries(
        Object.entries({ ...source.common, ...(route.access === "admin" ? source.adminErrors : forStaff ? source.staffErrors : {}) }).filter(
          ([status]) => !op.responses[status],
        ),
      ),
    };
    const operation = {
      operationId: route.name,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: op.tags,
      security: op.security ?? SECURITY[route.access],
      ...(op.parameters ? { parameters: op.parameters.map((p) => (typeof p === "string" ? { $ref: `#/components/parameters/${p}` } : p)) } : {}),
      ...(op.requestBody ? { requestBody: op.requestBody } : {}),
      responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b))),
    };
    (paths[route.path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: source.info,
    servers: [{ url: "/", description: "This service (the document is served by it)." }],
    tags: [
      { name: "public", description: "Anyone: AI assistants (with an integration key), forms, customers with their status link." },
      { name: "staff", description: "Support staff, with a session token." },
      { name: "admin", description: "Admins only." },
    ],
    paths,
    components: {
      schemas: source.schemas,
      parameters: source.parameters,
      responses: source.responses,
      headers: source.headers,
      securitySchemes: source.securitySchemes,
    },
  };
}

/** Minified: the worker embeds the file (`include_str!`), and whitespace would be wasm bytes. */
export function render() {
  return JSON.stringify(buildDocument()) + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const fresh = render();
  if (process.argv.includes("--check")) {
    let committed = "";
    try {
      committed = readFileSync(OUTPUT, "utf8");
    } catch {}
    if (committed !== fresh) {
      console.error("openapi: openapi/openapi.json is out of date; run `node scripts/openapi.mjs` and commit it");
      process.exit(1);
    }
    console.log("openapi: openapi/openapi.json matches the route table and openapi/source.mjs");
  } else {
    writeFileSync(OUTPUT, fresh);
    console.log(`openapi: wrote ${path.relative(root, OUTPUT)} (${fresh.length} bytes)`);
  }
}
