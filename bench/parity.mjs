#!/usr/bin/env node
// The parity check alone (bench/lib/parity.mjs): the product (build/) and the reference
// (bench/reference/worker.mjs) each in its own workerd, the same requests to both, every
// difference printed. Seconds instead of a whole `make bench`: run it after changing an
// endpoint or the reference. Exits non-zero on a mismatch.
//   node bench/parity.mjs [--verbose]
import config from "./config.mjs";
import { wranglerVars } from "./lib/project.mjs";
import { startTarget, productModules, referenceModules } from "./lib/target.mjs";
import { checkParity } from "./lib/parity.mjs";

const vars = { ...wranglerVars(), ...config.vars };
const product = await startTarget({ name: "product", modules: productModules(), vars });
const reference = await startTarget({ name: "reference", modules: await referenceModules(), vars });
let result;
try {
  const verbose = process.argv.includes("--verbose");
  const show = (name, p, r) => {
    console.log(`${name}\n  product   ${p.status} ${JSON.stringify(p.log)}\n  reference ${r.status} ${JSON.stringify(r.log)}`);
  };
  result = await checkParity(product, reference, () => {}, verbose ? show : undefined);
} finally {
  await Promise.allSettled([product.dispose(), reference.dispose()]);
}
console.log(`parity: ${result.matched}/${result.total} identical`);
for (const m of result.mismatches) console.log(`\n${m.name}\n    ${m.diff.join("\n    ")}`);
process.exit(result.mismatches.length ? 1 : 0);
