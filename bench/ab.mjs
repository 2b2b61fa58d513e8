#!/usr/bin/env node
// A/B of the worker's own CPU per request between builds, with the in-isolate loop
// (bench/lib/loop.mjs): each target in its own workerd, many short rounds alternating
// (the order flips every round), and per-round ratios against the first target.
//
//   node bench/ab.mjs <scenario> [--rounds N] [--seconds S] <build dir | ref> ...
//   node bench/ab.mjs create /tmp/before/build build ref
//
// A build dir holds index.js and index_bg.wasm (a copy of build/ before a change, or
// another commit's build); `ref` is the Hono reference. Ratios < 1: less CPU than the
// first. On a shared machine one run of a fraction of a second varies by ±15%: trust
// the median over 10 or more rounds, and differences of a few percent not at all.
import config from "./config.mjs";
import { scenarios, seedStaff } from "./scenarios.mjs";
import { productModules, referenceModules, startTarget } from "./lib/target.mjs";
import { wranglerVars } from "./lib/project.mjs";
import { loopRun, loopSize } from "./lib/loop.mjs";
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
    targets.push({ dir, target });
    const api = { call: target.call, db: target.db, kv: target.kv, target: target.name, seedStaff: (o) => seedStaff(target.db, o) };
    targets.at(-1).prepared = (await scenario.setup?.(api)) ?? {};
  }
  const sizes = [];
  for (const t of targets) sizes.push((await loopSize({ target: t.target, scenario, prepared: t.prepared }, seconds)).count);
  const count = Math.min(...sizes);
  const perRound = targets.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [...targets].reverse() : targets;
    for (const t of order) {
      const run = await loopRun({ target: t.target, scenario, prepared: t.prepared, count });
      perRound[targets.indexOf(t)].push(run.cpuUsPerRequest);
    }
  }
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
