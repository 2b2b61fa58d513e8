// One load run: autocannon against one target for one scenario at one concurrency,
// with the binding counters and the workerd process's CPU time read around it.
import { createdTicketNumber } from "../scenarios.mjs";
import autocannon from "autocannon";
import { percentile } from "./stats.mjs";

let sequence = 0; // unique per request across the whole bench (emails etc.)

/** Resolves a scenario field that may be a function of { state, seq, target }. */
const resolve = (v, args) => (typeof v === "function" ? v(args) : v);

/** `n` bytes, made once: every upload of a size sends the same buffer. */
const buffers = new Map();
export function bytesOfSize(n) {
  if (!buffers.has(n)) buffers.set(n, Buffer.alloc(n, 0x5a));
  return buffers.get(n);
}

/**
 * The request a scenario makes for one sequence number. A scenario with `bodyBytes`
 * (a file upload) sends that many bytes; the request says so in `bodySize`, which the
 * in-isolate loop uses instead of carrying the bytes.
 */
export function requestFor(scenario, prepared, target) {
  const args = { state: prepared.state, seq: ++sequence, target };
  const request = {
    method: scenario.method,
    path: resolve(scenario.path, args),
    headers: { ...(prepared.headers ?? {}), ...(resolve(scenario.headers, args) ?? {}) },
    body: scenario.body ? scenario.body(args) : undefined,
  };
  if (scenario.bodyBytes) Object.assign(request, { body: bytesOfSize(scenario.bodyBytes), bodySize: scenario.bodyBytes });
  return request;
}

/**
 * Runs autocannon; answers the run's numbers. `onTicket(number)` is called for every
 * ticket number a 2xx answer of a `creates` scenario carries.
 */
export async function loadRun({ target, scenario, prepared, connections, duration, onTicket, measure = true }) {
  const latencies = [];
  const statuses = {};
  let throttled = 0;
  const before = measure ? await target.counters() : null;
  const cpuBefore = target.cpuMs();
  const clientBefore = process.cpuUsage();

  const instance = autocannon({
    url: target.url,
    connections,
    duration,
    // autocannon checks whether the run is over once per sample interval (default 1 s, so a
    // 1.5 s run would last 2 s): check every 100 ms so runs last what they are asked to.
    sampleInt: 100,
    timeout: 10,
    requests: [
      {
        setupRequest: (req) => Object.assign(req, requestFor(scenario, prepared, target.name)),
        onResponse: (status, body, _context, headers) => {
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 429) throttled++;
          // A replayed idempotent create answers an existing ticket again: not a new one.
          const replayed = String(headers?.["idempotent-replayed"] ?? headers?.["Idempotent-Replayed"]) === "true";
          if (scenario.creates && !replayed) {
            const number = createdTicketNumber(status, body);
            if (number) onTicket(number);
          }
        },
      },
    ],
  });
  instance.on("response", (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  const result = await instance;
  // Requests autocannon abandoned at the end still run to completion in the worker, and
  // ctx.waitUntil work runs after responses: let both finish so their round trips and
  // CPU land in this run, not the next.
  let after = null;
  for (let waited = 0; waited < 10_000; waited += 50) {
    after = await target.counters();
    if (after.inFlight === 0 && !after.deferred) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  const cpuAfter = target.cpuMs();
  const client = process.cpuUsage(clientBefore);
  const responses = latencies.length;
  // Per request the worker handled (the wrapper counts them; a request still in flight
  // when autocannon stops is handled but never answered), else per response.
  const handled = measure ? after.requests - before.requests : responses;
  const per = (n) => (handled ? n / handled : null);
  const ok = Object.entries(statuses).reduce((n, [s, c]) => (s >= 200 && s < 300 ? n + c : n), 0);
  latencies.sort((a, b) => a - b);

  return {
    target: target.name,
    scenario: scenario.name,
    connections,
    duration: result.duration,
    responses,
    sent: result.requests.sent ?? responses,
    rps: responses / result.duration,
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? null,
      mean: responses ? latencies.reduce((a, b) => a + b, 0) / responses : null,
    },
    ok,
    non2xx: responses - ok,
    throttled,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    statuses,
    // Round trips counted by the wrapper: the counter delta over this run per request.
    // (The harness sends nothing else during a run; /__bench/counters is not counted.)
    d1PerRequest: measure ? per(after.d1.roundTrips - before.d1.roundTrips) : null,
    kvPerRequest: measure ? per(after.kv.roundTrips - before.kv.roundTrips) : null,
    r2PerRequest: measure && after.r2 ? per(after.r2.roundTrips - before.r2.roundTrips) : null,
    d1StatementsPerRequest: measure
      ? per(
          after.d1.first + after.d1.run + after.d1.all + after.d1.raw + after.d1.batchStatements -
            (before.d1.first + before.d1.run + before.d1.all + before.d1.raw + before.d1.batchStatements),
        )
      : null,
    workerRequests: handled,
    waitUntilPerRequest: measure && after.waitUntil != null ? per(after.waitUntil - (before.waitUntil ?? 0)) : null,
    // workerd's whole process (runtime, HTTP, the worker, D1's SQLite) per request.
    cpuMsPerRequest: cpuBefore != null && cpuAfter != null && handled ? (cpuAfter - cpuBefore) / handled : null,
    workerdCpuPercent: cpuBefore != null && cpuAfter != null ? ((cpuAfter - cpuBefore) / 10 / result.duration) : null,
    clientCpuPercent: (client.user + client.system) / 10_000 / result.duration,
  };
}
