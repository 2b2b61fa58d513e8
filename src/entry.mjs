// The worker's entry: the module's default export, in place of worker-build's
// `WorkerEntrypoint` class (constructed per request and wrapped in proxies) and its
// `#[event(fetch)]` glue. `fetch` hands the request to the Rust `fetch` export with the
// promise's resolve and reject; the Rust side settles it with the response it builds
// (src/platform/response.rs), running on its own executor (src/platform/task.rs).
// Bundled into build/index.js by scripts/build-worker.mjs.
import * as wasm from "./index.js";

// After a Rust panic (an abort) the instance is replaced before the next request,
// as worker-build's shim does: the panic hook sets `criticalError`.
const initState = wasm.__worker_init_state();

function reinitializeAfterPanic() {
  if (initState.criticalError) {
    console.log("Reinitializing Wasm application");
    wasm.__wbg_reset_state();
    initState.criticalError = false;
    initState.instanceId++;
  }
}

addEventListener("error", (event) => {
  if (event.error instanceof WebAssembly.RuntimeError) {
    console.error("Critical", event.error);
    initState.criticalError = true;
  }
});

export default {
  fetch(request, env, ctx) {
    reinitializeAfterPanic();
    return new Promise((resolve, reject) => wasm.fetch(request, env, ctx, resolve, reject));
  },
  scheduled(event, env, ctx) {
    reinitializeAfterPanic();
    return wasm.scheduled(event, env, ctx);
  },
};
