#!/usr/bin/env node
// `make capacity`: how much one D1 database holds and takes, measured on this machine
// against the release build (build/) in Miniflare with its D1 persisted to a SQLite file,
// as `wrangler dev` runs it. Three parts (each can run alone: --only size,creates,list):
//
//   size     N tickets created through the API with a typical thread (the customer's
//            create, a customer reply, a staff reply and an internal note, assign,
//            resolve, close; email and webhook notifications delivered to a fake): the
//            database's growth per ticket, the size per table (SQLite's dbstat), and
//            what stays once the cron has pruned delivered notifications, rate-limit
//            hits and idempotency records; hence tickets per 10 GB.
//   creates  public creates at rising fixed rates (autocannon): achieved rate and
//            latency per step, and the highest rate before latency climbs.
//   list     100,000 tickets seeded (scripts/capacity/seed-tickets.mjs); the CRM list's
//            latency for each filter and sort, and EXPLAIN QUERY PLAN of the SQL the
//            worker sent, before and after the index migration under test
//            (--indexes, default migrations/0007_*.sql) is applied.
//
//   node scripts/capacity/run.mjs [--only size,creates,list] [--tickets 100000]
//        [--size-tickets 300] [--step-seconds 4] [--indexes migrations/0007_list_indexes.sql]
//
// Writes bench/results/capacity.md (and capacity.json). The machine is shared: the
// whole run takes about 4 minutes; keep it out of `make test`.
import autocannon from "autocannon";
import http from "node:http";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createStaff, migrationStatements, sqlStatements, ticket } from "../../tests/helpers.mjs";
import { root } from "../deploy-config.mjs";
import { seedTickets, prng, textGenerator } from "./seed-tickets.mjs";
import { startCapacityWorker } from "./worker.mjs";

const args = process.argv.slice(2);
const option = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : args[i + 1];
};
const only = option("--only", "size,creates,list").split(",");
const listTickets = Number(option("--tickets", 100_000));
const sizeTickets = Number(option("--size-tickets", 300));
const stepSeconds = Number(option("--step-seconds", 4));
const beforeBuild = option("--before-build", null);
const listIndexes = readdirSync(path.join(root, "migrations")).find((f) => f.startsWith("0007_"));
const indexFile = option("--indexes", listIndexes && `migrations/${listIndexes}`);

const PASSWORD = "capacity-password-123";
const SECRET_VARS = { TICKET_TOKEN_SECRET: "capacity-only-ticket-token-secret-0123456789", PUBLIC_BASE_URL: "https://help.capacity.example" };
const UNLIMITED = { RATE_LIMIT_PER_EMAIL: "1000000", RATE_LIMIT_PER_IP: "1000000", CUSTOMER_REPLIES_PER_TICKET: "100000", REPLIES_PER_IP: "1000000", LOGIN_MAX_FAILURES_PER_IP: "100000", LOGIN_MAX_FAILURES_PER_EMAIL: "1000" };
const report = { machine: { cpus: (await import("node:os")).cpus().length, node: process.version }, at: new Date().toISOString() };

const fmt = (n, digits = 1) => (n == null ? "-" : Number(n).toFixed(digits));
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const statementsOf = (files) => files.flatMap((f) => sqlStatements(readFileSync(path.join(root, f), "utf8")));

/** A fresh worker with its D1 in a temporary directory, migrated (optionally without the index migration). */
async function freshWorker({ bindings = {}, outbound, withoutIndexes = false } = {}) {
  const persist = mkdtempSync(path.join(tmpdir(), "capacity-"));
  const w = await startCapacityWorker({ persist, bindings: { ...SECRET_VARS, ...UNLIMITED, ...bindings }, outbound });
  const skip = withoutIndexes && indexFile ? statementsOf([indexFile]) : [];
  const statements = migrationStatements().filter((s) => !skip.includes(s));
  await w.db.batch(statements.map((s) => w.db.prepare(s)));
  const dispose = async () => {
    await w.dispose();
    rmSync(persist, { recursive: true, force: true });
  };
  return { ...w, persist, dispose };
}

async function loginAs(w, email) {
  const res = await w.call("/api/crm/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password: PASSWORD }) });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${res.text}`);
  return { Authorization: `Bearer ${res.body.data.token}`, "Content-Type": "application/json" };
}

/** The database's size as D1 reports it (meta.size_after: what D1 bills). */
async function d1Size(db) {
  return (await db.prepare("SELECT 1").all()).meta.size_after;
}

/**
 * Per table, from SQLite's dbstat read from the file itself: the pages of the table and
 * of its indexes, and the bytes of those pages in use (`pgsize - unused`): deleted rows
 * free space inside pages long before they free whole pages.
 */
function tableBytes(file) {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const pages = db.prepare("SELECT name, sum(pgsize) AS bytes, sum(pgsize - unused) AS used FROM dbstat GROUP BY name").all();
    const tbl = new Map(db.prepare("SELECT name, tbl_name FROM sqlite_schema").all().map((r) => [r.name, r.tbl_name]));
    const out = {};
    for (const { name, bytes, used } of pages) {
      const table = tbl.get(name) ?? name;
      out[table] ??= { table: 0, indexes: 0, used: 0 };
      out[table][name === table ? "table" : "indexes"] += bytes;
      out[table].used += used;
    }
    return out;
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------- size
async function measureSize() {
  const delivered = { email: 0, webhook: 0 };
  const outbound = async (request) => {
    const host = new URL(request.url).hostname;
    await request.arrayBuffer();
    if (host === "email.capacity") return (delivered.email++, Response.json({ id: "e" }));
    if (host === "hooks.capacity") return (delivered.webhook++, new Response("ok"));
    return new Response("blocked", { status: 503 });
  };
  const w = await freshWorker({
    outbound,
    bindings: {
      EMAIL_API_URL: "https://email.capacity/emails",
      EMAIL_API_KEY: "re_capacity",
      EMAIL_FROM: "Support <support@help.capacity.example>",
      WEBHOOK_URL: "https://hooks.capacity/helpdesk",
      WEBHOOK_SECRET: "whsec_capacity",
    },
  });
  try {
    const staffId = await createStaff(w.db, { email: "agent@capacity.example", password: PASSWORD });
    const auth = await loginAs(w, "agent@capacity.example");
    const before = await d1Size(w.db);
    const beforeTables = tableBytes(w.sqlFile());
    const random = prng(7);
    const { text, length } = textGenerator(random);
    const post = (p, body, headers = {}) => w.call(p, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });
    const thread = async (i) => {
      const created = await post(
        "/api/tickets/create",
        ticket({ subject: text(length(50, 190)).slice(0, 200), description: text(length(500, 5000)), customer_email: `customer${i}@mail.example.org`, customer_name: "Ana Silva" }),
        i % 2 ? { "Idempotency-Key": `capacity-${i}` } : {},
      );
      if (created.status !== 201) throw new Error(`create: ${created.status} ${created.text}`);
      const { id, ticket_number: number, access_token: token } = created.body.data;
      await post(`/api/tickets/${number}/messages?token=${token}`, { body: text(length(250, 3000)) });
      await post(`/api/crm/tickets/${id}/messages`, { body: text(length(250, 3000)) }, auth);
      await post(`/api/crm/tickets/${id}/messages`, { body: text(length(120, 1000)), internal: true }, auth);
      await post(`/api/crm/tickets/${id}/assign`, { staff_id: staffId }, auth);
      await post(`/api/crm/tickets/${id}/resolve`, {}, auth);
      await post(`/api/crm/tickets/${id}/close`, {}, auth);
    };
    for (let i = 0; i < sizeTickets; i += 8) await Promise.all(Array.from({ length: Math.min(8, sizeTickets - i) }, (_, k) => thread(i + k)));
    // Deliveries run after each response; wait for the outbox to drain.
    for (let t = 0; t < 100; t++) {
      const { results } = await w.db.prepare("SELECT count(*) AS n FROM notifications WHERE status = 'pending'").all();
      if (results[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const counts = {};
    for (const table of ["support_tickets", "ticket_events", "ticket_messages", "notifications", "rate_limit_hits", "idempotency_keys"]) {
      counts[table] = (await w.db.prepare(`SELECT count(*) AS n FROM ${table}`).all()).results[0].n;
    }
    const after = await d1Size(w.db);
    const afterTables = tableBytes(w.sqlFile());
    // The cron, past the notifications' retention (30 days): delivered rows, rate-limit
    // hits and idempotency records go; tickets, events and messages stay.
    await (await w.mf.getWorker()).scheduled({ cron: "*/10 * * * *", scheduledTime: new Date(Date.now() + 31 * 86_400_000) });
    const pruned = tableBytes(w.sqlFile());
    const keptCounts = {};
    for (const table of Object.keys(counts)) keptCounts[table] = (await w.db.prepare(`SELECT count(*) AS n FROM ${table}`).all()).results[0].n;
    const live = (t) => Object.values(t).reduce((n, v) => n + v.table + v.indexes, 0);
    const used = (t) => Object.values(t).reduce((n, v) => n + v.used, 0);
    const perTicket = {};
    for (const [table, v] of Object.entries(afterTables)) {
      const b = beforeTables[table] ?? { table: 0, indexes: 0, used: 0 };
      const p = pruned[table] ?? { table: 0, indexes: 0, used: 0 };
      perTicket[table] = {
        table: (v.table - b.table) / sizeTickets,
        indexes: (v.indexes - b.indexes) / sizeTickets,
        used: (v.used - b.used) / sizeTickets,
        usedAfterPrune: (p.used - b.used) / sizeTickets,
      };
    }
    const result = {
      tickets: sizeTickets,
      counts,
      delivered,
      d1Before: before,
      d1After: after,
      bytesPerTicketD1: (after - before) / sizeTickets,
      bytesPerTicketPages: (live(afterTables) - live(beforeTables)) / sizeTickets,
      bytesPerTicketUsed: (used(afterTables) - used(beforeTables)) / sizeTickets,
      bytesPerTicketKeptUsed: (used(pruned) - used(beforeTables)) / sizeTickets,
      keptCounts,
      perTicket,
    };
    // Pages of rows that are never deleted fill up (ids only grow): the kept bytes in use,
    // scaled by how full this run's pages are, is what a long-lived database holds per ticket.
    result.fill = result.bytesPerTicketUsed / result.bytesPerTicketPages;
    result.bytesPerTicketKept = result.bytesPerTicketKeptUsed / result.fill;
    result.ticketsPer10GB = Math.floor(10e9 / result.bytesPerTicketKept);
    result.ticketsPer10GBBeforePrune = Math.floor(10e9 / result.bytesPerTicketD1);
    return result;
  } finally {
    await w.dispose();
  }
}

// ---------------------------------------------------------------------------- creates
/**
 * An open-loop load: request i is due at start + i/rate whatever the earlier ones do
 * (arrivals do not wait for answers, as customers do not), over keep-alive
 * connections; latency counts from when the request was due, so a server (or a load
 * generator) falling behind shows as latency rather than hiding (coordinated omission).
 * autocannon's fixed-rate mode sends each connection's quota in bursts once a second,
 * which measures the bursts.
 */
async function openLoop(url, makeBody, rate, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(url);
  const total = Math.round(rate * seconds);
  const latencies = [];
  let failed = 0;
  const send = (due, i) =>
    new Promise((resolve) => {
      const { body, ip } = makeBody(i);
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), "cf-connecting-ip": ip },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            latencies.push(performance.now() - due);
            if (res.statusCode !== 201) failed++;
            resolve();
          });
        },
      );
      req.on("error", () => (failed++, resolve()));
      req.end(body);
    });
  const start = performance.now() + 20;
  const inflight = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inflight.push(send(due, i));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { achieved: total / elapsed, p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), failed };
}

async function measureCreates() {
  const w = await freshWorker();
  try {
    // Many customers from many addresses, as a public form sees them: each create's
    // rate-limit buckets hold a handful of hits, as they would under the real limits.
    let serial = 0;
    const description = "The machine restarts every few minutes since the firmware update. ".repeat(8);
    const makeBody = () => {
      serial += 1;
      return {
        body: JSON.stringify(ticket({ description, customer_email: `customer${serial}@mail.example.org` })),
        ip: `10.${(serial >> 16) & 255}.${(serial >> 8) & 255}.${serial & 255}`,
      };
    };
    const body = makeBody().body;
    const url = `${w.url}/api/tickets/create`;
    await openLoop(url, makeBody, 20, 1); // warm-up
    const steps = [];
    for (const rate of [25, 50, 75, 100, 125, 150, 175, 200, 300]) {
      const r = await openLoop(url, makeBody, rate, stepSeconds);
      steps.push({ target: rate, ...r });
      console.log(`capacity: creates at ${rate}/s: ${fmt(r.achieved)}/s, p50 ${fmt(r.p50)} ms, p95 ${fmt(r.p95)} ms, p99 ${fmt(r.p99)} ms, failed ${r.failed}`);
      if (r.p50 > 1000) break; // far past saturation
    }
    // The closed-loop ceiling: 32 connections, each sending as soon as it has its answer.
    const max = await new Promise((resolve, reject) =>
      autocannon(
        {
          url,
          connections: 32,
          duration: stepSeconds,
          requests: [
            {
              method: "POST",
              setupRequest: (req) => {
                const { body: next, ip } = makeBody();
                return { ...req, body: next, headers: { ...req.headers, "content-type": "application/json", "cf-connecting-ip": ip } };
              },
            },
          ],
        },
        (e, r) => (e ? reject(e) : resolve(r)),
      ),
    );
    const ceiling = { achieved: max.requests.total / max.duration, p50: max.latency.p50, p99: max.latency.p99, failed: max.non2xx + max.errors };
    console.log(`capacity: creates, 32 connections flat out: ${fmt(ceiling.achieved)}/s, p50 ${ceiling.p50} ms, p99 ${ceiling.p99} ms`);
    const { results } = await w.db.prepare("SELECT count(*) AS n FROM support_tickets").all();
    // Sustained: the highest rate met (>= 95%) with no failures and p95 within 4x the
    // lowest step's median (beyond it, requests are queueing).
    const base = Math.max(steps[0].p50, 2);
    const sustained = steps.filter((s) => s.achieved >= s.target * 0.95 && s.p95 <= base * 4 && s.failed === 0).pop();
    // SQLite's own work per create: one create's batch, recorded, replayed 500 times on
    // the database file, each in a transaction that is rolled back (the same work every
    // time: the buckets do not fill up; synchronous=OFF, so this is the database's CPU,
    // not this machine's disk). A real D1 database runs one statement at a time: this
    // bounds its create rate whatever the edge does.
    await w.call("/__capacity/sql?record=1", { method: "POST" });
    await w.call("/api/tickets/create", { method: "POST", headers: { "content-type": "application/json" }, body });
    const batch = await (await fetch(`${w.url}/__capacity/sql`)).json();
    const file = w.sqlFile();
    await w.mf.dispose();
    const sqlite = new DatabaseSync(file);
    sqlite.exec("PRAGMA synchronous = OFF");
    const prepared = batch.map((s) => [sqlite.prepare(s.sql), s.params]);
    const times = [];
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      sqlite.exec("BEGIN");
      for (const [stmt, params] of prepared) stmt.all(...params);
      sqlite.exec("ROLLBACK");
      times.push(performance.now() - t);
    }
    sqlite.close();
    times.sort((a, b) => a - b);
    const sqliteMsPerCreate = percentile(times, 50);
    console.log(`capacity: SQLite's own time per create batch (${batch.length} statements): ${fmt(sqliteMsPerCreate, 3)} ms`);
    return { steps, ceiling, sustained: sustained?.target ?? null, ticketsWritten: results[0].n, sqliteMsPerCreate, batchStatements: batch.length };
  } finally {
    await w.dispose().catch(() => {});
  }
}

// ---------------------------------------------------------------------------- list
const LIST_QUERIES = [
  ["newest first (default)", ""],
  ["oldest first", "order=asc"],
  ["sort=updated_at", "sort=updated_at"],
  ["sort=priority", "sort=priority"],
  ["status=open", "status=open"],
  ["the queue: status=open,assigned", "status=open,assigned"],
  ["the queue by priority", "status=open,assigned&sort=priority"],
  ["my queue by priority", "status=open,assigned&assigned_to=me&sort=priority"],
  ["status=closed&sort=updated_at", "status=closed&sort=updated_at"],
  ["priority=urgent", "priority=urgent"],
  ["category=billing", "category=billing"],
  ["assigned_to=<id>", "assigned_to=STAFF"],
  ["assigned_to=none", "assigned_to=none"],
  ["customer_email", "customer_email=customer123%40outlook.com"],
  ["q=<common word> (substring)", "q=warranty"],
  ["q=<rare text> (substring)", "q=customer4242%40"],
  ["created_after (last month)", "created_after=2026-11-01T00:00:00Z"],
  ["include_total=true", "include_total=true"],
  ["status=open&include_total=true", "status=open&include_total=true"],
  ["page 2 (cursor), newest first", "CURSOR:"],
  ["page 2 (cursor), by priority", "CURSOR:sort=priority"],
];

async function timeHttp(w, auth, path, samples) {
  const times = [];
  let res;
  for (let i = 0; i < samples + 2; i++) {
    const t0 = performance.now();
    res = await w.call(path, { headers: auth });
    if (i >= 2) times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

/** The statements the worker sends for `path` (recorded by the wrapper around D1). */
async function statementsFor(w, auth, path) {
  await w.call("/__capacity/sql?record=1", { method: "POST" });
  await w.call(path, { headers: auth });
  const statements = await (await fetch(`${w.url}/__capacity/sql`)).json();
  await w.call("/__capacity/sql", { method: "POST" });
  // The route's own statements, not the session check.
  return statements.filter((s) => /FROM support_tickets/.test(s.sql));
}

/** SQLite's own time for a statement (median of 9, ms) and its plan, on the file. */
function sqliteTime(db, { sql, params }) {
  const stmt = db.prepare(sql);
  const times = [];
  for (let i = 0; i < 9; i++) {
    const t = performance.now();
    stmt.all(...params);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => r.detail);
  return { ms: times[4], plan };
}

const shortSql = (sql) => sql.replace(/\s+/g, " ").replace(/SELECT t\.id.*? FROM/, "SELECT <columns> FROM");

/**
 * The CRM list at `listTickets` tickets. The current build against the database with
 * every migration ("after"); then, on the same data with the index migration's
 * indexes dropped and the statements' INDEXED BY removed (what the code sent before),
 * SQLite's time again ("before"); and with --before-build DIR, that older build over
 * HTTP too.
 */
async function measureList() {
  // Migrate and add staff through the worker's D1, seed the SQLite file with the worker
  // stopped, then serve it again.
  const first = await freshWorker();
  const staffIds = [];
  for (let i = 0; i < 20; i++) staffIds.push(await createStaff(first.db, { email: `agent${i}@capacity.example`, password: PASSWORD }));
  const { persist } = first;
  const file = first.sqlFile();
  await first.mf.dispose();
  let sqlite = new DatabaseSync(file);
  const seeded = seedTickets(sqlite, { count: listTickets, staffIds, onProgress: (n) => n % 20_000 === 0 && console.log(`capacity: seeded ${n} tickets`) });
  sqlite.close();
  console.log(`capacity: seeded ${seeded.tickets} tickets, ${seeded.events} events, ${seeded.messages} messages in ${(seeded.ms / 1000).toFixed(1)} s`);
  const serve = (buildDir) => startCapacityWorker({ persist, bindings: { ...SECRET_VARS, ...UNLIMITED }, buildDir });

  const rows = [];
  let size;
  let w = await serve();
  try {
    const auth = await loginAs(w, "agent0@capacity.example");
    const firstPage = await w.call("/api/crm/tickets", { headers: auth });
    const byPriority = await w.call("/api/crm/tickets?sort=priority", { headers: auth });
    for (const [name, q] of LIST_QUERIES) {
      let query = q.replace("STAFF", String(staffIds[3]));
      if (q === "CURSOR:") query = `cursor=${firstPage.body.data.next_cursor}`;
      if (q === "CURSOR:sort=priority") query = `sort=priority&cursor=${byPriority.body.data.next_cursor}`;
      const path = `/api/crm/tickets?${query}`;
      rows.push({ name, query: query.replace(/cursor=[^&]+/, "cursor=..."), path, http: await timeHttp(w, auth, path, 15), statements: await statementsFor(w, auth, path) });
    }
    rows.push({ name: "the dashboard: GET /api/crm/stats", query: "", path: "/api/crm/stats", http: await timeHttp(w, auth, "/api/crm/stats", 10), statements: await statementsFor(w, auth, "/api/crm/stats") });
    size = await d1Size(w.db);
  } finally {
    await w.mf.dispose();
  }

  // SQLite's time for the same statements, with the indexes (after) and without (before).
  sqlite = new DatabaseSync(file);
  for (const row of rows) row.after = row.statements.map((s) => sqliteTime(sqlite, s));
  const indexes = indexFile ? [...readFileSync(path.join(root, indexFile), "utf8").matchAll(/CREATE INDEX (\w+)/g)].map((m) => m[1]) : [];
  for (const name of indexes) sqlite.exec(`DROP INDEX ${name}`);
  for (const row of rows) row.before = row.statements.map((s) => sqliteTime(sqlite, { ...s, sql: s.sql.replace(/ INDEXED BY \w+/, "") }));
  sqlite.close();
  for (const row of rows) {
    const total = (list) => list.reduce((n, x) => n + x.ms, 0);
    console.log(`capacity: list ${row.name}: HTTP p50 ${fmt(row.http.p50)} ms; SQLite ${fmt(total(row.before), 2)} -> ${fmt(total(row.after), 2)} ms; ${row.after.map((a) => a.plan.join(" / ")).join(" | ")}`);
  }

  // Optionally the build from before the indexes, over HTTP, on the data without them.
  if (beforeBuild) {
    w = await serve(beforeBuild);
    try {
      const auth = await loginAs(w, "agent0@capacity.example");
      for (const row of rows) row.httpBefore = await timeHttp(w, auth, row.path, 15).catch((e) => ({ error: e.message }));
    } finally {
      await w.mf.dispose();
    }
  }
  rmSync(persist, { recursive: true, force: true });
  return { tickets: seeded, indexFile, indexes, size, rows: rows.map(({ statements, ...r }) => ({ ...r, sql: statements.map((s) => shortSql(s.sql)) })) };
}

// ---------------------------------------------------------------------------- report
function markdown(r) {
  const out = [`# Capacity (make capacity)`, ``, `Measured ${r.at} on this machine (${r.machine.cpus} cores, Node ${r.machine.node}), release build in Miniflare, D1 persisted to SQLite.`, ``];
  if (r.size) {
    const s = r.size;
    out.push(`## Bytes per ticket (${s.tickets} tickets through the API, each with a customer reply, a staff reply, an internal note, assign, resolve, close, email and webhook notifications delivered)`, ``);
    out.push(`| measure | bytes per ticket |`, `|---|--:|`);
    out.push(`| D1 size growth (meta.size_after: what D1 bills) | ${fmt(s.bytesPerTicketD1, 0)} |`);
    out.push(`| pages of all tables and indexes (dbstat) | ${fmt(s.bytesPerTicketPages, 0)} |`);
    out.push(`| bytes in use in those pages (pages ${fmt(s.fill * 100, 0)}% full) | ${fmt(s.bytesPerTicketUsed, 0)} |`);
    out.push(`| in use after the cron's pruning (sent notifications after 30 days, rate-limit hits, idempotency records) | ${fmt(s.bytesPerTicketKeptUsed, 0)} |`);
    out.push(`| kept per ticket in a long-lived database (the above at this run's page fill) | **${fmt(s.bytesPerTicketKept, 0)}** |`);
    out.push(``, `Tickets per 10 GB (10^10 bytes): **${s.ticketsPer10GB.toLocaleString("en")}** at the kept bytes; ${s.ticketsPer10GBBeforePrune.toLocaleString("en")} at the D1 growth before any pruning.`, ``);
    out.push(`Rows written: ${Object.entries(s.counts).map(([t, n]) => `${t} ${n}`).join(", ")}; delivered ${s.delivered.email} emails, ${s.delivered.webhook} webhooks. After pruning: ${Object.entries(s.keptCounts).map(([t, n]) => `${t} ${n}`).join(", ")}.`, ``);
    out.push(`| table | table pages, bytes/ticket | index pages, bytes/ticket | in use | in use after pruning |`, `|---|--:|--:|--:|--:|`);
    for (const [t, v] of Object.entries(s.perTicket).filter(([, v]) => Math.abs(v.used) > 1)) out.push(`| ${t} | ${fmt(v.table, 0)} | ${fmt(v.indexes, 0)} | ${fmt(v.used, 0)} | ${fmt(v.usedAfterPrune, 0)} |`);
    out.push(``);
  }
  if (r.creates) {
    const c = r.creates;
    out.push(`## Public creates per second (one local D1; open-loop arrivals at a fixed rate, ${stepSeconds} s per step; latency from when each request was due)`, ``, `| target/s | achieved/s | p50 ms | p95 ms | p99 ms | failed |`, `|--:|--:|--:|--:|--:|--:|`);
    for (const s of c.steps) out.push(`| ${s.target} | ${fmt(s.achieved)} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(s.p99)} | ${s.failed} |`);
    out.push(`| 32 connections flat out (autocannon) | ${fmt(c.ceiling.achieved)} | ${c.ceiling.p50} | | ${c.ceiling.p99} | ${c.ceiling.failed} |`);
    out.push(``, `Sustained (met >= 95% of the rate, no failures, p95 within 4x the lowest step's median): **${c.sustained ?? "-"} creates/s**. ${c.ticketsWritten} tickets written.`, ``);
    out.push(`SQLite's own time for one create's batch (${c.batchStatements} statements, replayed 500 times on the database file in transactions rolled back, synchronous off): **${fmt(c.sqliteMsPerCreate, 3)} ms** median, a ceiling of about ${Math.round(1000 / c.sqliteMsPerCreate).toLocaleString("en")} creates/s for a database that runs one statement at a time.`, ``);
  }
  if (r.list) {
    const l = r.list;
    const total = (list) => (list ? list.reduce((n, x) => n + x.ms, 0) : null);
    out.push(`## The CRM list at ${l.tickets.tickets.toLocaleString("en")} tickets (${l.tickets.events.toLocaleString("en")} events, ${l.tickets.messages.toLocaleString("en")} messages; D1 ${(l.size / 1e6).toFixed(0)} MB)`, ``);
    out.push(
      `SQLite's own time for the statements the worker sent (median of 9, read from the database file), without and with the indexes of ${l.indexFile} ` +
        `(${l.indexes.join(", ")}); HTTP latency end to end (median and p95 of 15 requests, the session check included), with them` +
        (l.rows[0]?.httpBefore ? " and, for the build before them, without." : "."),
      ``,
    );
    out.push(`| query | SQLite before ms | SQLite after ms | HTTP after p50 / p95 ms |${l.rows[0]?.httpBefore ? " HTTP before p50 / p95 ms |" : ""}`, `|---|--:|--:|--:|${l.rows[0]?.httpBefore ? "--:|" : ""}`);
    for (const row of l.rows) {
      const before = row.httpBefore ? ` ${row.httpBefore.error ? "error" : `${fmt(row.httpBefore.p50)} / ${fmt(row.httpBefore.p95)}`} |` : "";
      out.push(`| ${row.name} \`${row.query}\` | ${fmt(total(row.before), 2)} | ${fmt(total(row.after), 2)} | ${fmt(row.http.p50)} / ${fmt(row.http.p95)} |${before}`);
    }
    out.push(``, `### Query plans (EXPLAIN QUERY PLAN)`, ``);
    for (const row of l.rows) {
      out.push(`**${row.name}** \`${row.query}\``, ``);
      row.after.forEach((a, k) => {
        const b = row.before[k];
        if (b.plan.join() !== a.plan.join()) out.push(`- before: ${b.plan.join("; ")}`);
        out.push(`- ${b.plan.join() === a.plan.join() ? "before and after" : "after"}: ${a.plan.join("; ")}`);
      });
      out.push(``);
    }
    out.push(`The page's SQL (the queue): \`${l.rows.find((x) => x.query === "status=open,assigned")?.sql[0]}\``, ``);
  }
  return out.join("\n");
}

const outDir = path.join(root, "bench/results");
mkdirSync(outDir, { recursive: true });
if (only.includes("size")) report.size = await measureSize();
if (only.includes("creates")) report.creates = await measureCreates();
if (only.includes("list")) report.list = await measureList();
writeFileSync(path.join(outDir, "capacity.json"), JSON.stringify(report, null, 2));
writeFileSync(path.join(outDir, "capacity.md"), markdown(report) + "\n");
console.log(`\n${markdown(report)}`);
