#!/usr/bin/env node
// `make bench-profile`: where a scenario's CPU goes inside the worker's isolate.
// Serves one target (the product's build/, or the reference) as `make bench` does, with
// the V8 inspector on, records a CPU profile over the Chrome DevTools protocol while the
// scenario runs, and prints the functions with the most self time, by kind: wasm (the
// Rust code), js (worker) (build/index.js, the wasm-bindgen glue; or the reference's
// code), js (runtime) (workerd's own JS, such as the D1 binding), native (calls into
// the runtime: Response, Headers, fetch, crypto) and (program)/(garbage collector).
//
//   node bench/profile.mjs [scenario] [--reference] [--http] [--seconds N] [--top N] [--out F]
//
// By default the scenario runs as the in-isolate loop (bench/lib/loop.mjs: no HTTP, no
// D1), so the profile shows the worker's own cost; --http drives it with autocannon
// over HTTP against the real bindings instead. Function names in the wasm need its
// `name` section, which `make build` strips: `make bench-profile` builds with it.
import { writeFileSync } from "node:fs";
import autocannon from "autocannon";
import config from "./config.mjs";
import { scenarios, setupApi } from "./scenarios.mjs";
import { productModules, referenceModules, startTarget } from "./lib/target.mjs";
import { wranglerVars } from "./lib/project.mjs";
import { requestFor } from "./lib/load.mjs";
import { loopRun, loopSize } from "./lib/loop.mjs";

const args = process.argv.slice(2);
const option = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : args.splice(i, 2)[1];
};
const flag = (name) => args.includes(name) && Boolean(args.splice(args.indexOf(name), 1));
const reference = flag("--reference");
const http = flag("--http");
const seconds = Number(option("--seconds", 3));
const top = Number(option("--top", 30));
const out = option("--out", null);
const name = args[0] ?? "create";
const scenario = scenarios.find((s) => s.name === name);
if (!scenario) {
  console.error(`unknown scenario ${name}; one of: ${scenarios.map((s) => s.name).join(", ")}`);
  process.exit(2);
}

const targetName = reference ? "reference" : "product";
const inspectorPort = 9229 + Math.floor(Math.random() * 500);
const target = await startTarget({
  name: targetName,
  modules: reference ? await referenceModules() : productModules(),
  vars: { ...wranglerVars(), ...config.vars },
  inspectorPort,
});
try {
  const prepared = (await scenario.setup?.(setupApi(target))) ?? {};
  let run;
  if (http) {
    const load = (duration) =>
      autocannon({
        url: target.url,
        connections: 8,
        duration,
        requests: [{ setupRequest: (req) => Object.assign(req, requestFor(scenario, prepared, targetName)) }],
      });
    await load(1); // warm-up: the hot code tiers up before recording
    run = async () => (await load(seconds)).requests.total;
  } else {
    const { count } = await loopSize({ target, scenario, prepared }, seconds);
    run = async () => (await loopRun({ target, scenario, prepared, count })).count;
  }
  const cdp = await connect(`ws://127.0.0.1:${inspectorPort}/core:user:${targetName}`);
  await cdp.send("Profiler.enable");
  await cdp.send("Profiler.setSamplingInterval", { interval: 50 });
  await cdp.send("Profiler.start");
  const requests = await run();
  const { profile } = await cdp.send("Profiler.stop");
  cdp.close();
  if (out) writeFileSync(out, JSON.stringify(profile));
  report(profile, requests, `${targetName} ${name}, ${http ? "HTTP load, 8 connections" : "in-isolate loop"}`);
} finally {
  await target.dispose();
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
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
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
    const where = frame.url && kind !== "wasm" ? ` ${frame.url.split("/").pop()}:${frame.lineNumber}` : "";
    const key = `${kind}\t${frame.functionName || "(anonymous)"}${where}`;
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
    perKind.set(kind, (perKind.get(kind) ?? 0) + us);
    if (kind !== "(idle)") total += us;
  }
  const per = (us) => (us / requests).toFixed(1).padStart(8);
  console.log(`# ${title}: ${requests} requests, ${(total / requests).toFixed(1)} µs of isolate time per request (idle excluded)\n`);
  console.log("µs/req  kind");
  for (const [kind, us] of [...perKind].sort((a, b) => b[1] - a[1])) console.log(`${per(us)}  ${kind}`);
  console.log(`\nµs/req  kind\tfunction (top ${top} by self time)`);
  const ranked = [...perFunction].filter(([k]) => !k.startsWith("(idle)")).sort((a, b) => b[1] - a[1]);
  for (const [key, us] of ranked.slice(0, top)) console.log(`${per(us)}  ${key}`);
}
