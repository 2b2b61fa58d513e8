// Seeds a D1 database with tickets shaped like a helpdesk's history: two years of
// tickets, most of them closed, with their audit events and conversation, written as
// INSERTs with bound parameters in transactions of 2,000 tickets, straight into the
// database's SQLite file (node:sqlite) while no worker has it open: through the D1
// binding from Node, every statement is a round trip into workerd, and 100,000 tickets
// took over a quarter of an hour. Used by `make capacity` for the CRM list; the
// bytes-per-ticket figure comes from tickets created through the API instead.
//
//   import { seedTickets } from "./seed-tickets.mjs";
//   seedTickets(new DatabaseSync(file), { count: 100_000, staffIds: [1, 2, ...] });
//
// Deterministic (a seeded PRNG), so two runs measure the same data.

const WORDS = (
  "machine miner hashrate firmware fan noise overheating power supply board restart error code " +
  "invoice payment refund shipping tracking order warranty replacement account login password reset " +
  "email verification dashboard pool worker offline online temperature chip voltage update version " +
  "network cable router connection stable unstable slow fast customer support please help thanks " +
  "since yesterday today morning after before again still not working broken fixed tried already " +
  "manual guide setting configuration address wallet payout balance missing delayed received sent"
).split(" ");
const FIRST = ["Ana", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Julia", "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya"];
const LAST = ["Silva", "Smith", "Wang", "Okafor", "Kowalski", "Haddad", "Novak", "Tanaka", "Ivanova", "Moreau", "Mensah", "Fischer", "Garcia", "Berg", "Rahman", "Patel"];
const CATEGORIES = ["general", "technical", "billing", "account", "other"];

/** mulberry32: a small seeded PRNG. */
export function prng(seed = 42) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function textGenerator(random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  /** About `chars` characters of sentences. */
  const text = (chars) => {
    let out = "";
    while (out.length < chars) {
      const n = 6 + Math.floor(random() * 12);
      const words = Array.from({ length: n }, () => pick(WORDS));
      words[0] = words[0][0].toUpperCase() + words[0].slice(1);
      out += (out ? " " : "") + words.join(" ") + ".";
    }
    return out;
  };
  /** A length drawn from a skewed distribution around `median` (most short, some long). */
  const length = (median, max) => Math.min(max, Math.round(median * Math.exp((random() - 0.5) * 2)));
  return { pick, text, length };
}

const weighted = (random, pairs) => {
  let r = random() * pairs.reduce((n, [, w]) => n + w, 0);
  for (const [value, weight] of pairs) if ((r -= weight) < 0) return value;
  return pairs[pairs.length - 1][0];
};

const iso = (ms) => new Date(ms).toISOString();

/**
 * Inserts `count` tickets (ids after the current maximum) with events and messages into
 * `db`, a node:sqlite DatabaseSync. Answers { tickets, events, messages, ms }.
 */
export function seedTickets(db, { count, staffIds, seed = 42, years = 2, end = Date.parse("2026-11-30T00:00:00Z"), onProgress } = {}) {
  const started = Date.now();
  const random = prng(seed);
  const { pick, text, length } = textGenerator(random);
  let id = db.prepare("SELECT coalesce(max(id), 0) AS id FROM support_tickets").get().id;
  const span = years * 365 * 86_400_000;
  const customers = Math.max(1, Math.round(count * 0.6)); // repeat customers: 0.6 addresses per ticket
  // Numbers continue each year's sequence (a second seed, or tickets created before).
  const perYear = new Map(db.prepare("SELECT year, last_seq FROM ticket_counters").all().map((c) => [c.year, c.last_seq]));
  const counts = { tickets: 0, events: 0, messages: 0 };
  db.exec("BEGIN");
  const insertTicket = db.prepare(
    `INSERT INTO support_tickets (id, ticket_number, subject, description, customer_name, customer_email, priority, category,
       status, assigned_to, assigned_at, resolved_at, closed_at, created_at, updated_at, version, requester_verified)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)`,
  );
  const insertEvent = db.prepare(
    "INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  );
  const insertMessage = db.prepare(
    "INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
  );
  for (let i = 0; i < count; i++) {
    id += 1;
    // Creation times spread over the span, denser lately (a growing business).
    const created = end - Math.floor(span * Math.pow(random(), 1.5));
    const year = new Date(created).getUTCFullYear();
    const seq = (perYear.get(year) ?? 0) + 1;
    perYear.set(year, seq);
    const age = end - created;
    // Old tickets are mostly closed; recent ones are still being worked.
    const status = age > 14 * 86_400_000
      ? weighted(random, [["closed", 90], ["resolved", 6], ["assigned", 3], ["open", 1]])
      : weighted(random, [["open", 30], ["assigned", 40], ["resolved", 20], ["closed", 10]]);
    const priority = weighted(random, [["low", 25], ["medium", 50], ["high", 20], ["urgent", 5]]);
    const category = weighted(random, CATEGORIES.map((c, k) => [c, [30, 35, 20, 10, 5][k]]));
    const customer = Math.floor(random() * customers);
    const name = `${pick(FIRST)} ${pick(LAST)}`;
    const email = `customer${customer}@${["gmail.com", "outlook.com", "proton.me", "example.org"][customer % 4]}`;
    const assignee = status === "open" ? null : pick(staffIds);
    const at = (minutes) => iso(created + minutes * 60_000);
    const assignedAt = assignee ? at(30 + random() * 600) : null;
    const resolvedAt = status === "resolved" || status === "closed" ? at(700 + random() * 4000) : null;
    const closedAt = status === "closed" ? at(5000 + random() * 10000) : null;
    const updated = closedAt ?? resolvedAt ?? assignedAt ?? at(0);
    const subject = text(length(50, 190)).slice(0, 200);
    const description = text(length(500, 5000));
    const events = [["created", "public", null, "{}", at(0)]];
    if (assignee) events.push(["assigned", "staff", assignee, JSON.stringify({ status: { from: "open", to: "assigned" }, assigned_to: { from: null, to: assignee } }), assignedAt]);
    if (resolvedAt) events.push(["resolved", "staff", assignee, JSON.stringify({ status: { from: "assigned", to: "resolved" } }), resolvedAt]);
    if (closedAt) events.push(["closed", "staff", assignee, JSON.stringify({ status: { from: "resolved", to: "closed" } }), closedAt]);
    const messages = [];
    const replies = assignee ? 1 + Math.floor(random() * 4) : Math.floor(random() * 2);
    for (let m = 0; m < replies; m++) {
      const fromStaff = assignee && m % 2 === 0;
      messages.push([fromStaff ? "staff" : "customer", fromStaff ? assignee : null, text(length(250, 3000)), fromStaff && random() < 0.15 ? 1 : 0, at(60 + m * 300)]);
    }
    insertTicket.run(id, `TKT-${year}-${String(seq).padStart(4, "0")}`, subject, description, name, email, priority, category,
      status, assignee, assignedAt, resolvedAt, closedAt, at(0), updated, events.length, random() < 0.4 ? 1 : 0);
    for (const e of events) insertEvent.run(id, ...e);
    for (const m of messages) insertMessage.run(id, ...m);
    counts.tickets += 1;
    counts.events += events.length;
    counts.messages += messages.length;
    if (counts.tickets % 2000 === 0) {
      db.exec("COMMIT");
      onProgress?.(counts.tickets);
      db.exec("BEGIN");
    }
  }
  // The per-year counters, so tickets created after the seed get the next numbers.
  const counter = db.prepare(
    "INSERT INTO ticket_counters (year, last_seq) VALUES (?1, ?2) ON CONFLICT (year) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)",
  );
  for (const [year, last] of perYear) counter.run(year, last);
  db.exec("COMMIT");
  return { ...counts, ms: Date.now() - started };
}
