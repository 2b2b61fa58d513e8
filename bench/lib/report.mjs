// Turns the runs into per-(scenario, connections) summaries and the markdown report.
import { median, sum, fmt, fmtRatio, fmtBytes } from "./stats.mjs";

/** One side's numbers over its rounds: medians of per-round values, sums of counts. */
function side(runs) {
  if (!runs.length) return null;
  const mean = (xs) => {
    const v = xs.filter((x) => x != null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    rounds: runs.length,
    rps: median(runs.map((r) => r.rps)),
    rpsPerRound: runs.map((r) => r.rps),
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p95: median(runs.map((r) => r.latencyMs.p95)),
    p99: median(runs.map((r) => r.latencyMs.p99)),
    responses: sum(runs.map((r) => r.responses)),
    non2xx: sum(runs.map((r) => r.non2xx)),
    throttled: sum(runs.map((r) => r.throttled)),
    socketErrors: sum(runs.map((r) => r.socketErrors)),
    statuses: runs.reduce((acc, r) => {
      for (const [s, n] of Object.entries(r.statuses)) acc[s] = (acc[s] ?? 0) + n;
      return acc;
    }, {}),
    d1PerRequest: mean(runs.map((r) => r.d1PerRequest)),
    waitUntilPerRequest: mean(runs.map((r) => r.waitUntilPerRequest)),
    kvPerRequest: mean(runs.map((r) => r.kvPerRequest)),
    r2PerRequest: mean(runs.map((r) => r.r2PerRequest)),
    d1StatementsPerRequest: mean(runs.map((r) => r.d1StatementsPerRequest)),
    cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest)),
    workerdCpuPercent: median(runs.map((r) => r.workerdCpuPercent)),
    clientCpuPercent: median(runs.map((r) => r.clientCpuPercent)),
  };
}

/** Same-round ratios of the product against one yardstick: req/s (product ÷ it) and CPU per request. */
function against(mine, yardstick) {
  const ratios = [];
  const cpuRatios = [];
  for (const p of mine.filter((r) => r.target === "product")) {
    const r = mine.find((x) => x.target === yardstick && x.round === p.round);
    if (r && r.rps > 0) ratios.push(p.rps / r.rps);
    if (r && r.cpuMsPerRequest > 0 && p.cpuMsPerRequest != null) cpuRatios.push(p.cpuMsPerRequest / r.cpuMsPerRequest);
  }
  return { ratios, medianRatio: median(ratios), cpuRatios, medianCpuRatio: median(cpuRatios) };
}

export function summarize(runs) {
  const keys = [...new Set(runs.map((r) => `${r.scenario}\u0000${r.connections}`))];
  return keys.map((key) => {
    const [scenario, c] = key.split("\u0000");
    const mine = runs.filter((r) => r.scenario === scenario && r.connections === Number(c));
    const product = side(mine.filter((r) => r.target === "product"));
    const reference = side(mine.filter((r) => r.target === "reference"));
    // Only same-round ratios mean anything (run-to-run noise is 15-25%).
    return { scenario, connections: Number(c), product, reference, ...against(mine, "reference") };
  });
}

/**
 * Per (scenario, connections) where any yardstick ran: each worker's numbers and the
 * product's same-round ratios against each (the ratio tables of the report).
 */
export function summarizeYardsticks(runs) {
  const keys = [...new Set(runs.filter((r) => r.target !== "product").map((r) => `${r.scenario}\u0000${r.connections}`))];
  return keys.map((key) => {
    const [scenario, c] = key.split("\u0000");
    const mine = runs.filter((r) => r.scenario === scenario && r.connections === Number(c));
    const names = [...new Set(mine.map((r) => r.target))];
    const workers = Object.fromEntries(names.map((n) => [n, side(mine.filter((r) => r.target === n))]));
    const vs = Object.fromEntries(names.filter((n) => n !== "product").map((n) => [n, against(mine, n)]));
    return { scenario, connections: Number(c), workers, vs };
  });
}

/** Per scenario: the loop's CPU µs per request for each target, and same-round ratios. */
export function summarizeLoops(loops = []) {
  return [...new Set(loops.map((l) => l.scenario))].map((scenario) => {
    const mine = loops.filter((l) => l.scenario === scenario);
    const of = (target) => mine.filter((l) => l.target === target);
    const ratios = of("product")
      .map((p) => [p, of("reference").find((r) => r.round === p.round)])
      .filter(([p, r]) => r?.cpuUsPerRequest > 0 && p.cpuUsPerRequest != null)
      .map(([p, r]) => p.cpuUsPerRequest / r.cpuUsPerRequest);
    const side = (runs) =>
      runs.length
        ? {
            cpuUsPerRequest: median(runs.map((l) => l.cpuUsPerRequest)),
            statuses: runs.reduce((acc, l) => {
              for (const [code, n] of Object.entries(l.statuses)) acc[code] = (acc[code] ?? 0) + n;
              return acc;
            }, {}),
            calls: runs[0].recorded.calls,
            mismatched: sum(runs.map((l) => l.mismatched)),
          }
        : null;
    return { scenario, count: mine[0]?.count, product: side(of("product")), reference: side(of("reference")), ratios, medianRatio: median(ratios) };
  });
}

const lat = (s) => (s ? `${fmt(s.p50, 2)} / ${fmt(s.p95, 2)} / ${fmt(s.p99, 2)}` : "—");

const WORKER_NAMES = { product: "product", reference: "reference (same work)", seed: "seed-style", minimal: "minimal create" };

/** The ratio tables: the product against each yardstick, then every worker's own figures. */
function yardstickTables(r, w) {
  const rows = r.yardstickSummary ?? [];
  if (!rows.length) return;
  const names = ["reference", "seed", "minimal"].filter((n) => rows.some((x) => x.vs[n]));
  const ratio = (x, n) => (x.vs[n] ? `**${fmtRatio(x.vs[n].medianRatio)}** (${x.vs[n].ratios.map((v) => v.toFixed(2)).join(", ")})` : "—");
  w(`## The product against its yardsticks${r.mode === "edge" ? " (edge mode)" : ""}`);
  w();
  w(
    "Product req/s ÷ the yardstick's req/s, median of same-round ratios (the per-round ratios in brackets); > 1: the product is faster. " +
      "The reference does the product's work (every guard, event, outbox row, the same SQL); the seed-style worker does what the seed's " +
      "code does (no limits, no events, no idempotency, one awaited statement at a time); the minimal create is the counter and the " +
      "insert in one batch, nothing else.",
  );
  w();
  w(`| scenario | conns | ${names.map((n) => `product ÷ ${WORKER_NAMES[n]}`).join(" | ")} |`);
  w(`|---|--:|${names.map(() => "--:").join("|")}|`);
  for (const x of rows) w(`| ${x.scenario} | ${x.connections} | ${names.map((n) => ratio(x, n)).join(" | ")} |`);
  w();
  w("| scenario | conns | worker | req/s | req/s per connection | p50 / p95 ms | D1 / KV round trips per request | non-2xx |");
  w("|---|--:|---|--:|--:|--:|--:|--:|");
  for (const x of rows) {
    for (const [name, s] of Object.entries(x.workers)) {
      w(
        `| ${x.scenario} | ${x.connections} | ${WORKER_NAMES[name] ?? name} | ${fmt(s.rps, 0)} | ${fmt(s.rps / x.connections, 1)} | ` +
          `${fmt(s.p50, 2)} / ${fmt(s.p95, 2)} | ${fmt(s.d1PerRequest, 2)} / ${fmt(s.kvPerRequest, 2)} | ${fmt(s.non2xx, 0)} |`,
      );
    }
  }
  w();
  w(
    "req/s, req/s per connection and latency percentiles are medians over the rounds. Round trips are counted by the harness's " +
      "wrapper (a batch is one). Per connection: one client waiting for each answer before sending the next, so at 1 connection " +
      "req/s is 1000 ÷ the mean latency in ms.",
  );
  w();
}
const pair = (a, b, digits) => (b === undefined ? fmt(a, digits) : `${fmt(a, digits)} / ${fmt(b, digits)}`);

export function markdown(r) {
  const out = [];
  const w = (line = "") => out.push(line);
  const edge = r.mode === "edge";
  w(edge ? "# helpdesk-worker benchmark: edge mode" : "# helpdesk-worker benchmark");
  w();
  w(
    `${r.date} · revision \`${r.revision}\`${r.project && r.project !== "." ? ` (project at ${r.project})` : ""} · ${r.machine.cpus} cores (${r.machine.model}) · Node ${r.machine.node} · ` +
      `load average ${r.machine.loadAverageAtStart?.toFixed(1) ?? "?"} at start, ${r.machine.loadAverageAtEnd?.toFixed(1) ?? "?"} at the end` +
      `${r.machine.othersCpuPercent != null ? ` · other processes used ${r.machine.othersCpuPercent.toFixed(0)}% of the machine meanwhile` : ""} · Miniflare ${r.tools.miniflare} (workerd ${r.tools.workerd}) · autocannon ${r.tools.autocannon} · reference: Hono ${r.tools.hono}`,
  );
  w();
  w(
    `Each run: ${r.settings.duration} s of autocannon on 127.0.0.1; ${r.settings.rounds} rounds per concurrency level, each running ` +
      `every worker once in an order rotated each round (${r.settings.soloRounds ?? r.settings.rounds} for product-only scenarios); ` +
      `${r.settings.warmup} s warm-up per scenario and target. ` +
      `Product = build/ (Rust, workers-rs, wasm); reference = bench/reference/worker.mjs (Hono, JS), same endpoints, same SQL; ` +
      `seed-style = bench/reference/seed.mjs (the seed's design: one awaited statement at a time); minimal = bench/reference/minimal.mjs ` +
      `(the least a correct create does: counter and insert in one batch). ` +
      `Total ${r.elapsedSeconds} s.${r.truncated ? " **Truncated by the deadline.**" : ""}`,
  );
  w();
  if (edge) {
    w(
      `**Edge mode**: the harness's binding wrapper delays every D1 call that reaches the database by ${r.edge.d1Ms} ms and every KV read ` +
        `by ${r.edge.kvMs} ms (half before the call, half after), for every worker alike: what a deployment sees when D1's primary is a ` +
        "few ms away and KV reads are cold. CPU per request is unchanged by it (the in-isolate loop is not run here: see the loopback report).",
    );
    w();
  }
  yardstickTables(r, w);
  w(`## Throughput and latency: product and reference${r.mode === "edge" ? " (edge mode)" : ""}`);
  w();
  w(
    "| scenario | conns | product req/s | reference req/s | product/reference per round | **median ratio** | " +
      "product p50 / p95 / p99 ms | reference p50 / p95 / p99 ms | non-2xx (p / r) | D1 round trips/req (p / r) | KV round trips/req (p / r) | workerd CPU ms/req (p / r) | CPU/req ratio p/r |",
  );
  w("|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|");
  for (const s of r.summary) {
    const p = s.product;
    const ref = s.reference;
    w(
      `| ${s.scenario} | ${s.connections} | ${fmt(p?.rps, 0)} | ${fmt(ref?.rps, 0)} | ${s.ratios.map((x) => x.toFixed(2)).join(", ") || "—"} | ` +
        `**${fmtRatio(s.medianRatio)}** | ${lat(p)} | ${lat(ref)} | ${ref ? pair(p?.non2xx, ref.non2xx, 0) : fmt(p?.non2xx, 0)} | ` +
        `${ref ? pair(p?.d1PerRequest, ref.d1PerRequest, 2) : fmt(p?.d1PerRequest, 2)} | ${ref ? pair(p?.kvPerRequest, ref.kvPerRequest, 2) : fmt(p?.kvPerRequest, 2)} | ` +
        `${ref ? pair(p?.cpuMsPerRequest, ref.cpuMsPerRequest, 2) : fmt(p?.cpuMsPerRequest, 2)} | ${fmtRatio(s.medianCpuRatio)} |`,
    );
  }
  w();
  w(
    "req/s and latency percentiles are medians over the rounds; non-2xx are summed over them. The ratio is product req/s ÷ " +
      "reference req/s within one round (> 1: the product is faster); the CPU/req ratio likewise (< 1: the product uses less CPU), " +
      "and is the steadier of the two, since workerd's CPU per request varies less with scheduling than req/s. Round trips are counted by the harness's wrapper around " +
      "the D1 and KV bindings (a batch is one). CPU is the workerd process's user+system time per request (runtime, HTTP, " +
      "the worker, and D1's SQLite and Miniflare's R2 simulator, which run in the same process locally: a file's upload " +
      "or download costs there in proportion to its size, the worker's own share is the in-isolate loop's figure below).",
  );
  const deferred = r.summary
    .filter((s) => s.product?.waitUntilPerRequest > 0 || s.reference?.waitUntilPerRequest > 0)
    .map((s) => `${s.scenario} c=${s.connections}: ${fmt(s.product?.waitUntilPerRequest, 2)} / ${fmt(s.reference?.waitUntilPerRequest, 2)}`);
  if (deferred.length) {
    w();
    w(
      "Work deferred with ctx.waitUntil, per request (product / reference), finished before each run's counters were read, " +
        "so its round trips and CPU are in the columns above: " + deferred.join("; ") + ".",
    );
  }
  const r2 = r.summary
    .filter((s) => s.product?.r2PerRequest > 0)
    .map((s) => `${s.scenario} c=${s.connections}: ${fmt(s.product.r2PerRequest, 2)}`);
  if (r2.length) {
    w();
    w("R2 round trips per request (product; counted like D1 and KV): " + r2.join("; ") + ".");
  }
  if (r.outboundBlocked?.count) {
    w();
    w(`Outbound fetches the workers attempted, all answered 503 by the harness: ${r.outboundBlocked.count} (${r.outboundBlocked.origins.join(", ")}).`);
  }
  // The reference is only a yardstick while it does the same work: same round trips.
  const drift = r.summary.filter(
    (s) =>
      s.product && s.reference &&
      (Math.abs((s.product.d1PerRequest ?? 0) - (s.reference.d1PerRequest ?? 0)) > 0.05 ||
        Math.abs((s.product.kvPerRequest ?? 0) - (s.reference.kvPerRequest ?? 0)) > 0.05),
  );
  if (drift.length) {
    w();
    w(
      `**The reference no longer does the product's work** in ${[...new Set(drift.map((s) => s.scenario))].join(", ")} ` +
        "(different D1/KV round trips per request): its ratios compare unequal work; bring bench/reference/worker.mjs up to date.",
    );
  }
  const throttled = r.summary.reduce((n, s) => n + (s.product?.throttled ?? 0) + (s.reference?.throttled ?? 0), 0);
  if (throttled) w(`\n**Warning: ${throttled} answers were 429: raise the rate limits in bench/config.mjs \`vars\`.**`);
  const odd = r.summary.flatMap((s) =>
    [["product", s.product], ["reference", s.reference]]
      .filter(([, x]) => x && Object.keys(x.statuses).some((code) => code < 200 || code >= 300))
      .map(([name, x]) => `${s.scenario} c=${s.connections} ${name}: ${JSON.stringify(x.statuses)}`),
  );
  if (odd.length) {
    w();
    w("Status codes of runs with non-2xx answers: " + odd.join("; "));
  }
  if (r.loopSummary?.length) {
    w();
    w("## The worker's own CPU per request (in-isolate loop)");
    w();
    w("| scenario | requests per run | product µs/req | reference µs/req | product/reference per round | **median ratio** | binding calls replayed (p / r) | statuses (p / r) |");
    w("|---|--:|--:|--:|---|--:|--:|---|");
    const statuses = (x) => (x ? Object.entries(x.statuses).map(([c, n]) => `${c}×${n}`).join(" ") : "—");
    for (const l of r.loopSummary) {
      w(
        `| ${l.scenario} | ${fmt(l.count, 0)} | ${fmt(l.product?.cpuUsPerRequest, 1)} | ${fmt(l.reference?.cpuUsPerRequest, 1)} | ` +
          `${l.ratios.map((x) => x.toFixed(2)).join(", ") || "—"} | **${fmtRatio(l.medianRatio)}** | ` +
          `${l.reference ? pair(l.product?.calls.length, l.reference.calls.length, 0) : fmt(l.product?.calls.length, 0)} | ` +
          `${statuses(l.product)}${l.reference ? ` / ${statuses(l.reference)}` : ""} |`,
      );
    }
    w();
    w(
      "Each run sends one request to the worker that runs the scenario's requests back to back inside the isolate " +
        "(bench/lib/loop.mjs), against a replay of the D1, KV and R2 results its first request got from the real bindings " +
        "(R2: the put answered without reading the body, which R2 reads inside the runtime; the get with a body stream of the " +
        "recorded size, which a file download's loop cancels unread); the " +
        "workerd process's CPU time over the run ÷ the requests. That is the worker's own code and its calls into the runtime " +
        "(Request, Response, Headers, crypto), without the HTTP server, the D1 binding or SQLite: the part two workers sending " +
        "the same statements differ in. One process, no network: far steadier than the load runs. Ratio < 1: the product uses less CPU.",
    );
    const broken = r.loopSummary.filter((l) => l.product?.mismatched || l.reference?.mismatched);
    if (broken.length) w(`\n**Some loop requests made fewer binding calls than recorded** (${broken.map((l) => l.scenario).join(", ")}): their figures are not comparable.`);
  }
  w();
  w("## Size and startup");
  w();
  w("| | product (Rust/wasm) | reference (Hono/JS) | trivial JS worker |");
  w("|---|--:|--:|--:|");
  w(`| wasm raw / gzip -9 | ${fmtBytes(r.sizes.wasm.raw)} / ${fmtBytes(r.sizes.wasm.gzip)} | — | — |`);
  if (r.sizes.wasm.nameSection) w(`| of which the wasm \`name\` section (raw) | ${fmtBytes(r.sizes.wasm.nameSection)} | — | — |`);
  w(
    `| JS raw / gzip -9 | ${fmtBytes(r.sizes.glue.raw)} / ${fmtBytes(r.sizes.glue.gzip)} (glue) | ` +
      `${r.sizes.reference ? `${fmtBytes(r.sizes.reference.raw)} / ${fmtBytes(r.sizes.reference.gzip)} (bundle)` : "—"} | — |`,
  );
  w(`| V8 WebAssembly.compile, fresh Node process (median of 5) | ${fmt(r.sizes.nodeCompileMs, 1)} ms | — | — |`);
  w(`| V8 evaluate build/index.js: glue + instantiate + start (median of 5) | ${fmt(r.sizes.nodeInstantiateMs, 1)} ms | — | — |`);
  if (r.startup) {
    const st = r.startup;
    w(
      `| cold start to first response (median of ${st.product.samples.length}) | ${fmt(st.product.firstResponseMs, 0)} ms | ` +
        `${fmt(st.reference.firstResponseMs, 0)} ms | ${fmt(st.trivial.firstResponseMs, 0)} ms |`,
    );
    w(`| startup cost over the trivial worker | **${fmt(st.productOverTrivialMs, 0)} ms** | ${fmt(st.referenceOverTrivialMs, 0)} ms | 0 |`);
  }
  w();
  w(
    "Cold start = a new Miniflare (new workerd process) from construction to the first complete response of a request that " +
      "touches no binding; the trivial worker's time is the process and Miniflare overhead, so the difference is the worker's own " +
      "startup (parsing the glue, compiling and instantiating the wasm, first request); it is noisy at the ~10 ms level, so the " +
      "V8 rows (bench/lib/instantiate.mjs: the same steps timed inside a fresh Node process, V8 as in workerd) are the precise " +
      "figure. V8 compiles wasm lazily (Liftoff, then tier-up), so compile time is small and part of the cost moves to the first requests." +
      (r.sizes.nodeErrors?.length ? ` V8 timing failed: ${r.sizes.nodeErrors[0]}` : ""),
  );
  w();
  w("## Correctness");
  w();
  w(
    `Parity (the same ${r.parity.total} requests to product and reference, answers and log lines compared, volatile values masked): **${r.parity.matched}/${r.parity.total} identical**` +
      (r.parity.mismatches.length ? `; differing: ${r.parity.mismatches.map((m) => `${m.name} (${m.diff.join("; ")})`).join(", ")}` : "."),
  );
  w();
  w("| target | 2xx creates answered | rows in D1 | missing | answered twice | rows without a seen answer (≤ unanswered at run ends) | created events | outbox rows by status (per ticket) | gap-free numbers | verdict |");
  w("|---|--:|--:|--:|--:|--:|--:|---|---|---|");
  // Per ticket created through the API (not the parity check's seeded ones).
  const created = (c) => c.rows - (c.seeded ?? 0);
  const outboxText = (c) =>
    c.outbox
      ? Object.entries(c.outbox).map(([status, n]) => `${status} ${n} (${fmt(created(c) ? n / created(c) : 0, 2)})`).join(", ") || "none"
      : "—";
  for (const c of r.integrity) {
    w(
      `| ${c.target} | ${c.answered} | ${c.rows} | ${c.missing} | ${c.answeredTwice} | ${c.unexpected} (≤ ${c.unobserved}) | ` +
        `${c.rules && !c.rules.events ? `${c.events} (writes none)` : c.events} | ` +
        `${outboxText(c)} | ${c.gapFree == null ? "— (numbers from ids)" : c.gapFree ? "yes" : "**no**"} | ${c.ok ? "ok" : "**FAILED**"} |`,
    );
  }
  const perTicket = (c) => Object.fromEntries(Object.entries(c.outbox ?? {}).map(([k, n]) => [k, created(c) ? (n / created(c)).toFixed(2) : "0"]));
  const [po, ro] = ["product", "reference"].map((n) => perTicket(r.integrity.find((c) => c.target === n) ?? {}));
  if (JSON.stringify(po) !== JSON.stringify(ro)) {
    w();
    w("**The two wrote different outbox rows per ticket**: the reference's create no longer writes what the product's does.");
  }
  if (r.skipped.length) {
    w();
    w("## Skipped");
    w();
    for (const s of r.skipped) w(`- ${s.scenario} (${s.target}): ${s.reason}`);
  }
  w();
  return out.join("\n");
}
