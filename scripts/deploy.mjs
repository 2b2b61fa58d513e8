#!/usr/bin/env node
// `make deploy ENV=...` and `make backup ENV=...` (see the README's deployment section).
//
//   node scripts/deploy.mjs check ENV    refuse early: no ENV, unknown ENV, placeholder ids
//   node scripts/deploy.mjs deploy ENV   (after `make check-deploy`) apply the D1 migrations
//                                        remotely, deploy, then read the deployed
//                                        /api/health until it answers this build's version
//   node scripts/deploy.mjs backup ENV   wrangler d1 export --remote into backups/ENV-TIME.sql
//
// The health URL is the environment's PUBLIC_BASE_URL, else the workers.dev URL wrangler
// prints. Exits non-zero when health is not 200, answers another version, or lists
// configuration problems (the deploy has happened by then: fix them and deploy again).
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { builtVersion, plain, readWranglerToml, requireDeployableEnv, root, wrangler } from "./deploy-config.mjs";

const [command, env] = process.argv.slice(2);

function fail(message) {
  console.error(`\n${command}: ${message}`);
  process.exit(1);
}

function run(args, what) {
  console.log(`\n$ wrangler ${args.join(" ")}`);
  const result = wrangler(args, { inherit: true });
  if (result.status !== 0) fail(`${what} failed (wrangler exited ${result.status})`);
}

/** GET health until it answers `commit` (a new version takes a few seconds to reach every location). */
async function readHealth(base, commit, seconds = 60) {
  const url = `${base.replace(/\/$/, "")}/api/health`;
  const deadline = Date.now() + seconds * 1000;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { headers: { "Cache-Control": "no-cache" } });
      const body = await res.json().catch(() => null);
      last = `${res.status} ${JSON.stringify(body?.data?.version ?? body)}`;
      if (res.status === 200 && body?.data?.version?.commit === commit) return { url, data: body.data };
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
  fail(`${url} did not answer version ${commit} within ${seconds} s (last: ${last})`);
}

async function deploy(config) {
  run(["d1", "migrations", "apply", "DB", "--remote", "--env", env], "applying the D1 migrations");
  console.log(`\n$ wrangler deploy --env ${env}`);
  const result = wrangler(["deploy", "--env", env]);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== 0) fail(`wrangler deploy failed (exited ${result.status})`);
  const version = builtVersion();
  if (!version) fail("build/version.json is missing: the deploy's build did not stamp a version");
  const base = config.env[env].vars?.PUBLIC_BASE_URL || plain(result.stdout).match(/https:\/\/[^\s]+\.workers\.dev/)?.[0];
  if (!base) fail("no PUBLIC_BASE_URL and no workers.dev URL in wrangler's output: check /api/health by hand");
  const { url, data } = await readHealth(base, version.commit);
  console.log(`\n${env}: ${url} answers version ${data.version.commit} built ${data.version.built_at}, database ${data.database}, environment ${data.environment}`);
  if (data.config.length) {
    for (const p of data.config) console.error(`  config problem: ${p.names.join(" + ")}: ${p.problem}: ${p.message}`);
    fail(`${env} is deployed but its configuration has ${data.config.length} problem(s) (above)`);
  }
  console.log(`${env}: deployed, no configuration problems.`);
}

function backup() {
  const dir = path.join(root, "backups");
  mkdirSync(dir, { recursive: true });
  const time = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const file = path.join("backups", `${env}-${time}.sql`);
  run(["d1", "export", "DB", "--remote", "--env", env, "--output", file], "the export");
  console.log(`\n${env}: D1 exported to ${file} (gitignored; keep it somewhere safe: it holds customer data)`);
}

/** Production runs committed code only: what `/api/health` reports must name a commit. */
function requireCleanTreeForProduction() {
  if (env !== "production" || process.env.FORCE === "1") return;
  const changes = execFileSync("git", ["status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock", "migrations", "wrangler.toml"], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  if (changes) throw new Error(`production deploys committed code only; uncommitted changes:\n${changes}\n(FORCE=1 to deploy anyway)`);
}

try {
  const config = await readWranglerToml();
  requireDeployableEnv(config, env, `make ${command === "check" ? "deploy" : command}`);
  if (command === "check") {
    requireCleanTreeForProduction();
    console.log(`${env}: ids are set`);
  }
  else if (command === "deploy") await deploy(config);
  else if (command === "backup") backup();
  else fail("usage: node scripts/deploy.mjs check|deploy|backup ENV");
} catch (e) {
  fail(e.message);
}
