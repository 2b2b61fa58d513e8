#!/usr/bin/env node
// Creates (or resets) a CRM admin directly in D1, without a running worker.
//
//   make admin EMAIL=ana@example.com NAME="Ana Lima"                       # local D1 (.wrangler/state)
//   make admin EMAIL=ana@example.com NAME="Ana Lima" REMOTE=1 ENV=staging  # that environment's D1
//
// The password comes from ADMIN_PASSWORD or, on a terminal, a hidden prompt.
// An existing account with that email becomes an active admin with the new password,
// and its live sessions end. `wrangler d1 execute` binds no parameters, so every
// value is validated strictly and quoted here.
//
//   node scripts/create-admin.mjs --ensure-local   # used by `make dev`
//   node scripts/create-admin.mjs --sql            # print the SQL instead of running it
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { hashPassword } from "./password-hash.mjs";
import { readWranglerToml, requireDeployableEnv, root, wrangler as runWrangler } from "./deploy-config.mjs";

const localAdminFile = path.join(root, ".wrangler", "local-admin.json");
const args = process.argv.slice(2);

function fail(message) {
  console.error(`create-admin: ${message}`);
  process.exit(2);
}

export function validEmail(email) {
  return email.length <= 254 && /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(email) && !email.includes("..");
}

export function validName(name) {
  return /^[\p{L}\p{M}\p{N} .,'-]{1,100}$/u.test(name) && name.trim() === name;
}

const quote = (value) => `'${value.replaceAll("'", "''")}'`;

export function adminSql(email, name, passwordHash, now = new Date().toISOString()) {
  return (
    "INSERT INTO crm_staff (email, name, role, password_hash, active, session_epoch, created_at, updated_at) " +
    `VALUES (${quote(email)}, ${quote(name)}, 'admin', ${quote(passwordHash)}, 1, 0, ${quote(now)}, ${quote(now)}) ` +
    "ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = 'admin', password_hash = excluded.password_hash, " +
    "active = 1, session_epoch = session_epoch + 1, updated_at = excluded.updated_at;"
  );
}

/** Wrangler's output; its failure ends the script. */
function wrangler(wranglerArgs) {
  const result = runWrangler(wranglerArgs);
  if (result.status !== 0) fail(`wrangler ${wranglerArgs.slice(0, 3).join(" ")} failed:\n${result.stderr || result.stdout}`);
  return result.stdout;
}

// PERSIST_TO points the local D1 elsewhere than .wrangler/state (the tests use it).
const persist = process.env.PERSIST_TO ? ["--persist-to", process.env.PERSIST_TO] : [];

// REMOTE=1 needs ENV: the top level of wrangler.toml is the local configuration.
const deployedEnv = (process.env.ENV ?? "").trim();

function execute(sql, remote, extra = []) {
  const where = remote ? ["--remote", "--env", deployedEnv] : ["--local", ...persist];
  return wrangler(["d1", "execute", "DB", ...where, "--command", sql, ...extra]);
}

async function promptPassword() {
  if (!process.stdin.isTTY) fail("set ADMIN_PASSWORD (no terminal to prompt on)");
  process.stdout.write("Password for the new admin (at least 12 characters): ");
  process.stdin.setRawMode(true);
  let password = "";
  for await (const chunk of process.stdin) {
    for (const ch of chunk.toString("utf8")) {
      if (ch === "\r" || ch === "\n") {
        process.stdin.setRawMode(false);
        process.stdout.write("\n");
        process.stdin.pause();
        return password;
      }
      if (ch === "\u0003") process.exit(130);
      password = ch === "\u007f" ? password.slice(0, -1) : password + ch;
    }
  }
  return password;
}

/** `make dev`: make sure the local D1 has an active admin, and say how to log in. */
function ensureLocal() {
  const out = execute("SELECT count(*) AS n FROM crm_staff WHERE role = 'admin' AND active = 1", false, ["--json"]);
  const count = JSON.parse(out)[0].results[0].n;
  const saved = existsSync(localAdminFile) ? JSON.parse(readFileSync(localAdminFile, "utf8")) : null;
  if (count === 0) {
    const email = "admin@example.com";
    const password = randomBytes(12).toString("base64url");
    execute(adminSql(email, "Local Admin", hashPassword(password)), false);
    mkdirSync(path.dirname(localAdminFile), { recursive: true });
    writeFileSync(localAdminFile, JSON.stringify({ email, password }, null, 2) + "\n", { mode: 0o600 });
    return report({ email, password }, "created a local admin");
  }
  if (saved) return report(saved, "local admin");
  console.log("Local D1 has an admin; reset one with: make admin EMAIL=... NAME=...");
}

function report({ email, password }, what) {
  const base = `http://localhost:${process.env.PORT || 8787}`;
  console.log(`\n${what} (local D1 only, saved in .wrangler/local-admin.json):`);
  console.log(`  staff app: ${base}/admin/  email ${email}  password ${password}`);
  console.log(`  API:       curl -s -X POST ${base}/api/crm/auth/login -H 'Content-Type: application/json' \\`);
  console.log(`               -d '{"email": "${email}", "password": "${password}"}'\n`);
}

async function main() {
  if (args.includes("--ensure-local")) return ensureLocal();
  const email = (process.env.EMAIL ?? "").trim();
  const name = (process.env.NAME ?? "").trim();
  const remote = ["1", "true", "yes"].includes(process.env.REMOTE ?? "");
  if (remote && !args.includes("--sql")) {
    try {
      requireDeployableEnv(await readWranglerToml(), deployedEnv, "make admin REMOTE=1");
    } catch (e) {
      fail(e.message);
    }
  }
  if (!validEmail(email)) fail("EMAIL must be a plain address such as ana@example.com");
  if (!validName(name)) fail("NAME must be 1 to 100 letters, digits, spaces or . , ' -");
  const password = process.env.ADMIN_PASSWORD ?? (await promptPassword());
  if ([...password].length < 12) fail("the password must be at least 12 characters");
  const iterations = Number(process.env.PASSWORD_ITERATIONS ?? 100_000);
  // The worker's own bounds (src/config.rs): workerd refuses PBKDF2 over 100,000.
  if (!Number.isInteger(iterations) || iterations < 1_000 || iterations > 100_000) {
    fail("PASSWORD_ITERATIONS must be an integer from 1,000 to 100,000");
  }
  const sql = adminSql(email.toLowerCase(), name, hashPassword(password, iterations));
  if (args.includes("--sql")) return console.log(sql);
  execute(sql, remote);
  console.log(`Admin ${email} is ready in the ${remote ? `${deployedEnv} environment's` : "local"} D1.`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
