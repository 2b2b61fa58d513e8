// Size and startup of the built worker.
//   size: build/index_bg.wasm and build/index.js raw and gzipped (zlib level 9), and the
//     reference bundle for comparison;
//   V8 compile: WebAssembly.compile of index_bg.wasm in this Node (V8, as in workerd),
//     median of 5; instantiation cannot be timed outside workerd (the glue imports
//     cloudflare:workers and the wasm imports JS tags of the runtime);
//   cold start: a fresh Miniflare (new workerd process) until its first response, for
//     the product, the reference and a trivial JS worker, alternating, median of N; the
//     product's startup cost is its median minus the trivial worker's. This includes
//     parsing the glue, compiling and instantiating the wasm, and the first request.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import { root } from "./project.mjs";
import { coldStart, productModules, referenceModules, trivialModules } from "./target.mjs";
import { median } from "./stats.mjs";

const sizes = (buf) => ({ raw: buf.length, gzip: gzipSync(buf, { level: 9 }).length });

export async function measureSizes(referenceBundle) {
  const wasm = readFileSync(path.join(root, "build/index_bg.wasm"));
  const glue = readFileSync(path.join(root, "build/index.js"));
  const compile = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await WebAssembly.compile(wasm);
    compile.push(performance.now() - t);
  }
  return {
    wasm: sizes(wasm),
    glue: sizes(glue),
    reference: referenceBundle ? sizes(Buffer.from(referenceBundle)) : null,
    nodeCompileMs: median(compile),
  };
}

export async function measureColdStarts(times) {
  const kinds = {
    trivial: trivialModules(),
    product: productModules(),
    reference: await referenceModules(),
  };
  const samples = { trivial: [], product: [], reference: [] };
  for (let i = 0; i < times; i++) {
    for (const [name, modules] of Object.entries(kinds)) samples[name].push(await coldStart(modules));
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
