#!/usr/bin/env node
// `make bench-profile`: where a scenario's CPU goes inside the worker's isolate.
// Serves one target (the product's build/, or the reference) in Miniflare with the
// inspector on, drives a scenario from bench/scenarios.mjs at a few connections, records
// a V8 CPU profile over the Chrome DevTools protocol and prints the functions with the
// most self time, grouped into wasm (the Rust code), glue (build/index.js, the
// wasm-bindgen JS), runtime (native calls such as D1, Headers, crypto) and GC/idle.
//
//   node bench/profile.mjs [scenario] [--reference] [--seconds N] [--top N] [--out F]
//
// Function names in the wasm need its `name` section: `make build` strips it, so build
// with `make build-profile` (the same release build, names kept) to read them.
import { writeFileSync } from "node:fs";
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import config from "./config.mjs";
import { scenarios, seedStaff } from "./scenarios.mjs";
import { productModules, referenceModules } from "./lib/target.mjs";
import { compatibilityDate, migrationStatements, wranglerVars } from "./lib/project.mjs";
import { requestFor } from "./lib/load.mjs";

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : args.splice(i, 2)[1];
};
const reference = args.includes("--reference") && args.splice(args.indexOf("--reference"), 1);
const seconds = Number(flag("--seconds", 5));
const top = Number(flag("--top", 30));
const out = flag("--out", null);
const connections = Number(flag("--connections", 8));
const name = args[0] ?? "create";
const scenario = scenarios.find((s) => s.name === name);
if (!scenario) {
  console.error(`unknown scenario ${name}; one of: ${scenarios.map((s) => s.name).join(", ")}`);
  process.exit(2);
}

const modules = reference ? await referenceModules() : productModules();
const inspectorPort = 9229 + Math.floor(Math.random() * 500);
const mf = new Miniflare({
  cf: false,
  host: "127.0.0.1",
  port: 0,
  inspectorPort,
  workers: [
    {
      name: "profiled",
      ...modules,
      compatibilityDate,
      d1Databases: ["DB"],
      kvNamespaces: ["SESSIONS"],
      bindings: { ...wranglerVars(), ...config.vars },
      outboundService: () => new Response("blocked", { status: 503 }),
    },
  ],
});
try {
  const url = (await mf.ready).href.replace(/\/$/, "");
  const db = await mf.getD1Database("DB");
  await db.batch((await migrationStatements()).map((s) => db.prepare(s)));
  const kv = await mf.getKVNamespace("SESSIONS");
  const call = async (path, init = {}) => {
    const res = await fetch(url + path, { redirect: "manual", ...init });
    const text = await res.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body };
  };
  const target = reference ? "reference" : "product";
  const prepared = scenario.setup ? await scenario.setup({ call, db, kv, target, seedStaff: (opts) => seedStaff(db, opts) }) : {};
  const load = (duration) =>
    autocannon({
      url,
      connections,
      duration,
      requests: [{ setupRequest: (req) => Object.assign(req, requestFor(scenario, prepared, target)) }],
    });
  await load(1); // warm-up: tier-up of the hot code before recording

  const cdp = await connect(`ws://127.0.0.1:${inspectorPort}/core:user:profiled`);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
  await cdp.send("Profiler.start");
  const result = await load(seconds);
  const { profile } = await cdp.send("Profiler.stop");
  cdp.close();
  if (out) writeFileSync(out, JSON.stringify(profile));
  report(profile, result.requests.total, `${target} ${name}, ${connections} connections, ${seconds} s`);
} finally {
  await mf.dispose();
}

function connect(address) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(address);
    const pending = new Map();
    let id = 0;
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      message.error ? waiter.reject(new Error(message.error.message)) : waiter.resolve(message.result);
    };
    ws.onerror = () => reject(new Error(`cannot connect to the inspector at ${address}`));
    ws.onopen = () =>
      resolve({
        send: (method, params = {}) =>
          new Promise((res, rej) => {
            pending.set(++id, { resolve: res, reject: rej });
            ws.send(JSON.stringify({ id, method, params }));
          }),
        close: () => ws.close(),
      });
  });
}

/** Self time per function and per kind, in µs per request. */
function report(profile, requests, title) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
  });
  const kindOf = ({ functionName, url }) => {
    if (["(idle)", "(program)", "(garbage collector)", "(root)"].includes(functionName)) return functionName;
    if (url.startsWith("wasm://")) return "wasm";
    if (url.endsWith("index.js") || url.endsWith("__bench_wrapper.mjs")) return "js (worker)";
    return url ? "js (runtime)" : "native";
  };
  const perFunction = new Map();
  const perKind = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id).callFrame;
    const kind = kindOf(frame);
    const key = `${kind}\t${frame.functionName || "(anonymous)"}${frame.url && kind !== "wasm" ? ` ${frame.url.split("/").pop()}:${frame.lineNumber}` : ""}`;
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
    perKind.set(kind, (perKind.get(kind) ?? 0) + us);
    if (kind !== "(idle)") total += us;
  }
  const per = (us) => (us / requests).toFixed(1).padStart(8);
  console.log(`# ${title}: ${requests} requests, ${(total / requests).toFixed(1)} µs of isolate time per request (idle excluded)\n`);
  console.log("µs/req  kind");
  for (const [kind, us] of [...perKind].sort((a, b) => b[1] - a[1])) console.log(`${per(us)}  ${kind}`);
  console.log(`\nµs/req  kind\tfunction (top ${top} by self time)`);
  for (const [key, us] of [...perFunction].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${per(us)}  ${key}`);
}
