// The in-isolate loop (see counting-wrapper.mjs): a scenario's requests run back to
// back inside one request to the worker, against a replay of the D1 and KV results of
// the first, so the workerd process's CPU time over the loop, divided by the requests,
// is the worker's own cost per request, without HTTP, the D1 binding or SQLite. One
// process and no network in between: steadier than the load runs by far, so small
// differences between two workers show.
import { requestFor } from "./load.mjs";

/**
 * Runs `count` requests of `scenario` in `target`'s isolate. Answers the CPU µs per
 * request, the status codes, and the recorded first request (status, body, calls).
 */
export async function loopRun({ target, scenario, prepared, count }) {
  const requests = Array.from({ length: count }, () => {
    const request = requestFor(scenario, prepared, target.name);
    // A file's bytes are made inside the isolate (bodySize), not sent along.
    if (request.bodySize != null) delete request.body;
    return request;
  });
  const cpuBefore = target.cpuMs();
  const res = await target.fetch("/__bench/loop", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      requests,
      discardBodies: scenario.loopDiscardsBody === true,
      recordOnce: scenario.loopRecordsOnce ? scenario.name : undefined,
    }),
  });
  const cpuAfter = target.cpuMs();
  const text = await res.text();
  if (res.status !== 200) throw new Error(`loop answered ${res.status}: ${text.slice(0, 300)}`);
  const result = JSON.parse(text);
  const cpuMs = cpuBefore != null && cpuAfter != null ? cpuAfter - cpuBefore : null;
  return {
    target: target.name,
    scenario: scenario.name,
    count,
    cpuMs,
    cpuUsPerRequest: cpuMs == null ? null : (cpuMs * 1000) / count,
    ...result,
  };
}

/**
 * Loops of one scenario on several targets (`entries`: { target, prepared }): sized once
 * for all (the same requests everywhere), then `rounds` rounds in alternation, the order
 * flipped every other round, while `fits()` holds. `onRun(run, entry, round)` sees every
 * run, the sizing probes as round 0. Answers the requests per run.
 */
export async function alternatingLoops(entries, scenario, { rounds, seconds, onRun, fits = () => true }) {
  const sizes = [];
  for (const entry of entries) {
    const { probes, count } = await loopSize({ target: entry.target, scenario, prepared: entry.prepared }, seconds);
    for (const probe of probes) onRun(probe, entry, 0);
    sizes.push(count);
  }
  const count = Math.min(...sizes);
  for (let round = 1; round <= rounds && fits(); round++) {
    for (const entry of round % 2 ? entries : [...entries].reverse()) {
      onRun(await loopRun({ target: entry.target, scenario, prepared: entry.prepared, count }), entry, round);
    }
  }
  return count;
}

/**
 * How many requests make a loop of about `seconds` of CPU for this scenario: three
 * short runs (the first warms the code up: JIT tiers, wasm tier-up), timed by the
 * fastest (a pause elsewhere only ever makes one slower), and a bound on either side.
 * Answers the runs too (their first requests wrote to D1).
 */
export async function loopSize(args, seconds) {
  const probes = [];
  for (let i = 0; i < 3; i++) probes.push(await loopRun({ ...args, count: 200 }));
  const fastest = Math.min(...probes.map((p) => p.cpuUsPerRequest ?? 1000));
  const perRequestMs = Math.max(fastest, 1) / 1000;
  return { probes, count: Math.round(Math.min(50_000, Math.max(500, (seconds * 1000) / perRequestMs))) };
}
