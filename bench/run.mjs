#!/usr/bin/env node
// `make bench`: load-tests the built worker (build/) against its yardsticks (the Hono
// reference that does the same work, the seed's own design, the least a correct create
// does) on loopback, in alternating rounds, and writes bench/results/latest.{json,md}.
// `make bench EDGE=1` (--edge): the same with every D1 call and KV read delayed by a
// round trip, on its own scenario set; writes bench/results/latest-edge.{json,md}.
// See bench/README.md for what is measured and how.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import os from "node:os";
import { createHash } from "node:crypto";
import path from "node:path";
import config from "./config.mjs";
import { scenarios as allScenarios, setupApi, createdTicketNumber } from "./scenarios.mjs";
import { root, projectRoot, buildDir, revision, wranglerVars } from "./lib/project.mjs";
import { startTarget, productModules, jsWorkerModules, yardstickFiles, outboundBlocked } from "./lib/target.mjs";
import { loadRun, requestFor } from "./lib/load.mjs";
import { alternatingLoops } from "./lib/loop.mjs";
import { checkParity } from "./lib/parity.mjs";
import { measureSizes, measureColdStarts } from "./lib/startup.mjs";
import { summarize, summarizeLoops, summarizeYardsticks, markdown } from "./lib/report.mjs";

const started = Date.now();
const loadAtStart = os.loadavg()[0]; // other work on the machine (a cargo build...) adds noise

/** The machine's busy CPU time so far, in ms, over all cores (/proc/stat), or null. */
function machineBusyMs() {
  try {
    const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = ticks;
    return ((user + nice + system + irq + softirq + (steal ?? 0)) * 1000) / 100; // USER_HZ
  } catch {
    return null;
  }
}
const busyAtStart = machineBusyMs();
const elapsed = () => (Date.now() - started) / 1000;
const log = (...a) => console.error(`[bench ${elapsed().toFixed(0).padStart(3)}s]`, ...a);

if (!existsSync(path.join(buildDir, "index_bg.wasm"))) {
  console.error(`${buildDir}/index_bg.wasm is missing: run \`make build\` (or \`make bench\`) first.`);
  process.exit(1);
}

// ---- everything stops by itself: a soft deadline between runs, a hard one after it.
const targets = [];
async function shutdown(code, why) {
  if (why) console.error(`bench: ${why}`);
  await Promise.race([
    Promise.allSettled(targets.map((t) => t.dispose())),
    new Promise((r) => setTimeout(r, 5000)),
  ]);
  process.exit(code);
}
const hardStop = setTimeout(() => shutdown(2, `hard deadline (${config.deadlineSeconds + 30}s) reached, aborting`), (config.deadlineSeconds + 30) * 1000);
hardStop.unref();
for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => shutdown(130, `${sig}: stopping`));
// `make bench | head` must not kill the bench before it stops its workerd processes.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});

const vars = { ...wranglerVars(), ...config.vars };

const scenarios = allScenarios.filter((s) =>
  config.only.length ? config.only.includes(s.name) : !config.edge || s.edge,
);
const YARDSTICKS = ["reference", "seed", "minimal"];
/** The targets a scenario runs on at a concurrency level: the product, and each yardstick that implements it there. */
const namesAt = (s, connections) =>
  ["product", ...YARDSTICKS.filter((y) => s[y] && (y === "reference" || config.yardstickConnections.includes(connections)))];
const levelsOf = (s) => (process.env.BENCH_CONNECTIONS ? config.connections : (s.connections ?? config.connections));
const roundsAt = (s, c) => (namesAt(s, c).length > 1 ? config.rounds : config.soloRounds);
const plannedRuns = scenarios.reduce((n, s) => n + levelsOf(s).reduce((m, c) => m + roundsAt(s, c) * namesAt(s, c).length, 0), 0);
const edgeNote = config.edge ? ` edge mode: D1 calls +${config.edgeD1Ms} ms, KV reads +${config.edgeKvMs} ms;` : "";
log(
  `${scenarios.length} scenarios,${edgeNote} connections ${config.connections.join("/")}, ${config.rounds} rounds, ${config.duration}s per run:` +
    ` at most ${plannedRuns} runs ≈ ${Math.round(plannedRuns * (config.duration + 0.4))}s of load`,
);

// ---- size and startup
const reference = await jsWorkerModules(yardstickFiles.reference);
log("sizes and V8 compile time");
const sizes = await measureSizes(reference.modules[0].contents);
log(`cold starts (${config.startups} each, alternating)`);
const startup = config.startups > 0 ? await measureColdStarts(config.startups) : null;

// ---- the targets, each in its own workerd, behind the counting wrapper
const edge = config.edge ? { d1Ms: config.edgeD1Ms, kvMs: config.edgeKvMs } : null;
const wanted = ["product", "reference", ...["seed", "minimal"].filter((y) => scenarios.some((s) => s[y]))];
log(`starting ${wanted.join(", ")}`);
const byName = {};
for (const name of wanted) {
  const modules = name === "product" ? productModules() : await jsWorkerModules(yardstickFiles[name]);
  const target = await startTarget({ name, modules, vars, edge });
  targets.push(target);
  byName[name] = target;
}
const { product, reference: ref } = byName;
if (targets.some((t) => !t.pid)) log("warning: workerd process not found: CPU per request will be missing");

// Every ticket number a 2xx create answered, per target, with how often it was answered.
const answered = Object.fromEntries(wanted.map((n) => [n, new Map()]));
const onTicket = (target, number) => answered[target].set(number, (answered[target].get(number) ?? 0) + 1);
const unobserved = Object.fromEntries(wanted.map((n) => [n, 0])); // create requests sent but not answered (end of run)

log("parity: the same requests to both");
const parity = await checkParity(product, ref, onTicket);
log(`parity: ${parity.matched}/${parity.total} identical`);
for (const m of parity.mismatches) log(`  differs: ${m.name}: ${m.diff.join("; ")}`);

// ---- load
const runs = [];
const loops = [];
const skipped = [];
let truncated = false;
const fits = () => elapsed() + config.duration + 2 < config.deadlineSeconds;

/** A request outside the load (setup, probe); a 201 carrying a ticket number is tracked. */
async function call(target, p, init = {}) {
  const answer = await target.call(p, init);
  const replayed = answer.headers.get("Idempotent-Replayed") === "true";
  const number = replayed ? undefined : createdTicketNumber(answer.status, answer.body);
  if (number) onTicket(target.name, number);
  return answer;
}

for (const scenario of scenarios) {
  const active = [];
  for (const target of targets.filter((t) => t === product || scenario[t.name])) {
    const api = setupApi(target, (p, init) => call(target, p, init));
    let prepared;
    try {
      prepared = (await scenario.setup?.(api)) ?? {};
    } catch (e) {
      skipped.push({ scenario: scenario.name, target: target.name, reason: `setup failed: ${e.message}` });
      continue;
    }
    const req = requestFor(scenario, prepared, target.name);
    const probe = await call(target, req.path, { method: req.method, headers: req.headers, body: req.body });
    if (probe.status === 404) {
      // A known path answers a CORS preflight; an unknown one is 404 to every method.
      const preflight = await target.fetch(req.path, { method: "OPTIONS", headers: { Origin: "https://bench.example" } });
      await preflight.arrayBuffer();
      const reason =
        preflight.status === 404
          ? `${req.method} ${req.path}: 404 at the probe (route not in this build)`
          : `${req.method} ${req.path}: the route exists but the probe got 404 ${probe.body?.code ?? ""}` +
            ` (${String(probe.body?.message ?? "").slice(0, 80)}): the scenario's setup or vars need updating`;
      skipped.push({ scenario: scenario.name, target: target.name, reason });
      continue;
    }
    const probeNote = probe.status >= 300 ? `probe answered ${probe.status} ${probe.body?.code ?? ""}`.trim() : null;
    active.push({ target, prepared, probeNote });
  }
  if (!active.some((a) => a.target === product)) {
    log(`${scenario.name}: skipped (${skipped.filter((s) => s.scenario === scenario.name).map((s) => s.reason).join("; ")})`);
    continue;
  }
  for (const a of active) if (a.probeNote) log(`${scenario.name} on ${a.target.name}: ${a.probeNote} (running anyway)`);

  const one = async (a, connections, measure, duration) => {
    const run = await loadRun({
      target: a.target,
      scenario,
      prepared: a.prepared,
      connections,
      duration,
      measure,
      onTicket: (n) => onTicket(a.target.name, n),
    });
    if (scenario.creates) unobserved[a.target.name] += Math.max(0, run.sent - run.responses);
    return run;
  };

  // The in-isolate loop: the worker's own CPU per request, product and reference
  // alternating (the other yardsticks do other work: the load compares them).
  const looped = active.filter((a) => a.target === product || a.target === ref);
  const loopFits = () => elapsed() + looped.length * config.loopSeconds * 1.5 + 2 < config.deadlineSeconds;
  if (config.loopRounds > 0 && scenario.loop !== false && loopFits()) {
    const tracked = (run) => {
      const { status, body } = run.recorded;
      try {
        const number = createdTicketNumber(status, body);
        if (number) onTicket(run.target, number); // the recorded request wrote a real ticket
      } catch {}
      return run;
    };
    try {
      await alternatingLoops(looped, scenario, {
        rounds: config.loopRounds,
        seconds: config.loopSeconds,
        fits: loopFits,
        onRun: (run, a, round) => {
          tracked(run);
          if (round === 0) return;
          const { body, ...recorded } = run.recorded;
          loops.push({ ...run, recorded, round });
          log(
            `${scenario.name.padEnd(14)} loop   round ${round} ${a.target.name.padEnd(9)} ${run.cpuUsPerRequest?.toFixed(1).padStart(7)} µs/req` +
              `  (${run.count} requests, ${JSON.stringify(run.statuses)}, ${run.recorded.calls.length} binding calls replayed)`,
          );
        },
      });
    } catch (e) {
      skipped.push({ scenario: `${scenario.name} (loop)`, target: "both", reason: e.message });
      log(`${scenario.name}: loop failed: ${e.message}`);
    }
  }

  if (config.warmup > 0 && fits() && config.load) for (const a of active) await one(a, 8, false, config.warmup);
  for (const connections of config.load ? levelsOf(scenario) : []) {
    const here = active.filter((a) => namesAt(scenario, connections).includes(a.target.name));
    const rounds = here.length > 1 ? config.rounds : config.soloRounds;
    for (let round = 1; round <= rounds; round++) {
      // Each round runs every target once; the order rotates so none always goes first.
      const shift = (round - 1) % here.length;
      for (const a of [...here.slice(shift), ...here.slice(0, shift)]) {
        if (!fits()) {
          truncated = true;
          break;
        }
        const run = await one(a, connections, true, config.duration);
        runs.push({ ...run, round, probeNote: a.probeNote });
        log(
          `${scenario.name.padEnd(14)} c=${String(connections).padStart(2)} round ${round} ${a.target.name.padEnd(9)}` +
            ` ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.latencyMs.p50?.toFixed(2)} ms  non-2xx ${run.non2xx}` +
            `  D1 ${run.d1PerRequest?.toFixed(2)}/req  KV ${run.kvPerRequest?.toFixed(2)}/req  cpu ${run.cpuMsPerRequest?.toFixed(2) ?? "?"} ms/req`,
        );
      }
    }
  }
}
if (truncated) log(`deadline (${config.deadlineSeconds}s) reached: some runs were left out`);

// ---- integrity: every 2xx create is in D1 exactly once, nothing else was written.
// The product and the reference also write one `created` event per ticket and number
// gap-free from the year's counter; the minimal create numbers from the counter too
// (without events); the seed-style create numbers from the row's id (neither).
const CHECKS = {
  product: { events: true, counter: true },
  reference: { events: true, counter: true },
  minimal: { events: false, counter: true },
  seed: { events: false, counter: false },
};
async function integrity(target) {
  const rules = CHECKS[target.name];
  const rows = (await target.db.prepare("SELECT ticket_number FROM support_tickets").all()).results.map((r) => r.ticket_number);
  const events = (await target.db.prepare("SELECT COUNT(*) AS n FROM ticket_events WHERE kind = 'created'").first()).n;
  const counters = (await target.db.prepare("SELECT year, last_seq FROM ticket_counters").all()).results;
  // The outbox rows the creates wrote, by status (none before the outbox existed).
  let outbox = null;
  try {
    const byStatus = (await target.db.prepare("SELECT status, COUNT(*) AS n FROM notifications GROUP BY status ORDER BY status").all()).results;
    outbox = Object.fromEntries(byStatus.map((r) => [r.status, r.n]));
  } catch {}
  const inDb = new Set(rows);
  const mine = answered[target.name];
  const missing = [...mine.keys()].filter((n) => !inDb.has(n));
  const answeredTwice = [...mine.entries()].filter(([, c]) => c > 1).map(([n]) => n);
  const unexpected = rows.filter((n) => !mine.has(n));
  const perYear = {};
  for (const n of rows) {
    const [, year, seq] = n.match(/^TKT-(\d{4})-(\d+)$/) ?? [];
    (perYear[year] ??= []).push(Number(seq));
  }
  const gaps =
    rules.counter &&
    counters.some(({ year, last_seq }) => {
      const seqs = (perYear[year] ?? []).sort((a, b) => a - b);
      return seqs.length !== last_seq || seqs.some((s, i) => s !== i + 1);
    });
  const eventsOk = !rules.events || events === rows.length;
  // Tickets the parity check wrote straight into D1 (its CRM cases' 2020 tickets) were
  // never created through the API: no outbox rows of theirs to expect.
  const seeded = rows.filter((n) => n.startsWith("TKT-2020-")).length;
  const ok = missing.length === 0 && answeredTwice.length === 0 && unexpected.length <= unobserved[target.name] && eventsOk && !gaps;
  return {
    target: target.name,
    rules,
    answered: mine.size,
    rows: rows.length,
    seeded,
    missing: missing.length,
    answeredTwice: answeredTwice.length,
    unexpected: unexpected.length,
    unobserved: unobserved[target.name],
    events,
    counters,
    outbox,
    gapFree: rules.counter ? !gaps : null,
    ok,
    examples: { missing: missing.slice(0, 5), answeredTwice: answeredTwice.slice(0, 5), unexpected: unexpected.slice(0, 5) },
  };
}
log("integrity check");
const checks = [];
for (const t of targets) checks.push(await integrity(t));

const finalCounters = Object.fromEntries(await Promise.all(targets.map(async (t) => [t.name, await t.counters()])));
// What other processes took from the machine meanwhile (a build, another test run): the
// machine's busy time minus this process's and its workers' (cold-start workers, already
// gone, count as others: a slight overestimate). Noise in req/s follows it.
const busy = busyAtStart != null ? machineBusyMs() - busyAtStart : null;
const own = (({ user, system }) => (user + system) / 1000)(process.cpuUsage()) + targets.reduce((n, t) => n + (t.cpuMs() ?? 0), 0);
const othersCpuPercent = busy != null ? Math.max(0, ((busy - own) / (elapsed() * 1000 * os.cpus().length)) * 100) : null;
await Promise.allSettled(targets.map((t) => t.dispose()));
targets.length = 0;

// ---- report
const pkg = (...names) => {
  for (const name of names) {
    try {
      return JSON.parse(readFileSync(path.join(root, "node_modules", name, "package.json"), "utf8")).version;
    } catch {}
  }
  return "?";
};
const result = {
  version: 1,
  date: new Date().toISOString(),
  revision: revision(),
  project: projectRoot === root ? "." : projectRoot,
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    node: process.version,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: os.loadavg()[0],
    othersCpuPercent,
  },
  tools: { miniflare: pkg("miniflare"), workerd: pkg("miniflare/node_modules/workerd", "workerd"), autocannon: pkg("autocannon"), hono: pkg("hono") },
  mode: config.edge ? "edge" : "loopback",
  edge: config.edge ? { d1Ms: config.edgeD1Ms, kvMs: config.edgeKvMs } : null,
  settings: {
    connections: config.connections,
    yardstickConnections: config.yardstickConnections,
    duration: config.duration,
    rounds: config.rounds,
    soloRounds: config.soloRounds,
    warmup: config.warmup,
    loopSeconds: config.loopSeconds,
    loopRounds: config.loopRounds,
    load: config.load,
    vars: config.vars,
  },
  elapsedSeconds: null,
  truncated,
  // Which yardstick ran: compare.mjs warns when two runs used different references.
  referenceSha256: createHash("sha256").update(reference.modules[0].contents).digest("hex").slice(0, 16),
  yardsticks: wanted.filter((n) => n !== "product"),
  sizes,
  startup,
  parity,
  skipped,
  summary: summarize(runs),
  yardstickSummary: summarizeYardsticks(runs),
  loopSummary: summarizeLoops(loops),
  integrity: checks,
  outboundBlocked: { count: outboundBlocked.count, origins: [...outboundBlocked.urls] },
  counters: finalCounters,
  runs,
  loops,
};
result.elapsedSeconds = Math.round(elapsed());

const outDir = path.resolve(root, config.outDir);
mkdirSync(outDir, { recursive: true });
const stamp = result.date.replace(/[:.]/g, "-").slice(0, 19) + (config.edge ? "-edge" : "");
const latest = config.edge ? "latest-edge" : "latest";
const md = markdown(result);
writeFileSync(path.join(outDir, `${latest}.json`), JSON.stringify(result, null, 2) + "\n");
writeFileSync(path.join(outDir, `run-${stamp}.json`), JSON.stringify(result, null, 2) + "\n");
writeFileSync(path.join(outDir, `${latest}.md`), md);
console.log(md);
log(`wrote ${path.relative(root, outDir)}/${latest}.md, ${latest}.json and run-${stamp}.json`);
const failed = checks.some((c) => !c.ok);
if (failed) log("INTEGRITY CHECK FAILED: see the report");
// The yardstick measures something only while it does the product's work.
if (parity.mismatches.length) log(`PARITY CHECK FAILED: ${parity.mismatches.length} of ${parity.total} differ (see the report)`);
await shutdown(failed || parity.mismatches.length ? 1 : 0);
