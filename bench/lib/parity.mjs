// Keeps the yardstick honest: the same requests go to the product and the reference,
// and their answers must match (status, body with the volatile values masked, and the
// headers clients read). Runs in `make bench` before the load, on fresh databases, so
// ids and ticket numbers line up too.

import { createHmac } from "node:crypto";
import config from "../config.mjs";
import { ticket } from "../../tests/helpers.mjs";

const json = { "Content-Type": "application/json" };
const form = { "Content-Type": "application/x-www-form-urlencoded" };
const valid = ticket();
const post = (body, headers = json) => ({
  method: "POST",
  path: "/api/tickets/create",
  headers,
  body: typeof body === "string" ? body : JSON.stringify(body),
});

// Status links (src/domain/status_link.rs), computed here independently of both workers: the first
// ticket the cases create ("create: README example", on fresh databases) is id 1,
// number TKT-<year>-0001. `expect` makes sure these cases test what they say.
const secret = config.vars.TICKET_TOKEN_SECRET ?? "";
const token = (id, number) =>
  createHmac("sha256", secret).update(`ticket-access:${id}:${number}`).digest().subarray(0, 24).toString("base64url");
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

/**
 * [name, request, { masks: dotted paths to ignore, decoy: answer is not a real ticket,
 *   before: async (target) => {} run on each target first, expect: the status both must answer }?]
 */
export const cases = [
  ["health", { method: "GET", path: "/api/health" }, { masks: ["body.data.version"] }],
  ["create: README example", post(valid)],
  ["create: defaults, trimming", post({ subject: "  Hi  ", description: "d", customer_email: " a@b.co " })],
  ["create: choices case-insensitive", post({ ...valid, priority: "HIGH", category: " Billing " })],
  ["create: unicode", post({ ...valid, customer_name: "Zoë 用户", customer_email: "用户@例子.广告", subject: "😀".repeat(200) })],
  ["create: Rust's trim (U+0085 yes, U+FEFF no)", post({ ...valid, subject: "\u0085Hi\uFEFF", customer_name: "\u3000Zoë\u00a0" })],
  ["create: multiline description", post({ ...valid, description: "line 1\nline 2\r\n\ttabbed" })],
  ["create: missing fields", post({ subject: "Test" })],
  ["create: missing email", post({ subject: "s", description: "d" })],
  ["create: every problem", post({ subject: "x".repeat(201), description: 5, customer_email: "nope", category: "sales", user_id: "abc" })],
  ["create: too long (characters)", post({ ...valid, subject: "😀".repeat(201) })],
  ["create: control characters", post({ ...valid, subject: "a\nb", customer_name: "a\u0000b" })],
  ["create: U+2028 in description", post({ ...valid, description: "a\u2028b" })],
  ["create: urgent refused", post({ ...valid, priority: "urgent" })],
  ["create: wrong types", post({ ...valid, customer_name: 5, priority: true, category: [], user_id: {} })],
  ["create: unknown user", post({ ...valid, user_id: 42 })],
  ["create: user id as string", post({ ...valid, user_id: " 7 " })],
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
  ["create: unknown API key", post(valid, { ...json, Authorization: "Bearer nope" })],
  ["create: malformed Authorization", post(valid, { ...json, Authorization: "Basic" })],
  ["create: bad Idempotency-Key", post(valid, { ...json, "Idempotency-Key": "ünï" })],
  ["create: Idempotency-Key first", post({ ...valid, customer_email: "idem@example.com" }, { ...json, "Idempotency-Key": "bench-parity-1" })],
  ["create: Idempotency-Key replay", post({ ...valid, customer_email: "idem@example.com" }, { ...json, "Idempotency-Key": "bench-parity-1" })],
  ["create: Idempotency-Key reused", post({ ...valid, customer_email: "idem@example.com", subject: "other" }, { ...json, "Idempotency-Key": "bench-parity-1" })],
  ["create: per-IP bucket", post({ ...valid, customer_email: "ip@example.com" }, { ...json, "CF-Connecting-IP": "2001:db8::1" })],
  ["create: form post", post("subject=Hello+world&description=caf%C3%A9&customer_email=a%40b.co&subject=second", form)],
  ["create: JSON with charset", post(valid, { "Content-Type": "application/json; charset=utf-8" })],
  ["create: text/plain", post(valid, { "Content-Type": "text/plain" })],
  ["create: empty body", post("", json)],
  ["create: array body", post("[1,2]")],
  ["create: too large", post({ ...valid, description: "x".repeat(70_000) })],
  ["create: wrong method", { method: "GET", path: "/api/tickets/create" }],
  ["status: the link's token", status(first, { "X-Ticket-Token": token(1, first) }), { before: seedThread, expect: 200 }],
  ["status: token in the query", status(first, {}, `?token=${token(1, first)}`), { expect: 200 }],
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

/**
 * Masks values that legitimately differ: clocks (and the seconds-to-reset derived from
 * them), serde's vs V8's JSON error text, and whatever a case lists (dotted paths).
 */
function normalize(a, masks = []) {
  const out = structuredClone(a);
  const body = out.body;
  if (body?.data?.time) body.data.time = "<time>";
  if (body?.data?.created_at) body.data.created_at = "<time>";
  if (body?.data?.updated_at) body.data.updated_at = "<time>";
  if (body?.code === "malformed_json" && /not valid JSON/.test(body.message)) body.message = "<parser message>";
  if (out.headers.ratelimit) out.headers.ratelimit = out.headers.ratelimit.replace(/;t=\d+/g, ";t=<s>");
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

/** Runs every case against both; answers { total, matched, mismatches: [{ name, diff: [product | reference] }] }. */
export async function checkParity(product, reference, onTicket) {
  const mismatches = [];
  for (const [name, req, { masks = [], decoy = false, before, expect } = {}] of cases) {
    if (before) for (const target of [product, reference]) await before(target);
    const p = await answer(product, req);
    const r = await answer(reference, req);
    for (const [target, a] of [[product, p], [reference, r]]) {
      const creates = req.method === "POST" && req.path === "/api/tickets/create"; // a status answer names a ticket too
      const created = creates && a.status >= 200 && a.status < 300 && a.headers["idempotent-replayed"] !== "true" && !decoy;
      if (created && a.body?.data?.ticket_number) onTicket(target.name, a.body.data.ticket_number);
    }
    const pn = normalize(p, masks);
    const rn = normalize(r, masks);
    const diff = differences(pn, rn);
    if (expect !== undefined && p.status !== expect) diff.unshift(`status: expected ${expect}, the product answered ${p.status}`);
    if (diff.length) mismatches.push({ name, diff });
  }
  return { total: cases.length, matched: cases.length - mismatches.length, mismatches };
}
