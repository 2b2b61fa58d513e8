// Size and startup of the built worker.
//   size: build/index_bg.wasm and build/index.js raw and gzipped (zlib level 9), and the
//     reference bundle for comparison;
//   V8 compile and instantiate: bench/lib/instantiate.mjs in 5 fresh Node processes
//     (V8, as in workerd): WebAssembly.compile of index_bg.wasm, then evaluating
//     build/index.js (glue parse + new WebAssembly.Instance + __wbindgen_start); medians;
//   cold start: a fresh Miniflare (new workerd process) until its first response, for
//     the product, the reference and a trivial JS worker, alternating, median of N; the
//     product's startup cost is its median minus the trivial worker's. This includes
//     parsing the glue, compiling and instantiating the wasm, and the first request.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { root, buildDir } from "./project.mjs";
import { coldStart, productModules, referenceModules, trivialModules } from "./target.mjs";
import { median } from "./stats.mjs";

const sizes = (buf) => ({ raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length });

export async function measureSizes(referenceBundle) {
  const wasm = readFileSync(path.join(buildDir, "index_bg.wasm"));
  const glue = readFileSync(path.join(buildDir, "index.js"));
  // Each sample in a fresh Node process: a cold isolate, as a new Worker instance gets.
  const samples = [];
  for (let i = 0; i < 5; i++) {
    try {
      const out = execFileSync(process.execPath, [path.join(root, "bench/lib/instantiate.mjs"), buildDir], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 30_000,
      });
      samples.push(JSON.parse(out.trim().split("\n").at(-1)));
    } catch (e) {
      samples.push({ error: String(e.stderr ?? e.message).split("\n").find((l) => /Error/.test(l)) ?? "failed" });
    }
  }
  const ok = samples.filter((s) => !s.error);
  const names = WebAssembly.Module.customSections(new WebAssembly.Module(wasm), "name");
  return {
    wasm: { ...sizes(wasm), nameSection: names.reduce((n, sec) => n + sec.byteLength, 0) },
    glue: sizes(glue),
    reference: referenceBundle ? sizes(Buffer.from(referenceBundle)) : null,
    nodeCompileMs: median(ok.map((s) => s.compileMs)),
    nodeInstantiateMs: median(ok.map((s) => s.instantiateMs)),
    nodeErrors: samples.filter((s) => s.error).map((s) => s.error),
  };
}

export async function measureColdStarts(times) {
  const kinds = {
    trivial: trivialModules(),
    product: productModules(),
    reference: await referenceModules(),
  };
  const samples = { trivial: [], product: [], reference: [] };
  await coldStart(kinds.trivial); // discarded: the first start pays for disk caches and Node's JIT
  const order = Object.keys(kinds);
  for (let i = 0; i < times; i++) {
    // Rotate the order each round so no kind always goes first.
    for (const name of [...order.slice(i % 3), ...order.slice(0, i % 3)]) samples[name].push(await coldStart(kinds[name]));
  }
  const summary = {};
  for (const [name, runs] of Object.entries(samples)) {
    summary[name] = {
      readyMs: median(runs.map((r) => r.readyMs)),
      firstResponseMs: median(runs.map((r) => r.firstResponseMs)),
      samples: runs.map((r) => Math.round(r.firstResponseMs)),
    };
  }
  summary.productOverTrivialMs = summary.product.firstResponseMs - summary.trivial.firstResponseMs;
  summary.referenceOverTrivialMs = summary.reference.firstResponseMs - summary.trivial.firstResponseMs;
  return summary;
}
