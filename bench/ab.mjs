#!/usr/bin/env node
// A/B of the worker's own CPU per request between builds, with the in-isolate loop
// (bench/lib/loop.mjs): each target in its own workerd, many short rounds alternating
// (the order flips every other round), and per-round ratios against the first target.
//
//   node bench/ab.mjs <scenario> [--rounds N] [--seconds S] <build dir | ref> ...
//   node bench/ab.mjs create /tmp/before/build build ref
//
// A build dir holds index.js and index_bg.wasm (a copy of build/ before a change, or
// another commit's build); `ref` is the Hono reference. Ratios < 1: less CPU than the
// first. On a shared machine one run of a fraction of a second varies by ±15%: trust
// the median over 10 or more rounds, and differences of a few percent not at all.
import config from "./config.mjs";
import { scenarios, setupApi } from "./scenarios.mjs";
import { productModules, referenceModules, startTarget } from "./lib/target.mjs";
import { wranglerVars } from "./lib/project.mjs";
import { alternatingLoops } from "./lib/loop.mjs";
import { median } from "./lib/stats.mjs";

const args = process.argv.slice(2);
const option = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : Number(args.splice(i, 2)[1]);
};
const rounds = option("--rounds", 12);
const seconds = option("--seconds", 0.8);
const [name, ...dirs] = args;
const scenario = scenarios.find((s) => s.name === name);
if (!scenario || !dirs.length) {
  console.error(`usage: node bench/ab.mjs <${scenarios.map((s) => s.name).join("|")}> [--rounds N] [--seconds S] <dir|ref> ...`);
  process.exit(2);
}

const targets = [];
try {
  for (const dir of dirs) {
    const reference = dir === "ref";
    const target = await startTarget({
      name: reference ? "reference" : "product",
      modules: reference ? await referenceModules() : productModules(dir),
      vars: { ...wranglerVars(), ...config.vars },
    });
    targets.push({ dir, target, prepared: (await scenario.setup?.(setupApi(target))) ?? {} });
  }
  const perRound = targets.map(() => []);
  const count = await alternatingLoops(targets, scenario, {
    rounds,
    seconds,
    onRun: (run, t, round) => round > 0 && perRound[targets.indexOf(t)].push(run.cpuUsPerRequest),
  });
  console.log(`# ${name}: ${rounds} rounds of ${count} requests per target\n`);
  console.log("| target | median µs/req | median ratio to the first (per round) |");
  console.log("|---|--:|--:|");
  targets.forEach((t, i) => {
    const ratios = perRound[i].map((v, r) => v / perRound[0][r]);
    console.log(`| ${t.dir} | ${median(perRound[i]).toFixed(1)} | ${median(ratios).toFixed(2)}× |`);
  });
} finally {
  await Promise.allSettled(targets.map((t) => t.target.dispose()));
}
