// The reference's CRM list and view, as the product does them today:
//   - the session check of src/app/sessions.rs: the bearer token's shape and one KV
//     read of `session:<sha256>` (the record's own deadline rules: `claim`), then the
//     staff row, its session epoch and whether the token was revoked as the first
//     statement of the route's own batch, every other statement guarded by the same
//     condition (src/store/guard.rs); a 400 given before the batch is preceded by the
//     check alone, as dispatch in src/routes/mod.rs does: 1 KV read, no D1 of its own;
//   - GET /api/crm/tickets: src/domain/listing.rs `TicketQuery::parse` (filters, sort,
//     keyset cursor) and src/store/tickets/listing.rs `page` (the same SQL, the same
//     pinned index, the total and the session check in the same batch): 1 D1 round trip;
//   - GET /api/crm/tickets/{id or number}: src/store/tickets/reads.rs
//     `with_thread_and_events` (ticket, events, every message, their files: one
//     batch, with the session check), rendered as src/routes/answers.rs does: 1 D1 round trip.
import {
  ApiError,
  validationError,
  fieldError,
  success,
  unauthorized,
  internalError,
  rustTrim,
  asciiLower,
  charCount,
  bearer,
  base64url,
  base64urlDecode,
  sha256Hex,
  parseTimestamp,
  rfc3339,
  canonicalTime,
  isTicketNumber,
  parseId,
  T_TICKET_COLUMNS,
  M_MESSAGE_COLUMNS,
  A_ATTACHMENT_COLUMNS,
  Params,
  trips,
} from "./common.mjs";

// ---------------------------------------------------------------- sessions (src/app/sessions.rs)

const STAFF_COLUMNS = "id, email, name, role, active, created_at, updated_at";
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
const isInteger = (v) => typeof v === "number" && Number.isSafeInteger(v);

const invalid = () => unauthorized("The session is invalid or has expired; log in again.");

/** The session as its KV record claims it (src/app/sessions.rs `claim`): the token's
 * shape and one KV read; the D1 check rides in the route's own batch (`guard`). */
async function claim(c, needs = "agent") {
  const header = c.req.header("Authorization");
  if (header === undefined) throw unauthorized("Send Authorization: Bearer <token> from POST /api/crm/auth/login.");
  const token = bearer(header);
  if (token === undefined || !SESSION_TOKEN.test(token)) throw unauthorized("The Authorization header must be: Bearer <token>.");
  const tokenHash = await sha256Hex(new TextEncoder().encode(token));
  trips(c).kv++;
  const text = await c.env.SESSIONS.get(`session:${tokenHash}`);
  let record;
  try {
    record = text === null ? null : JSON.parse(text);
  } catch {}
  const expiresAt = typeof record?.expires_at === "string" ? parseTimestamp(record.expires_at) : undefined;
  const valid =
    record && isInteger(record.staff_id) && isInteger(record.epoch) && typeof record.created_at === "string" &&
    parseTimestamp(record.created_at) !== undefined && expiresAt !== undefined;
  // KV expiry is lazy and eventually consistent: the record's own deadline rules.
  if (!valid || expiresAt <= c.get("clock").getTime()) throw invalid();
  return { staffId: record.staff_id, epoch: record.epoch, tokenHash, adminOnly: needs === "admin" };
}

/** The batch's first statement (src/store/guard.rs `session_check_statement`). */
const checkStatement = (db, claimed) =>
  db
    .prepare(
      `SELECT ${STAFF_COLUMNS}, session_epoch,
                EXISTS (SELECT 1 FROM revoked_sessions WHERE token_hash = ?2) AS revoked
         FROM crm_staff WHERE id = ?1`,
    )
    .bind(claimed.staffId, claimed.tokenHash);

/** `Guard::condition`: true only while the claim holds; its parameters appended to `values`. */
function guard(claimed, values) {
  const first = values.length + 1;
  values.push(claimed.staffId, claimed.epoch, claimed.tokenHash);
  const role = claimed.adminOnly ? " AND g.role = 'admin'" : "";
  return `EXISTS (SELECT 1 FROM crm_staff g WHERE g.id = ?${first} AND g.active = 1
                       AND g.session_epoch = ?${first + 1}${role})
             AND NOT EXISTS (SELECT 1 FROM revoked_sessions WHERE token_hash = ?${first + 2})`;
}

/** `judge`: the check's row against the claim: the staff member, or 401 / 403. */
function judge(check, claimed) {
  if (!check || check.revoked !== 0 || check.active === 0 || check.session_epoch !== claimed.epoch) throw invalid();
  if (claimed.adminOnly && check.role !== "admin") throw new ApiError(403, "forbidden", "Forbidden", "This route is for admins.");
  return check;
}

/** The claim checked in a round trip of its own: what dispatch does before an answer
 * the handler gave without running its batch (a 400), so a bad session gets its 401 first. */
async function confirm(c, claimed) {
  trips(c).d1++;
  judge(await checkStatement(c.env.DB, claimed).first(), claimed);
}

/** Runs the route's statements after the check, in one batch; their results once the check holds. */
async function guarded(c, claimed, statements) {
  const db = c.env.DB;
  trips(c).d1++;
  const [check, ...results] = await db.batch([checkStatement(db, claimed), ...statements]);
  judge(check.results[0], claimed);
  return results;
}

// ---------------------------------------------------------------- the list query (src/domain/listing.rs)

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 100;
const MAX_QUERY_CHARS = 200;
const STATUSES = ["open", "assigned", "resolved", "closed"];
const PRIORITY_RANK = { low: 1, medium: 2, high: 3, urgent: 4 };
const SORTS = ["created_at", "updated_at", "priority"];
const I64_MAX = 2n ** 63n - 1n;

/** `str::parse::<i64>()` / `::<u32>()`: an optional sign and digits, within the type. */
function parseInteger(value, min, max) {
  if (!/^[+-]?[0-9]+$/.test(value)) return undefined;
  const n = BigInt(value);
  return n >= min && n <= max ? n : undefined;
}

/** A cursor this API issued: base64url of `{"s":sort,"o":order,"k":key,"i":id}`. */
function decodeCursor(text) {
  const bytes = base64urlDecode(text);
  if (!bytes) return undefined;
  let c;
  try {
    c = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (!c || typeof c !== "object" || !SORTS.includes(c.s) || !["asc", "desc"].includes(c.o) || !isInteger(c.i)) return undefined;
  // `k` is untagged: a rank (an integer) or a timestamp (a string), and must fit the sort.
  const rank = isInteger(c.k);
  const time = typeof c.k === "string" ? parseTimestamp(c.k) : undefined;
  if (c.s === "priority" ? !rank : time === undefined) return undefined;
  return { sort: c.s, order: c.o, key: rank ? c.k : rfc3339(time), id: c.i };
}

const encodeCursor = (c) => base64url(new TextEncoder().encode(JSON.stringify({ s: c.sort, o: c.order, k: c.key, i: c.id })));

/** `TicketQuery::parse`: every bad parameter reported, unknown ones ignored. */
function parseQuery(pairs, me) {
  const errors = [];
  const q = {
    statuses: [], priorities: [], category: undefined, assignedTo: undefined, customerEmail: undefined, text: undefined,
    createdAfter: undefined, createdBefore: undefined, sort: "created_at", order: "desc", limit: DEFAULT_LIMIT, cursor: undefined,
    includeTotal: false,
  };
  let cursorText;
  for (const [name, raw] of pairs) {
    const value = rustTrim(raw);
    const bad = (code, message) => errors.push(fieldError(name, code, message));
    const list = () => value.split(",").map(rustTrim).filter((p) => p !== "");
    switch (name) {
      case "status":
        for (const part of list()) {
          if (!STATUSES.includes(part)) bad("invalid_choice", "status must be one of: open, assigned, resolved, closed");
          else if (!q.statuses.includes(part)) q.statuses.push(part);
        }
        break;
      case "priority":
        for (const part of list()) {
          if (!Object.hasOwn(PRIORITY_RANK, part)) bad("invalid_choice", "priority must be one of: low, medium, high, urgent");
          else if (!q.priorities.includes(part)) q.priorities.push(part);
        }
        break;
      case "category":
        if (value !== "") q.category = asciiLower(value);
        break;
      case "assigned_to": {
        if (value === "me") q.assignedTo = { staff: me };
        else if (value === "none") q.assignedTo = { unassigned: true };
        else {
          const id = parseInteger(value, -I64_MAX - 1n, I64_MAX);
          if (id !== undefined && id > 0n) q.assignedTo = { staff: Number(id) };
          else bad("invalid_choice", "assigned_to must be a staff id, me or none");
        }
        break;
      }
      case "customer_email":
        if (value !== "") q.customerEmail = value;
        break;
      case "q":
        if (value === "") break;
        if (charCount(value) > MAX_QUERY_CHARS) bad("too_long", `q must be at most ${MAX_QUERY_CHARS} characters`);
        else q.text = value;
        break;
      case "created_after":
      case "created_before": {
        const at = parseTimestamp(value);
        if (at === undefined) bad("invalid_timestamp", `${name} must be an RFC 3339 timestamp`);
        else if (name === "created_after") q.createdAfter = at;
        else q.createdBefore = at;
        break;
      }
      case "sort":
        if (SORTS.includes(value)) q.sort = value;
        else bad("invalid_choice", "sort must be one of: created_at, updated_at, priority");
        break;
      case "order":
        if (value === "asc" || value === "desc") q.order = value;
        else bad("invalid_choice", "order must be asc or desc");
        break;
      case "limit": {
        const n = value.startsWith("-") ? undefined : parseInteger(value, 0n, 2n ** 32n - 1n);
        if (n !== undefined && n >= 1n && n <= BigInt(MAX_LIMIT)) q.limit = Number(n);
        else bad("invalid_integer", `limit must be an integer from 1 to ${MAX_LIMIT}`);
        break;
      }
      case "cursor":
        if (value !== "") cursorText = value;
        break;
      case "include_total":
        if (value === "true" || value === "1") q.includeTotal = true;
        else if (value === "false" || value === "0" || value === "") q.includeTotal = false;
        else bad("invalid_choice", "include_total must be true or false");
        break;
    }
  }
  if (cursorText !== undefined) {
    const cursor = decodeCursor(cursorText);
    if (cursor && cursor.sort === q.sort && cursor.order === q.order) q.cursor = cursor;
    else if (cursor) errors.push(fieldError("cursor", "invalid_cursor", "cursor belongs to another sort order; start again without it"));
    else errors.push(fieldError("cursor", "invalid_cursor", "cursor is not one this API issued"));
  }
  if (errors.length) throw validationError(errors);
  return q;
}

// ---------------------------------------------------------------- the list SQL (src/store/tickets/listing.rs)

const PRIORITY_RANK_SQL = `(CASE t.priority${Object.entries(PRIORITY_RANK).map(([p, r]) => ` WHEN '${p}' THEN ${r}`).join("")} END)`;

/** The index the page query names where SQLite's planner would guess (`pinned_index`). */
function pinnedIndex(q) {
  if (q.customerEmail !== undefined) return undefined;
  const statuses = q.statuses.length > 0;
  if (q.assignedTo) return statuses ? "idx_tickets_assigned_status" : "idx_tickets_assigned_created";
  if (!statuses) return undefined;
  return { created_at: "idx_tickets_status_created", updated_at: "idx_tickets_status_updated", priority: "idx_tickets_status_priority" }[q.sort];
}

async function page(c, claimed, q) {
  const db = c.env.DB;
  const params = new Params();
  const filters = ["1 = 1"];
  if (q.statuses.length) filters.push(`t.status IN (${q.statuses.map((s) => `'${s}'`).join(", ")})`);
  if (q.priorities.length) filters.push(`t.priority IN (${q.priorities.map((p) => params.bind(p)).join(", ")})`);
  if (q.category !== undefined) filters.push(`t.category = ${params.bind(q.category)}`);
  if (q.assignedTo?.staff !== undefined) filters.push(`t.assigned_to = ${params.bind(q.assignedTo.staff)}`);
  else if (q.assignedTo?.unassigned) filters.push("t.assigned_to IS NULL");
  if (q.customerEmail !== undefined) filters.push(`t.customer_email = ${params.bind(q.customerEmail)} COLLATE NOCASE`);
  if (q.text !== undefined) {
    const escaped = q.text.replace(/\\/g, "\\\\").replace(/%/g, "\\%").replace(/_/g, "\\_");
    const p = params.bind(`%${escaped}%`);
    const like = ["ticket_number", "subject", "description", "customer_name", "customer_email"].map((col) => `t.${col} LIKE ${p} ESCAPE '\\'`);
    filters.push(`(${like.join(" OR ")})`);
  }
  if (q.createdAfter !== undefined) filters.push(`t.created_at > ${params.bind(rfc3339(q.createdAfter))}`);
  if (q.createdBefore !== undefined) filters.push(`t.created_at < ${params.bind(rfc3339(q.createdBefore))}`);
  const filterSql = filters.join(" AND ");
  const filterParams = [...params.values];

  const sortSql = { created_at: "t.created_at", updated_at: "t.updated_at", priority: PRIORITY_RANK_SQL }[q.sort];
  const [direction, comparison] = q.order === "asc" ? ["ASC", ">"] : ["DESC", "<"];
  let pageSql = filterSql;
  if (q.cursor) {
    const key = params.bind(q.cursor.key);
    const id = params.bind(q.cursor.id);
    pageSql += ` AND (${sortSql}, t.id) ${comparison} (${key}, ${id})`;
  }
  const limit = params.bind(q.limit + 1);
  const index = pinnedIndex(q);
  const pinned = index ? ` INDEXED BY ${index}` : "";
  const pageParams = params.values;
  const pageGuard = guard(claimed, pageParams);
  const statements = [
    db
      .prepare(
        `SELECT ${T_TICKET_COLUMNS} FROM support_tickets t${pinned} WHERE ${pageSql} AND ${pageGuard}
             ORDER BY ${sortSql} ${direction}, t.id ${direction} LIMIT ${limit}`,
      )
      .bind(...pageParams),
  ];
  if (q.includeTotal) {
    const totalGuard = guard(claimed, filterParams);
    statements.push(db.prepare(`SELECT count(*) AS total FROM support_tickets t WHERE ${filterSql} AND ${totalGuard}`).bind(...filterParams));
  }
  const results = await guarded(c, claimed, statements);
  return { tickets: results[0].results, total: results[1]?.results?.[0]?.total };
}

// ---------------------------------------------------------------- answers (src/routes/answers.rs)

/** `TicketAnswer`: a ticket row field by field. */
const ticketAnswer = (t) => ({
  id: t.id,
  ticket_number: t.ticket_number,
  subject: t.subject,
  description: t.description,
  user_id: t.user_id,
  customer_name: t.customer_name,
  customer_email: t.customer_email,
  priority: t.priority,
  category: t.category,
  status: t.status,
  assigned_to: t.assigned_to,
  assigned_at: canonicalTime(t.assigned_at),
  resolved_at: canonicalTime(t.resolved_at),
  closed_at: canonicalTime(t.closed_at),
  created_by: t.created_by,
  created_at: canonicalTime(t.created_at),
  updated_at: canonicalTime(t.updated_at),
  version: t.version,
  requester_verified: t.requester_verified !== 0,
});

/** `GET /api/crm/tickets`: filters, sort, cursor pagination. */
export async function listTickets(c) {
  const claimed = await claim(c);
  const url = c.req.url;
  const q0 = url.indexOf("?");
  const pairs = q0 < 0 ? [] : new URLSearchParams(url.slice(q0 + 1).split("#")[0]);
  let q;
  try {
    q = parseQuery(pairs, claimed.staffId);
  } catch (e) {
    await confirm(c, claimed);
    throw e;
  }
  const { tickets, total } = await page(c, claimed, q);
  let nextCursor = null;
  if (tickets.length > q.limit) {
    tickets.length = q.limit;
    const last = tickets[tickets.length - 1];
    const key = q.sort === "priority" ? PRIORITY_RANK[last.priority] : canonicalTime(q.sort === "created_at" ? last.created_at : last.updated_at);
    nextCursor = encodeCursor({ sort: q.sort, order: q.order, key, id: last.id });
  }
  const data = { tickets: tickets.map(ticketAnswer), next_cursor: nextCursor };
  if (q.includeTotal && total != null) data.total = total;
  return success(200, "Tickets", data);
}

// src/domain/lifecycle.rs `allowed_actions`: the actions in order, with the statuses each starts from.
const ACTIONS = [
  ["assign", ["open", "assigned"]],
  ["unassign", ["assigned"]],
  ["resolve", ["open", "assigned"]],
  ["close", ["open", "assigned", "resolved"]],
  ["reopen", ["resolved", "closed"]],
];

const ticketNotFound = () => new ApiError(404, "not_found", "Not found", "No ticket has this id or number.");

/** The `{ticket}` segment: a ticket number, else a positive id. */
export function ticketRef(segment) {
  if (isTicketNumber(segment)) return { condition: "t.ticket_number = ?1", value: segment };
  const id = parseId(segment);
  return id === undefined ? undefined : { condition: "t.id = ?1", value: id };
}

/** `GET /api/crm/tickets/{id or number}`: the ticket, its allowed actions, timeline and thread. */
export async function viewTicket(c, ref) {
  const claimed = await claim(c);
  const db = c.env.DB;
  const { condition, value } = ref;
  // Each statement: the reference's value as ?1, the guard's parameters after it.
  const statement = (sql) => {
    const values = [value];
    const g = guard(claimed, values);
    return db.prepare(sql(g)).bind(...values);
  };
  const [ticket, events, messages, files] = await guarded(c, claimed, [
    statement((g) => `SELECT ${T_TICKET_COLUMNS} FROM support_tickets t WHERE ${condition} AND ${g}`),
    statement(
      (g) => `SELECT e.id, e.kind, e.actor_type, e.actor_id, e.data, e.created_at FROM ticket_events e JOIN support_tickets t ON t.id = e.ticket_id
             WHERE ${condition} AND ${g} ORDER BY e.id`,
    ),
    statement(
      (g) => `SELECT ${M_MESSAGE_COLUMNS} FROM ticket_messages m JOIN support_tickets t ON t.id = m.ticket_id
             WHERE ${condition} AND ${g} ORDER BY m.id`,
    ),
    statement(
      (g) => `SELECT ${A_ATTACHMENT_COLUMNS} FROM ticket_attachments a JOIN support_tickets t ON t.id = a.ticket_id
             WHERE ${condition} AND a.message_id IS NOT NULL AND ${g} ORDER BY a.id`,
    ),
  ]);
  const t = ticket.results[0];
  if (!t) throw ticketNotFound();
  const parsed = (text) => {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  };
  // A row the product's types cannot read is its 500.
  if (!STATUSES.includes(t.status)) throw internalError(`unknown status ${t.status}`);
  return success(200, "Ticket", {
    ticket: ticketAnswer(t),
    allowed_actions: ACTIONS.filter(([, from]) => from.includes(t.status)).map(([name]) => name),
    events: events.results.map((e) => ({
      id: e.id,
      kind: e.kind,
      actor_type: e.actor_type,
      actor_id: e.actor_id,
      data: parsed(e.data),
      created_at: canonicalTime(e.created_at),
    })),
    messages: messages.results.map((m) => ({
      id: m.id,
      author_type: m.author_type,
      staff_id: m.staff_id,
      body: m.body,
      internal: m.internal !== 0,
      created_at: canonicalTime(m.created_at),
      attachments: files.results
        .filter((a) => a.message_id === m.id)
        .map((a) => ({
          id: a.id,
          ticket_id: a.ticket_id,
          message_id: a.message_id,
          filename: a.filename,
          content_type: a.content_type,
          size: a.size,
          uploaded_by: a.uploader_type,
          staff_id: a.staff_id,
          status: a.status,
          internal: a.internal !== 0,
          created_at: canonicalTime(a.created_at),
          uploaded_at: canonicalTime(a.uploaded_at),
          download_url: `/api/crm/attachments/${a.id}`,
        })),
    })),
  });
}
