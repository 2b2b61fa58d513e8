// ad hoc: alternate in-isolate loops between builds given as dirs (argv), for one scenario.
import config from "./config.mjs";
import { scenarios, seedStaff } from "./scenarios.mjs";
import { productModules, referenceModules, startTarget } from "./lib/target.mjs";
import { wranglerVars } from "./lib/project.mjs";
import { loopRun, loopSize } from "./lib/loop.mjs";
const [scenarioName, rounds, ...dirs] = process.argv.slice(2);
const scenario = scenarios.find((s) => s.name === scenarioName);
const targets = [];
for (const d of dirs) {
  const t = await startTarget({ name: d === "ref" ? "reference" : "product", modules: d === "ref" ? await referenceModules() : productModules(d), vars: { ...wranglerVars(), ...config.vars } });
  const call = async (path, init = {}) => { const res = await t.fetch(path, init); const text = await res.text(); let body = text; try { body = JSON.parse(text); } catch {} return { status: res.status, headers: res.headers, body }; };
  const prepared = (await scenario.setup?.({ call, db: t.db, kv: t.kv, target: t.name, seedStaff: (o) => seedStaff(t.db, o) })) ?? {};
  targets.push({ d, t, prepared });
}
let count = Infinity;
for (const x of targets) count = Math.min(count, (await loopSize({ target: x.t, scenario, prepared: x.prepared }, 2)).count);
const res = Object.fromEntries(dirs.map((d) => [d, []]));
for (let r = 0; r < Number(rounds); r++) for (const x of targets) res[x.d].push((await loopRun({ target: x.t, scenario, prepared: x.prepared, count })).cpuUsPerRequest);
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
for (const d of dirs) console.log(d.padEnd(30), "median", med(res[d]).toFixed(1), "µs/req  all:", res[d].map((x) => x.toFixed(0)).join(" "));
for (const x of targets) await x.t.dispose();
