#!/usr/bin/env node
// `make check-deploy`: everything that can be checked about a deploy without reaching
// Cloudflare (run by .ci/run, and first by `make deploy`). Fails, naming what is wrong, when
//   - wrangler.toml: an environment lacks its own D1 / KV / R2 binding, shares a
//     database or bucket with another, lacks a top-level var or sets one the code does
//     not read, names a secret as a plain var, sets ALLOW_TEST_CLOCK, or has Workers
//     Logs off;
//   - a secret the code reads (SECRETS in src/config.rs) is not named in the README;
//   - `wrangler deploy --dry-run --outdir` fails or warns for an environment, or its
//     bundle is over the platform's limit (3 MB gzip, the Free plan's) or our wasm
//     budget (300 KB gzip), or lost the version stamp;
//   - the migrations do not apply cleanly to an empty database (wrangler's own
//     `d1 migrations apply --local` into a fresh directory), or a landed migration
//     changed: each file must be byte-identical to the blob of the commit that added
//     it (and to main's / origin/main's copy, when they have one), and none may go.
//
//   node scripts/check-deploy.mjs                 all of it
//   node scripts/check-deploy.mjs --skip-dry-run  config, README and migrations only
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import {
  ENVIRONMENTS,
  REQUIRED_BINDINGS,
  isPlaceholderId,
  namesReadByConfig,
  plain,
  readWranglerToml,
  root,
  secretsFromConfig,
  wrangler,
} from "./deploy-config.mjs";

/** Cloudflare's limit on a Worker's compressed size on the Free plan (10 MB paid). */
export const PLATFORM_LIMIT_GZIP = 3_000_000;
/** Our own budget for the wasm, gzip -9 (README, "Performance and budgets"). */
export const WASM_BUDGET_GZIP = 300_000;

/** Problems of wrangler.toml (parsed), given src/config.rs and the README. */
export function checkConfig(config, configRs, readme) {
  const problems = [];
  const secrets = secretsFromConfig(configRs);
  const known = namesReadByConfig(configRs);
  const topVars = Object.keys(config.vars ?? {});

  for (const name of secrets) {
    if (!new RegExp(`\\b${name}\\b`).test(readme)) problems.push(`the secret ${name} (src/config.rs SECRETS) is not named in README.md`);
  }
  const tables = [["[vars]", config.vars ?? {}], ...Object.entries(config.env ?? {}).map(([e, c]) => [`[env.${e}.vars]`, c.vars ?? {}])];
  for (const [where, vars] of tables) {
    for (const name of Object.keys(vars)) {
      if (secrets.includes(name)) problems.push(`${where} sets the secret ${name} as a plain var: use wrangler secret put`);
      else if (!known.has(name)) problems.push(`${where} sets ${name}, which src/config.rs never reads`);
    }
  }
  if (config.observability?.enabled !== true) problems.push("[observability] enabled = true is missing at the top level");

  const seen = { database_name: new Map(), bucket_name: new Map(), id: new Map() };
  for (const env of ENVIRONMENTS) {
    const e = config.env?.[env];
    if (!e) {
      problems.push(`wrangler.toml has no [env.${env}]`);
      continue;
    }
    for (const [kind, bindings] of Object.entries(REQUIRED_BINDINGS)) {
      for (const binding of bindings) {
        if (!(e[kind] ?? []).some((b) => b.binding === binding)) problems.push(`[env.${env}] has no ${kind} binding ${binding}`);
      }
    }
    for (const d of e.d1_databases ?? []) {
      if (d.migrations_dir !== "migrations") problems.push(`[env.${env}] D1 ${d.binding}: migrations_dir must be "migrations"`);
    }
    // Each environment its own resources: a shared database would mix staging's tickets into production's.
    const own = [
      ...(e.d1_databases ?? []).map((d) => ["database_name", d.database_name]),
      ...(e.r2_buckets ?? []).map((b) => ["bucket_name", b.bucket_name]),
      ...(e.kv_namespaces ?? []).filter((k) => !isPlaceholderId(k.id)).map((k) => ["id", k.id]),
    ];
    for (const [field, value] of own) {
      const other = seen[field].get(value);
      if (other && other !== env) problems.push(`[env.${env}] shares ${field} "${value}" with [env.${other}]`);
      seen[field].set(value, env);
    }
    const vars = e.vars ?? {};
    for (const name of topVars) if (!(name in vars)) problems.push(`[env.${env}.vars] lacks ${name} (vars are not inherited: give it its deployed value)`);
    if (vars.ENVIRONMENT !== env) problems.push(`[env.${env}.vars] ENVIRONMENT must be "${env}"`);
    if ("ALLOW_TEST_CLOCK" in vars) problems.push(`[env.${env}.vars] sets ALLOW_TEST_CLOCK: anyone could move a deployed worker's clock`);
    const observability = e.observability ?? config.observability;
    if (observability?.enabled !== true) problems.push(`[env.${env}] has Workers Logs off ([observability] enabled = true)`);
  }
  return problems;
}

/** Problems of a dry-run bundle directory (`wrangler deploy --dry-run --outdir`). */
export function checkBundle(dir, { platformLimit = PLATFORM_LIMIT_GZIP, wasmBudget = WASM_BUDGET_GZIP } = {}) {
  const problems = [];
  const files = readdirSync(dir).filter((f) => /\.(m?js|wasm)$/.test(f));
  const sizes = files.map((f) => {
    const bytes = readFileSync(path.join(dir, f));
    return { file: f, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const wasm = sizes.filter((s) => s.file.endsWith(".wasm"));
  const total = sizes.reduce((n, s) => n + s.gzip, 0);
  if (!wasm.length) problems.push(`${dir}: no .wasm in the bundle`);
  for (const w of wasm) {
    if (w.gzip > wasmBudget) problems.push(`${w.file}: ${kb(w.gzip)} gzip, over the wasm budget of ${kb(wasmBudget)}`);
  }
  if (total > platformLimit) problems.push(`the bundle is ${kb(total)} gzip, over the platform's ${kb(platformLimit)}`);
  const js = sizes.find((s) => s.file === "index.js");
  if (js && !readFileSync(path.join(dir, "index.js"), "utf8").includes("HELPDESK_BUILD")) {
    problems.push("index.js lost the version stamp (HELPDESK_BUILD): health would report an unknown version");
  }
  return { problems, sizes, total };
}

const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;

const gitText = (cwd, ...args) => {
  try {
    return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], maxBuffer: 64 << 20 }).trim();
  } catch {
    return null;
  }
};

/**
 * Migrations edited after they landed, before this service had a deployment to apply
 * them to (commit 3f4e47e, 2026-11-24: a comment in 0002, a column in 0004, on the day
 * both were written). The check accepts exactly these blobs besides the landed ones,
 * so any further change to them fails like any other.
 */
export const EDITED_BEFORE_FIRST_DEPLOY = {
  "migrations/0002_crm_auth.sql": "72fcba4b4b2ad421c97cbf87869fac2a677c5f62",
  "migrations/0004_customer_loop.sql": "b7e26243a36c11b8232088f2b04c00af0ba958d5",
};

/**
 * Landed migrations never change: each file in `dir` (relative to the git work tree
 * `repo`) that git has seen must be byte-identical to the blob of the commit that added
 * it (or its entry in `accepted`), and to the copy on main / origin/main when those
 * have it; a landed file must not disappear. Names are NNNN_name.sql, numbers unique.
 */
export function checkMigrationsAppendOnly(repo, dir = "migrations", accepted = EDITED_BEFORE_FIRST_DEPLOY) {
  const problems = [];
  const files = readdirSync(path.join(repo, dir)).filter((f) => f.endsWith(".sql")).sort();
  const numbers = new Map();
  for (const f of files) {
    const m = f.match(/^(\d{4})_[a-z0-9_]+\.sql$/);
    if (!m) problems.push(`${dir}/${f}: a migration is named NNNN_what_it_does.sql`);
    else if (numbers.has(m[1])) problems.push(`${dir}/${f} and ${dir}/${numbers.get(m[1])} share the number ${m[1]}`);
    else numbers.set(m[1], f);
  }
  const mainRefs = ["origin/main", "main"].filter((ref) => gitText(repo, "rev-parse", "--verify", "--quiet", ref) !== null);
  for (const f of files) {
    const rel = `${dir}/${f}`;
    const now = gitText(repo, "hash-object", rel);
    const added = gitText(repo, "log", "--diff-filter=A", "--format=%H", "--", rel);
    if (added) {
      const first = added.split("\n").pop();
      const landed = gitText(repo, "rev-parse", `${first}:${rel}`);
      if (now !== landed && now !== accepted[rel]) problems.push(`${rel} changed since it landed in ${first.slice(0, 12)}: add a new migration instead`);
    }
    for (const ref of mainRefs) {
      const onRef = gitText(repo, "rev-parse", "--verify", "--quiet", `${ref}:${rel}`);
      if (onRef && onRef !== now) problems.push(`${rel} differs from ${ref}'s copy: a landed migration never changes`);
    }
  }
  // A landed migration that disappeared (deleted or renamed).
  const everAdded = gitText(repo, "log", "--diff-filter=A", "--name-only", "--format=", "--", dir) ?? "";
  for (const rel of new Set(everAdded.split("\n").filter((l) => l.endsWith(".sql")))) {
    if (!files.includes(path.basename(rel))) problems.push(`${rel} landed once and is gone: migrations are never removed or renamed`);
  }
  return problems;
}

/**
 * Applies the migrations to an empty local D1 with wrangler (as `--remote` would) in a
 * fresh directory; answers problems (none when every file applied).
 */
export function checkMigrationsApply(projectDir = root, env = []) {
  const persist = mkdtempSync(path.join(tmpdir(), "check-deploy-d1-"));
  try {
    const apply = wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist, ...env], { cwd: projectDir, env: { CI: "true" } });
    if (apply.status !== 0) return [`migrations do not apply to an empty database:\n${plain(apply.stdout + apply.stderr).trim().split("\n").slice(-15).join("\n")}`];
    const list = wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--json", "--command", "SELECT name FROM d1_migrations ORDER BY id", ...env], { cwd: projectDir });
    if (list.status !== 0) return [`could not read back the applied migrations: ${plain(list.stderr).trim()}`];
    const applied = JSON.parse(list.stdout)[0].results.map((r) => r.name);
    const files = readdirSync(path.join(projectDir, "migrations")).filter((f) => f.endsWith(".sql")).sort();
    const missing = files.filter((f) => !applied.includes(f));
    return missing.length ? [`migrations not applied: ${missing.join(", ")}`] : [];
  } finally {
    rmSync(persist, { recursive: true, force: true });
  }
}

/** `wrangler deploy --dry-run --outdir` for one environment: problems, and the bundle's sizes. */
export function dryRun(env) {
  const outdir = mkdtempSync(path.join(tmpdir(), `check-deploy-${env}-`));
  try {
    const run = wrangler(["deploy", "--dry-run", "--outdir", outdir, "--env", env]);
    const output = plain(run.stdout + run.stderr);
    if (run.status !== 0) return { problems: [`wrangler deploy --dry-run --env ${env} failed:\n${output.trim().split("\n").slice(-20).join("\n")}`] };
    const warnings = output.split("\n").filter((l) => l.includes("[WARNING]"));
    const warned = warnings.length ? [`wrangler warns for --env ${env}:\n${output.slice(output.indexOf("[WARNING]")).split("\n").slice(0, 15).join("\n")}`] : [];
    const bundle = checkBundle(outdir);
    return { ...bundle, problems: [...warned, ...bundle.problems.map((p) => `--env ${env}: ${p}`)] };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function main() {
  const skipDryRun = process.argv.includes("--skip-dry-run");
  const problems = [];
  const step = (name, found) => {
    console.log(`check-deploy: ${name}: ${found.length ? `${found.length} problem(s)` : "ok"}`);
    problems.push(...found);
  };
  const config = await readWranglerToml();
  const configRs = readFileSync(path.join(root, "src/config.rs"), "utf8");
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  step("wrangler.toml environments, vars and secrets", checkConfig(config, configRs, readme));
  step("migrations are append-only", checkMigrationsAppendOnly(root));
  step("migrations apply to an empty database", checkMigrationsApply());
  if (!skipDryRun) {
    for (const env of ENVIRONMENTS) {
      const result = dryRun(env);
      if (result.sizes) {
        const list = result.sizes.map((s) => `${s.file.replace(/^[0-9a-f]{40}-/, "")} ${kb(s.gzip)}`).join(", ");
        console.log(`check-deploy: --env ${env} bundle: ${list}; total ${kb(result.total)} gzip (limit ${kb(PLATFORM_LIMIT_GZIP)}, wasm budget ${kb(WASM_BUDGET_GZIP)})`);
      }
      step(`dry-run deploy --env ${env}`, result.problems);
    }
  }
  if (problems.length) {
    console.error(`\ncheck-deploy failed:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    process.exit(1);
  }
  console.log("check-deploy: ok");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
