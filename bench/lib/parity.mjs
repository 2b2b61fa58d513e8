// Keeps the yardstick honest: the same requests go to the product and the reference,
// and their answers must match (status, body with the volatile values masked, the
// headers clients read) and so must the one log line each writes (route, status, round
// trips, code, note; the request id and the duration masked). Runs in `make bench`
// before the load, on fresh databases, so ids and ticket numbers line up too; a
// mismatch fails the run.

import { createHash } from "node:crypto";
import { ticket } from "../../tests/helpers.mjs";
import { seedStaff, statusToken } from "../scenarios.mjs";

const json = { "Content-Type": "application/json" };
const form = { "Content-Type": "application/x-www-form-urlencoded" };
const CHROME = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
const valid = ticket();
const post = (body, headers = json) => ({
  method: "POST",
  path: "/api/tickets/create",
  headers,
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const from = (ip, email) => post({ ...valid, customer_email: email }, { ...json, "CF-Connecting-IP": ip });

// Integration keys, written into both databases before the cases (`prepare`).
const KEY = "hdk_parity_0123456789abcdefghij";
const REVOKED_KEY = "hdk_parity_revoked_0123456789ab";
const keyed = (key = KEY) => ({ ...json, Authorization: `Bearer ${key}` });

// Status links (src/domain/status_link.rs), computed here independently of both workers: the first
// ticket the cases create ("create: README example", on fresh databases) is id 1,
// number TKT-<year>-0001. `expect` makes sure these cases test what they say.
const token = (id, number, purpose) => statusToken(id, number, purpose);
const year = new Date().getUTCFullYear();
const first = `TKT-${year}-0001`;
const second = `TKT-${year}-0002`;
const status = (number, headers = {}, query = "") => ({ method: "GET", path: `/api/tickets/${number}${query}`, headers });

/** A thread on ticket 1 with an internal note, which the status answer must leave out. */
async function seedThread(target) {
  const at = "2026-01-02T03:04:05.000Z";
  const insert = "INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at) VALUES (1, ?1, NULL, ?2, ?3, ?4)";
  await target.db.batch([
    target.db.prepare(insert).bind("customer", "It stops after ten minutes.", 0, at),
    target.db.prepare(insert).bind("staff", "Internal: the fan controller again.", 1, at),
    target.db.prepare(insert).bind("staff", "Could you send the serial number?", 0, at),
  ]);
}

// ---- the CRM: a session both accept, and tickets with a timeline and a thread.
const CRM_EMAIL = "crm.parity@example.com";
const crm = (query = "", headers = {}) => (state) => ({
  method: "GET",
  path: `/api/crm/tickets${query}`,
  headers: { Authorization: `Bearer ${state.token}`, ...headers },
});
const mine = `?customer_email=${encodeURIComponent(CRM_EMAIL)}`;

/**
 * Five tickets of 2020 (so they never meet this year's counter), in every status and
 * priority, one assigned to the admin and one to an agent, the first with events,
 * messages (an internal note among them) and files (an internal one, an unsent one).
 * Each gets its `created` event, like every ticket (the bench's integrity check counts them).
 */
async function seedCrmTickets(target) {
  const db = target.db;
  const t = (n, subject, priority, status, assigned, category, day, extra = {}) =>
    db
      .prepare(
        `INSERT INTO support_tickets (ticket_number, subject, description, customer_name, customer_email, priority, category, status,
           assigned_to, assigned_at, resolved_at, closed_at, created_at, updated_at)
         VALUES (?1, ?2, 'Seeded for parity', 'Parity', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)`,
      )
      .bind(
        `TKT-2020-000${n}`, subject, CRM_EMAIL, priority, category, status, assigned, assigned ? `2020-01-0${day}T11:00:00.000Z` : null,
        extra.resolved ?? null, extra.closed ?? null, `2020-01-0${day}T10:00:00.000Z`, extra.updated ?? `2020-01-0${day}T12:00:00.000Z`,
      );
  const ticketId = (n) => `(SELECT id FROM support_tickets WHERE ticket_number = 'TKT-2020-000${n}')`;
  const message = (n, author, staff, body, internal, at) =>
    db
      .prepare(`INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at) SELECT ${ticketId(n)}, ?1, ?2, ?3, ?4, ?5`)
      .bind(author, staff, body, internal, at);
  const file = (body, name, internal, status, key) =>
    db
      .prepare(
        `INSERT INTO ticket_attachments (ticket_id, message_id, uploader_type, staff_id, filename, content_type, size, r2_key, etag, status, internal, created_at, uploaded_at)
         SELECT ${ticketId(1)}, ${body === null ? "NULL" : `(SELECT id FROM ticket_messages WHERE body = '${body}')`}, 'customer', NULL, ?1, 'image/png', 2048, ?2, '"e1"', ?3, ?4,
                '2020-01-01T10:05:00.000Z', '2020-01-01T10:06:00.000Z'`,
      )
      .bind(name, key, status, internal);
  await db.batch([
    t(1, "Printer offline", "high", "assigned", 1, "technical", 1, { updated: "2020-01-09T12:00:00.000Z" }),
    t(2, "The 50%_off coupon fails", "low", "open", null, "billing", 2),
    t(3, "Urgent outage", "urgent", "open", 2, "technical", 3),
    t(4, "A resolved question", "medium", "resolved", null, "account", 4, { resolved: "2020-01-04T15:00:00.000Z" }),
    t(5, "A closed one", "medium", "closed", null, "general", 5, { closed: "2020-01-05T15:00:00.000Z", updated: "2020-01-05T16:00:00.000Z" }),
  ]);
  await db.batch([
    ...[1, 2, 3, 4, 5].map((n) =>
      db
        .prepare(
          `INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
           SELECT ${ticketId(n)}, 'created', 'public', NULL, '{"status":"open","priority":"medium"}', '2020-01-0${n}T10:00:00.000Z'`,
        ),
    ),
    db.prepare(
      `INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
       SELECT ${ticketId(1)}, 'assigned', 'staff', 1, '{"from":null,"to":1}', '2020-01-01T11:00:00.000Z'`,
    ),
    message(1, "customer", null, "The printer shows error 42.", 0, "2020-01-01T10:01:00.000Z"),
    message(1, "staff", 1, "Internal: firmware again.", 1, "2020-01-01T10:02:00.000Z"),
    message(1, "staff", 1, "Could you restart it?", 0, "2020-01-01T10:03:00.000Z"),
  ]);
  await db.batch([
    file("The printer shows error 42.", "error.png", 0, "uploaded", "att/parity-1"),
    file("Internal: firmware again.", "firmware.png", 1, "uploaded", "att/parity-2"),
    file(null, "unsent.png", 0, "pending", "att/parity-3"),
  ]);
}

/** Staff, a user and integration keys in both databases, and a CRM session both accept. */
async function prepare(product, reference, state) {
  const hash = (key) => createHash("sha256").update(key).digest("hex");
  for (const target of [product, reference]) {
    const staff = await seedStaff(target.db);
    state.staff = staff;
    await target.db.batch([
      target.db.prepare("INSERT INTO crm_staff (email, name, role, password_hash) VALUES ('agent.parity@example.com', 'Agent', 'agent', 'x')"),
      target.db.prepare("INSERT INTO users (email, name) VALUES ('linked@example.com', 'Linked')"),
      target.db
        .prepare("INSERT INTO api_keys (name, key_hash, key_prefix, rate_limit, created_by, created_at) VALUES ('parity', ?1, 'hdk_pari', 1000, 1, ?2)")
        .bind(hash(KEY), "2026-01-01T00:00:00.000Z"),
      target.db
        .prepare("INSERT INTO api_keys (name, key_hash, key_prefix, rate_limit, created_by, created_at, revoked_at) VALUES ('revoked', ?1, 'hdk_pari', 1000, 1, ?2, ?2)")
        .bind(hash(REVOKED_KEY), "2026-01-01T00:00:00.000Z"),
    ]);
  }
  // The product's login writes the session; the reference gets the same KV record.
  const login = await product.call("/api/crm/auth/login", {
    method: "POST",
    headers: json,
    body: JSON.stringify({ email: state.staff.email, password: state.staff.password }),
  });
  state.token = login.body?.data?.token;
  if (!state.token) throw new Error(`parity: the product's login answered ${login.status}: ${JSON.stringify(login.body).slice(0, 200)}`);
  const key = `session:${hash(state.token)}`;
  await reference.kv.put(key, await product.kv.get(key));
  // A session past its deadline (KV has not forgotten it yet): both must refuse it.
  state.expired = "e".repeat(43);
  const stale = JSON.stringify({ staff_id: 1, epoch: 0, created_at: "2020-01-01T00:00:00.000Z", expires_at: "2020-01-02T00:00:00.000Z" });
  for (const target of [product, reference]) await target.kv.put(`session:${hash(state.expired)}`, stale);
  state.tokenHash = hash(state.token);
}

/**
 * [name, request (or state => request), { masks: dotted paths to ignore, decoy: answer is not a real ticket,
 *   before: async (target, state) => {} run on each target first, expect: the status both must answer,
 *   capture: (productAnswer, state) => {} }?]
 */
export const cases = [
  ["health", { method: "GET", path: "/api/health" }, { masks: ["body.data.version"] }],
  ["create: README example", post(valid)],
  ["create: defaults, trimming", post({ subject: "  Hi  ", description: "d", customer_email: " a@b.co " })],
  ["create: choices case-insensitive", post({ ...valid, priority: "HIGH", category: " Billing " })],
  ["create: unicode", post({ ...valid, customer_name: "Zoë 用户", customer_email: "用户@例子.广告", subject: "😀".repeat(200) })],
  ["create: Rust's trim (U+0085 yes, U+FEFF is refused)", post({ ...valid, subject: "\u0085Hi\uFEFF", customer_name: "\u3000Zoë\u00a0" }), { expect: 400 }],
  ["create: multiline description", post({ ...valid, description: "line 1\nline 2\r\n\ttabbed" })],
  ["create: missing fields", post({ subject: "Test" })],
  ["create: missing email", post({ subject: "s", description: "d" })],
  ["create: every problem", post({ subject: "x".repeat(201), description: 5, customer_email: "nope", category: "sales", user_id: "abc" })],
  ["create: too long (characters)", post({ ...valid, subject: "😀".repeat(201) })],
  ["create: control characters", post({ ...valid, subject: "a\nb", customer_name: "a\u0000b" })],
  ["create: U+2028 in description", post({ ...valid, description: "a\u2028b" })],
  ["create: a bidi override in the subject", post({ ...valid, subject: "Invoice \u202Egnp.exe" }), { expect: 400 }],
  ["create: a zero-width character in the name", post({ ...valid, customer_name: "Zo\u200Be", priority: "lo\u2066w" }), { expect: 400 }],
  ["create: bidi and zero-width kept in the description", post({ ...valid, description: "שלום \u202Bmixed\u202C zero\u200Dwidth" }), { expect: 201 }],
  ["create: urgent refused", post({ ...valid, priority: "urgent" })],
  ["create: wrong types", post({ ...valid, customer_name: 5, priority: true, category: [], user_id: {} })],
  ["create: unknown user, anonymous (stored unlinked, not refused)", post({ ...valid, user_id: 42 }), { expect: 201 }],
  ["create: user id as string", post({ ...valid, user_id: " 7 " })],
  ["create: another email's user, anonymous", post({ ...valid, customer_email: "someone@example.com", user_id: 1 }), { expect: 201 }],
  ["create: the user's own email, anonymous", post({ ...valid, customer_email: "LINKED@example.com", user_id: "1" }), { expect: 201 }],
  ["create: bad ids", post({ ...valid, user_id: -3 })],
  ["create: huge id", post({ ...valid, user_id: "99999999999999999999" })],
  ["create: fractional id", post({ ...valid, user_id: 1.5 })],
  ["create: null and blanks", post({ ...valid, customer_name: null, priority: "", category: "   ", user_id: "" })],
  ...[
    "plainaddress",
    "john@localhost",
    "john..smith@example.com",
    "john@-example.com",
    "john@127.0.0.1",
    '"quoted"@example.com',
    "o'brien@example.ie",
    "josé@exämple.de",
    `${"a".repeat(65)}@example.com`,
    `a@${"b.".repeat(130)}com`,
  ].map((email) => [`create: email ${email.slice(0, 30)}`, post({ ...valid, customer_email: email })]),
  ["create: honeypot filled (decoy)", post({ ...valid, website: "http://spam.example" }), {
    decoy: true, // a made-up success: nothing is written, the number is random
    masks: ["body.data.id", "body.data.ticket_number", "body.data.access_token", "body.data.status_url", "headers.location"],
  }],
  ["create: honeypot blank", post({ ...valid, customer_email: "honey@example.com", website: "  " })],
  ["create: honeypot not text (no bot's doing)", post({ ...valid, customer_email: "honey.false@example.com", website: false }), { expect: 201 }],
  ["create: honeypot filled by an integration (data)", post({ ...valid, customer_email: "honey.key@example.com", website: "https://acme.example" }, keyed()), { expect: 201 }],
  ["create: unknown API key", post(valid, { ...json, Authorization: "Bearer nope" })],
  ["create: revoked API key", post(valid, keyed(REVOKED_KEY)), { expect: 401 }],
  ["create: malformed Authorization", post(valid, { ...json, Authorization: "Basic" })],
  ["create: API key, unknown user (refused)", post({ ...valid, user_id: 999 }, keyed()), { expect: 400 }],
  ["create: API key, a known user (verified)", post({ ...valid, customer_email: "other@example.com", user_id: 1 }, keyed()), { expect: 201 }],
  ["create: bad Idempotency-Key", post(valid, { ...json, "Idempotency-Key": "ünï" })],
  ["create: Idempotency-Key first", post({ ...valid, customer_email: "idem@example.com" }, { ...json, "Idempotency-Key": "bench-parity-1" })],
  ["create: Idempotency-Key replay", post({ ...valid, customer_email: "idem@example.com" }, { ...json, "Idempotency-Key": "bench-parity-1" })],
  ["create: Idempotency-Key reused", post({ ...valid, customer_email: "idem@example.com", subject: "other" }, { ...json, "Idempotency-Key": "bench-parity-1" })],
  ["create: per-IP bucket", post({ ...valid, customer_email: "ip@example.com" }, { ...json, "CF-Connecting-IP": "2001:db8::1" })],
  ["create: an IPv6 client", from(" 2001:db8:1:2::1 ", "v6.a@example.com"), { expect: 201 }],
  ["create: the same /64 (one bucket)", from("2001:0db8:0001:0002:ffff::9", "v6.b@example.com"), { expect: 201 }],
  ["create: another /64", from("2001:db8:1:3::1", "v6.c@example.com"), { expect: 201 }],
  ["create: an IPv4-mapped address", from("::ffff:192.0.2.7", "v4.a@example.com"), { expect: 201 }],
  ["create: the same IPv4 address", from("192.0.2.7", "v4.b@example.com"), { expect: 201 }],
  ["create: an IPv4 address with a leading zero (kept as sent)", from("192.0.2.07", "v4.c@example.com"), { expect: 201 }],
  ["create: an address with a zone (kept as sent)", from("fe80::1%eth0", "v6.d@example.com"), { expect: 201 }],
  ["create: not an address", from("not-an-ip", "v6.e@example.com"), { expect: 201 }],
  ["create: form post, a field sent twice", post("subject=Hello+world&description=caf%C3%A9&customer_email=a%40b.co&subject=second", form), { expect: 400 }],
  ["create: form post", post("subject=Hello+world&description=caf%C3%A9&customer_email=form%40b.co", form), { expect: 201 }],
  ["create: a browser's form post (303 to the status page)", post("subject=Hi&description=d&customer_email=browser%40example.com", { ...form, Accept: CHROME }), { expect: 303 }],
  ["create: a browser's form post, JSON preferred", post("subject=Hi&description=d&customer_email=browser2%40example.com", { ...form, Accept: "text/html;q=0.5, application/json" }), { expect: 201 }],
  ["create: a browser's honeypot (decoy)", post("subject=Hi&description=d&customer_email=bot%40example.com&website=x", { ...form, Accept: CHROME }), {
    decoy: true,
    masks: ["body.data.id", "body.data.ticket_number", "body.data.access_token", "body.data.status_url", "headers.location"],
  }],
  ["create: a JSON field sent twice", post('{"subject":"a","description":"d","customer_email":"dup@b.co","subject":"b"}'), { expect: 400 }],
  ["create: a field sent twice, one escaped", post('{"subject":"a","\\u0073ubject":"b","description":"d","customer_email":"dup@b.co"}'), { expect: 400 }],
  ["create: the same name nested is no repeat", post('{"subject":"a","description":"d","customer_email":"nested@b.co","meta":{"subject":1,"x":[{"subject":2}]}}'), { expect: 201 }],
  ["create: a repeat, then malformed", post('{"a":1,"a":2'), { expect: 400 }],
  ["create: JSON with charset", post(valid, { "Content-Type": "application/json; charset=utf-8" })],
  ["create: text/plain", post(valid, { "Content-Type": "text/plain" })],
  ["create: empty body", post("", json)],
  ["create: array body", post("[1,2]")],
  ["create: too large", post({ ...valid, description: "x".repeat(70_000) })],
  ["create: wrong method", { method: "GET", path: "/api/tickets/create" }],
  ["status: the link's token", status(first, { "X-Ticket-Token": token(1, first) }), { before: seedThread, expect: 200 }],
  ["status: token in the query", status(first, {}, `?token=${token(1, first)}`), { expect: 200 }],
  ["status: the emailed link's token (verifies the requester)", status(first, { "X-Ticket-Token": token(1, first, "ticket-email") }), { expect: 200 }],
  ["status: the emailed link's token again", status(first, {}, `?token=${token(1, first, "ticket-email")}`), { expect: 200 }],
  ["status: another ticket's emailed token", status(first, { "X-Ticket-Token": token(2, second, "ticket-email") }), { expect: 404 }],
  ["status: wrong token", status(first, { "X-Ticket-Token": token(1, first).replace(/^./, (c) => (c === "A" ? "B" : "A")) }), { expect: 404 }],
  ["status: another ticket's token", status(first, { "X-Ticket-Token": token(2, second) }), { expect: 404 }],
  ["status: no token", status(first), { expect: 404 }],
  ["status: empty header hides the query", status(first, { "X-Ticket-Token": "" }, `?token=${token(1, first)}`), { expect: 404 }],
  ["status: token over 256 bytes", status(first, { "X-Ticket-Token": "x".repeat(257) }), { expect: 404 }],
  ["status: unknown number", status(`TKT-${year}-9999`, { "X-Ticket-Token": token(0, `TKT-${year}-9999`) }), { expect: 404 }],
  ["status: not a ticket number", status(`TKT-${year}-001`, { "X-Ticket-Token": token(1, first) }), { expect: 404 }],
  ["status: wrong method", { method: "POST", path: `/api/tickets/${first}`, headers: json, body: "{}" }, { expect: 405 }],
  ["status: HEAD", { method: "HEAD", path: `/api/tickets/${first}` }, { expect: 405 }],
  ["status: preflight", { method: "OPTIONS", path: `/api/tickets/${first}`, headers: { Origin: "https://example.com", "Access-Control-Request-Method": "GET" } }, { expect: 204 }],
  ["health: wrong method", { method: "DELETE", path: "/api/health" }],
  ["preflight", { method: "OPTIONS", path: "/api/tickets/create", headers: { Origin: "https://example.com", "Access-Control-Request-Method": "POST" } }],
  ["unknown path", { method: "GET", path: "/api/nope" }],
  ["trailing slash", { method: "POST", path: "/api/tickets/create/", headers: json, body: "{}" }],

  // ---- the CRM list and view, and the session check before them
  ["crm: list without a session", { method: "GET", path: "/api/crm/tickets" }, { expect: 401, before: seedCrmTickets }],
  ["crm: list, another scheme", { method: "GET", path: "/api/crm/tickets", headers: { Authorization: "Basic abc" } }, { expect: 401 }],
  ["crm: list, a token of the wrong shape", { method: "GET", path: "/api/crm/tickets", headers: { Authorization: "Bearer short" } }, { expect: 401 }],
  ["crm: list, an unknown session", { method: "GET", path: "/api/crm/tickets", headers: { Authorization: `Bearer ${"u".repeat(43)}` } }, { expect: 401 }],
  ["crm: list, a session past its deadline", (s) => ({ method: "GET", path: "/api/crm/tickets", headers: { Authorization: `Bearer ${s.expired}` } }), { expect: 401 }],
  ["crm: list", crm(), { expect: 200, masks: ["body.data.next_cursor"] }],
  ["crm: list, a filtered page", crm(`${mine}&limit=2`), { expect: 200, capture: (a, s) => (s.cursor = a.body?.data?.next_cursor) }],
  ["crm: list, the next page", (s) => crm(`${mine}&limit=2&cursor=${s.cursor}`)(s), { expect: 200 }],
  ["crm: list, open and assigned by priority", crm(`${mine}&status=open,%20assigned&status=open&sort=priority&order=asc&limit=2`), {
    expect: 200,
    capture: (a, s) => (s.priorityCursor = a.body?.data?.next_cursor),
  }],
  ["crm: list, by priority, the next page", (s) => crm(`${mine}&status=open,assigned&sort=priority&order=asc&limit=2&cursor=${s.priorityCursor}`)(s), { expect: 200 }],
  ["crm: list, with the total", crm(`${mine}&priority=high,urgent&include_total=true`), { expect: 200 }],
  ["crm: list, text with wildcards", crm(`?q=${encodeURIComponent(" 50%_off ")}&include_total=1`), { expect: 200 }],
  ["crm: list, assigned to me", crm("?assigned_to=me"), { expect: 200 }],
  ["crm: list, open and unassigned", crm(`${mine}&assigned_to=none&status=open`), { expect: 200 }],
  ["crm: list, an agent's by update", crm("?assigned_to=%2B2&sort=updated_at&order=desc"), { expect: 200 }],
  ["crm: list, created between", crm(`${mine}&created_after=${encodeURIComponent("2020-01-02T00:00:00+01:00")}&created_before=2020-01-05T00:00:00Z`), { expect: 200 }],
  ["crm: list, a category in capitals", crm("?category=%20BILLING&priority=low"), { expect: 200 }],
  ["crm: list, every bad parameter", crm("?status=pending&limit=0&sort=subject&assigned_to=-1&created_before=yesterday&include_total=yes&order=up&priority=Low"), { expect: 400 }],
  ["crm: list, a search too long", crm(`?q=${"x".repeat(201)}`), { expect: 400 }],
  ["crm: list, a limit too large", crm("?limit=101"), { expect: 400 }],
  ["crm: list, a forged cursor", crm("?cursor=bm90LWEtY3Vyc29y"), { expect: 400 }],
  ["crm: list, a cursor of another sort", (s) => crm(`?cursor=${s.cursor}&sort=priority`)(s), { expect: 400 }],
  ["crm: view by number", crm("/TKT-2020-0001"), { expect: 200 }],
  ["crm: view by id (events, the verified requester)", crm("/1"), { expect: 200 }],
  ["crm: view, a closed ticket", crm("/TKT-2020-0005"), { expect: 200 }],
  ["crm: view, unknown number", crm("/TKT-2020-9999"), { expect: 404 }],
  ["crm: view, unknown id", crm("/999999"), { expect: 404 }],
  ["crm: view, not an id", crm("/abc"), { expect: 404 }],
  ["crm: view, id 0", crm("/0"), { expect: 404 }],
  ["crm: view, wrong method", { method: "DELETE", path: "/api/crm/tickets/TKT-2020-0001" }, { expect: 405 }],
  ["crm: list, wrong method", { method: "POST", path: "/api/crm/tickets", headers: json, body: "{}" }, { expect: 405 }],
  ["crm: the staff create path, GET", { method: "GET", path: "/api/crm/tickets/create" }, { expect: 405 }],
  ["crm: HEAD on the list", { method: "HEAD", path: "/api/crm/tickets" }, { expect: 405 }],
  ["crm: preflight from an origin the CRM does not allow", {
    method: "OPTIONS",
    path: "/api/crm/tickets/1",
    headers: { Origin: "https://admin.example", "Access-Control-Request-Method": "GET" },
  }, { expect: 204 }],
  ["crm: list, a revoked session", crm(), {
    expect: 401,
    before: (target, s) =>
      target.db.prepare("INSERT INTO revoked_sessions (token_hash, expires_at) VALUES (?1, '2099-01-01T00:00:00.000Z')").bind(s.tokenHash).run(),
  }],
];

const HEADERS = [
  "content-type",
  "location",
  "allow",
  "cache-control",
  "x-content-type-options",
  "vary",
  "access-control-allow-origin",
  "access-control-expose-headers",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "www-authenticate",
  "retry-after",
  "ratelimit",
  "ratelimit-policy",
  "idempotent-replayed",
];

async function answer(target, req) {
  const res = await target.fetch(req.path, { method: req.method, headers: req.headers, body: req.body });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {}
  const headers = Object.fromEntries(HEADERS.map((h) => [h, res.headers.get(h)]));
  headers["x-request-id"] = /^[0-9a-f]{32}$/.test(res.headers.get("x-request-id") ?? "") ? "<32 hex>" : res.headers.get("x-request-id");
  return { status: res.status, headers, body };
}

/** The request's log line (the one JSON line with event "request"), once the worker has written it. */
async function logLine(target) {
  for (let waited = 0; waited < 2000; waited += 10) {
    const lines = target.logs.flatMap((l) => {
      try {
        const v = JSON.parse(l);
        return v?.event === "request" ? [v] : [];
      } catch {
        return [];
      }
    });
    if (lines.length) return lines.length === 1 ? lines[0] : { lines };
    await new Promise((r) => setTimeout(r, 10));
  }
  return null;
}

// Timestamps of this year are the clocks of the two runs (creates, status changes);
// the seeded ones (2020, and fixed times) are compared as they are.
const NOW_YEAR = new RegExp(`^${year}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$`);
function maskTimes(value) {
  if (typeof value === "string") return NOW_YEAR.test(value) && value !== "2026-01-02T03:04:05.000Z" ? "<time>" : value;
  if (Array.isArray(value)) return value.map(maskTimes);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskTimes(v)]));
  return value;
}

/**
 * Masks values that legitimately differ: clocks (and the seconds-to-reset derived from
 * them), serde's vs V8's JSON error text, the log line's request id and duration, and
 * whatever a case lists (dotted paths).
 */
function normalize(a, masks = []) {
  const out = structuredClone(a);
  out.body = maskTimes(out.body);
  const body = out.body;
  if (body?.code === "malformed_json" && /not valid JSON/.test(body.message)) body.message = "<parser message>";
  if (out.headers.ratelimit) out.headers.ratelimit = out.headers.ratelimit.replace(/;t=\d+/g, ";t=<s>");
  if (out.log && typeof out.log === "object") {
    if (/^[0-9a-f]{32}$/.test(out.log.request_id ?? "")) out.log.request_id = "<32 hex>";
    if (Number.isInteger(out.log.duration_ms)) out.log.duration_ms = "<ms>";
  }
  for (const path of masks) {
    const keys = path.split(".");
    const last = keys.pop();
    const parent = keys.reduce((o, k) => o?.[k], out);
    if (parent && last in parent) parent[last] = "<masked>";
  }
  return out;
}

/** Paths where two JSON values differ (key order ignored): ["body.message: a | b", ...]. */
export function differences(a, b, at = "") {
  if (a && b && typeof a === "object" && typeof b === "object" && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => differences(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return Object.is(a, b) ? [] : [`${at}: ${JSON.stringify(a)} | ${JSON.stringify(b)}`];
}

/**
 * Runs every case against both; answers { total, matched, mismatches: [{ name, diff: [product | reference] }] }.
 * `onTicket(target, number)` hears every ticket a case created (and the seeded ones), for the integrity check;
 * `onCase(name, productAnswer, referenceAnswer)` sees every case's answers and log lines.
 */
export async function checkParity(product, reference, onTicket, onCase) {
  const mismatches = [];
  const state = {};
  await prepare(product, reference, state);
  for (const [name, request, { masks = [], decoy = false, before, expect, capture } = {}] of cases) {
    if (before) {
      for (const target of [product, reference]) await before(target, state);
      if (before === seedCrmTickets) for (const t of [product, reference]) for (let n = 1; n <= 5; n++) onTicket(t.name, `TKT-2020-000${n}`);
    }
    const req = typeof request === "function" ? request(state) : request;
    const answers = [];
    for (const target of [product, reference]) {
      target.logs.length = 0;
      target.capturing = true;
      const a = await answer(target, req);
      a.log = await logLine(target);
      target.capturing = false;
      answers.push(a);
    }
    const [p, r] = answers;
    capture?.(p, state);
    for (const [target, a] of [[product, p], [reference, r]]) {
      const creates = req.method === "POST" && req.path === "/api/tickets/create"; // a status answer names a ticket too
      const created = creates && a.status >= 200 && a.status < 400 && a.headers["idempotent-replayed"] !== "true" && !decoy;
      if (created && a.body?.data?.ticket_number) onTicket(target.name, a.body.data.ticket_number);
    }
    onCase?.(name, p, r);
    const diff = differences(normalize(p, masks), normalize(r, masks));
    if (p.log === null) diff.unshift("log: the product wrote no request line");
    if (expect !== undefined && p.status !== expect) diff.unshift(`status: expected ${expect}, the product answered ${p.status}`);
    if (diff.length) mismatches.push({ name, diff });
  }
  return { total: cases.length, matched: cases.length - mismatches.length, mismatches };
}
