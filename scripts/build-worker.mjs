#!/usr/bin/env node
// `make build`'s worker half: the Rust crate into build/index_bg.wasm, and
// src/entry.mjs (the worker's entry) with the wasm-bindgen glue into build/index.js.
// It does what worker-build did, with our own entry instead of its generated
// `WorkerEntrypoint` class (see src/entry.mjs for why), and one wasm-opt pass:
//
//   1. cargo build --lib --release --target wasm32-unknown-unknown
//   2. wasm-bindgen --target module, with the same flags worker-build passes for its
//      panic recovery (--experimental-reset-state-function: a fresh instance after a
//      panic; --force-enable-abort-handler: the glue notices the abort);
//   3. wasm-opt -Oz with the wasm features workerd supports (worker-build's list),
//      without the names section (about a tenth of the gzip size, and startup) unless
//      --keep-names (`make bench-profile`, so a profile can name Rust functions);
//   4. esbuild bundles src/entry.mjs, the glue and its snippets into one ES module
//      that imports ./index_bg.wasm (workerd's compiled-module import).
//
// Offline: the CLIs come from WASM_BINDGEN_BIN, WASM_OPT_BIN and ESBUILD_BIN (the
// Makefile sets them to what `make setup` installed), else from PATH.
//
//   node scripts/build-worker.mjs [--keep-names]
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const build = path.join(root, "build");
const work = path.join(build, ".gen");
const keepNames = process.argv.includes("--keep-names");

const WASM_FEATURES = [
  "mutable-globals",
  "sign-ext",
  "nontrapping-float-to-int",
  "bulk-memory",
  "multivalue",
  "reference-types",
  "exception-handling",
].map((f) => `--enable-${f}`);

const run = (bin, args) => execFileSync(bin, args, { cwd: root, stdio: "inherit" });
const tool = (variable, name) => process.env[variable] || name;

const targetDir = process.env.CARGO_TARGET_DIR
  ? path.resolve(root, process.env.CARGO_TARGET_DIR)
  : path.join(root, "target");
run("cargo", ["build", "--lib", "--release", "--target", "wasm32-unknown-unknown"]);

// What earlier builds left (worker-build's worker/ and package.json among them).
for (const stale of ["worker", "package.json", ".tmp", ".gen", "index.js", "index_bg.wasm"]) {
  rmSync(path.join(build, stale), { recursive: true, force: true });
}
mkdirSync(work, { recursive: true });
writeFileSync(path.join(build, ".gitignore"), "*");

run(tool("WASM_BINDGEN_BIN", "wasm-bindgen"), [
  path.join(targetDir, "wasm32-unknown-unknown/release/helpdesk_worker.wasm"),
  "--out-dir", work,
  "--out-name", "index",
  "--target", "module",
  "--no-typescript",
  "--experimental-reset-state-function",
  "--force-enable-abort-handler",
]);

run(tool("WASM_OPT_BIN", "wasm-opt"), [
  path.join(work, "index_bg.wasm"),
  "-o", path.join(build, "index_bg.wasm"),
  ...WASM_FEATURES,
  "-Oz",
  ...(keepNames ? ["--debuginfo"] : ["--strip-debug"]),
  "--strip-producers",
]);

// The glue imports the wasm as a source-phase import; workerd takes a plain default
// import of a .wasm as the compiled module.
const glue = path.join(work, "index.js");
writeFileSync(glue, readFileSync(glue, "utf8").replace(/^import source /m, "import "));
copyFileSync(path.join(root, "src/entry.mjs"), path.join(work, "entry.mjs"));
run(tool("ESBUILD_BIN", "esbuild"), [
  path.join(work, "entry.mjs"),
  "--bundle",
  "--format=esm",
  "--minify",
  "--external:./index_bg.wasm",
  `--outfile=${path.join(build, "index.js")}`,
  "--log-level=warning",
]);
rmSync(work, { recursive: true, force: true });
