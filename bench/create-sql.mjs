#!/usr/bin/env node
// Where the public create's batch spends SQLite's time, statement by statement, and
// each statement's query plan; beside the minimal create (counter and insert).
//
//   make bench-sql    (dumps the batch from src/store/ticket_create.rs's unit test, then runs this)
//
// SQLite alone (node:sqlite, the same library D1 runs locally, in memory, the product's
// migrations): no binding, no JSON, no HTTP. The batch is an anonymous create with two
// limits (per email, per client) and an Idempotency-Key, as src/store/ticket_create.rs
// writes it; each of N creates gets its own request id, key, email and one of 50
// clients, so the limits' counting subqueries see a realistic number of hits.
import { readFileSync, readdirSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";

const N = Number(process.env.CREATES ?? 3000);
const batch = JSON.parse(readFileSync(process.argv[2] ?? "/tmp/create-batch.json", "utf8"));
const LABELS = ["claim (every guard)", "ticket insert", "created event", "rate-limit hits", "idempotency record", "outbox rows", "explanation (diagnosis)"];

function fresh() {
  const db = new DatabaseSync(":memory:");
  for (const file of readdirSync("migrations").sort()) db.exec(readFileSync(`migrations/${file}`, "utf8"));
  return db;
}

/** The dumped parameters, made unique to create `i`. */
function paramsFor(params, i) {
  const swap = (v) =>
    typeof v !== "string"
      ? v === 5 || v === 20 ? 1e9 : v // the limits' maxima: never reached here
      : v
          .replaceAll("email:ann@example.com", `email:c${i}@example.com`)
          .replaceAll("ip:2001:db8::1", `ip:10.0.0.${i % 50}`)
          .replace(/^r1$/, `r${i}`)
          .replace(/^k1$/, `k${i}`)
          .replace(/^ann@example\.com$/, `c${i}@example.com`);
  return params.map(swap);
}

function time(db, statements, label) {
  const prepared = statements.map(([sql]) => db.prepare(sql));
  const spent = statements.map(() => 0n);
  for (let i = 0; i < N; i++) {
    db.exec("BEGIN");
    statements.forEach(([, params], s) => {
      const t0 = process.hrtime.bigint();
      prepared[s].all(...paramsFor(params, i));
      spent[s] += process.hrtime.bigint() - t0;
    });
    db.exec("COMMIT");
  }
  const us = spent.map((ns) => Number(ns) / 1000 / N);
  const total = us.reduce((a, b) => a + b, 0);
  console.log(`\n${label}: ${total.toFixed(1)} µs of SQLite per create (mean over ${N} creates)`);
  us.forEach((u, s) => console.log(`  ${(statements[s].label ?? LABELS[s] ?? `statement ${s + 1}`).padEnd(28)} ${u.toFixed(1).padStart(6)} µs  ${((u / total) * 100).toFixed(0).padStart(3)}%`));
  return total;
}

const product = fresh();
const productUs = time(product, batch, "product batch");
console.log("\nquery plans (after the run, so the tables hold its rows):");
batch.forEach(([sql, params], s) => {
  const plan = product.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...paramsFor(params, N + 1));
  console.log(`  ${LABELS[s] ?? `statement ${s + 1}`}:`);
  for (const row of plan) console.log(`    ${row.detail}`);
});

const minimal = [
  Object.assign(["INSERT INTO ticket_counters (year, last_seq) VALUES (?1, 1) ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + 1", [2026]], { label: "counter" }),
  Object.assign(
    [
      `INSERT INTO support_tickets (ticket_number, subject, description, customer_name, customer_email, priority, category, status, created_at, updated_at)
       SELECT printf('TKT-%d-%04d', year, last_seq), ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?8 FROM ticket_counters WHERE year = ?1
       RETURNING id, ticket_number, status, priority, category, created_at`,
      [2026, "Issue", "Details", "Guest", "ann@example.com", "medium", "general", "2026-12-01T00:00:00.000Z"],
    ],
    { label: "ticket insert" },
  ),
];
const minimalUs = time(fresh(), minimal, "minimal create");
console.log(`\nproduct ÷ minimal, SQLite time per create: ${(productUs / minimalUs).toFixed(2)}x`);
