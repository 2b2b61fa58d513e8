#!/usr/bin/env node
// Stamps build/ with the version `GET /api/health` reports: the first line of
// build/index.js becomes `globalThis.HELPDESK_BUILD = {commit, built_at}` (run before
// the wasm starts: imports are hoisted, the wasm is instantiated in the module body),
// and build/version.json holds the same for people and scripts. Inline rather than an
// imported module: a bundler may drop a bare `import "./version.js"` it deems free of
// side effects. Run by `make build` after scripts/build-worker.mjs; nothing Rust is
// recompiled when only the stamp changes.
//
// commit: the short HEAD commit, with `-dirty` when src/, Cargo.toml or Cargo.lock
// differ from it (what the bundle is built from); BUILD_COMMIT overrides it (a build
// from a tarball without .git); `unknown` when neither is known.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const buildDir = path.join(root, process.argv[2] ?? "build");

const git = (...args) => {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
};

function commit() {
  if (process.env.BUILD_COMMIT) return process.env.BUILD_COMMIT;
  const head = git("rev-parse", "--short=12", "HEAD");
  if (!head) return "unknown";
  const changes = git("status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock");
  return changes ? `${head}-dirty` : head;
}

const version = { commit: commit(), built_at: new Date().toISOString() };
writeFileSync(path.join(buildDir, "version.json"), JSON.stringify(version, null, 2) + "\n");

const MARK = "// stamped by scripts/stamp-version.mjs";
const indexPath = path.join(buildDir, "index.js");
let index = readFileSync(indexPath, "utf8");
if (index.startsWith("globalThis.HELPDESK_BUILD")) index = index.slice(index.indexOf("\n") + 1);
writeFileSync(indexPath, `globalThis.HELPDESK_BUILD = Object.freeze(${JSON.stringify(version)}); ${MARK}\n` + index);
console.log(`build version: ${version.commit} (${version.built_at})`);
