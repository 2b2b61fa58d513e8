// The built worker (build/) in Miniflare for capacity measurements: on 127.0.0.1 (so
// autocannon can load it over HTTP), with its D1 persisted to a directory (a SQLite
// file, as `wrangler dev` keeps it; its size is what D1 bills), and a thin wrapper
// around the D1 binding that records the SQL of each statement, so the query plans are
// those of the statements the worker really sends.
import { Miniflare } from "miniflare";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { compatibilityDate, root } from "../../bench/lib/project.mjs";
import { decoded } from "../../tests/helpers.mjs";

// The worker's own module imported by a wrapper that swaps env.DB for a recording
// proxy. POST /__capacity/sql?record=1 starts recording (clears), GET answers the list.
const WRAPPER = `
import Entry from "./index.js";
let recording = false;
let statements = [];
const real = new WeakMap();
function statement(stmt, sql, params) {
  const proxy = new Proxy(stmt, {
    get(t, key) {
      const value = Reflect.get(t, key, t);
      if (typeof value !== "function" || key === "constructor") return value;
      if (key === "bind") return (...args) => statement(value.apply(t, args), sql, args);
      if (["first", "all", "run", "raw"].includes(key)) return (...args) => (recording && statements.push({ sql, params }), value.apply(t, args));
      return value.bind(t);
    },
  });
  real.set(proxy, { stmt, sql, params });
  return proxy;
}
function database(db) {
  return new Proxy(db, {
    get(t, key) {
      const value = Reflect.get(t, key, t);
      if (typeof value !== "function" || key === "constructor") return value;
      if (key === "prepare") return (sql) => statement(value.call(t, sql), sql, []);
      if (key === "batch") return (list) => {
        const unwrapped = Array.from(list, (s) => real.get(s) ?? { stmt: s });
        if (recording) for (const u of unwrapped) if (u.sql) statements.push({ sql: u.sql, params: u.params });
        return value.call(t, unwrapped.map((u) => u.stmt));
      };
      return value.bind(t);
    },
  });
}
const envs = new WeakMap();
const wrap = (env) => {
  let wrapped = envs.get(env);
  if (!wrapped) envs.set(env, (wrapped = { ...env, DB: database(env.DB) }));
  return wrapped;
};
export default {
  scheduled(event, env, ctx) {
    return new Entry(ctx, wrap(env)).scheduled(event);
  },
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__capacity/sql") {
      if (request.method === "POST") {
        recording = url.searchParams.get("record") === "1";
        statements = [];
        return new Response(null, { status: 204 });
      }
      return Response.json(statements);
    }
    return new Entry(ctx, wrap(env)).fetch(request);
  },
};
`;

/**
 * Starts build/ (or `buildDir`) with its D1 in `persist` (a directory). `bindings` override vars;
 * `outbound` answers the worker's fetch(). Answers { url, mf, db, call, sqlFile(), dispose }.
 */
export async function startCapacityWorker({ persist, bindings = {}, outbound, buildDir = path.join(root, "build") } = {}) {
  const mf = new Miniflare({
    cf: false,
    host: "127.0.0.1",
    port: 0,
    d1Persist: path.join(persist, "d1"),
    kvPersist: path.join(persist, "kv"),
    // The worker's log lines (one per request) are not needed here.
    handleRuntimeStdio(stdout, stderr) {
      createInterface({ input: stdout }).on("line", () => {});
      createInterface({ input: stderr }).on("line", (line) => process.env.CAPACITY_VERBOSE && console.error(line));
    },
    workers: [
      {
        name: "capacity",
        modulesRoot: buildDir,
        modules: [
          { type: "ESModule", path: path.join(buildDir, "__capacity_wrapper.mjs"), contents: WRAPPER },
          { type: "ESModule", path: path.join(buildDir, "index.js") },
          { type: "CompiledWasm", path: path.join(buildDir, "index_bg.wasm") },
        ],
        compatibilityDate,
        d1Databases: { DB: "capacity-db" },
        kvNamespaces: ["SESSIONS"],
        bindings,
        ...(outbound ? { outboundService: outbound } : {}),
      },
    ],
  });
  const url = (await mf.ready).href.replace(/\/$/, "");
  const db = await mf.getD1Database("DB");
  const call = async (p, init = {}) => decoded(await fetch(url + p, init));
  /** The SQLite file behind the D1 database (what D1 bills is its size). */
  const sqlFile = () => {
    const found = [];
    const walk = (dir) => {
      for (const entry of readdirSync(dir)) {
        const p = path.join(dir, entry);
        if (statSync(p).isDirectory()) walk(p);
        else if (entry.endsWith(".sqlite")) found.push(p);
      }
    };
    walk(path.join(persist, "d1"));
    return found.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  };
  return { url, mf, db, call, sqlFile, dispose: () => mf.dispose() };
}
