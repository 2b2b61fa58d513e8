// Run as its own Node process (a fresh V8 isolate, like a cold Worker): times
//   compile:     WebAssembly.compile(build/index_bg.wasm)
//   instantiate: evaluating build/index.js, i.e. parsing the wasm-bindgen glue,
//                `new WebAssembly.Instance` and `__wbindgen_start` (the module's top level)
// and prints them as JSON. The glue's two imports are stubbed with module hooks:
// `cloudflare:workers` (only WorkerEntrypoint is used) and the .wasm default import
// (the module compiled above), and the global addEventListener. Nothing of the worker
// runs beyond its top level.
import { register } from "node:module";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import path from "node:path";

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === "cloudflare:workers") return { url: "bench:cloudflare-workers", shortCircuit: true };
  if (specifier.endsWith(".wasm")) return { url: "bench:wasm", shortCircuit: true };
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (url === "bench:cloudflare-workers")
    return { format: "module", shortCircuit: true, source: "export class WorkerEntrypoint { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }" };
  if (url === "bench:wasm")
    return { format: "module", shortCircuit: true, source: "export default globalThis.__benchWasmModule;" };
  return next(url, context);
}`;

const buildDir = process.argv[2];
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
const bytes = readFileSync(path.join(buildDir, "index_bg.wasm"));
let t = performance.now();
globalThis.__benchWasmModule = await WebAssembly.compile(bytes);
const compile = performance.now() - t;
globalThis.addEventListener ??= () => {}; // the glue listens for "error" (workerd's global)
t = performance.now();
await import(pathToFileURL(path.join(buildDir, "index.js")).href);
const instantiate = performance.now() - t;
console.log(JSON.stringify({ compileMs: compile, instantiateMs: instantiate }));
