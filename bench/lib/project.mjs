// Facts about the project the harness needs: where it is, its compatibility date and
// its migrations. The same logic as tests/helpers.mjs, kept here so the bench does not
// break when the test helpers change shape.
import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export const compatibilityDate = readFileSync(path.join(root, "wrangler.toml"), "utf8").match(
  /^compatibility_date = "([^"]+)"/m,
)[1];

/** The migration files' statements, in order (comments removed, split on `;`). */
export function migrationStatements() {
  const dir = path.join(root, "migrations");
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
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "migrations", "Cargo.toml", "Cargo.lock"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return "unknown";
  }
}
