// Starts one worker under test in its own Miniflare (so its own workerd process, whose
// CPU time we can read) behind the counting wrapper, on 127.0.0.1 with a fresh migrated
// in-memory D1 and KV. The product is build/index.js + index_bg.wasm as `make build`
// left them; the yardsticks are bench/reference/*.mjs bundled with Hono by esbuild.
import { Miniflare } from "miniflare";
import { build } from "esbuild";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { root, buildDir as projectBuild, compatibilityDate, migrationStatements } from "./project.mjs";
import { decoded } from "../../tests/helpers.mjs";

const here = path.dirname(new URL(import.meta.url).pathname);
const wrapperSource = readFileSync(path.join(here, "counting-wrapper.mjs"), "utf8");

/**
 * Every fetch() a worker makes (email, webhooks, Turnstile) is answered here with a 503
 * and counted: nothing leaves the machine, whatever the worker is configured to call.
 */
export const outboundBlocked = { count: 0, urls: new Set() };
function blockOutbound(request) {
  outboundBlocked.count++;
  if (outboundBlocked.urls.size < 10) outboundBlocked.urls.add(new URL(request.url).origin);
  return new Response("bench: outbound requests are blocked", { status: 503 });
}

/** The product's modules: its own index.js and wasm, unchanged (and the version stamp
 * that `make build` adds, when the build has one). */
export function productModules(buildDir = projectBuild) {
  const stamp = path.join(buildDir, "version.js");
  return {
    modulesRoot: buildDir,
    modules: [
      { type: "ESModule", path: path.join(buildDir, "index.js") },
      ...(existsSync(stamp) ? [{ type: "ESModule", path: stamp }] : []),
      { type: "CompiledWasm", path: path.join(buildDir, "index_bg.wasm") },
    ],
  };
}

/**
 * A plain-JS worker of bench/reference bundled (Hono inlined) into one ES module, in
 * memory: `worker.mjs` (the same-work reference), `seed.mjs` (the seed's design) or
 * `minimal.mjs` (the least a correct create does).
 */
export async function jsWorkerModules(file) {
  const out = await build({
    entryPoints: [path.join(root, "bench/reference", file)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    write: false,
    logLevel: "error",
  });
  const dir = path.join(root, "bench/reference");
  return {
    modulesRoot: dir,
    modules: [{ type: "ESModule", path: path.join(dir, "index.js"), contents: out.outputFiles[0].text }],
  };
}

/** The reference worker (bench/reference/worker.mjs) bundled. */
export const referenceModules = () => jsWorkerModules("worker.mjs");

/** The yardsticks beside the product, by target name. */
export const yardstickFiles = { reference: "worker.mjs", seed: "seed.mjs", minimal: "minimal.mjs" };

/** A trivial JS worker, the floor for startup time. */
export function trivialModules() {
  const dir = path.join(root, "bench/lib");
  return {
    modulesRoot: dir,
    modules: [
      {
        type: "ESModule",
        path: path.join(dir, "index.js"),
        contents: 'export default { fetch() { return new Response("ok", { status: 404 }); } };',
      },
    ],
  };
}

/**
 * One cold start: a fresh Miniflare (new workerd process) serving `modules` as they are
 * (no wrapper), timed from `new Miniflare` to `ready` and to the first complete response
 * of GET /__startup (a 404 that touches no binding). Disposed before returning.
 */
export async function coldStart(modules) {
  const t0 = performance.now();
  const mf = new Miniflare({
    cf: false,
    host: "127.0.0.1",
    port: 0,
    workers: [
      { name: "cold", ...modules, compatibilityDate, d1Databases: ["DB"], kvNamespaces: ["SESSIONS"], outboundService: blockOutbound },
    ],
  });
  try {
    const url = await mf.ready;
    const ready = performance.now() - t0;
    const res = await fetch(new URL("/__startup", url));
    await res.arrayBuffer();
    return { readyMs: ready, firstResponseMs: performance.now() - t0, status: res.status };
  } finally {
    await mf.dispose();
  }
}

function workerdChildren() {
  const pids = new Set();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (Number(fields[1]) === process.pid && comm.startsWith("workerd")) pids.add(Number(entry));
    } catch {}
  }
  return pids;
}

/**
 * CPU time of a process in ms: the nanosecond run time of all its threads from
 * /proc/<pid>/task/<tid>/schedstat, else user+system time from /proc/<pid>/stat
 * (clock ticks of 10 ms).
 */
export function processCpuMs(pid) {
  if (!pid) return null;
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    if (ns > 0) return ns / 1e6;
  } catch {}
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * Starts a worker. `modules` from productModules()/jsWorkerModules()/trivialModules();
 * `instrument: false` serves it without the counting wrapper; `migrate: false` skips
 * the schema; `inspectorPort` opens the V8 inspector (bench/profile.mjs); `edge`
 * ({ d1Ms, kvMs }) makes the wrapper delay every D1 call and KV read by a round trip
 * (bench/README.md, edge mode). The worker's stdout (its log lines) is kept in
 * `logs` while `capturing` is set (the parity check compares them) and dropped
 * otherwise; its stderr goes to the harness's stderr. Returns { name, kind, url, mf,
 * db, kv, pid, logs, counters(), cpuMs(), fetch(), call(), dispose() }.
 */
export async function startTarget({ name, kind = name, modules, vars = {}, instrument = true, migrate = true, inspectorPort, edge = null }) {
  const before = workerdChildren();
  const edgeModule = `export default ${JSON.stringify({ d1Ms: edge?.d1Ms ?? 0, kvMs: edge?.kvMs ?? 0 })};`;
  const main = instrument
    ? [
        { type: "ESModule", path: path.join(modules.modulesRoot, "__bench_wrapper.mjs"), contents: wrapperSource },
        { type: "ESModule", path: path.join(modules.modulesRoot, "__bench_edge.mjs"), contents: edgeModule },
      ]
    : [];
  const target = { name, kind, logs: [], capturing: false };
  const mf = new Miniflare({
    cf: false,
    host: "127.0.0.1",
    port: 0,
    inspectorPort,
    handleRuntimeStdio: (stdout, stderr) => {
      lines(stdout, (line) => target.capturing && target.logs.push(line));
      lines(stderr, (line) => process.stderr.write(`[${name}] ${line}\n`));
    },
    workers: [
      {
        name,
        modulesRoot: modules.modulesRoot,
        modules: [...main, ...modules.modules],
        compatibilityDate,
        d1Databases: ["DB"],
        kvNamespaces: ["SESSIONS"],
        r2Buckets: ["ATTACHMENTS"],
        bindings: vars,
        outboundService: blockOutbound,
      },
    ],
  });
  const url = await mf.ready;
  const pid = [...workerdChildren()].find((p) => !before.has(p)) ?? null;
  const db = await mf.getD1Database("DB");
  if (migrate) await db.batch((await migrationStatements()).map((s) => db.prepare(s)));
  const kv = await mf.getKVNamespace("SESSIONS");
  const base = url.href.replace(/\/$/, "");
  const fetchIt = (p, init = {}) => fetch(base + p, { redirect: "manual", ...init });
  // A request outside the load: the answer with its body parsed as JSON when it is JSON.
  const call = async (p, init = {}) => decoded(await fetchIt(p, init));
  return Object.assign(target, {
    url: base,
    mf,
    db,
    kv,
    pid,
    fetch: fetchIt,
    call,
    counters: async () => (await fetchIt("/__bench/counters")).json(),
    cpuMs: () => processCpuMs(pid),
    dispose: () => mf.dispose(),
  });
}

/** Calls `onLine` for each line of a stream's text. */
function lines(stream, onLine) {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop();
    for (const line of parts) if (line) onLine(line);
  });
  stream.on("end", () => rest && onLine(rest));
}
