// Facts about the project the harness needs: where it is, its compatibility date and
// its migrations. The same logic as tests/helpers.mjs, kept here so the bench does not
// break when the test helpers change shape.
import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

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

/** The migration files' statements, in order (comments removed, split on `;`). */
export function migrationStatements() {
  const dir = path.join(projectRoot, "migrations");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) =>
      readFileSync(path.join(dir, f), "utf8")
        .replace(/--[^\n]*/g, "")
        .split(/;\s*(?:\n|$)/)
        .map((s) => s.trim())
        .filter(Boolean),
    );
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
