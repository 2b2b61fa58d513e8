#!/usr/bin/env node
// Fuzzes the built worker against its own OpenAPI document with schemathesis: a fresh
// worker on a local port, an admin session and an integration key for the operations that
// need them, every phase (examples, coverage, fuzzing, stateful) with a fixed seed, bounded
// in time. Fails on any finding. Run by `make test` (after `make setup` made the venv).
//
//   node tests/contract/fuzz.mjs [--max-time SECONDS]
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startWorker, createStaff, login, ticket } from "../helpers.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const schemathesis = path.join(root, ".venv/bin/schemathesis");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const maxTime = Number(arg("--max-time", process.env.FUZZ_SECONDS ?? "150"));

if (!existsSync(schemathesis)) {
  console.error("fuzz: .venv/bin/schemathesis is missing; run `make setup`");
  process.exit(2);
}

// The operations left out, and why: they end the very session or key the fuzzer uses
// (logout, a password reset, deactivating or demoting the admin, revoking the key), so
// everything after them would only test the 401. Integration tests cover them.
const EXCLUDED = ["logout", "set_staff_password", "update_staff", "revoke_api_key"];

const w = await startWorker({
  port: 0,
  // As deployed: the contract itself is a static file beside the Worker.
  assets: true,
  // Limits raised so the fuzzer reaches the logic behind them (tests/rate_limits and
  // tests/hardening test the limits themselves).
  bindings: {
    TICKET_TOKEN_SECRET: "fuzz-secret",
    PUBLIC_BASE_URL: "https://help.example",
    ALLOW_TEST_CLOCK: "false",
    CUSTOMER_REPLIES_PER_TICKET: "100000",
    REPLIES_PER_IP: "1000000",
    LOOKUPS_PER_EMAIL: "100000",
    LOOKUPS_PER_IP: "100000",
    LOGIN_MAX_FAILURES_PER_EMAIL: "1000",
    LOGIN_MAX_FAILURES_PER_IP: "100000",
    LOGIN_MAX_FAILURES_PER_ACCOUNT: "1000000",
  },
});
let status = 1;
try {
  await createStaff(w.db, { email: "fuzz-admin@example.com", role: "admin", name: "Fuzz Admin" });
  const admin = await login(w, "fuzz-admin@example.com");
  const key = (await w.postJson("/api/crm/api-keys", { name: "fuzz", rate_limit: 1_000_000 }, admin.auth)).body.data.key;
  // Some tickets for path parameters to find; the customer routes get one's number
  // and token, so they reach their logic instead of the 404 a guess gets.
  const seeded = [];
  for (let i = 0; i < 3; i++) {
    seeded.push((await w.postJson("/api/tickets/create", ticket({ customer_email: `seed${i}@example.com` }))).body.data);
  }
  const [first] = seeded;

  const dir = mkdtempSync(path.join(tmpdir(), "fuzz-"));
  const config = path.join(dir, "schemathesis.toml");
  writeFileSync(
    config,
    [
      `seed = 20261202`,
      `[auth.openapi.staffSession]`,
      `bearer = "${admin.token}"`,
      `[auth.openapi.integrationKey]`,
      `bearer = "${key}"`,
      `[[operations]]`,
      `include-operation-id = ["get_ticket_status", "add_customer_reply", "status_page", "upload_customer_attachment"]`,
      `parameters = { ticket_number = "${first.ticket_number}", token = "${first.access_token}", "X-Ticket-Token" = "${first.access_token}" }`,
      "",
    ].join("\n"),
  );
  const url = new URL("/api/openapi.json", w.url).toString();
  const checks = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
  ];
  const args = [
    "--config-file", config,
    "run", url,
    "--url", w.url.toString().replace(/\/$/, ""),
    "--phases", "examples,coverage,fuzzing,stateful",
    "--checks", checks.join(","),
    "--max-time", String(maxTime),
    "--workers", "1",
    "--generation-deterministic",
    "--report", "json",
    "--report-json-path", path.join(dir, "report.json"),
    "--no-color",
    ...EXCLUDED.flatMap((id) => ["--exclude-operation-id", id]),
  ];
  console.log(`fuzz: schemathesis against ${url} (at most ${maxTime} s; left out: ${EXCLUDED.join(", ")})`);
  // Not spawnSync: the worker's logs reach this process through a pipe, and a blocked
  // event loop would leave workerd waiting on a full one.
  const run = spawn(schemathesis, args, { stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  status = await new Promise((resolve) => run.on("close", (code) => resolve(code ?? 1)));
  try {
    const report = JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8"));
    console.log(`fuzz: report ${path.join(dir, "report.json")}: ${JSON.stringify(report.summary ?? report.stats ?? {}).slice(0, 400)}`);
  } catch {}
} finally {
  await w.dispose();
}
process.exit(status);
