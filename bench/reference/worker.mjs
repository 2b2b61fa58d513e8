// The yardstick: the product's public endpoints written the way a TypeScript/JS team
// would write them on Workers, with Hono, so `make bench` can say how the Rust/wasm
// worker compares with the usual alternative on the same machine in the same rounds.
//
// It does the same work as the product, not a lighter version of it:
//   - validation: the rules of src/domain/ticket.rs, fields.rs and email.rs (trimming,
//     lengths in characters, control characters, the email grammar, choices, ids), the
//     same field order, codes, messages and seed headlines;
//   - bodies: src/http.rs (media type, Content-Length cap, streamed read under the cap,
//     JSON object or urlencoded form, first form value wins);
//   - SQL: src/store/tickets.rs's three-statement batch (claim counter / insert with
//     RETURNING / created event), one round trip, and `SELECT 1 AS ok` for health;
//   - answers: the JSON envelope (keys in the same sorted order serde_json writes),
//     201 + Location, 404/405 envelopes with Allow, preflights, and the headers
//     src/lib.rs adds to every answer (request id, no-store, nosniff, Vary, CORS).
// Configuration (CATEGORIES, PUBLIC_ALLOWED_ORIGINS, MAX_BODY_BYTES, FORM_SUCCESS_URL)
// is read from env on every request, as the product does. Not mirrored: the test clock.
// Plain JS so no compile step is needed; bench/lib/target.mjs bundles it with esbuild.
import { Hono } from "hono";

const DEFAULT_CATEGORIES = "general,technical,billing,account,other";
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const MAX_SAFE_ID = Number.MAX_SAFE_INTEGER;
const MAX_EMAIL_CHARS = 254;
const PUBLIC_PRIORITIES = ["low", "medium", "high"];
const CREATED_MESSAGE = "Support ticket created successfully";
const CONTACT_SUPPORT = "Please try again or contact support.";
const CORS_ALLOW_HEADERS = "Content-Type, Authorization, Idempotency-Key, X-Ticket-Token";
const CORS_EXPOSE_HEADERS = "Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Idempotent-Replayed";
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

function config(env) {
  const categories = (nonEmpty(env, "CATEGORIES") ?? DEFAULT_CATEGORIES)
    .split(",")
    .map((c) => asciiLower(c.trim()))
    .filter(Boolean);
  const origins = (nonEmpty(env, "PUBLIC_ALLOWED_ORIGINS") ?? "")
    .split(",")
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  const maxBody = Number(nonEmpty(env, "MAX_BODY_BYTES"));
  return {
    categories: categories.length ? categories : ["general"],
    origins: origins.length === 0 || origins.includes("*") ? "*" : origins,
    maxBodyBytes: Number.isSafeInteger(maxBody) && maxBody > 0 ? maxBody : DEFAULT_MAX_BODY_BYTES,
    formSuccessUrl: nonEmpty(env, "FORM_SUCCESS_URL"),
  };
}

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

// ---------------------------------------------------------------- the create (src/domain/ticket.rs)

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

// ---------------------------------------------------------------- bodies (src/http.rs)

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

// ---------------------------------------------------------------- SQL (src/store/tickets.rs, health.rs)

const NUMBER_FROM_COUNTER = "printf('TKT-%d-%04d', c.year, c.last_seq)";
const CLAIM = `INSERT INTO ticket_counters (year, last_seq, claimed_by)
             SELECT ?1, 1, ?2
             WHERE ?3 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?3)
             ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + 1, claimed_by = excluded.claimed_by`;
const INSERT = `INSERT INTO support_tickets
               (ticket_number, subject, description, user_id, customer_name, customer_email,
                priority, category, status, created_at, updated_at)
             SELECT ${NUMBER_FROM_COUNTER}, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11
             FROM ticket_counters c WHERE c.year = ?1 AND c.claimed_by = ?2
             RETURNING id, ticket_number, status, priority, category, created_at`;
const EVENT = `INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
             SELECT t.id, 'created', ?3, ?4, ?5, ?6
             FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = ${NUMBER_FROM_COUNTER}
             WHERE c.year = ?1 AND c.claimed_by = ?2`;

async function createTicket(db, t, requestId, year, now) {
  const userId = t.userId ?? null;
  const data = JSON.stringify({ category: t.category, priority: t.priority, status: "open" });
  const results = await db.batch([
    db.prepare(CLAIM).bind(year, requestId, userId),
    db
      .prepare(INSERT)
      .bind(year, requestId, t.subject, t.description, userId, t.customerName, t.customerEmail, t.priority, t.category, "open", now),
    db.prepare(EVENT).bind(year, requestId, "public", null, data, now),
  ]);
  return results[1]?.results?.[0];
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
});

// The route table's methods per path (src/routes/mod.rs).
const ALLOW = { "/api/health": "GET, OPTIONS", "/api/tickets/create": "POST, OPTIONS" };

// Hono would answer HEAD with the GET route; the product's route table does not.
app.use("*", async (c, next) => {
  if (c.req.method !== "HEAD") return next();
  return Object.hasOwn(ALLOW, c.req.path) ? methodNotAllowed(ALLOW[c.req.path]) : notFound();
});

app.get("/api/health", async (c) => {
  try {
    if (!c.env.DB) throw new Error("no DB binding");
    await c.env.DB.prepare("SELECT 1 AS ok").first();
  } catch (e) {
    console.error(`request ${c.get("requestId")}: GET /api/health: health check: D1: ${e}`);
    return errorResponse(new ApiError(503, "service_unavailable", "Service unavailable", CONTACT_SUPPORT));
  }
  return success(200, "ok", { database: "ok", time: new Date().toISOString() });
});

app.post("/api/tickets/create", async (c) => {
  const cfg = c.get("config");
  const kind = bodyKind(c.req.raw);
  const body = await readBody(c.req.raw, cfg.maxBodyBytes);
  const ticket = parseNewTicket(decodeFields(kind, body), cfg);
  const clock = new Date();
  const created = await createTicket(c.env.DB, ticket, c.get("requestId"), clock.getUTCFullYear(), clock.toISOString());
  if (!created) throw validationError([fieldError("user_id", "unknown_user", "User id does not match any user")]);
  if (cfg.formSuccessUrl && kind === "form") {
    const sep = cfg.formSuccessUrl.includes("?") ? "&" : "?";
    const target = `${cfg.formSuccessUrl}${sep}ticket=${created.ticket_number}`;
    return withHeader(success(303, CREATED_MESSAGE, { ticket_number: created.ticket_number }), "Location", target);
  }
  const { id, ticket_number, status, priority, category, created_at } = created;
  return withHeader(
    success(201, CREATED_MESSAGE, { category, created_at, id, priority, status, ticket_number }),
    "Location",
    `/api/tickets/${ticket_number}`,
  );
});

function withHeader(response, name, value) {
  response.headers.set(name, value);
  return response;
}

// Known paths: preflight for OPTIONS, 405 with Allow for other methods.
for (const [path, allow] of Object.entries(ALLOW)) {
  app.options(path, () => {
    const res = new Response(null, { status: 204 });
    res.headers.set("Access-Control-Allow-Methods", allow);
    res.headers.set("Access-Control-Allow-Headers", CORS_ALLOW_HEADERS);
    res.headers.set("Access-Control-Max-Age", "86400");
    return res;
  });
  app.all(path, () => methodNotAllowed(allow));
}

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
