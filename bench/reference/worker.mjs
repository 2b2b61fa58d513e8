// The yardstick: the product's public endpoints and its CRM list and view written the
// way a TypeScript/JS team would write them on Workers, with Hono, so `make bench` can
// say how the Rust/wasm worker compares with the usual alternative on the same machine
// in the same rounds.
//
// A frozen snapshot, not derived from the product's code: it was written against the
// files named below and is kept true by the parity check (bench/lib/parity.mjs, ~100
// requests whose answers and log lines must match the product's). When an endpoint
// changes shape, change it here too; `make bench` reports the parity count and fails
// on a mismatch.
//
// It does the same work as the product, not a lighter version of it:
//   - validation: the rules of src/domain/ticket_input.rs, fields.rs and email.rs (trimming,
//     lengths in characters, control characters, and in one-line fields bidi and
//     zero-width characters, the email grammar, choices, ids), the same field order,
//     codes, messages and seed headlines;
//   - bodies: src/http/body.rs and src/platform/request.rs (media type, Content-Length cap,
//     a body with a length read whole, one without streamed under the cap, JSON object or
//     urlencoded form, a field sent twice refused with `duplicate_field`);
//   - abuse controls: integration keys (Authorization: Bearer, one UPDATE ... RETURNING),
//     Idempotency-Key (SHA-256 of path, media and body; replay and reuse), the honeypot
//     decoy (anonymous callers, non-empty text only), per-email and per-client limits
//     (an IPv4 address, an IPv6 /64) with RateLimit headers and 429s, the user_id rules
//     (anonymous: linked only when the user's email is the ticket's, never refused;
//     integration keys: the user must exist), (src/routes/public_tickets.rs,
//     src/app/create.rs, src/domain/abuse.rs); the answer to a browser's form post
//     (src/http/form_post.rs: 303s). Not mirrored: Turnstile, which only runs when
//     TURNSTILE_SECRET_KEY is set (the bench does not), and the support page a browser's
//     refused form post gets (the bench never sends one);
//   - SQL: src/store/ticket_create.rs's batch, statement for statement and placeholder for
//     placeholder (claim under every guard / insert RETURNING / created event / rate-limit
//     hits RETURNING each bucket's state / idempotency record / outbox rows), one round
//     trip, and a refusal's diagnosis in a second; the outbox
//     rows start as src/store/notifications.rs `enqueue_sql` writes them under
//     src/notify/mod.rs `outbox_policy`: 'skipped' with the reason for an unconfigured target,
//     claimed ('pending', one attempt, a lease) for a configured one;
//     src/store/tickets/reads.rs `with_public_thread` (ticket + public messages + the files
//     sent with them, src/store/attachments.rs `of_thread`, one batch) for the status lookup,
//     and `changes::mark_requester_verified` when an emailed link is first used;
//     `SELECT 1 AS ok` for health; the CRM list and view and their session check: crm.mjs;
//   - status links (src/domain/status_link.rs): with TICKET_TOKEN_SECRET, the create answers
//     `access_token` (HMAC-SHA256 over "ticket-access:<id>:<number>", first 24 bytes,
//     base64url; WebCrypto, as a JS worker usually does; the product computes the same
//     HMAC in wasm) and `status_url`; `GET /api/tickets/{number}` with X-Ticket-Token (or
//     ?token=) checks the token against both of the ticket's tokens (the answered one and
//     the emailed one, "ticket-email:..."), with the same HMAC work when the number is
//     unknown, and answers the same JSON (src/routes/public_status.rs);
//   - answers: the JSON envelope, 201 + Location, 404/405 envelopes with Allow, preflights,
//     and the headers src/lib.rs adds to every answer (request id, no-store, nosniff, Vary,
//     CORS by audience: CRM paths under CRM_ALLOWED_ORIGINS);
//   - one JSON log line per request, as src/lib.rs `log_request` writes it (route name,
//     status, duration, D1/KV/R2 round trips, error code, a 5xx's cause, a note).
// Configuration is read from env once per isolate, as the product does (src/lib.rs
// `config`, a OnceLock). Not mirrored: the test clock, the pages (/t/..., /support),
// replies, uploads and downloads, "lost my link" lookups, MCP, logins and every other
// CRM route, and delivering claimed outbox rows after the response (the bench
// configures no email or webhook target, so the product writes every row as skipped
// and defers nothing; the report flags a scenario whose round trips, deferred ones
// included, differ between the two).
// Plain JS so no compile step is needed; bench/lib/target.mjs bundles it with esbuild.
import { Hono } from "hono";
import {
  ApiError,
  badRequest,
  fieldError,
  validationError,
  internalError,
  json,
  success,
  errorResponse,
  methodNotAllowed,
  noRoute,
  config,
  allowedOrigin,
  rustTrim,
  asciiLower,
  charCount,
  jsonType,
  bearer,
  base64url,
  hex,
  sha256Hex,
  constantTimeEqual,
  isTicketNumber,
  MAX_SAFE_ID,
  TICKET_FIELDS,
  TICKET_COLUMNS,
  T_TICKET_COLUMNS,
  M_MESSAGE_COLUMNS,
  A_ATTACHMENT_COLUMNS,
  Params,
  trips,
} from "./common.mjs";
import { listTickets, viewTicket, ticketRef } from "./crm.mjs";

const MAX_EMAIL_CHARS = 254;
const PUBLIC_PRIORITIES = ["low", "medium", "high"];
const CREATED_MESSAGE = "Support ticket created successfully";
const CORS_ALLOW_HEADERS =
  "Content-Type, Authorization, Idempotency-Key, X-Ticket-Token, Content-Disposition, Range, If-None-Match, If-Range";
const CORS_EXPOSE_HEADERS =
  "Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, Idempotent-Replayed, Content-Disposition, Content-Range, ETag";
const ACCEPTED_BODIES = "application/json or application/x-www-form-urlencoded";

const SUBJECT = { label: "Subject", max: 200, multiline: false };
const DESCRIPTION = { label: "Description", max: 20_000, multiline: true };
const CUSTOMER_NAME = { label: "Customer name", max: 100, multiline: false };
const EMAIL = { label: "Customer email", max: 1_000, multiline: false };

// ---------------------------------------------------------------- text rules (src/domain/fields.rs)

// char::is_control() is the Cc category; U+2028/2029 are refused too. One-line fields
// also refuse bidi embeddings, overrides and isolates and zero-width characters, which
// only serve to disguise text; long text keeps them (real languages need them).
const CONTROL_SINGLE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069\u200B-\u200D\u2060\uFEFF]/u;
const CONTROL_MULTI = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u2028\u2029]/u;

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
    const what = rule.multiline ? "control characters" : "control, invisible or text-direction characters";
    errors.push(fieldError(name, "invalid_characters", `${rule.label} contains ${what}`));
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

const unreadable = (e) => badRequest("invalid_body", `The body could not be read: ${e?.message ?? e}`);

/** The body, refused by Content-Length before reading when over `cap`; a body with a length is read whole. */
async function readBody(req, cap) {
  const tooLarge = () =>
    new ApiError(413, "payload_too_large", "Request body too large", `The body must be at most ${cap} bytes.`);
  const length = req.headers.get("Content-Length");
  if (length !== null) {
    if (!/^\+?[0-9]+$/.test(length.trim())) throw badRequest("invalid_header", "Content-Length is not a number.");
    if (Number(length.trim()) > cap) throw tooLarge();
  }
  if (!req.body) return new Uint8Array(0);
  if (length !== null) {
    try {
      return new Uint8Array(await req.arrayBuffer());
    } catch (e) {
      throw unreadable(e);
    }
  }
  const chunks = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    let step;
    try {
      step = await reader.read();
    } catch (e) {
      throw unreadable(e);
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
const duplicate = (name) => badRequest("duplicate_field", `The field \`${name}\` is sent more than once; send it once.`);

/**
 * The first key that repeats at the top level of a JSON object text, if any. Only called on
 * text JSON.parse accepted, so it only needs to walk it: strings, and nesting depth.
 */
function repeatedTopKey(text) {
  const seen = new Set();
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (depth === 1) {
        // A key at the top level is followed by a colon; a string value is not.
        let next = end + 1;
        while (text[next] === " " || text[next] === "\t" || text[next] === "\n" || text[next] === "\r") next++;
        if (text[next] === ":") {
          const key = JSON.parse(text.slice(i, end + 1));
          if (seen.has(key)) return key;
          seen.add(key);
        }
      }
      i = end;
    } else if (ch === "{" || ch === "[") depth++;
    else if (ch === "}" || ch === "]") depth--;
  }
  return undefined;
}

function decodeFields(kind, body) {
  if (kind === "json") {
    if (body.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d)) {
      throw badRequest("malformed_json", "The request body is empty; send a JSON object.");
    }
    let value;
    let text;
    try {
      text = utf8.decode(body);
      value = JSON.parse(text);
    } catch (e) {
      throw badRequest("malformed_json", `The body is not valid JSON: ${e.message}.`);
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw badRequest("invalid_body", `The JSON body must be an object, not ${jsonType(value)}.`);
    }
    const repeated = repeatedTopKey(text);
    if (repeated !== undefined) throw duplicate(repeated);
    return value;
  }
  let text;
  try {
    text = utf8.decode(body);
  } catch {
    throw badRequest("invalid_body", "The form body is not valid UTF-8.");
  }
  const fields = {};
  for (const [name, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(fields, name)) throw duplicate(name);
    fields[name] = value;
  }
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

/** Rust's `Ipv4Addr` text: four decimal octets, no leading zeros. */
function parseIpv4(s) {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.map(Number);
}

/** Rust's `Ipv6Addr` text: eight groups of 1-4 hex digits, one `::`, an IPv4 tail; no zone. */
function parseIpv6(s) {
  const groupsOf = (part, limit) => {
    if (part === "") return [];
    const out = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if (i === pieces.length - 1 && p.includes(".") && out.length < limit - 1) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out.length <= limit ? out : undefined;
  };
  const gap = s.indexOf("::");
  if (gap < 0) {
    const all = groupsOf(s, 8);
    return all?.length === 8 ? all : undefined;
  }
  const head = groupsOf(s.slice(0, gap), 7);
  if (!head || s.slice(0, gap).includes(".")) return undefined;
  const tail = groupsOf(s.slice(gap + 2), 7 - head.length);
  if (!tail) return undefined;
  return [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
}

/** The network a client address stands for in per-IP limits: an IPv4 address, an IPv6 /64. */
function clientNetwork(ip) {
  const s = rustTrim(ip);
  const v4 = parseIpv4(s);
  if (v4) return v4.join(".");
  const v6 = parseIpv6(s);
  if (!v6) return s;
  if (v6.slice(0, 5).every((g) => g === 0) && v6[5] === 0xffff) return [v6[6] >> 8, v6[6] & 255, v6[7] >> 8, v6[7] & 255].join(".");
  return `${v6.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

function idempotencyKey(req) {
  const key = req.headers.get("Idempotency-Key");
  if (key === null) return undefined;
  if (key.length >= 1 && key.length <= 255 && /^[\x20-\x7e]+$/.test(key)) return key;
  throw badRequest("invalid_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters.");
}

// ---------------------------------------------------------------- status links (src/domain/status_link.rs)

const TOKEN_BYTES = 24; // 192 bits of the MAC

const hmacKey = (secret) =>
  crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);

async function mac(key, purpose, id, number) {
  const signed = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${purpose}:${id}:${number}`));
  return base64url(new Uint8Array(signed).subarray(0, TOKEN_BYTES));
}

/** The token a create answers with. */
const ticketToken = async (secret, id, number) => mac(await hmacKey(secret), "ticket-access", id, number);

/** Which of the ticket's tokens was presented: "answered", "emailed", or undefined (both compared). */
async function checkToken(secret, id, number, presented) {
  const key = await hmacKey(secret);
  const answered = constantTimeEqual(await mac(key, "ticket-access", id, number), presented);
  const emailed = constantTimeEqual(await mac(key, "ticket-email", id, number), presented);
  return answered ? "answered" : emailed ? "emailed" : undefined;
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

/** `Authorization: Bearer <key>`: a trusted integration; unknown or revoked is a 401. */
async function integrationKey(c, now) {
  const header = c.req.raw.headers.get("Authorization");
  if (header === null) return undefined;
  const invalid = new ApiError(401, "unauthorized", "Authentication required", "The API key is invalid or has been revoked.", {
    headers: { "WWW-Authenticate": 'Bearer realm="crm"' },
  });
  const token = bearer(header);
  if (token === undefined) throw invalid;
  const hash = await sha256Hex(new TextEncoder().encode(token));
  trips(c).d1++;
  const key = await c.env.DB.prepare(
    "UPDATE api_keys SET last_used_at = ?2 WHERE key_hash = ?1 AND revoked_at IS NULL RETURNING id, name, key_prefix, rate_limit, created_by, created_at, last_used_at, revoked_at",
  )
    .bind(hash, now)
    .first();
  if (!key) throw invalid;
  return key;
}

// ---------------------------------------------------------------- rate-limit answers (src/domain/abuse.rs)

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

/** Seconds until the window that began at `iso` is over (0 when none, or over). */
function secondsUntilOver(nowMs, window, iso) {
  if (!iso) return 0;
  return Math.max(0, Math.ceil((Date.parse(iso) + window * 1000 - nowMs) / 1000));
}

function rateHeaders(clock, cfg, limits, buckets) {
  if (!limits.length) return {};
  const reset = buckets.map((b) => secondsUntilOver(clock.getTime(), cfg.rateWindow, b.freesAt));
  return {
    "RateLimit-Policy": limits.map((l) => `"${l.name}";q=${l.max};w=${cfg.rateWindow}`).join(", "),
    RateLimit: limits.map((l, i) => `"${l.name}";r=${Math.max(0, l.max - buckets[i].used)};t=${reset[i]}`).join(", "),
  };
}

/** When several buckets are full, a request waits for the last to free a slot (`retry_after_full`). */
function retryAfterFull(clock, cfg, limits, buckets) {
  const waits = limits
    .map((l, i) => [l, buckets[i]])
    .filter(([l, b]) => b.used >= l.max)
    .map(([, b]) => secondsUntilOver(clock.getTime(), cfg.rateWindow, b.freesAt) || Math.max(cfg.rateWindow, 1));
  return waits.length ? Math.max(...waits) : undefined;
}

// ---------------------------------------------------------------- form posts (src/http/form_post.rs)

/** RFC 9110 qvalue in thousandths; anything malformed is 0. */
function quality(text) {
  const t = text.trim();
  const [whole, fraction = ""] = t.includes(".") ? [t.slice(0, t.indexOf(".")), t.slice(t.indexOf(".") + 1)] : [t, ""];
  if (!(whole === "0" || whole === "1") || fraction.length > 3 || !/^[0-9]*$/.test(fraction)) return 0;
  return whole === "1" ? 1000 : Number((fraction + "000").slice(0, 3));
}

/** Whether an Accept header prefers HTML to JSON (wildcards count for neither; a tie is JSON). */
function prefersHtml(accept) {
  let html = 0;
  let jsonQ = 0;
  for (const item of (accept ?? "").split(",")) {
    const [mediaPart, ...params] = item.split(";");
    const media = asciiLower(mediaPart.trim());
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const value = q === undefined ? 1000 : quality(q.slice(2));
    if (media === "text/html" || media === "application/xhtml+xml") html = Math.max(html, value);
    else if (media === "application/json") jsonQ = Math.max(jsonQ, value);
  }
  return html > jsonQ;
}

/** "api" (JSON), "configured" (FORM_SUCCESS_URL set, a form post) or "browser" (a form post asking for HTML). */
function formClient(req, cfg) {
  const media = asciiLower((req.headers.get("Content-Type") ?? "").split(";")[0].trim());
  if (media !== "application/x-www-form-urlencoded") return "api";
  if (cfg.formSuccessUrl) return "configured";
  return prefersHtml(req.headers.get("Accept") ?? undefined) ? "browser" : "api";
}

/** Where a created ticket sends this client (a 303), or undefined for the JSON 201. */
function locationAfterCreate(client, successUrl, number, token) {
  if (client === "configured" && successUrl) return `${successUrl}${successUrl.includes("?") ? "&" : "?"}ticket=${number}`;
  if (client === "browser") return token !== undefined ? `/t/${number}?token=${token}&created=1` : `/support?created=${number}`;
  return undefined;
}

// ---------------------------------------------------------------- SQL (src/store/ticket_create.rs, rate_limits.rs, health.rs)

const NUMBER_FROM_COUNTER = "printf('TKT-%d-%04d', c.year, c.last_seq)";
const CLAIMED = "EXISTS (SELECT 1 FROM ticket_counters c WHERE c.year = ?1 AND c.claimed_by = ?2)";

// Anonymous callers: any user_id is acceptable (it is stored only when its email matches).
function userOk(p, c) {
  if (c.userLink === "if_email_matches") return "1";
  const user = p.bind(c.ticket.userId ?? null);
  return `(${user} IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ${user}))`;
}

function storedUser(c, user, email) {
  return c.userLink === "if_email_matches" ? `(SELECT id FROM users WHERE id = ${user} AND email = ${email} COLLATE NOCASE)` : user;
}

function assigneeOk(p) {
  const staff = p.bind(null); // the public create never assigns
  return `(${staff} IS NULL OR EXISTS (SELECT 1 FROM crm_staff WHERE id = ${staff} AND active = 1))`;
}

/** One bucket's placeholders (src/store/rate_limits.rs `BucketSql`). */
function bucketSql(p, l, windowStart) {
  const bucket = p.bind(l.bucket);
  const max = p.bind(l.max);
  const hits = `FROM rate_limit_hits WHERE bucket = ${bucket} AND at > ${windowStart}`;
  const used = `(SELECT count(*) ${hits})`;
  return {
    hasRoom: `${used} < ${max}`,
    state: (i) => `${used} AS used_${i}, (SELECT at ${hits} ORDER BY at LIMIT 1 OFFSET max(0, (SELECT count(*) ${hits}) - ${max})) AS frees_${i}`,
  };
}

function guards(p, c) {
  const all = [userOk(p, c), assigneeOk(p)];
  const windowStart = c.limits.length ? p.bind(c.windowStart) : "";
  for (const l of c.limits) all.push(bucketSql(p, l, windowStart).hasRoom);
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
  const buckets = c.limits.map((l) => bucketSql(p, l, windowStart));
  if (buckets.length) columns.push(buckets.map((b, i) => b.state(i)).join(", "));
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

/** src/notify/mod.rs `outbox_policy`: how rows written by this request start (links from PUBLIC_BASE_URL only). */
function outboxPolicy(cfg, clock) {
  return {
    now: clock.toISOString(),
    linkBase: cfg.publicBaseUrl ?? null,
    leaseUntil: new Date(clock.getTime() + cfg.leaseSeconds * 1000).toISOString(),
    emailSkip: cfg.emailSkip,
    webhookSkip: cfg.webhookSkip,
  };
}

/**
 * The create of src/store/ticket_create.rs: the batch (claim under every guard, ticket,
 * created event, rate-limit hits with each bucket's state, idempotency record, outbox
 * rows): one round trip; a refusal explained in a second (the diagnosis alone), and when
 * that explains nothing, the batch once more with the diagnosis inside it.
 */
async function createTicket(c, create) {
  const db = c.env.DB;
  trips(c).d1++;
  const first = await attempt(db, create, false);
  if (first.outcome === "created") return first;
  trips(c).d1++;
  const p = new Params(create.year, create.requestId);
  const refused = explain((await db.prepare(diagnosis(p, create)).bind(...p.values).first()) ?? {}, create);
  if (refused.outcome !== "unexplained") return refused;
  trips(c).d1++;
  return attempt(db, create, true);
}

/** One run of the batch (`attempt`); with `explained`, the diagnosis is its last statement. */
async function attempt(db, c, explained) {
  const t = c.ticket;
  const prep = (sql, p) => db.prepare(sql).bind(...p.values);
  const claimedParams = () => new Params(c.year, c.requestId);

  let p = claimedParams();
  const claim = prep(
    `INSERT INTO ticket_counters (year, last_seq, claimed_by)
         SELECT ?1, 1, ?2 WHERE ${guards(p, c)}
         ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + 1, claimed_by = excluded.claimed_by`,
    p,
  );

  p = claimedParams();
  const [subject, description, user, name, email, priority, category, status, assignee, creator, now] = [
    t.subject, t.description, t.userId ?? null, t.customerName, t.customerEmail, t.priority, t.category, "open", null, null, c.now,
  ].map((v) => p.bind(v));
  // A key vouches for its user's own email only (src/store/ticket_create.rs).
  const verified = c.requesterVerified ? `EXISTS (SELECT 1 FROM users WHERE id = ${user} AND email = ${email} COLLATE NOCASE)` : "0";
  const insert = prep(
    `INSERT INTO support_tickets
           (ticket_number, subject, description, user_id, customer_name, customer_email,
            priority, category, status, assigned_to, assigned_at, created_by, created_at, updated_at,
            requester_verified)
         SELECT ${NUMBER_FROM_COUNTER}, ${subject}, ${description}, ${storedUser(c, user, email)}, ${name}, ${email}, ${priority},
                ${category}, ${status}, ${assignee}, CASE WHEN ${assignee} IS NULL THEN NULL ELSE ${now} END,
                ${creator}, ${now}, ${now}, ${verified}
         FROM ticket_counters c WHERE c.year = ?1 AND c.claimed_by = ?2
         RETURNING ${TICKET_COLUMNS}`,
    p,
  );

  p = claimedParams();
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
    p = claimedParams();
    const list = p.bind(JSON.stringify(c.limits.map((l) => l.bucket)));
    const hitAt = p.bind(c.now);
    const windowStart = p.bind(c.windowStart);
    const inWindow = `FROM rate_limit_hits w WHERE w.bucket = rate_limit_hits.bucket AND w.at > ${windowStart}`;
    statements.push(
      prep(
        `INSERT INTO rate_limit_hits (bucket, at)
             SELECT b.value, ${hitAt} FROM json_each(${list}) b WHERE ${CLAIMED}
             RETURNING bucket, (SELECT count(*) ${inWindow}) AS used, (SELECT min(w.at) ${inWindow}) AS frees`,
        p,
      ),
    );
  }
  const hitsIndex = c.limits.length ? statements.length - 1 : -1;

  if (c.idempotency) {
    p = claimedParams();
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
  p = claimedParams();
  const fromWhere = `FROM ticket_counters c JOIN support_tickets t ON t.ticket_number = ${NUMBER_FROM_COUNTER}
             WHERE c.year = ?1 AND c.claimed_by = ?2`;
  statements.push(prep(enqueueSql(p, OUTGOING_ON_CREATE, fromWhere, "NULL", c.outbox), p));
  const outboxIndex = statements.length - 1;

  if (explained) {
    p = claimedParams();
    statements.push(prep(diagnosis(p, c), p));
  }

  const results = await db.batch(statements);
  const created = results[1]?.results?.[0];
  if (created) {
    const hits = hitsIndex >= 0 ? results[hitsIndex].results : [];
    const buckets = c.limits.map((l) => {
      const hit = hits.find((h) => h.bucket === l.bucket);
      return { used: Number(hit?.used ?? 0), freesAt: hit?.frees ?? null };
    });
    const claimed = (results[outboxIndex]?.results ?? []).filter((n) => n.status === "pending");
    return { outcome: "created", ticket: created, buckets, claimed };
  }
  return explain(explained ? (results.at(-1)?.results?.[0] ?? {}) : {}, c);
}

/** A refusal's outcome from the row that explains it (`explain`, `refusal`). */
function explain(row, c) {
  const buckets = c.limits.map((_, i) => ({ used: Number(row[`used_${i}`] ?? 0), freesAt: row[`frees_${i}`] ?? null }));
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
  return hex(crypto.getRandomValues(new Uint8Array(16)));
}

const app = new Hono();

// Every answer, errors included, gets the headers src/lib.rs `decorate` sets, and one log line.
app.use("*", async (c, next) => {
  c.set("requestId", requestId());
  c.set("clock", new Date()); // one clock per request, as src/app/context.rs `now`
  c.set("config", config(c.env));
  c.set("trips", { d1: 0, kv: 0 });
  await next();
  const h = c.res.headers;
  h.set("X-Request-Id", c.get("requestId"));
  if (!h.has("Cache-Control")) h.set("Cache-Control", "no-store");
  h.set("X-Content-Type-Options", "nosniff");
  h.set("Vary", "Origin");
  const cfg = c.get("config");
  const policy = rawPath(c.req.url).startsWith("/api/crm/") ? cfg.crmOrigins : cfg.publicOrigins;
  const allow = allowedOrigin(policy, c.req.header("Origin"));
  if (allow) {
    h.set("Access-Control-Allow-Origin", allow);
    h.set("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS);
  }
  // One JSON log line per request, as src/lib.rs `log_request` writes it (so the CPU
  // compared includes the same serialization and console call).
  const status = c.res.status;
  const method = c.req.method;
  const error = c.get("error");
  const line = {
    event: "request",
    request_id: c.get("requestId"),
    method: method.length <= 16 && /^[A-Za-z]+$/.test(method) ? method : "(invalid)",
    route: c.get("route") ?? null,
    status,
    duration_ms: Date.now() - c.get("clock").getTime(),
    d1: c.get("trips").d1,
    kv: c.get("trips").kv,
    r2: 0,
  };
  if (error) line.code = error.code;
  else if (status === 404) line.code = "not_found";
  else if (status >= 400) line.code = "http_error";
  if (error?.extra.cause !== undefined) line.cause = error.extra.cause;
  if (c.get("note") !== undefined) line.note = c.get("note");
  (status >= 500 ? console.error : console.log)(JSON.stringify(line));
});

// The route table's methods per literal path (src/routes/table.rs), with the CRM's
// list and create; parameterized paths below.
const ALLOW = {
  "/api/health": "GET, OPTIONS",
  "/api/tickets/create": "POST, OPTIONS",
  "/api/crm/tickets": "GET, OPTIONS",
  "/api/crm/tickets/create": "POST, OPTIONS",
};
const STATUS_ALLOW = "GET, OPTIONS";
const STATUS_PREFIX = "/api/tickets/";
const CRM_TICKET_ALLOW = "GET, PATCH, OPTIONS";
const CRM_TICKET_PREFIX = "/api/crm/tickets/";

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

/** The `{ticket}` of a `/api/crm/tickets/{ticket}` path, if the segment is one. */
const crmTicket = (c) => ticketRef(rawPath(c.req.url).slice(CRM_TICKET_PREFIX.length));

/** The Allow list of a known path (literal paths first, as the product's table). */
function allowFor(url) {
  const path = rawPath(url);
  if (Object.hasOwn(ALLOW, path)) return ALLOW[path];
  if (path.startsWith(STATUS_PREFIX) && isTicketNumber(path.slice(STATUS_PREFIX.length))) return STATUS_ALLOW;
  if (path.startsWith(CRM_TICKET_PREFIX) && ticketRef(path.slice(CRM_TICKET_PREFIX.length))) return CRM_TICKET_ALLOW;
  return undefined;
}

// Hono would answer HEAD with the GET route; the product's route table does not.
app.use("*", async (c, next) => {
  if (c.req.method !== "HEAD") return next();
  const allow = allowFor(c.req.url);
  throw allow ? methodNotAllowed(allow) : noRoute();
});

app.get("/api/health", async (c) => {
  c.set("route", "health");
  try {
    if (!c.env.DB) throw new Error("no DB binding");
    trips(c).d1++;
    await c.env.DB.prepare("SELECT 1 AS ok").first();
  } catch (e) {
    throw new ApiError(503, "service_unavailable", "Service unavailable", "Please try again or contact support.", {
      cause: `health check: D1: ${e}`,
    });
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
  c.set("route", "create_ticket");
  const cfg = c.get("config");
  const clock = c.get("clock");
  const now = clock.toISOString();
  const req = c.req.raw;
  const client = formClient(req, cfg);
  const kind = bodyKind(req);
  const key = await integrationKey(c, now);
  const idemKey = idempotencyKey(req);
  const body = await readBody(req, cfg.maxBodyBytes);
  const fields = decodeFields(kind, body);
  const ticket = parseNewTicket(fields, cfg);

  const ip = req.headers.get("CF-Connecting-IP") ?? "unknown";
  const limits = key
    ? [{ name: "key", bucket: `key:${key.id}`, max: key.rate_limit }]
    : [
        { name: "email", bucket: emailBucket(ticket.customerEmail), max: cfg.ratePerEmail },
        { name: "ip", bucket: `ip:${clientNetwork(ip)}`, max: cfg.ratePerIp },
      ];
  // Only an anonymous browser can be a bot filling the hidden field; a trusted caller's
  // `website` is data, and only text fills it.
  const honeypot = Object.hasOwn(fields, HONEYPOT_FIELD) ? fields[HONEYPOT_FIELD] : null;
  if (!key && typeof honeypot === "string" && rustTrim(honeypot) !== "") {
    c.set("note", "honeypot filled: no ticket created");
    const random = crypto.getRandomValues(new Uint32Array(1))[0];
    const fake = { id: (random % 100_000) + 1, ticket_number: `TKT-${clock.getUTCFullYear()}-${String((random % 9_000) + 1_000).padStart(4, "0")}`, status: "open", priority: ticket.priority, category: ticket.category, created_at: now };
    let link;
    if (cfg.ticketTokenSecret) {
      const token = base64url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
      link = { token, url: statusUrl(baseUrl(c), fake.ticket_number, token) };
    }
    const res = render(cfg, fake, client, link);
    // As if this were the caller's first ticket in the window.
    const headers = rateHeaders(clock, cfg, limits, limits.map(() => ({ used: 1, freesAt: now })));
    for (const [h, v] of Object.entries(headers)) res.headers.set(h, v);
    return res;
  }
  // Turnstile (TURNSTILE_SECRET_KEY) is not mirrored: the bench leaves it unset.

  let idempotency;
  if (idemKey !== undefined) {
    const path = rawPath(req.url);
    const material = new Uint8Array([...new TextEncoder().encode(`${path}\0${kind}\0`), ...body]);
    idempotency = {
      scope: key ? `key:${key.id}` : emailBucket(ticket.customerEmail),
      key: idemKey,
      requestHash: await sha256Hex(material),
      expiresAt: new Date(clock.getTime() + cfg.idempotencyTtl * 1000).toISOString(),
    };
  }
  const result = await createTicket(c, {
    ticket,
    actor: key ? { kind: "integration", id: key.id } : { kind: "public", id: null },
    userLink: key ? "must_exist" : "if_email_matches",
    // A trusted integration vouches for the user it says is logged in.
    requesterVerified: Boolean(key) && ticket.userId !== undefined,
    limits,
    windowStart: new Date(clock.getTime() - cfg.rateWindow * 1000).toISOString(),
    idempotency,
    requestId: c.get("requestId"),
    outbox: outboxPolicy(cfg, clock),
    year: clock.getUTCFullYear(),
    now,
  });

  const headers = rateHeaders(clock, cfg, limits, result.buckets);
  switch (result.outcome) {
    case "created":
    case "replayed": {
      const link = await linkFields(c, result.ticket.id, result.ticket.ticket_number);
      const res = render(cfg, result.ticket, client, link);
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
      const retryAfter = Math.max(retryAfterFull(clock, cfg, limits, result.buckets) ?? cfg.rateWindow, 1);
      throw new ApiError(429, "rate_limited", "Too many requests", limitedMessage(limits[result.index], cfg.rateWindow, retryAfter), {
        headers: { "Retry-After": String(retryAfter), ...headers },
      });
    }
    default:
      throw internalError("ticket create refused without a failing guard");
  }
});

/** 201 JSON, or a 303 for a form post (src/http/form_post.rs); `link`: the customer's status link. */
function render(cfg, t, client, link) {
  const { id, ticket_number, status, priority, category, created_at } = t;
  const data = link
    ? { access_token: link.token, category, created_at, id, priority, status, status_url: link.url, ticket_number }
    : { category, created_at, id, priority, status, ticket_number };
  const location = locationAfterCreate(client, cfg.formSuccessUrl, ticket_number, link?.token);
  if (location !== undefined) return withHeader(success(303, CREATED_MESSAGE, data), "Location", location);
  return withHeader(success(201, CREATED_MESSAGE, data), "Location", `/api/tickets/${ticket_number}`);
}

// ---------------------------------------------------------------- status lookup (src/routes/public_status.rs)

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

/** src/store/attachments.rs `PUBLIC`: what a public route may show. */
const PUBLIC_ATTACHMENT = `a.status = 'uploaded' AND a.internal = 0
    AND (a.message_id IS NOT NULL OR a.uploader_type = 'customer')
    AND (a.message_id IS NULL
         OR EXISTS (SELECT 1 FROM ticket_messages m WHERE m.id = a.message_id AND m.internal = 0))`;

/** src/store/tickets/reads.rs `with_public_thread`: the ticket, its public messages and their files, one batch. */
async function publicView(c, number) {
  const db = c.env.DB;
  trips(c).d1++;
  const [ticket, messages, attachments] = await db.batch([
    db.prepare(`SELECT ${T_TICKET_COLUMNS} FROM support_tickets t WHERE t.ticket_number = ?1`).bind(number),
    db
      .prepare(
        `SELECT ${M_MESSAGE_COLUMNS} FROM ticket_messages m JOIN support_tickets t ON t.id = m.ticket_id
             WHERE t.ticket_number = ?1 AND m.internal = 0 ORDER BY m.id`,
      )
      .bind(number),
    db
      .prepare(
        `SELECT ${A_ATTACHMENT_COLUMNS} FROM ticket_attachments a JOIN support_tickets t ON t.id = a.ticket_id
             WHERE t.ticket_number = ?1 AND a.message_id IS NOT NULL AND ${PUBLIC_ATTACHMENT} ORDER BY a.id`,
      )
      .bind(number),
  ]);
  const row = ticket.results[0];
  return row ? { ticket: row, messages: messages.results, attachments: attachments.results } : undefined;
}

/** src/store/tickets/changes.rs `mark_requester_verified`: the event and the flag, once. */
async function markRequesterVerified(c, id, now) {
  const db = c.env.DB;
  const unverified = "t.id = ?1 AND t.requester_verified = 0";
  trips(c).d1++;
  await db.batch([
    db
      .prepare(
        `INSERT INTO ticket_events (ticket_id, kind, actor_type, actor_id, data, created_at)
             SELECT t.id, 'requester_verified', 'customer', NULL, json_object('by', 'emailed_link'), ?2
             FROM support_tickets t WHERE ${unverified}`,
      )
      .bind(id, now),
    db.prepare(`UPDATE support_tickets AS t SET requester_verified = 1 WHERE ${unverified}`).bind(id),
  ]);
}

/** Unknown number, missing or wrong token: the same 404 after the same work. */
async function authorize(c, ticket, number, token) {
  const secret = c.get("config").ticketTokenSecret;
  if (!secret) throw noTicket();
  const proof = await checkToken(secret, ticket?.id ?? 0, number, token ?? "");
  if (!ticket || !proof || token === undefined) throw noTicket();
  // A token from an email proves the requester controls the address: recorded once.
  if (proof === "emailed" && ticket.requester_verified === 0) {
    await markRequesterVerified(c, ticket.id, c.get("clock").toISOString());
    ticket.requester_verified = 1;
  }
  return ticket;
}

async function ticketStatus(c) {
  const number = statusNumber(c);
  if (number === undefined) throw noRoute();
  c.set("route", "get_ticket_status");
  const token = presentedToken(c.req.raw);
  const view = await publicView(c, number);
  const t = await authorize(c, view?.ticket, number, token);
  const files = view.attachments;
  const messages = view.messages.map((m) => ({
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
  return success(200, "Ticket status", {
    ticket_number: t.ticket_number,
    subject: t.subject,
    description: t.description,
    status: t.status,
    priority: t.priority,
    category: t.category,
    created_at: t.created_at,
    updated_at: t.updated_at,
    resolved_at: t.resolved_at,
    closed_at: t.closed_at,
    messages,
  });
}

// ---------------------------------------------------------------- the CRM list and view (crm.mjs)

app.get("/api/crm/tickets", (c) => (c.set("route", "list_tickets"), listTickets(c)));

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
  app.all(path, (c) => {
    // The CRM's own create is a route of the table, not mirrored here.
    if (path === "/api/crm/tickets/create" && c.req.method === "POST") throw noRoute();
    throw methodNotAllowed(allow);
  });
}

// After the literal paths, so /api/tickets/create is never read as a number.
app.get(`${STATUS_PREFIX}:number`, ticketStatus);
app.options(`${STATUS_PREFIX}:number`, (c) => (statusNumber(c) ? preflight(STATUS_ALLOW) : errorResponse(noRoute())));
app.all(`${STATUS_PREFIX}:number`, (c) => {
  throw statusNumber(c) ? methodNotAllowed(STATUS_ALLOW) : noRoute();
});

app.get(`${CRM_TICKET_PREFIX}:ticket`, (c) => {
  const ref = crmTicket(c);
  if (!ref) throw noRoute();
  c.set("route", "get_ticket");
  return viewTicket(c, ref);
});
app.options(`${CRM_TICKET_PREFIX}:ticket`, (c) => (crmTicket(c) ? preflight(CRM_TICKET_ALLOW) : errorResponse(noRoute())));
app.all(`${CRM_TICKET_PREFIX}:ticket`, (c) => {
  throw crmTicket(c) ? methodNotAllowed(CRM_TICKET_ALLOW) : noRoute();
});

app.notFound((c) => {
  c.set("error", noRoute());
  return errorResponse(noRoute());
});

app.onError((e, c) => {
  const error = e instanceof ApiError ? e : internalError(`${c.req.method} route: ${e?.stack ?? e}`);
  c.set("error", error);
  return errorResponse(error);
});

export default app;
