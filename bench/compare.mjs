#!/usr/bin/env node
// Compares two `make bench` results (before -> after a change) as ratios:
//   node bench/compare.mjs bench/results/before.json bench/results/latest.json
// Prints a markdown table. Two views of throughput:
//   after/before req/s     raw, across two separate runs: carries the 15-25% run-to-run noise;
//   after/before vs ref    the change in each run's own product/reference median ratio: the
//                          reference ran in the same rounds, so machine drift largely cancels.
//                          Trust this one; treat differences under ~10% as noise.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fmt, fmtBytes } from "./lib/stats.mjs";

const [aPath, bPath] = process.argv.slice(2);
if (!aPath || !bPath) {
  console.error("usage: node bench/compare.mjs BEFORE.json AFTER.json");
  process.exit(2);
}
const load = (p) => JSON.parse(readFileSync(p, "utf8"));
const a = load(aPath);
const b = load(bPath);

const ratio = (x, y) => (x != null && y != null && x !== 0 ? y / x : null);
const r = (v) => (v == null || !Number.isFinite(v) ? "—" : `${v.toFixed(2)}×`);
const arrow = (x, y, d = 2) => `${fmt(x, d)} → ${fmt(y, d)}`;
// Mark changes beyond the noise band, in the direction that is better for the metric.
const mark = (v, higherIsBetter, band = 0.1) => {
  if (v == null || !Number.isFinite(v)) return "";
  if (v > 1 + band) return higherIsBetter ? " ▲" : " ▼";
  if (v < 1 - band) return higherIsBetter ? " ▼" : " ▲";
  return "";
};

const out = [];
const w = (l = "") => out.push(l);
w(`# Benchmark comparison`);
w();
w(`before: \`${path.basename(aPath)}\` (${a.date}, revision \`${a.revision}\`)  `);
w(`after: \`${path.basename(bPath)}\` (${b.date}, revision \`${b.revision}\`)`);
if (a.referenceSha256 !== b.referenceSha256) {
  w(
    "**The reference worker differs between the two runs** (bench/reference changed): the 'vs ref' columns " +
      "compare against different yardsticks; read the raw columns and CPU per request instead.",
  );
  w();
}
w("| scenario | conns | req/s before → after | after/before req/s | product/ref before → after | **after/before vs ref** | p50 ms | p99 ms | workerd CPU ms/req | CPU/req vs ref after/before | D1 rt/req | KV rt/req |");
w("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
const key = (s) => `${s.scenario}\u0000${s.connections}`;
const before = new Map(a.summary.map((s) => [key(s), s]));
const seen = new Set();
for (const sb of b.summary) {
  const sa = before.get(key(sb));
  seen.add(key(sb));
  if (!sa) {
    w(`| ${sb.scenario} | ${sb.connections} | new: ${fmt(sb.product?.rps, 0)} | | | | | | | | | |`);
    continue;
  }
  const pa = sa.product;
  const pb = sb.product;
  const raw = ratio(pa?.rps, pb?.rps);
  const norm = ratio(sa.medianRatio, sb.medianRatio);
  const normCpu = ratio(sa.medianCpuRatio, sb.medianCpuRatio);
  w(
    `| ${sb.scenario} | ${sb.connections} | ${arrow(pa?.rps, pb?.rps, 0)} | ${r(raw)}${mark(raw, true, 0.25)} | ` +
      `${r(sa.medianRatio)} → ${r(sb.medianRatio)} | **${r(norm)}**${mark(norm, true)} | ` +
      `${arrow(pa?.p50, pb?.p50)} | ${arrow(pa?.p99, pb?.p99)} | ${arrow(pa?.cpuMsPerRequest, pb?.cpuMsPerRequest)}${mark(ratio(pa?.cpuMsPerRequest, pb?.cpuMsPerRequest), false)} | ` +
      `${r(normCpu)}${mark(normCpu, false)} | ` +
      `${arrow(pa?.d1PerRequest, pb?.d1PerRequest)} | ${arrow(pa?.kvPerRequest, pb?.kvPerRequest)} |`,
  );
}
for (const sa of a.summary) if (!seen.has(key(sa))) w(`| ${sa.scenario} | ${sa.connections} | gone (was ${fmt(sa.product?.rps, 0)}) | | | | | | | | | |`);
w();
w("| size and startup | before | after | after/before |");
w("|---|--:|--:|--:|");
const row = (name, x, y, f, band = 0.02) => w(`| ${name} | ${f(x)} | ${f(y)} | ${r(ratio(x, y))}${mark(ratio(x, y), false, band)} |`);
row("wasm raw", a.sizes.wasm.raw, b.sizes.wasm.raw, fmtBytes);
row("wasm gzip -9", a.sizes.wasm.gzip, b.sizes.wasm.gzip, fmtBytes);
row("JS glue raw", a.sizes.glue.raw, b.sizes.glue.raw, fmtBytes);
const ms = (v) => (v == null ? "—" : `${fmt(v, 1)} ms`);
row("V8 compile (fresh process)", a.sizes.nodeCompileMs, b.sizes.nodeCompileMs, ms, 0.25);
row("V8 glue + instantiate + start", a.sizes.nodeInstantiateMs, b.sizes.nodeInstantiateMs, ms, 0.25);
if (a.startup && b.startup) row("cold start over trivial worker", a.startup.productOverTrivialMs, b.startup.productOverTrivialMs, ms, 0.25);
w();
w(
  "▲ better / ▼ worse beyond the noise band (10% for same-round ratios and CPU, 25% for raw req/s and startup timings, 2% for sizes). " +
    "Raw req/s compares two separate runs; the 'vs ref' column divides out machine drift using the reference worker that ran in the same rounds.",
);
const bad = [a, b].flatMap((x, i) => x.integrity.filter((c) => !c.ok).map((c) => `${i ? "after" : "before"}: ${c.target}`));
if (bad.length) w(`\n**Integrity check failed in: ${bad.join(", ")}.**`);
console.log(out.join("\n"));
