// The deploy check must be able to fail: a secret missing from the README, a secret
// set as a var, an environment without its own database, an oversized bundle, a
// migration changed after it landed, one that does not apply. Run by `make check-deploy`
// before the check itself.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, unlinkSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { checkBundle, checkConfig, checkMigrationsAppendOnly, checkMigrationsApply } from "./check-deploy.mjs";
import { placeholderIds, requireDeployableEnv } from "./deploy-config.mjs";

const configRs = `
pub const SECRETS: &[&str] = &["TICKET_TOKEN_SECRET", "WEBHOOK_SECRET"];
fn read() { non_empty("ENVIRONMENT"); number(
    "RATE_LIMIT_PER_IP", 20, 1, 2); secret("TICKET_TOKEN_SECRET"); secret("WEBHOOK_SECRET"); non_empty("WEBHOOK_URL"); }
`;
const readme = "Secrets: TICKET_TOKEN_SECRET and WEBHOOK_SECRET (wrangler secret put).";
const env = (name, overrides = {}) => ({
  observability: { enabled: true },
  d1_databases: [{ binding: "DB", database_name: `helpdesk-${name}`, database_id: "00000000-0000-0000-0000-000000000000", migrations_dir: "migrations" }],
  kv_namespaces: [{ binding: "SESSIONS", id: "00000000000000000000000000000000" }],
  r2_buckets: [{ binding: "ATTACHMENTS", bucket_name: `attachments-${name}` }],
  vars: { ENVIRONMENT: name, RATE_LIMIT_PER_IP: "20", WEBHOOK_URL: "" },
  ...overrides,
});
const sound = () => ({
  observability: { enabled: true },
  vars: { ENVIRONMENT: "local", RATE_LIMIT_PER_IP: "20", WEBHOOK_URL: "" },
  env: { staging: env("staging"), production: env("production") },
});

describe("wrangler.toml, vars and secrets", () => {
  test("a sound configuration passes", () => {
    assert.deepEqual(checkConfig(sound(), configRs, readme), []);
  });

  test("a secret the code reads but the README does not name", () => {
    const problems = checkConfig(sound(), configRs, "Secrets: TICKET_TOKEN_SECRET.");
    assert.deepEqual(problems, ["the secret WEBHOOK_SECRET (src/config.rs SECRETS) is not named in README.md"]);
  });

  test("a secret set as a plain var, a var the code never reads, a var missing from an environment", () => {
    const config = sound();
    config.env.production.vars.WEBHOOK_SECRET = "whsec_in_git";
    config.env.staging.vars.RATE_LIMIT_PER_IPS = "20";
    delete config.env.staging.vars.RATE_LIMIT_PER_IP;
    assert.deepEqual(checkConfig(config, configRs, readme).sort(), [
      "[env.production.vars] sets the secret WEBHOOK_SECRET as a plain var: use wrangler secret put",
      "[env.staging.vars] lacks RATE_LIMIT_PER_IP (vars are not inherited: give it its deployed value)",
      "[env.staging.vars] sets RATE_LIMIT_PER_IPS, which src/config.rs never reads",
    ]);
  });

  test("environments must have their own database and bucket, every binding, logs on, no test clock", () => {
    const config = sound();
    config.env.staging.d1_databases[0].database_name = "helpdesk-production";
    config.env.production.r2_buckets = [];
    config.env.production.observability = { enabled: false };
    config.env.staging.vars.ALLOW_TEST_CLOCK = "true";
    config.env.staging.vars.ENVIRONMENT = "production";
    const problems = checkConfig(config, configRs, readme);
    for (const expected of [
      '[env.production] shares database_name "helpdesk-production" with [env.staging]',
      "[env.production] has no r2_buckets binding ATTACHMENTS",
      "[env.production] has Workers Logs off ([observability] enabled = true)",
      '[env.staging.vars] ENVIRONMENT must be "staging"',
      "[env.staging.vars] sets ALLOW_TEST_CLOCK: anyone could move a deployed worker's clock",
    ]) {
      assert.ok(problems.includes(expected), `${expected}\nin:\n${problems.join("\n")}`);
    }
  });

  test("placeholder ids are named, and make deploy refuses them", () => {
    assert.deepEqual(placeholderIds(sound(), "staging"), ["d1_databases DB.database_id", "kv_namespaces SESSIONS.id"]);
    assert.throws(() => requireDeployableEnv(sound(), "staging"), /placeholder ids: d1_databases DB.database_id/);
    assert.throws(() => requireDeployableEnv(sound(), undefined), /needs ENV=staging\|production/);
    assert.throws(() => requireDeployableEnv(sound(), "prod"), /not an environment/);
    const real = sound();
    real.env.staging.d1_databases[0].database_id = "3f1b6c1e-1a2b-4c3d-9e8f-0a1b2c3d4e5f";
    real.env.staging.kv_namespaces[0].id = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    assert.doesNotThrow(() => requireDeployableEnv(real, "staging"));
  });
});

describe("the bundle", () => {
  const bundle = (wasmBytes, js = 'globalThis.HELPDESK_BUILD = Object.freeze({"commit":"abc"});\nexport default {};') => {
    const dir = mkdtempSync(path.join(tmpdir(), "bundle-"));
    writeFileSync(path.join(dir, "index.js"), js);
    writeFileSync(path.join(dir, "0123456789abcdef0123456789abcdef01234567-index_bg.wasm"), wasmBytes);
    writeFileSync(path.join(dir, "index.js.map"), randomBytes(4_000_000));
    return dir;
  };

  test("a small bundle passes (source maps do not count)", () => {
    const dir = bundle(Buffer.alloc(500_000));
    try {
      assert.deepEqual(checkBundle(dir).problems, []);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a wasm over the budget, a bundle over the platform's limit, a lost version stamp", () => {
    const dir = bundle(randomBytes(350_000), "export default {};");
    try {
      const { problems } = checkBundle(dir, { platformLimit: 300_000 });
      assert.equal(problems.length, 3, problems.join("\n"));
      assert.match(problems[0], /index_bg\.wasm: 350\.\d KB gzip, over the wasm budget of 300\.0 KB/);
      assert.match(problems[1], /the bundle is 350\.\d KB gzip, over the platform's 300\.0 KB/);
      assert.match(problems[2], /lost the version stamp/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe("migrations", () => {
  const git = (dir, ...args) => execFileSync("git", args, { cwd: dir, stdio: "pipe" });
  function repo() {
    const dir = mkdtempSync(path.join(tmpdir(), "migrations-"));
    mkdirSync(path.join(dir, "migrations"));
    git(dir, "init", "-q");
    git(dir, "config", "user.email", "t@example.com");
    git(dir, "config", "user.name", "T");
    writeFileSync(path.join(dir, "migrations/0001_first.sql"), "CREATE TABLE a (id INTEGER PRIMARY KEY);\n");
    writeFileSync(path.join(dir, "migrations/0002_second.sql"), "CREATE TABLE b (id INTEGER PRIMARY KEY);\n");
    git(dir, "add", ".");
    git(dir, "commit", "-qm", "first migrations");
    return dir;
  }

  test("unchanged, and a new file, pass", () => {
    const dir = repo();
    try {
      writeFileSync(path.join(dir, "migrations/0003_third.sql"), "CREATE TABLE c (id INTEGER PRIMARY KEY);\n");
      assert.deepEqual(checkMigrationsAppendOnly(dir, "migrations", {}), []);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a landed migration edited (committed or not) is named", () => {
    const dir = repo();
    try {
      writeFileSync(path.join(dir, "migrations/0002_second.sql"), "CREATE TABLE b (id INTEGER PRIMARY KEY, x TEXT);\n");
      assert.match(checkMigrationsAppendOnly(dir, "migrations", {}).join("\n"), /^migrations\/0002_second\.sql changed since it landed in [0-9a-f]{12}/);
      git(dir, "commit", "-qam", "edit a landed migration");
      const problems = checkMigrationsAppendOnly(dir, "migrations", {});
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0], /0002_second\.sql changed since it landed/);
      // Unless that exact edit is on the accepted list.
      const blob = git(dir, "hash-object", "migrations/0002_second.sql").toString().trim();
      assert.deepEqual(checkMigrationsAppendOnly(dir, "migrations", { "migrations/0002_second.sql": blob }), []);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a landed migration removed or renamed, a bad name, a shared number", () => {
    const dir = repo();
    try {
      renameSync(path.join(dir, "migrations/0002_second.sql"), path.join(dir, "migrations/0002_renamed.sql"));
      unlinkSync(path.join(dir, "migrations/0001_first.sql"));
      writeFileSync(path.join(dir, "migrations/0002_again.sql"), "SELECT 1;\n");
      writeFileSync(path.join(dir, "migrations/7_Bad Name.sql"), "SELECT 1;\n");
      const problems = checkMigrationsAppendOnly(dir, "migrations", {}).join("\n");
      assert.match(problems, /migrations\/7_Bad Name\.sql: a migration is named NNNN_what_it_does\.sql/);
      assert.match(problems, /0002_renamed\.sql and migrations\/0002_again\.sql share the number 0002/);
      assert.match(problems, /migrations\/0001_first\.sql landed once and is gone/);
      assert.match(problems, /migrations\/0002_second\.sql landed once and is gone/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test("a migration that does not apply to an empty database is refused", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "apply-"));
    try {
      mkdirSync(path.join(dir, "migrations"));
      writeFileSync(
        path.join(dir, "wrangler.toml"),
        'name = "t"\nmain = "index.js"\ncompatibility_date = "2026-07-01"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "t"\ndatabase_id = "00000000-0000-0000-0000-000000000000"\nmigrations_dir = "migrations"\n',
      );
      writeFileSync(path.join(dir, "migrations/0001_ok.sql"), "CREATE TABLE a (id INTEGER PRIMARY KEY);\n");
      writeFileSync(path.join(dir, "migrations/0002_broken.sql"), "ALTER TABLE missing ADD COLUMN x TEXT;\n");
      const problems = checkMigrationsApply(dir);
      assert.equal(problems.length, 1);
      assert.match(problems[0], /migrations do not apply to an empty database/);
      assert.match(problems[0], /no such table: missing/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
