#!/usr/bin/env node
// Writes openapi/openapi.json from the route table (src/routes/table.rs: method, path,
// name, access) and openapi/source.mjs (what each route takes and answers), so the
// document's operations are exactly the worker's routes; and openapi/mcp-tools.json,
// the MCP tools with the same schemas.
//
//   node scripts/openapi.mjs           write both
//   node scripts/openapi.mjs --check   fail if a committed file differs from a fresh one
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as source from "../openapi/source.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const OUTPUT = path.join(root, "openapi/openapi.json");
export const TOOLS_OUTPUT = path.join(root, "openapi/mcp-tools.json");

/** Who may call a route, from its table macro: where the session is checked
 * (`staff_batch!`, `admin_batch!`, `action!`: inside the route's batch) does not
 * change who may. */
const ACCESS = { public: "public", staff: "staff", staff_batch: "staff", action: "staff", admin: "admin", admin_batch: "admin" };

/** The routes of src/routes/table.rs: { method, path, name, access } (access: public, staff or admin). */
export function routeTable() {
  const table = readFileSync(path.join(root, "src/routes/table.rs"), "utf8");
  return [...table.matchAll(/route\("(\w+)",\s*"([^"]+)",\s*"(\w+)",\s*(\w+)!/g)].map(([, method, p, name, macro]) => {
    const access = ACCESS[macro];
    if (!access) throw new Error(`src/routes/table.rs: route ${name} uses ${macro}!, unknown to scripts/openapi.mjs`);
    return { method, path: p, name, access };
  });
}

/** Operations served as static files from web/ (scripts/build-web.mjs copies them
 * there; wrangler.toml's run_worker_first leaves them to the assets), not by a route. */
export const STATIC_ROUTES = [{ method: "GET", path: "/api/openapi.json", name: "openapi", access: "public", file: true }];

const SECURITY = {
  public: [],
  staff: [{ staffSession: [] }],
  admin: [{ staffSession: [] }],
};

export function buildDocument() {
  const routes = [...routeTable(), ...STATIC_ROUTES];
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
    // A static file answers only what it declares: none of the Worker's JSON errors.
    const errors = route.file ? {} : { ...source.common, ...(route.access === "admin" ? source.adminErrors : forStaff ? source.staffErrors : {}) };
    const responses = {
      ...op.responses,
      ...Object.fromEntries(
        Object.entries(errors).filter(([status]) => !op.responses[status]),
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

/** A schema with every `#/components/schemas/...` reference replaced by its target. */
function inline(schema) {
  if (Array.isArray(schema)) return schema.map(inline);
  if (!schema || typeof schema !== "object") return schema;
  if (schema.$ref) {
    const { $ref, ...rest } = schema;
    return { ...inline(source.schemas[$ref.split("/").pop()]), ...inline(rest) };
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v)]));
}

/** The MCP tools as `tools/list` answers them: customer tools, and staff tools as well. */
export function buildTools() {
  const tool = (t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: inline(t.input),
    outputSchema: inline(t.output),
    annotations: { title: t.title, ...t.annotations },
  });
  const customer = source.tools.filter((t) => t.audience === "customer").map(tool);
  return { customer, staff: customer.concat(source.tools.filter((t) => t.audience === "staff").map(tool)) };
}

/** Minified: the worker embeds the files (`include_str!`), and whitespace would be wasm bytes. */
export function render() {
  return JSON.stringify(buildDocument()) + "\n";
}

export function renderTools() {
  return JSON.stringify(buildTools()) + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outputs = [
    [OUTPUT, render()],
    [TOOLS_OUTPUT, renderTools()],
  ];
  for (const [file, fresh] of outputs) {
    const name = path.relative(root, file);
    if (process.argv.includes("--check")) {
      let committed = "";
      try {
        committed = readFileSync(file, "utf8");
      } catch {}
      if (committed !== fresh) {
        console.error(`openapi: ${name} is out of date; run \`node scripts/openapi.mjs\` and commit it`);
        process.exit(1);
      }
      console.log(`openapi: ${name} matches the route table and openapi/source.mjs`);
    } else {
      writeFileSync(file, fresh);
      console.log(`openapi: wrote ${name} (${fresh.length} bytes)`);
    }
  }
}
