// Starts the built worker (build/index.js + index_bg.wasm) in Miniflare with a fresh,
// migrated in-memory D1, KV and R2 bucket, and calls it the way a client does: over HTTP.
import { Miniflare } from "miniflare";
import { readFileSync, readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

// The same compatibility date as wrangler.toml, so tests run what deploys.
const compatibilityDate = readFileSync(path.join(root, "wrangler.toml"), "utf8").match(
  /^compatibility_date = "([^"]+)"/m,
)[1];

/** A SQL file's statements (comments removed, split on `;` at a line's end). */
export function sqlStatements(text) {
  return text
    .replace(/--[^\n]*/g, "")
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The migration files' statements, in order. */
export function migrationStatements() {
  const dir = path.join(root, "migrations");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) => sqlStatements(readFileSync(path.join(dir, f), "utf8")));
}

/**
 * The static assets (`[assets]` in wrangler.toml: web/, `_headers`, `_redirects`,
 * which paths run the Worker first) as Miniflare takes them. Miniflare's `assets`
 * option has its own shape and silently drops wrangler's, so wrangler translates.
 */
async function assetOptions() {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
  return { assets: workerOptions.assets };
}

/**
 * Starts a worker. `bindings` override vars (the test clock is enabled unless
 * `ALLOW_TEST_CLOCK` is overridden); `outbound` intercepts the worker's fetch();
 * `database: false` leaves the D1 binding out. `assets: true` serves web/ beside
 * the Worker as a deployment does; `port: 0` also listens on a free loopback port
 * (`url`), for a real browser. Every line the worker's runtime prints (one JSON line
 * per request) is kept in `logs` ({stream: "stdout" | "stderr", line}), and printed
 * too with WORKER_LOGS=1.
 */
export async function startWorker({ bindings = {}, outbound, database = true, assets = false, port } = {}) {
  const listen = port === undefined ? {} : { port, host: "127.0.0.1" };
  const logs = [];
  const echo = process.env.WORKER_LOGS === "1";
  const capture = (stdout, stderr) => {
    for (const [stream, readable] of [["stdout", stdout], ["stderr", stderr]]) {
      createInterface({ input: readable }).on("line", (line) => {
        logs.push({ stream, line });
        if (echo) (stream === "stderr" ? process.stderr : process.stdout).write(line + "\n");
      });
    }
  };
  const mf = new Miniflare({
    cf: false,
    ...listen,
    handleRuntimeStdio: capture,
    workers: [
      {
        name: "helpdesk-worker",
        scriptPath: path.join(root, "build/index.js"),
        modulesRoot: path.join(root, "build"),
        modules: true,
        modulesRules: [
          { type: "ESModule", include: ["**/*.js"] },
          { type: "CompiledWasm", include: ["**/*.wasm"] },
        ],
        compatibilityDate,
        d1Databases: database ? ["DB"] : [],
        kvNamespaces: ["SESSIONS"],
        r2Buckets: ["ATTACHMENTS"],
        // Every request comes from 127.0.0.1 unless a test sets CF-Connecting-IP, so
        // suites that are not about rate limits raise them.
        bindings: { ALLOW_TEST_CLOCK: "true", RATE_LIMIT_PER_EMAIL: "100000", RATE_LIMIT_PER_IP: "100000", ...bindings },
        ...(outbound ? { outboundService: outbound } : {}),
        ...(assets ? await assetOptions() : {}),
      },
    ],
  });
  const url = port === undefined ? null : String(await mf.ready).replace(/\/$/, "");
  const db = database ? await mf.getD1Database("DB") : null;
  if (db) await db.batch(migrationStatements().map((s) => db.prepare(s)));
  const kv = await mf.getKVNamespace("SESSIONS");
  const r2 = await mf.getR2Bucket("ATTACHMENTS");

  /** Raw fetch against the worker; returns the Response. */
  const fetch = (urlPath, init = {}) =>
    mf.dispatchFetch(new URL(urlPath, "http://localhost").toString(), { redirect: "manual", ...init });

  /** Fetch and decode: { status, headers, body (parsed JSON or text), text }. */
  const call = async (urlPath, init = {}) => decoded(await fetch(urlPath, init));

  /** POST a JSON value (objects are stringified; strings are sent as they are). */
  const postJson = (urlPath, value, headers = {}) =>
    call(urlPath, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: typeof value === "string" ? value : JSON.stringify(value),
    });

  return { mf, db, kv, r2, url, fetch, call, postJson, logs, dispose: () => mf.dispose() };
}

/** A response read whole: { status, headers, body (parsed JSON, else the text), text }. */
export async function decoded(res) {
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body, text };
}

/** A valid public create body, with overrides. */
export function ticket(overrides = {}) {
  return {
    subject: "Issue with mining machine",
    description: "Detailed description of the problem",
    customer_name: "John Smith",
    customer_email: "john@example.com",
    priority: "medium",
    category: "technical",
    ...overrides,
  };
}

/** Rows of a query against the worker's D1. */
export async function rows(db, sql, ...params) {
  const { results } = await db.prepare(sql).bind(...params).all();
  return results;
}

/**
 * Inserts a staff member straight into D1 (the way `make admin` does) and returns
 * its id. Hashes use few iterations: the format carries its count, so logins stay fast.
 */
export async function createStaff(db, { email, name = "Staff Member", role = "agent", password = "correct horse battery", active = 1 }) {
  const { hashPassword } = await import("../scripts/password-hash.mjs");
  const now = new Date().toISOString();
  const row = await db
    .prepare(
      `INSERT INTO crm_staff (email, name, role, password_hash, active, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    )
    .bind(email, name, role, hashPassword(password, 1000), active, now, now)
    .first();
  return row.id;
}

/** Logs in through the API; returns { token, auth } where auth is the header object. */
export async function login(w, email, password = "correct horse battery", headers = {}) {
  const res = await w.postJson("/api/crm/auth/login", { email, password }, headers);
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text}`);
  return { token: res.body.data.token, auth: { Authorization: `Bearer ${res.body.data.token}` }, body: res.body };
}

/** Polls `check` (async, returns a truthy value when done) until it passes or `ms` elapse. */
export async function waitFor(check, ms = 5000, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
