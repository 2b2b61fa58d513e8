#!/usr/bin/env node
// Stamps build/ with the version `GET /api/health` reports: writes build/version.js,
// which sets globalThis.HELPDESK_BUILD = {commit, built_at}, and makes build/index.js
// import it first (so it is set before the wasm starts). Run by `make build` after
// worker-build; nothing Rust is recompiled when only the stamp changes.
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
writeFileSync(
  path.join(buildDir, "version.js"),
  `// Written by scripts/stamp-version.mjs at \`make build\`: which build this is.\n` +
    `globalThis.HELPDESK_BUILD = Object.freeze(${JSON.stringify(version)});\n`,
);

const IMPORT = 'import "./version.js";\n';
const indexPath = path.join(buildDir, "index.js");
const index = readFileSync(indexPath, "utf8");
if (!index.startsWith(IMPORT)) writeFileSync(indexPath, IMPORT + index);
console.log(`build version: ${version.commit} (${version.built_at})`);
