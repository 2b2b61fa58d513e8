// The yardstick: the product's public endpoints written the way a TypeScript/JS team
// would write them on Workers, with Hono, so `make bench` can say how the Rust/wasm
// worker compares with the usual alternative on the same machine in the same rounds.
//
// A frozen snapshot, not derived from the product's code: it was written against the
// files named below and is kept true by the parity check (bench/lib/parity.mjs, ~60
// requests whose answers must match the product's). When a public endpoint changes
// shape, change it here too; `make bench` reports the parity count.
//
// It does the same work as the product, not a lighter version of it:
//   - validation: the rules of src/domain/ticket_input.rs, fields.rs and email.rs (trimming,
//     lengths in characters, control characters, the email grammar, choices, ids), the
//     same field order, codes, messages and seed headlines;
//   - bodies: src/http/body.rs and src/platform/request.rs (media type, Content-Length cap, streamed read under the cap,
//     JSON object or urlencoded form, first form value wins);
//   - abuse controls: integration keys (Authorization: Bearer, one UPDATE ... RETURNING),
//     Idempotency-Key (SHA-256 of path, media and body; replay and reuse), the honeypot
//     decoy, per-email and per-IP sliding-window limits with RateLimit headers and 429s
//     (src/routes/public_tickets.rs, src/app/create.rs, src/domain/abuse.rs). Not mirrored:
//     Turnstile, which only runs when TURNSTILE_SECRET_KEY is set (the bench does not);
//   - SQL: src/store/ticket_create.rs's batch, statement for statement and placeholder for
//     placeholder (claim under every guard / insert RETURNING / created event / rate-limit
//     hits / idempotency record / outbox rows / diagnosis), one round trip; the outbox
//     rows start as src/store/notifications.rs `enqueue_sql` writes them under
//     src/notify/mod.rs `outbox_policy`: 'skipped' with the reason for an unconfigured target,
//     claimed ('pending', one attempt, a 120 s lease) for a configured one;
//     src/store/tickets/reads.rs `with_public_thread` (ticket + public messages + the files
//     sent with them, src/store/attachments.rs `of_thread`, one batch) for the status lookup; `SELECT 1 AS ok` for health;
//   - status links (src/domain/status_link.rs): with TICKET_TOKEN_SECRET, the create answers
//     `access_token` (HMAC-SHA256 over "ticket-access:<id>:<number>", first 24 bytes,
//     base64url; WebCrypto, the key imported on every use, as a JS worker usually does;
//     the product computes the same HMAC in wasm) and `status_url`;
//     `GET /api/tickets/{number}` with X-Ticket-Token (or ?token=) verifies the token
//     against the ticket, with the same HMAC work when the number is unknown, and answers
//     the same JSON (src/routes/public_status.rs);
//   - answers: the JSON envelope (keys in the same sorted order serde_json writes),
//     201 + Location, 404/405 envelopes with Allow, preflights, and the headers
//     src/lib.rs adds to every answer (request id, no-store, nosniff, Vary, CORS).
// Configuration is read from env once per isolate, as the product does (src/lib.rs
// `config`, a OnceLock). Not mirrored: the test clock, the status page (/t/...), replies,
// "lost my link" lookups, and delivering claimed outbox rows after the response (the
// bench configures no email or webhook target, so the product writes every row as
// skipped and defers nothing; the report flags a scenario whose round trips, deferred
// ones included, differ between the two).
// Plain JS so no compile step is needed; bench/lib/target.mjs bundles it with esbuild.
import { Hono } from "hono";

const DEFAULT_CATEGORIES = "general,technical,billing,account,other";
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const MAX_SAFE_ID = Number.MAX_SAFE_INTEGER;
const MAX_EMAIL_CHARS = 254;
const PUBLIC_PRIORITIES = ["low", "medium", "high"];
const CREATED_MESSAGE = "Support ticket created successfully";
const CONTACT_SUPPORT = "Please try again or contact support.";
const CORS_ALLOW_HEADERS =
  "Content-Type, Authorization, Idempotency-Key, X-Ticket-Token, Content-Disposition, Range, If-None-Match, If-Range";
const CORS_EXPOSE_HEADERS =
  "Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Idempotent-Replayed, Content-Disposition, Content-Range, ETag";
const ACCEPTED_BODIES = "application/json or application/x-www-form-urlencoded";

const SUBJECT = { label: "Subject", max: 200, multiline: false };
const DESCRIPTION = { label: "Description", max: 20_000, multiline: true };
const CUSTOMER_NAME = { label: "Customer name", max: 100, multiline: false };
const EMAIL = { label: "Customer email", max: 1_000, multiline: false };

// ---------------------------------------------------------------- configuration

function nonEmpty(env, name) {
  const v = typeof env[name] === "string" ? env[name].trim() : "";
  return v || undefined;
}

/** src/config.rs `Config::from_lookup`, the part these endpoints use. */
function readConfig(env) {
  const categories = (nonEmpty(env, "CATEGORIES") ?? DEFAULT_CATEGORIES)
    .split(",")
    .map((c) => asciiLower(c.trim()))
    .filter(Boolean);
  const origins = (nonEmpty(env, "PUBLIC_ALLOWED_ORIGINS") ?? "")
    .split(",")
    .map((o) => o.trim().replace(/\/+$/, ""))
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
    origins: origins.length === 0 || origins.includes("*") ? "*" : origins,
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
  };
}

// Vars cannot change while an isolate lives: read them on the first request only.
let isolateConfig;
const config = (env) => (isolateConfig ??= readConfig(env));

// ---------------------------------------------------------------- errors and answers

class ApiError extends Error {
  constructor(status, code, error, message, extra = {}) {
    super(message);
    Object.assign(this, { status, code, error, extra });
  }
}

const badRequest = (code, message) => new ApiError(400, code, "Bad request", message);
const fieldError = (field, code, message) => ({ code, field, message }); // serde_json's key order

function validationError(details) {
  const missing = (f) => details.some((d) => d.field === f && d.code === "required");
  let headline = details.length === 1 ? details[0].message : "Some fields are invalid";
  if (missing("subject") || missing("description")) headline = "Subject and description are required";
  else if (missing("customer_email")) headline = "Customer email is required";
  const message = details.map((d) => d.message).join("; ");
  return new ApiError(400, "validation_failed", headline, message, { details });
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

const success = (status, message, data) => json(status, { data, message, success: true });

function errorResponse(e) {
  const body = e.extra.details
    ? { code: e.code, details: e.extra.details, error: e.error, message: e.message, success: false }
    : { code: e.code, error: e.error, message: e.message, success: false };
  return json(e.status, body, e.extra.headers);
}

// ---------------------------------------------------------------- text rules (src/domain/fields.rs)

// Rust's str::trim removes White_Space characters; String.prototype.trim differs (U+FEFF, U+0085).
const TRIM = /^\p{White_Space}+|\p{White_Space}+$/gu;
const rustTrim = (s) => s.replace(TRIM, "");
// char::is_control() is the Cc category; U+2028/2029 are refused too.
const CONTROL_SINGLE = /[\p{Cc}\u2028\u2029]/u;
const CONTROL_MULTI = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029]/u;
const asciiLower = (s) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

function charCount(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function jsonType(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return { boolean: "a boolean", number: "a number", string: "a string", object: "an object" }[typeof v];
}

function optionalText(fields, name, rule, errors) {
  const raw = Object.hasOwn(fields, name) ? fields[name] : null;
  if (raw === null) return undefined;
  if (typeof raw !== "string") {
    errors.push(fieldError(name, "invalid_type", `${rule.label} must be a string, not ${jsonType(raw)}`));
    return undefined;
  }
  const value = rustTrim(raw);
  if (!value) return undefined;
  // A string never has more characters than UTF-16 units: count only when it may be too long.
  const chars = value.length > rule.max ? charCount(value) : value.length;
  if (chars > rule.max) {
    errors.push(fieldError(name, "too_long", `${rule.label} must be at most ${rule.max} characters (got ${chars})`));
    return undefined;
  }
  if ((rule.multiline ? CONTROL_MULTI : CONTROL_SINGLE).test(value)) {
    errors.push(fieldError(name, "invalid_characters", `${rule.label} contains control characters`));
    return undefined;
  }
  return value;
}

function requiredText(fields, name, rule, errors) {
  const before = errors.length;
  const value = optionalText(fields, name, rule, errors);
  if (value === undefined && errors.length === before) {
    errors.push(fieldError(name, "required", `${rule.label} is required`));
  }
  return value;
}

function optionalId(fields, name, label, errors) {
  const raw = Object.hasOwn(fields, name) ? fields[name] : null;
  if (raw === null) return undefined;
  let parsed;
  if (typeof raw === "number") parsed = Number.isInteger(raw) ? raw : undefined;
  else if (typeof raw === "string") {
    const s = rustTrim(raw);
    if (!s) return undefined;
    parsed = /^[0-9]+$/.test(s) ? Number(s) : undefined;
  } else {
    errors.push(fieldError(name, "invalid_type", `${label} must be an integer, not ${jsonType(raw)}`));
    return undefined;
  }
  if (parsed !== undefined && parsed >= 1 && parsed <= MAX_SAFE_ID) return parsed;
  errors.push(fieldError(name, "invalid_integer", `${label} must be a positive integer`));
  return undefined;
}

function choice(fields, name, label, allowed, errors) {
  const value = optionalText(fields, name, { label, max: 100, multiline: false }, errors);
  if (value === undefined) return undefined;
  const wanted = asciiLower(value);
  const found = allowed.find((c) => c === wanted);
  if (found === undefined) {
    errors.push(fieldError(name, "invalid_choice", `${label} must be one of: ${allowed.join(", ")}`));
  }
  return found;
}

// ---------------------------------------------------------------- email (src/domain/email.rs)

const LOCAL_ATOM = /^[\p{Alphabetic}\p{N}!#$%&'*+\-/=?^_`{|}~]+$/u;
const DOMAIN_LABEL = /^[\p{Alphabetic}\p{N}-]+$/u;

function parseEmail(input) {
  const value = rustTrim(input);
  if (charCount(value) > MAX_EMAIL_CHARS) return { error: "too_long" };
  const at = value.lastIndexOf("@");
  if (at < 0) return { error: "invalid_email" };
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  const localOk = local !== "" && charCount(local) <= 64 && local.split(".").every((a) => LOCAL_ATOM.test(a));
  const labels = domain.split(".");
  const domainOk =
    labels.length >= 2 &&
    charCount(domain) <= 253 &&
    labels.every((l) => charCount(l) <= 63 && !l.startsWith("-") && !l.endsWith("-") && DOMAIN_LABEL.test(l)) &&
    !/^[0-9]*$/.test(labels[labels.length - 1]);
  return localOk && domainOk ? { value } : { error: "invalid_email" };
}

// ---------------------------------------------------------------- the create (src/domain/ticket_input.rs)

function parseNewTicket(fields, cfg) {
  const errors = [];
  const subject = requiredText(fields, "subject", SUBJECT, errors);
  const description = requiredText(fields, "description", DESCRIPTION, errors);
  const customerName = optionalText(fields, "customer_name", CUSTOMER_NAME, errors);
  let customerEmail;
  const rawEmail = requiredText(fields, "customer_email", EMAIL, errors);
  if (rawEmail !== undefined) {
    const parsed = parseEmail(rawEmail);
    if (parsed.error) {
      const message =
        parsed.error === "too_long"
          ? `Customer email must be at most ${MAX_EMAIL_CHARS} characters`
          : "Customer email is not a valid email address";
      errors.push(fieldError("customer_email", parsed.error, message));
    } else customerEmail = parsed.value;
  }
  const priority = choice(fields, "priority", "Priority", PUBLIC_PRIORITIES, errors) ?? "medium";
  const category = choice(fields, "category", "Category", cfg.categories, errors) ?? cfg.categories[0];
  const userId = optionalId(fields, "user_id", "User id", errors);
  if (errors.length || subject === undefined || description === undefined || customerEmail === undefined) {
    throw validationError(errors);
  }
  return { subject, description, customerName: customerName ?? "Guest", customerEmail, priority, category, userId };
}

// ---------------------------------------------------------------- bodies (src/http/body.rs, src/platform/request.rs)

function bodyKind(req) {
  const media = asciiLower((req.headers.get("Content-Type") ?? "").split(";")[0].trim());
  if (media === "application/json") return "json";
  if (media === "application/x-www-form-urlencoded") return "form";
  throw new ApiError(415, "unsupported_media_type", "Unsupported media type", `Send the body as ${ACCEPTED_BODIES}.`);
}

async function readBody(req, cap) {
  const tooLarge = () =>
    new ApiError(413, "payload_too_large", "Request body too large", `The body must be at most ${cap} bytes.`);
  const length = req.headers.get("Content-Length");
  if (length !== null) {
    if (!/^[0-9]+$/.test(length.trim())) throw badRequest("invalid_header", "Content-Length is not a number.");
    if (Number(length.trim()) > cap) throw tooLarge();
  }
  if (!req.body) return new Uint8Array(0);
  const chunks = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    let step;
    try {
      step = await reader.read();
    } catch (e) {
      throw badRequest("invalid_body", `The body could not be read: ${e}`);
    }
    if (step.done) break;
    if (size + step.value.byteLength > cap) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(step.value);
    size += step.value.byteLength;
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) body.set(c, at), (at += c.byteLength);
  return body;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeFields(kind, body) {
  if (kind === "json") {
    if (body.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d)) {
      throw badRequest("malformed_json", "The request body is empty; send a JSON object.");
    }
    let value;
    try {
      value = JSON.parse(utf8.decode(body));
    } catch (e) {
      throw badRequest("malformed_json", `The body is not valid JSON: ${e.message}.`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw badRequest("invalid_body", `The JSON body must be an object, not ${jsonType(value)}.`);
    }
    return value;
  }
  let text;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest("invalid_body", "The form body is not valid UTF-8.");
  }
  const fields = {};
  for (const [name, value] of new URLSearchParams(text)) if (!Object.hasOwn(fields, name)) fields[name] = value;
  return fields;
}

// ---------------------------------------------------------------- abuse controls (src/domain/abuse.rs, src/app/create.rs)

const HONEYPOT_FIELD = "website";

/** `John+1@Example.com` and `john@example.com` share one bucket. */
function emailBucket(email) {
  const lower = rustTrim(email).toLowerCase();
  const at = lower.lastIndexOf("@");
  const [local, domain] = at < 0 ? [lower, ""] : [lower.slice(0, at), lower.slice(at + 1)];
  return `email:${local.split("+")[0]}@${domain}`;
}

function idempotencyKey(req) {
  const key = req.headers.get("Idempotency-Key");
  if (key === null) return undefined;
  if (key.length >= 1 && key.length <= 255 && /^[\x20-\x7e]+$/.test(key)) return key;
  throw badRequest("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters.");
}

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let hex = "";
  for (const b of digest) hex += b.toString(16).padStart(2, "0");
  return hex;
}

// ---------------------------------------------------------------- status links (src/domain/status_link.rs)

const TOKEN_BYTES = 24; // 192 bits of the MAC

function base64url(bytes) {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** HMAC-SHA256 of the ticket's id and number, with WebCrypto (the key imported on every use). */
async function ticketToken(secret, id, number) {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`ticket-access:${id}:${number}`)));
  return base64url(mac.subarray(0, TOKEN_BYTES));
}

/** Compares in time that depends only on the lengths (src/domain/encoding.rs). */
function constantTimeEqual(a, b) {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

const statusUrl = (base, number, token) => `${base}/t/${number}?token=${token}`;

/** `scheme://host[:port]` of a serialized absolute URL (src/platform/request.rs `path_range`). */
function originOf(url) {
  const hostStart = url.includes("://") ? url.indexOf("://") + 3 : 0;
  const end = url.slice(hostStart).search(/[/?#]/);
  return end < 0 ? url : url.slice(0, hostStart + end);
}

const baseUrl = (c) => c.get("config").publicBaseUrl ?? originOf(c.req.url);

/** `access_token` and `status_url` for a create's answer, when links are configured. */
async function linkFields(c, id, number) {
  const secret = c.get("config").ticketTokenSecret;
  if (!secret) return undefined;
  const token = await ticketToken(secret, id, number);
  return { token, url: statusUrl(baseUrl(c), number, token) };
}

/** src/domain/ticket.rs `TicketNumber::parse`: TKT-<year>-<seq as %04d>, seq >= 1. */
function isTicketNumber(s) {
  const m = /^TKT-([0-9]{4})-([0-9]{4,15})$/.exec(s);
  if (!m) return false;
  const year = Number(m[1]);
  const seq = BigInt(m[2]);
  return seq >= 1n && `TKT-${year}-${seq.toString().padStart(4, "0")}` === s;
}

/** `Authorization: Bearer <key>`: a trusted integration; unknown or revoked is a 401. */
async function integrationKey(req, db, now) {
  const header = req.headers.get("Authorization");
  if (header === null) return undefined;
  const invalid = new ApiError(401, "unauthorized", "Authentication required", "The API key is invalid or has been revoked.", {
    headers: { "WWW-Authenticate": 'Bearer realm="crm"' },
  });
  const value = rustTrim(header);
  const space = value.indexOf(" ");
  const token = space < 0 ? "" : rustTrim(value.slice(space + 1));
  if (space < 0 || asciiLower(value.slice(0, space)) !== "bearer" || !token) throw invalid;
  const hash = await sha256Hex(new TextEncoder().encode(token));
  const key = await db
    .prepare(
      "UPDATE api_keys SET last_used_at = ?2 WHERE key_hash = ?1 AND revoked_at IS NULL RETURNING id, name, key_prefix, rate_limit, created_by, created_at, last_used_at, revoked_at",
    )
    .bind(hash, now)
    .first();
  if (!key) throw invalid;
  return key;
}

const plural = (n) => (n === 1 ? "" : "s");
function humanDuration(seconds) {
  if (seconds <= 59) return `${Math.max(seconds, 1)} second${plural(Math.max(seconds, 1))}`;
  if (seconds === 3600) return "hour";
  if (seconds % 3600 === 0 && seconds > 3600) return `${seconds / 3600} hours`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${plural(minutes)}`;
}

function limitedMessage(limit, window, retryAfter) {
  const who = { email: "this email address", ip: "your network" }[limit.name] ?? "this integration";
  return `You have reached the limit of ${limit.max} tickets per ${humanDuration(window)} for ${who}. Please try again in ${humanDuration(retryAfter)}.`;
}

const secondsUntil = (fromMs, iso) => Math.max(0, Math.ceil((Date.parse(iso) - fromMs) / 1000));

function rateHeaders(clock, cfg, limits, buckets) {
  if (!limits.length) return {};
  const usage = buckets.map((b) => ({
    used: b.used,
    reset: b.freesAt ? secondsUntil(clock.getTime(), new Date(Date.parse(b.freesAt) + cfg.rateWindow * 1000).toISOString()) : 0,
  }));
  return {
    "RateLimit-Policy": limits.map((l) => `"${l.name}";q=${l.max};w=${cfg.rateWindow}`).join(", "),
    RateLimit: limits.map((l, i) => `"${l.name}";r=${Math.max(0, l.max - usage[i].used)};t=${usage[i].reset}`).join(", "),
    usage,
  };
}

// ---------------------------------------------------------------- SQL (src/store/ticket_create.rs, health.rs)

const NUMBER_FROM_COUNTER = "printf('TKT-%d-%04d', c.year, c.last_seq)";
const TICKET_FIELDS = [
  "id", "ticket_number", "subject", "description", "user_id", "customer_name", "customer_email", "priority", "category",
  "status", "assigned_to", "assigned_at", "resolved_at", "closed_at", "created_by", "created_at", "updated_at", "version",
];
const CLAIMED = "EXISTS (SELECT 1 FROM ticket_counters c WHERE c.year = ?1 AND c.claimed_by = ?2)";

/** Numbered placeholders in binding order, as src/store/mod.rs `Params` does. */
class Params {
  constructor(year, requestId) {
    this.values = [year, requestId];
  }
  bind(v) {
    this.values.push(v);
    return `?${this.values.length}`;
  }
}

// Anonymous callers may only name a user whose email is the ticket's.
function userOk(p, c) {
  const user = p.bind(c.ticket.userId ?? null);
  const rule = c.userMustMatchEmail ? ` AND email = ${p.bind(c.ticket.customerEmail)} COLLATE NOCASE` : "";
  return `(${user} IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ${user}${rule}))`;
}

function assigneeOk(p) {
  const staff = p.bind(null); // the public create never assigns
  return `(${staff} IS NULL OR EXISTS (SELECT 1 FROM crm_staff WHERE id = ${staff} AND active = 1))`;
}

function guards(p, c) {
  const all = [userOk(p, c), assigneeOk(p)];
  const windowStart = c.limits.length ? p.bind(c.windowStart) : "";
  for (const l of c.limits) {
    all.push(`(SELECT count(*) FROM rate_limit_hits WHERE bucket = ${p.bind(l.bucket)} AND at > ${windowStart}) < ${p.bind(l.max)}`);
  }
  if (c.idempotency) {
    const i = c.idempotency;
    all.push(
      `NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE scope = ${p.bind(i.scope)} AND key = ${p.bind(i.key)} AND expires_at > ${p.bind(c.now)})`,
    );
  }
  return all.join(" AND ");
}

function diagnosis(p, c) {
  const columns = [`${userOk(p, c)} AS user_ok`, `${assigneeOk(p)} AS assignee_ok`];
  if (c.idempotency) {
    const i = c.idempotency;
    const record = `FROM idempotency_keys WHERE scope = ${p.bind(i.scope)} AND key = ${p.bind(i.key)} AND expires_at > ${p.bind(c.now)}`;
    columns.push(`(SELECT request_hash ${record}) AS idem_hash`, `(SELECT ticket ${record}) AS idem_ticket`);
  }
  const windowStart = c.limits.length ? p.bind(c.windowStart) : "";
  c.limits.forEach((l, i) => {
    const hits = `FROM rate_limit_hits WHERE bucket = ${p.bind(l.bucket)} AND at > ${windowStart}`;
    const max = p.bind(l.max);
    columns.push(
      `(SELECT count(*) ${hits}) AS used_${i}`,
      `(SELECT at ${hits} ORDER BY at LIMIT 1 OFFSET max(0, (SELECT count(*) ${hits}) - ${max})) AS frees_${i}`,
    );
  });
  return `SELECT ${columns.join(", ")}`;
}

const NOTIFICATION_COLUMNS =
  "id, kind, channel, ticket_id, message_id, recipient, link_base, status, attempts, next_attempt_at, last_error, created_at, updated_at, sent_at";

const OUTGOING_ON_CREATE = [
  { kind: "ticket_created", channel: "email", recipientSql: "t.customer_email" },
  { kind: "new_ticket", channel: "webhook", recipientSql: "NULL" },
];

/** src/store/notifications.rs `enqueue_sql`: outbox rows for the ticket `fromWhere` selects as `t`. */
function enqueueSql(p, rows, fromWhere, messageSql, policy) {
  const now = p.bind(policy.now);
  const lease = p.bind(policy.leaseUntil);
  const linkBase = p.bind(policy.linkBase);
  const selects = rows.map((o) => {
    const kind = p.bind(o.kind);
    const channel = p.bind(o.channel);
    const skip = o.channel === "webhook" ? policy.webhookSkip : policy.emailSkip;
    const state = skip ? `'skipped', 0, ${now}, ${p.bind(skip)}` : `'pending', 1, ${lease}, NULL`;
    return `SELECT ${kind}, ${channel}, t.id, ${messageSql}, ${o.recipientSql}, ${linkBase}, ${state}, ${now}, ${now} ${fromWhere}`;
  });
  return `INSERT INTO notifications (kind, channel, ticket_id, message_id, recipient, link_base, status, attempts,
            next_attempt_at, last_error, created_at, updated_at) ${selects.join(" UNION ALL ")} RETURNING ${NOTIFICATION_COLUMNS}`;
}

/** src/notify/mod.rs `outbox_policy`: how rows written by this request start. */
const LEASE_SECONDS = 120;
function outboxPolicy(cfg, clock, linkBase) {
  return {
    now: clock.toISOString(),
    linkBase,
    leaseUntil: new Date(clock.getTime() + LEASE_SECONDS * 1000).toISOString(),
    emailSkip: cfg.emailSkip,
    webhookSkip: cfg.webhookSkip,
  };
}

/**
 * The create batch of src/store/ticket_create.rs: claim (under every guard), ticket,
 * created event, rate-limit hits, idempotency record, outbox rows, diagnosis: one round trip.
 */
async function createTicket(db, c) {
  const t = c.ticket;
  const prep = (sql, p) => db.prepare(sql).bind(...p.values);

  let p = new Params(c.year, c.requestId);
  const claim = prep(
    `INSERT INTO ticket_counters (year, last_seq, claimed_by)
             SELECT ?1, 1, ?2 WHERE ${guards(p, c)}
             ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + 1, claimed_by = excluded.claimed_by`,
    p,
  );

  p = new Params(c.year, c.requestId);
  const [subject, description, user, name, email, priority, category, status, assignee, creator, now] = [
    t.subject, t.description, t.userId ?? null, t.customerName, t.customerEmail, t.priority, t.category, "open", null, null, c.now,
  ].map((v) => p.bind(v));
  const insert = prep(
    `INSERT INTO support_tickets
               (ticket_number, subject, description, user_id, customer_name, customer_email,
                priority, category, status, assigned_to, assigned_at, created_by, created_at, updated_at)
             SELECT ${NUMBER_FROM_COUNTER}, ${subject}, ${description}, ${user}, ${name}, ${email}, ${priority},
                    ${category}, ${status}, ${assignee}, CASE WHEN ${assignee} IS NULL THEN NULL ELSE ${now} END,
                    ${creator}, ${now}, ${now}
             FROM ticket_counters c WHERE c.year = ?1 AND c.claimed_by = ?2
             RETURNING ${TICKET_FIELDS.join(", ")}`,
    p,
  );

  p = new Params(c.year, c.requestId);
  const data = JSON.stringify({ assigned_to: null, category: t.category, priority: t.priority, status: "open" });
  const [kind, actorId, dataP, at] = [c.actor.kind, c.actor.id, data, c.now].map((v) => p.bind(v));
  const event = prep(
    `INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
             SELECT t.id, 'created', ${kind}, ${actorId}, ${dataP}, ${at}
             FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = ${NUMBER_FROM_COUNTER}
             WHERE c.year = ?1 AND c.claimed_by = ?2`,
    p,
  );
  const statements = [claim, insert, event];

  if (c.limits.length) {
    p = new Params(c.year, c.requestId);
    const list = p.bind(JSON.stringify(c.limits.map((l) => l.bucket)));
    const hitAt = p.bind(c.now);
    statements.push(
      prep(`INSERT INTO rate_limit_hits (bucket, at) SELECT b.value, ${hitAt} FROM json_each(${list}) b WHERE ${CLAIMED}`, p),
    );
  }

  if (c.idempotency) {
    p = new Params(c.year, c.requestId);
    const i = c.idempotency;
    const [scope, key, hash, created, expires] = [i.scope, i.key, i.requestHash, c.now, i.expiresAt].map((v) => p.bind(v));
    statements.push(
      prep(
        `INSERT INTO idempotency_keys (scope, key, request_hash, ticket, created_at, expires_at)
                 SELECT ${scope}, ${key}, ${hash}, json_object(${TICKET_FIELDS.map((f) => `'${f}', t.${f}`).join(", ")}), ${created}, ${expires}
                 FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = ${NUMBER_FROM_COUNTER}
                 WHERE c.year = ?1 AND c.claimed_by = ?2
                 ON CONFLICT (scope, key) DO UPDATE SET request_hash = excluded.request_hash,
                   ticket = excluded.ticket,
                   created_at = excluded.created_at, expires_at = excluded.expires_at`,
        p,
      ),
    );
  }

  // The outbox: confirmation to the customer, new ticket to the team (enqueue_sql).
  p = new Params(c.year, c.requestId);
  const fromWhere = `FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = ${NUMBER_FROM_COUNTER}
             WHERE c.year = ?1 AND c.claimed_by = ?2`;
  statements.push(prep(enqueueSql(p, OUTGOING_ON_CREATE, fromWhere, "NULL", c.outbox), p));
  const outboxIndex = statements.length - 1;

  p = new Params(c.year, c.requestId);
  statements.push(prep(diagnosis(p, c), p));

  const results = await db.batch(statements);
  const created = results[1]?.results?.[0];
  const row = results.at(-1)?.results?.[0] ?? {};
  const buckets = c.limits.map((_, i) => ({ used: Number(row[`used_${i}`] ?? 0), freesAt: row[`frees_${i}`] ?? null }));
  const claimed = (results[outboxIndex]?.results ?? []).filter((n) => n.status === "pending");
  if (created) return { outcome: "created", ticket: created, buckets, claimed };
  if (c.idempotency && typeof row.idem_hash === "string") {
    if (row.idem_hash !== c.idempotency.requestHash) return { outcome: "key_reused", buckets };
    try {
      return { outcome: "replayed", ticket: JSON.parse(row.idem_ticket), buckets };
    } catch {}
  }
  if (row.user_ok !== 1) return { outcome: "unknown_user", buckets };
  if (row.assignee_ok !== 1) return { outcome: "inactive_assignee", buckets };
  const full = c.limits.findIndex((l, i) => buckets[i].used >= l.max);
  return full >= 0 ? { outcome: "rate_limited", index: full, buckets } : { outcome: "unexplained", buckets };
}

// ---------------------------------------------------------------- the app

function requestId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

const app = new Hono();

// Every answer, errors included, gets the headers src/lib.rs `decorate` sets.
app.use("*", async (c, next) => {
  c.set("requestId", requestId());
  c.set("clock", new Date()); // one clock per request, as src/app/context.rs `now`
  c.set("config", config(c.env));
  await next();
  const h = c.res.headers;
  h.set("X-Request-Id", c.get("requestId"));
  h.set("Cache-Control", "no-store");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("Vary", "Origin");
  const origins = c.get("config").origins;
  const origin = c.req.header("Origin");
  const allow = origins === "*" ? "*" : origin && origins.includes(origin) ? origin : undefined;
  if (allow) {
    h.set("Access-Control-Allow-Origin", allow);
    h.set("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
  }
  // One JSON log line per request, as src/lib.rs `log_request` writes (so the CPU compared
  // includes the same serialization and console call).
  const status = c.res.status;
  const line = {
    event: "request",
    request_id: c.get("requestId"),
    method: c.req.method,
    route: c.get("route") ?? null,
    status,
    duration_ms: Date.now() - c.get("clock").getTime(),
    d1: c.get("d1") ?? 0,
    kv: 0,
  };
  if (status >= 400) line.code = c.get("code") ?? "http_error";
  (status >= 500 ? console.error : console.log)(JSON.stringify(line));
});

// The route table's methods per path (src/routes/table.rs).
const ALLOW = { "/api/health": "GET, OPTIONS", "/api/tickets/create": "POST, OPTIONS" };
const STATUS_ALLOW = "GET, OPTIONS";
const STATUS_PREFIX = "/api/tickets/";

/** The path as sent (percent-encoding kept), as workers-rs `Request::path` gives it. */
function rawPath(url) {
  const path = url.slice(originOf(url).length);
  const end = path.search(/[?#]/);
  return (end < 0 ? path : path.slice(0, end)) || "/";
}

/** The ticket number of a `/api/tickets/{number}` path, if the segment is one. */
function statusNumber(c) {
  const number = rawPath(c.req.url).slice(STATUS_PREFIX.length);
  return isTicketNumber(number) ? number : undefined;
}

/** The Allow list of a known path (literal paths first, as the product's table). */
function allowFor(url) {
  const path = rawPath(url);
  if (Object.hasOwn(ALLOW, path)) return ALLOW[path];
  if (path.startsWith(STATUS_PREFIX) && isTicketNumber(path.slice(STATUS_PREFIX.length))) return STATUS_ALLOW;
  return undefined;
}

// Hono would answer HEAD with the GET route; the product's route table does not.
app.use("*", async (c, next) => {
  if (c.req.method !== "HEAD") return next();
  const allow = allowFor(c.req.url);
  return allow ? methodNotAllowed(allow) : notFound();
});

app.get("/api/health", async (c) => {
  try {
    if (!c.env.DB) throw new Error("no DB binding");
    await c.env.DB.prepare("SELECT 1 AS ok").first();
  } catch (e) {
    console.error(`request ${c.get("requestId")}: GET /api/health: health check: D1: ${e}`);
    return errorResponse(new ApiError(503, "service_unavailable", "Service unavailable", CONTACT_SUPPORT));
  }
  // As src/routes/health.rs: the environment, the build's version, config problems
  // (the bench's vars have none).
  return success(200, "ok", {
    database: "ok",
    time: new Date().toISOString(),
    environment: c.env.ENVIRONMENT || "local",
    version: { commit: "reference", built_at: null },
    config: [],
  });
});

app.post("/api/tickets/create", async (c) => {
  const cfg = c.get("config");
  const clock = c.get("clock");
  const now = clock.toISOString();
  const req = c.req.raw;
  const kind = bodyKind(req);
  const key = await integrationKey(req, c.env.DB, now);
  const idemKey = idempotencyKey(req);
  const body = await readBody(req, cfg.maxBodyBytes);
  const fields = decodeFields(kind, body);
  const ticket = parseNewTicket(fields, cfg);

  const ip = req.headers.get("CF-Connecting-IP");
  const limits = key
    ? [{ name: "key", bucket: `key:${key.id}`, max: key.rate_limit }]
    : [
        { name: "email", bucket: emailBucket(ticket.customerEmail), max: cfg.ratePerEmail },
        { name: "ip", bucket: `ip:${rustTrim(ip ?? "unknown")}`, max: cfg.ratePerIp },
      ];
  const honeypot = Object.hasOwn(fields, HONEYPOT_FIELD) ? fields[HONEYPOT_FIELD] : null;
  if (honeypot !== null && (typeof honeypot !== "string" || rustTrim(honeypot) !== "")) {
    console.log(`request ${c.get("requestId")}: honeypot filled, no ticket created`);
    const random = crypto.getRandomValues(new Uint32Array(1))[0];
    const fake = { id: (random % 100_000) + 1, ticket_number: `TKT-${clock.getUTCFullYear()}-${String((random % 9_000) + 1_000).padStart(4, "0")}`, status: "open", priority: ticket.priority, category: ticket.category, created_at: now };
    let link;
    if (cfg.ticketTokenSecret) {
      const token = base64url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
      link = { token, url: statusUrl(baseUrl(c), fake.ticket_number, token) };
    }
    const res = render(cfg, fake, kind, link);
    // As if this were the caller's first ticket in the window.
    const { usage, ...headers } = rateHeaders(clock, cfg, limits, limits.map(() => ({ used: 1, freesAt: now })));
    for (const [h, v] of Object.entries(headers)) res.headers.set(h, v);
    return res;
  }
  // Turnstile (TURNSTILE_SECRET_KEY) is not mirrored: the bench leaves it unset.

  let idempotency;
  if (idemKey !== undefined) {
    const path = new URL(req.url).pathname;
    const material = new Uint8Array([...new TextEncoder().encode(`${path}\0${kind}\0`), ...body]);
    idempotency = {
      scope: key ? `key:${key.id}` : emailBucket(ticket.customerEmail),
      key: idemKey,
      requestHash: await sha256Hex(material),
      expiresAt: new Date(clock.getTime() + cfg.idempotencyTtl * 1000).toISOString(),
    };
  }
  const result = await createTicket(c.env.DB, {
    ticket,
    actor: key ? { kind: "integration", id: key.id } : { kind: "public", id: null },
    userMustMatchEmail: !key,
    limits,
    windowStart: new Date(clock.getTime() - cfg.rateWindow * 1000).toISOString(),
    idempotency,
    requestId: c.get("requestId"),
    outbox: outboxPolicy(cfg, clock, baseUrl(c)),
    year: clock.getUTCFullYear(),
    now,
  });

  const { usage, ...headers } = rateHeaders(clock, cfg, limits, result.buckets);
  switch (result.outcome) {
    case "created":
    case "replayed": {
      const link = await linkFields(c, result.ticket.id, result.ticket.ticket_number);
      const res = render(cfg, result.ticket, kind, link);
      if (result.claimed?.length) {
        // A configured email or webhook target: the product delivers these after the
        // response (ctx.waitUntil); the reference does not, and the report's round-trip
        // check says so. The bench configures neither.
        console.warn(`request ${c.get("requestId")}: ${result.claimed.length} outbox rows claimed; the reference does not deliver them`);
      }
      for (const [h, v] of Object.entries(headers)) res.headers.set(h, v);
      if (result.outcome === "replayed") res.headers.set("Idempotent-Replayed", "true");
      return res;
    }
    case "key_reused":
      throw new ApiError(422, "idempotency_key_reused", "Idempotency key reused", "This Idempotency-Key was first used with a different request; use a new key for a new request.");
    case "unknown_user":
      throw validationError([fieldError("user_id", "unknown_user", "User id does not match a user with this customer email")]);
    case "inactive_assignee":
      throw validationError([fieldError("assigned_to", "inactive_staff", "Assigned to does not match any active staff member")]);
    case "rate_limited": {
      const retryAfter = Math.max(usage[result.index]?.reset ?? cfg.rateWindow, 1);
      throw new ApiError(429, "rate_limited", "Too many requests", limitedMessage(limits[result.index], cfg.rateWindow, retryAfter), {
        headers: { "Retry-After": String(retryAfter), ...headers },
      });
    }
    default:
      throw new Error("ticket create refused without a failing guard");
  }
});

/** 201 JSON, or 303 to FORM_SUCCESS_URL for a form post; `link`: the customer's status link. */
function render(cfg, t, kind, link) {
  const { id, ticket_number, status, priority, category, created_at } = t;
  const data = link
    ? { access_token: link.token, category, created_at, id, priority, status, status_url: link.url, ticket_number }
    : { category, created_at, id, priority, status, ticket_number };
  if (cfg.formSuccessUrl && kind === "form") {
    const sep = cfg.formSuccessUrl.includes("?") ? "&" : "?";
    return withHeader(success(303, CREATED_MESSAGE, data), "Location", `${cfg.formSuccessUrl}${sep}ticket=${ticket_number}`);
  }
  return withHeader(success(201, CREATED_MESSAGE, data), "Location", `/api/tickets/${ticket_number}`);
}

// ---------------------------------------------------------------- status lookup (src/routes/public_status.rs)

const TICKET_COLUMNS = TICKET_FIELDS.map((f) => `t.${f}`).join(", ");
const MESSAGE_COLUMNS = "m.id, m.author_type, m.staff_id, m.body, m.internal, m.created_at";

const noTicket = () => new ApiError(404, "not_found", "Not found", "No ticket matches this number and token.");

/** The token from X-Ticket-Token, else `?token=`; empty or over 256 bytes counts as none. */
function presentedToken(req) {
  let token = req.headers.get("X-Ticket-Token");
  if (token === null) {
    const url = req.url;
    const q = url.indexOf("?");
    const query = q < 0 ? "" : url.slice(q + 1).split("#")[0];
    token = new URLSearchParams(query).get("token");
  }
  if (token === null || token === "" || new TextEncoder().encode(token).length > 256) return undefined;
  return token;
}

const ATTACHMENT_COLUMNS =
  "a.id, a.ticket_id, a.message_id, a.uploader_type, a.staff_id, a.filename, a.content_type, a.size, " +
  "a.r2_key, a.etag, a.status, a.internal, a.created_at, a.uploaded_at";
/** src/store/attachments.rs `PUBLIC`: what a public route may show. */
const PUBLIC_ATTACHMENT = `a.status = 'uploaded' AND a.internal = 0
    AND (a.message_id IS NOT NULL OR a.uploader_type = 'customer')
    AND (a.message_id IS NULL
         OR EXISTS (SELECT 1 FROM ticket_messages m WHERE m.id = a.message_id AND m.internal = 0))`;

/** src/store/tickets/reads.rs `with_public_thread`: the ticket, its public messages and their files, one batch. */
async function publicView(db, number) {
  const [ticket, messages, attachments] = await db.batch([
    db.prepare(`SELECT ${TICKET_COLUMNS} FROM support_tickets t WHERE t.ticket_number = ?1`).bind(number),
    db
      .prepare(
        `SELECT ${MESSAGE_COLUMNS} FROM ticket_messages m JOIN support_tickets t ON t.id = m.ticket_id
             WHERE t.ticket_number = ?1 AND m.internal = 0 ORDER BY m.id`,
      )
      .bind(number),
    db
      .prepare(
        `SELECT ${ATTACHMENT_COLUMNS} FROM ticket_attachments a JOIN support_tickets t ON t.id = a.ticket_id
             WHERE t.ticket_number = ?1 AND a.message_id IS NOT NULL AND ${PUBLIC_ATTACHMENT} ORDER BY a.id`,
      )
      .bind(number),
  ]);
  const row = ticket.results[0];
  return row ? { ticket: row, messages: messages.results, attachments: attachments.results } : undefined;
}

/** Unknown number, missing or wrong token: the same 404 after the same work. */
async function authorize(cfg, ticket, number, token) {
  if (!cfg.ticketTokenSecret) throw noTicket();
  const expected = await ticketToken(cfg.ticketTokenSecret, ticket?.id ?? 0, number);
  const valid = constantTimeEqual(expected, token ?? "");
  if (ticket && valid && token !== undefined) return ticket;
  throw noTicket();
}

async function ticketStatus(c) {
  const number = statusNumber(c);
  if (number === undefined) return notFound();
  const view = await publicView(c.env.DB, number);
  const t = await authorize(c.get("config"), view?.ticket, number, presentedToken(c.req.raw));
  const files = view?.attachments ?? [];
  const messages = (view?.messages ?? [])
    .filter((m) => m.internal === 0)
    .map((m) => ({
      author: m.author_type,
      body: m.body,
      created_at: m.created_at,
      attachments: files
        .filter((a) => a.message_id === m.id)
        .map((a) => ({
          id: a.id,
          filename: a.filename,
          content_type: a.content_type,
          size: a.size,
          created_at: a.created_at,
          download_url: `/api/tickets/${t.ticket_number}/attachments/${a.id}`,
        })),
    }));
  // serde_json's key order (sorted).
  return success(200, "Ticket status", {
    category: t.category,
    closed_at: t.closed_at,
    created_at: t.created_at,
    description: t.description,
    messages,
    priority: t.priority,
    resolved_at: t.resolved_at,
    status: t.status,
    subject: t.subject,
    ticket_number: t.ticket_number,
    updated_at: t.updated_at,
  });
}

function withHeader(response, name, value) {
  response.headers.set(name, value);
  return response;
}

function preflight(allow) {
  const res = new Response(null, { status: 204 });
  res.headers.set("Access-Control-Allow-Methods", allow);
  res.headers.set("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
  res.headers.set("Access-Control-Max-Age", "86400");
  return res;
}

// Known paths: preflight for OPTIONS, 405 with Allow for other methods.
for (const [path, allow] of Object.entries(ALLOW)) {
  app.options(path, () => preflight(allow));
  app.all(path, () => methodNotAllowed(allow));
}

// After the literal paths, so /api/tickets/create is never read as a number.
app.get(`${STATUS_PREFIX}:number`, ticketStatus);
app.options(`${STATUS_PREFIX}:number`, (c) => (statusNumber(c) ? preflight(STATUS_ALLOW) : notFound()));
app.all(`${STATUS_PREFIX}:number`, (c) => (statusNumber(c) ? methodNotAllowed(STATUS_ALLOW) : notFound()));

function methodNotAllowed(allow) {
  return errorResponse(
    new ApiError(405, "method_not_allowed", "Method not allowed", `This path accepts: ${allow}.`, { headers: { Allow: allow } }),
  );
}

const notFound = () => errorResponse(new ApiError(404, "not_found", "Not found", "No resource exists at this path."));
app.notFound(notFound);

app.onError((e, c) => {
  if (e instanceof ApiError) return errorResponse(e);
  console.error(`request ${c.get("requestId")}: ${c.req.method} ${c.req.path}: ${e?.stack ?? e}`);
  return errorResponse(new ApiError(500, "internal_error", "Internal error", CONTACT_SUPPORT));
});

export default app;
