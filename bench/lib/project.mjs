// Facts about the project the harness needs: where it is, its compatibility date and
// its migrations. The migrations are read by the integration tests' own helper
// (tests/helpers.mjs `migrationStatements`), so the bench and the tests always load the
// schema the same way.
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as helpers from "../../tests/helpers.mjs";

/** This repository: the bench's own code, node_modules, results. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The project under test: its build/, migrations/ and wrangler.toml. This repository
 * unless BENCH_ROOT names another copy (e.g. `git archive` of an older commit, built
 * there), so two builds can be measured with the same harness.
 */
export const projectRoot = path.resolve(process.env.BENCH_ROOT ?? root);
export const buildDir = path.join(projectRoot, "build");

export const compatibilityDate = readFileSync(path.join(projectRoot, "wrangler.toml"), "utf8").match(
  /^compatibility_date = "([^"]+)"/m,
)[1];

/**
 * The migration files' statements, in order, as the tests read them: this repository's
 * tests/helpers.mjs, or with BENCH_ROOT the other copy's own helper (its migrations
 * directory). That helper imports miniflare, so the copy must resolve node_modules:
 * `ln -s "$PWD/node_modules" /tmp/old/node_modules`.
 */
export async function migrationStatements() {
  if (projectRoot === root) return helpers.migrationStatements();
  const other = pathToFileURL(path.join(projectRoot, "tests/helpers.mjs")).href;
  try {
    return (await import(other)).migrationStatements();
  } catch (e) {
    throw new Error(
      `BENCH_ROOT: cannot read migrations through ${other} (${e.code ?? e.message}); ` +
        `link node_modules into the copy: ln -s "${path.join(root, "node_modules")}" "${path.join(projectRoot, "node_modules")}"`,
    );
  }
}

/** The commit being measured, with `+dirty` when the work tree differs from it. */
export function revision() {
  if (process.env.BENCH_REVISION) return process.env.BENCH_REVISION;
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: projectRoot, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "migrations", "Cargo.toml", "Cargo.lock"], {
      cwd: projectRoot,
      encoding: "utf8",
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return "unknown";
  }
}

/** wrangler.toml [vars], so the bench runs what deploys (bench/config.mjs vars go on top). */
export function wranglerVars() {
  const toml = readFileSync(path.join(projectRoot, "wrangler.toml"), "utf8");
  const section = toml.split(/^\[vars\]\s*$/m)[1]?.split(/^\[/m)[0] ?? "";
  const vars = {};
  for (const m of section.matchAll(/^([A-Z0-9_]+)\s*=\s*"((?:[^"\\]|\\.)*)"/gim)) vars[m[1]] = m[2];
  return vars;
}
