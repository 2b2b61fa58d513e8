// What the reference's public and CRM endpoints share: configuration, the error type
// and the envelope, text and time rules, encodings and hashes, ticket columns, and the
// round-trip counts of the request's log line. Written against the product's files
// named in each comment (see worker.mjs for the whole list and what is not mirrored).

export const MAX_SAFE_ID = Number.MAX_SAFE_INTEGER;
export const CONTACT_SUPPORT = "Please try again or contact support.";
const DEFAULT_CATEGORIES = "general,technical,billing,account,other";
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

// ---------------------------------------------------------------- configuration (src/config.rs)

function nonEmpty(env, name) {
  const v = typeof env[name] === "string" ? env[name].trim() : "";
  return v || undefined;
}

/** `*` allows every origin; otherwise a list of exact origins (empty: none). */
function origins(value) {
  const list = (value ?? "")
    .split(",")
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  return list.includes("*") ? "*" : list;
}

/** src/config.rs `Config::from_lookup`, the part these endpoints use. */
function readConfig(env) {
  const categories = (nonEmpty(env, "CATEGORIES") ?? DEFAULT_CATEGORIES)
    .split(",")
    .map((c) => asciiLower(c.trim()))
    .filter(Boolean);
  const maxBody = Number(nonEmpty(env, "MAX_BODY_BYTES"));
  // src/config.rs `number`: a u64 clamped to its range, the default when absent or not a number.
  const number = (name, dflt, min, max) => {
    const v = nonEmpty(env, name);
    return v !== undefined && /^\+?[0-9]+$/.test(v) ? Math.min(Math.max(Number(v), min), max) : dflt;
  };
  return {
    ratePerEmail: number("RATE_LIMIT_PER_EMAIL", 5, 1, 1_000_000),
    ratePerIp: number("RATE_LIMIT_PER_IP", 20, 1, 1_000_000),
    rateWindow: number("RATE_LIMIT_WINDOW_SECONDS", 3600, 1, 7 * 86_400),
    idempotencyTtl: number("IDEMPOTENCY_TTL_SECONDS", 86_400, 60, 7 * 86_400),
    categories: categories.length ? categories : ["general"],
    publicOrigins: origins(nonEmpty(env, "PUBLIC_ALLOWED_ORIGINS") ?? "*"),
    crmOrigins: origins(nonEmpty(env, "CRM_ALLOWED_ORIGINS")),
    maxBodyBytes: Number.isSafeInteger(maxBody) && maxBody > 0 ? maxBody : DEFAULT_MAX_BODY_BYTES,
    formSuccessUrl: nonEmpty(env, "FORM_SUCCESS_URL"),
    ticketTokenSecret: nonEmpty(env, "TICKET_TOKEN_SECRET"),
    publicBaseUrl: nonEmpty(env, "PUBLIC_BASE_URL")?.replace(/\/+$/, ""),
    // src/notify/mod.rs `outbox_policy`: why a target's rows are written as skipped, if they are.
    emailSkip: nonEmpty(env, "EMAIL_API_KEY") === undefined ? "EMAIL_API_KEY is not set" : null,
    webhookSkip:
      nonEmpty(env, "WEBHOOK_URL") === undefined || nonEmpty(env, "WEBHOOK_SECRET") === undefined
        ? "WEBHOOK_URL or WEBHOOK_SECRET is not set"
        : null,
    // src/notify/mod.rs `lease_seconds`: BATCH (25) deliveries at NOTIFY_TIMEOUT_MS each, plus a minute.
    leaseSeconds: Math.ceil((25 * number("NOTIFY_TIMEOUT_MS", 5000, 100, 30_000)) / 1000) + 60,
  };
}

// Vars cannot change while an isolate lives: read them on the first request only.
let isolateConfig;
export const config = (env) => (isolateConfig ??= readConfig(env));

/** The `Access-Control-Allow-Origin` for a request's Origin under a policy, if allowed. */
export function allowedOrigin(policy, origin) {
  if (policy === "*") return "*";
  return origin && policy.includes(origin) ? origin : undefined;
}

// ---------------------------------------------------------------- errors and answers (src/error.rs, src/http/envelope.rs)

export class ApiError extends Error {
  /** `extra`: { details?, headers?, cause? (a 5xx's internal cause, logged, never sent) }. */
  constructor(status, code, error, message, extra = {}) {
    super(message);
    Object.assign(this, { status, code, error, extra });
  }
}

export const badRequest = (code, message) => new ApiError(400, code, "Bad request", message);
export const fieldError = (field, code, message) => ({ code, field, message }); // serde_json's key order
export const internalError = (cause) =>
  new ApiError(500, "internal_error", "Internal error", CONTACT_SUPPORT, { cause: String(cause) });

export function validationError(details) {
  const missing = (f) => details.some((d) => d.field === f && d.code === "required");
  let headline = details.length === 1 ? details[0].message : "Some fields are invalid";
  if (missing("subject") || missing("description")) headline = "Subject and description are required";
  else if (missing("customer_email")) headline = "Customer email is required";
  const message = details.map((d) => d.message).join("; ");
  return new ApiError(400, "validation_failed", headline, message, { details });
}

export function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

export const success = (status, message, data) => json(status, { data, message, success: true });

export function errorResponse(e) {
  const body = e.extra.details
    ? { code: e.code, details: e.extra.details, error: e.error, message: e.message, success: false }
    : { code: e.code, error: e.error, message: e.message, success: false };
  return json(e.status, body, e.extra.headers);
}

export function methodNotAllowed(allow) {
  return new ApiError(405, "method_not_allowed", "Method not allowed", `This path accepts: ${allow}.`, { headers: { Allow: allow } });
}

export const noRoute = () => new ApiError(404, "not_found", "Not found", "No resource exists at this path.");

export const unauthorized = (message) =>
  new ApiError(401, "unauthorized", "Authentication required", message, { headers: { "WWW-Authenticate": 'Bearer realm="crm"' } });

// ---------------------------------------------------------------- text (src/domain/fields.rs, src/http/headers.rs)

// Rust's str::trim removes White_Space characters; String.prototype.trim differs (U+FEFF, U+0085).
const TRIM = /^\p{White_Space}+|\p{White_Space}+$/gu;
export const rustTrim = (s) => s.replace(TRIM, "");
export const asciiLower = (s) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

export function charCount(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function jsonType(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return { boolean: "a boolean", number: "a number", string: "a string", object: "an object" }[typeof v];
}

/** The credential of `Authorization: Bearer <credential>`, or undefined. */
export function bearer(header) {
  const value = rustTrim(header);
  const space = value.indexOf(" ");
  if (space < 0) return undefined;
  const credential = rustTrim(value.slice(space + 1));
  return asciiLower(value.slice(0, space)) === "bearer" && credential ? credential : undefined;
}

// ---------------------------------------------------------------- encodings and hashes (src/domain/encoding.rs, hash.rs)

export function base64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Unpadded base64url to bytes; undefined for anything else (as `base64url_decode`). */
export function base64urlDecode(text) {
  if (text.length % 4 === 1 || !/^[A-Za-z0-9_-]*$/.test(text)) return undefined;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function hex(bytes) {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

export const sha256Hex = async (bytes) => hex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));

/** Compares in time that depends only on the lengths (src/domain/encoding.rs). */
export function constantTimeEqual(a, b) {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

// ---------------------------------------------------------------- time (src/domain/time.rs)

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds of any RFC 3339 timestamp (offsets to UTC, digits past the ms dropped), or undefined. */
export function parseTimestamp(text) {
  const t = rustTrim(text);
  const m = RFC3339.exec(t);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", , sign, oh, om] = m.map((v) => v ?? "");
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > days || hour > 23 || minute > 59 || second > 60) return undefined;
  if (sign && (Number(oh) > 23 || Number(om) > 59)) return undefined;
  const ms = Number((frac.slice(1) + "000").slice(0, 3));
  const offset = sign ? (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
  // A leap second reads as the last millisecond's second, as chrono does.
  const at = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), ms) + (second === 60 ? 1000 : 0);
  return year < 100 ? undefined : at - offset;
}

/** `YYYY-MM-DDTHH:MM:SS.mmmZ`, the one form every stored timestamp has. */
export const rfc3339 = (ms) => new Date(ms).toISOString();

/** A stored timestamp as the product answers it: canonical text as is, else re-read. */
export const canonicalTime = (text) =>
  text == null ? null : CANONICAL.test(text) ? text : ((ms) => (ms === undefined ? text : rfc3339(ms)))(parseTimestamp(text));

// ---------------------------------------------------------------- tickets (src/domain/ticket.rs, src/store/rows.rs)

/** `TicketNumber::parse`: TKT-<year>-<seq as %04d>, seq >= 1. */
export function isTicketNumber(s) {
  const m = /^TKT-([0-9]{4})-([0-9]{4,15})$/.exec(s);
  if (!m) return false;
  const seq = BigInt(m[2]);
  return seq >= 1n && `TKT-${m[1]}-${seq.toString().padStart(4, "0")}` === s;
}

/** A positive integer id path segment, exact as a JS number (src/routes/table.rs `parse_id`). */
export const parseId = (s) => (/^[0-9]{1,15}$/.test(s) && Number(s) > 0 ? Number(s) : undefined);

export const TICKET_FIELDS = [
  "id", "ticket_number", "subject", "description", "user_id", "customer_name", "customer_email", "priority", "category",
  "status", "assigned_to", "assigned_at", "resolved_at", "closed_at", "created_by", "created_at", "updated_at", "version",
  "requester_verified",
];
export const TICKET_COLUMNS = TICKET_FIELDS.join(", ");
export const T_TICKET_COLUMNS = TICKET_FIELDS.map((f) => `t.${f}`).join(", ");
export const M_MESSAGE_COLUMNS = "m.id, m.author_type, m.staff_id, m.body, m.internal, m.created_at";
export const A_ATTACHMENT_COLUMNS =
  "a.id, a.ticket_id, a.message_id, a.uploader_type, a.staff_id, a.filename, a.content_type, a.size, " +
  "a.r2_key, a.etag, a.status, a.internal, a.created_at, a.uploaded_at";

/** Numbered placeholders in binding order, as src/store/mod.rs `Params` does. */
export class Params {
  constructor(...values) {
    this.values = values;
  }
  bind(v) {
    this.values.push(v);
    return `?${this.values.length}`;
  }
}

/** Binds only the parameters a statement uses (src/store/mod.rs `used_params`). */
export function usedParams(sql, params) {
  let highest = 0;
  for (const m of sql.matchAll(/\?(\d+)/g)) highest = Math.max(highest, Number(m[1]));
  return params.slice(0, Math.min(highest, params.length));
}

// ---------------------------------------------------------------- round trips of the log line (src/platform/trips.rs)

/** This request's D1/KV round-trip counts (each call site adds one, as the product's handles do). */
export const trips = (c) => c.get("trips");
