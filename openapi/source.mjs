// The OpenAPI 3.1 contract, as data: schemas, and one entry per route of
// src/routes/table.rs, keyed by the route's name. scripts/openapi.mjs joins them with the
// route table (method, path, access) and writes openapi/openapi.json; the contract test
// fails when a route has no entry here or an entry has no route, and schemathesis checks
// every answer against the result. Request schemas are never stricter than the worker
// (text is trimmed before lengths are counted, choices are case-insensitive): a request the
// schema refuses must be one the worker refuses too.

const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const str = (description, extra = {}) => ({ type: "string", description, ...extra });
const int = (description, extra = {}) => ({ type: "integer", description, ...extra });
const time = (description) => ({ type: "string", format: "date-time", description });
const nullable = (schema) => ({ ...schema, type: [schema.type, "null"] });
const obj = (properties, required = Object.keys(properties), extra = {}) => ({
  type: "object",
  properties,
  required,
  ...extra,
});

/** The success envelope around `data`. */
export const envelope = (data) =>
  obj({
    success: { const: true },
    message: str("What happened, for a person."),
    data,
  });

const ERROR_CODES = [
  "validation_failed", "malformed_json", "invalid_body", "duplicate_field", "invalid_idempotency_key",
  "invalid_header", "invalid_test_clock", "unauthorized", "forbidden", "bot_check_failed",
  "not_found", "method_not_allowed", "invalid_transition", "stale_version", "ticket_closed",
  "email_taken", "last_admin", "payload_too_large", "unsupported_media_type",
  "idempotency_key_reused", "rate_limited", "internal_error", "service_unavailable",
  "length_required", "ticket_storage_full", "too_many_attachments", "range_not_satisfiable",
  "empty_file", "upload_incomplete",
];

const DETAIL_CODES = [
  "required", "invalid_type", "too_long", "invalid_email", "invalid_choice", "invalid_characters",
  "invalid_integer", "unknown_user", "inactive_staff", "weak_password", "invalid_cursor",
  "invalid_timestamp", "too_many", "duplicate", "unknown_attachment", "not_your_attachment",
  "attachment_pending", "attachment_already_sent", "attachment_expired",
];

const STATUSES = ["open", "assigned", "resolved", "closed"];
const PRIORITIES = ["low", "medium", "high", "urgent"];
const ACTIONS = ["assign", "unassign", "resolve", "close", "reopen"];

export const schemas = {
  Error: obj(
    {
      success: { const: false },
      error: str("A short headline."),
      message: str("What went wrong and what to do, for a person (an assistant may show it as is)."),
      code: { type: "string", enum: ERROR_CODES, description: "Stable machine code." },
      details: {
        description:
          "For `validation_failed`: one entry per field problem. For a 409: what would work " +
          "(`{status, allowed_actions}` for `invalid_transition`, `{current_version}` for `stale_version`).",
        oneOf: [{ type: "array", items: ref("FieldError") }, { type: "object" }],
      },
    },
    ["success", "error", "message", "code"],
  ),
  FieldError: obj({
    field: str("The request field (or query parameter) at fault."),
    code: { type: "string", enum: DETAIL_CODES },
    message: str("What is wrong with it, for a person."),
  }),
  TicketNumber: str("`TKT-YYYY-NNNN`: a sequence per year, at least four digits.", {
    pattern: "^TKT-[0-9]{4}-[0-9]{4,15}$",
    examples: ["TKT-2026-0042"],
  }),
  Status: { type: "string", enum: STATUSES, description: "open -> assigned -> resolved -> closed." },
  Priority: { type: "string", enum: PRIORITIES },
  CreateTicket: {
    type: "object",
    description:
      "A new ticket. Text is trimmed; lengths count characters after trimming. Unknown fields are ignored.",
    properties: {
      subject: str("Required; at most 200 characters, one line (no control, bidi or zero-width characters)."),
      description: str("Required; at most 20,000 characters; line breaks allowed."),
      customer_email: str("Required; a valid address, at most 254 characters.", { format: "email", examples: ["john@example.com"] }),
      customer_name: { type: ["string", "null"], description: "At most 100 characters, one line; default `Guest`." },
      priority: {
        type: ["string", "null"],
        description: "`low`, `medium` (default) or `high`, case-insensitive (`urgent` is for staff).",
      },
      category: { type: ["string", "null"], description: "One of the configured categories (`CATEGORIES`), case-insensitive; default: the first." },
      user_id: {
        description:
          "The id of a registered user. From an integration key: must exist (`unknown_user`). " +
          "From anyone else: links the ticket only when that user's email is `customer_email`.",
        oneOf: [
          { type: "integer" },
          { type: "string", pattern: "^\\s*[0-9]*\\s*$" },
          { type: "null" },
        ],
      },
      turnstile_token: { type: ["string", "null"], description: "The Turnstile widget's token, when bot protection is on." },
      website: { type: ["string", "null"], description: "The honeypot: leave it out. Anonymous text here gets a decoy answer and nothing is stored." },
    },
    required: ["subject", "description", "customer_email"],
  },
  CreatedTicket: obj(
    {
      id: int("The ticket's id."),
      ticket_number: ref("TicketNumber"),
      status: ref("Status"),
      priority: ref("Priority"),
      category: { type: ["string", "null"] },
      created_at: time("When it was created (RFC 3339 UTC, milliseconds)."),
      access_token: str("The customer's private token for the status link (when links are configured)."),
      status_url: str("The customer's private status page: give it to the customer, keep it out of logs.", { format: "uri" }),
    },
    ["id", "ticket_number", "status", "priority", "category", "created_at"],
  ),
  Ticket: obj({
    id: int("The ticket's id."),
    ticket_number: ref("TicketNumber"),
    subject: { type: "string" },
    description: { type: "string" },
    user_id: { type: ["integer", "null"] },
    customer_name: { type: ["string", "null"] },
    customer_email: { type: "string" },
    priority: ref("Priority"),
    category: { type: ["string", "null"] },
    status: ref("Status"),
    assigned_to: { type: ["integer", "null"], description: "The assigned staff member's id." },
    assigned_at: nullable(time("When it was last assigned.")),
    resolved_at: nullable(time("When it was resolved (cleared on reopen).")),
    closed_at: nullable(time("When it was closed (cleared on reopen).")),
    created_by: { type: ["integer", "null"], description: "The staff member who created it, if staff did." },
    created_at: time("When it was created."),
    updated_at: time("When it last changed."),
    version: int("Incremented by every change; send it back to change the ticket safely."),
    requester_verified: {
      type: "boolean",
      description:
        "Whether the requester proved control of `customer_email` (an emailed link, or an integration key vouching for its user whose email it is). Until then, treat them as unknown.",
    },
  }),
  Event: obj({
    id: { type: "integer" },
    kind: str("created, assigned, unassigned, resolved, closed, reopened, updated, requester_verified, ..."),
    actor_type: { type: "string", enum: ["public", "customer", "staff", "integration", "system"] },
    actor_id: { type: ["integer", "null"] },
    data: { description: "What changed (`{from, to}` and more)." },
    created_at: time("When."),
  }),
  Message: obj({
    id: { type: "integer" },
    author_type: { type: "string", enum: ["customer", "staff", "system"] },
    staff_id: { type: ["integer", "null"] },
    body: { type: "string" },
    internal: { type: "boolean", description: "An internal note: never shown to the customer." },
    created_at: time("When."),
    attachments: { type: "array", items: ref("Attachment"), description: "The files sent with it." },
  }),
  PublicMessage: obj({
    author: { type: "string", enum: ["customer", "staff", "system"] },
    body: { type: "string" },
    created_at: time("When."),
    attachments: { type: "array", items: ref("PublicAttachment"), description: "The files sent with it." },
  }),
  Attachment: obj({
    id: { type: "integer" },
    ticket_id: { type: "integer" },
    message_id: { type: ["integer", "null"], description: "The message it was sent with; null until then." },
    filename: str("Sanitized: no path, control, bidi or zero-width characters; at most 255 bytes."),
    content_type: str("One of `ATTACHMENT_TYPES`."),
    size: int("Bytes."),
    uploaded_by: { type: "string", enum: ["customer", "staff"] },
    staff_id: { type: ["integer", "null"], description: "The uploader, when staff." },
    status: { type: "string", enum: ["pending", "uploaded"] },
    internal: { type: "boolean", description: "Sent with an internal note: never shown to the customer." },
    created_at: time("When the upload began."),
    uploaded_at: nullable(time("When R2 had all of it.")),
    download_url: str("`/api/crm/attachments/{id}`."),
  }),
  PublicAttachment: obj({
    id: { type: "integer" },
    filename: str("Sanitized: no path, control, bidi or zero-width characters; at most 255 bytes."),
    content_type: str("One of `ATTACHMENT_TYPES`."),
    size: int("Bytes."),
    created_at: time("When it was uploaded."),
    download_url: str("`/api/tickets/{ticket_number}/attachments/{id}`: send the ticket's token with it, as for the status."),
  }),
  AttachmentIds: {
    description:
      "Files uploaded to this ticket by the same party and not sent yet, sent with this message (at most " +
      "`MAX_ATTACHMENTS_PER_MESSAGE`): a JSON array of ids, or one string of comma-separated ids (a form). " +
      "An id that cannot be sent is a 400 naming it, and nothing is stored.",
    oneOf: [
      { type: "array", items: { oneOf: [{ type: "integer" }, { type: "string" }] } },
      { type: "string" },
      { type: "null" },
    ],
  },
  TicketStatus: obj({
    ticket_number: ref("TicketNumber"),
    subject: { type: "string" },
    description: { type: "string" },
    status: ref("Status"),
    priority: ref("Priority"),
    category: { type: ["string", "null"] },
    created_at: time("When it was opened."),
    updated_at: time("When it last changed."),
    resolved_at: nullable(time("When it was resolved.")),
    closed_at: nullable(time("When it was closed.")),
    messages: { type: "array", items: ref("PublicMessage"), description: "The public conversation, oldest first." },
  }),
  Staff: obj({
    id: { type: "integer" },
    email: { type: "string" },
    name: { type: "string" },
    role: { type: "string", enum: ["admin", "agent"] },
    active: { type: "boolean" },
    created_at: time("When."),
    updated_at: time("When."),
  }),
  ApiKey: obj({
    id: { type: "integer" },
    name: { type: "string" },
    key_prefix: str("The first characters of the key, to tell keys apart."),
    rate_limit: int("Creates per rate-limit window."),
    created_by: { type: ["integer", "null"] },
    created_at: time("When."),
    last_used_at: nullable(time("When it last authenticated a request.")),
    revoked_at: nullable(time("When it was revoked.")),
  }),
  Notification: obj({
    id: { type: "integer" },
    kind: { type: "string", enum: ["ticket_created", "new_ticket", "staff_reply", "customer_reply", "lookup"] },
    channel: { type: "string", enum: ["email", "webhook"] },
    ticket_id: { type: ["integer", "null"] },
    message_id: { type: ["integer", "null"] },
    recipient: { type: ["string", "null"] },
    link_base: { type: ["string", "null"] },
    status: { type: "string", enum: ["pending", "sent", "failed", "skipped"] },
    attempts: { type: "integer" },
    next_attempt_at: time("When a pending row is due."),
    last_error: { type: ["string", "null"] },
    created_at: time("When."),
    updated_at: time("When."),
    sent_at: nullable(time("When it was delivered.")),
  }),
  Stats: obj({
    total: { type: "integer" },
    by_status: obj(Object.fromEntries(STATUSES.map((s) => [s, { type: "integer" }]))),
    by_priority: obj(Object.fromEntries(PRIORITIES.map((p) => [p, { type: "integer" }]))),
    categories: { type: "array", items: { type: "string" }, description: "The configured categories, in order (the first is the default)." },
    unassigned_open: { type: "integer" },
    queues: obj(
      {
        mine: int("Assigned to the caller and not yet resolved."),
        unassigned: int("Open with nobody assigned."),
        open: int("Open or assigned."),
        waiting: int("Resolved, waiting for the customer."),
        all: int("Every ticket."),
      },
    ),
  }),
  Assignee: obj({ id: { type: "integer" }, name: { type: "string" }, role: { type: "string", enum: ["admin", "agent"] } }),
  Empty: { type: "object", maxProperties: 0 },
  TicketView: obj({
    ticket: ref("Ticket"),
    allowed_actions: { type: "array", items: { type: "string", enum: ACTIONS }, description: "What the lifecycle allows the ticket now." },
    events: { type: "array", items: ref("Event") },
    messages: { type: "array", items: ref("Message") },
  }),
  Version: {
    type: "object",
    properties: { version: { type: ["integer", "null"], description: "The ticket's `version` you last saw; a stale one is a 409." } },
  },
};

// ---------------------------------------------------------------------------- parameters

export const parameters = {
  ticket: {
    name: "ticket",
    in: "path",
    required: true,
    description: "A ticket's id, or its number (`TKT-YYYY-NNNN`).",
    schema: { oneOf: [{ type: "integer", minimum: 1 }, ref("TicketNumber")] },
  },
  ticket_number: {
    name: "ticket_number",
    in: "path",
    required: true,
    description: "The ticket's number.",
    schema: ref("TicketNumber"),
  },
  id: { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } },
  idempotencyKey: {
    name: "Idempotency-Key",
    in: "header",
    required: false,
    description:
      "1-255 printable ASCII characters. A retry with the same key and body gets the first answer again " +
      "(`Idempotent-Replayed: true`) and creates nothing; the same key with another body is a 422. " +
      "Scoped to the caller; kept for `IDEMPOTENCY_TTL_SECONDS` (24 h).",
    schema: { type: "string" },
  },
  ticketTokenHeader: {
    name: "X-Ticket-Token",
    in: "header",
    required: false,
    description: "The ticket's private token (`access_token`, or the one in the status link). Or `?token=`.",
    schema: { type: "string" },
  },
  ticketTokenQuery: {
    name: "token",
    in: "query",
    required: false,
    description: "The ticket's private token, when a header cannot be sent.",
    schema: { type: "string" },
  },
  filename: {
    name: "filename",
    in: "query",
    required: false,
    description: "The file's name (else `Content-Disposition`'s `filename*` or `filename`; default `attachment`).",
    schema: { type: "string" },
  },
  contentDisposition: {
    name: "Content-Disposition",
    in: "header",
    required: false,
    description: "RFC 6266, for the file's name when `?filename=` is not given.",
    schema: { type: "string" },
  },
  range: {
    name: "Range",
    in: "header",
    required: false,
    description: "One `bytes` range (`a-b`, `a-`, `-n`): 206. Several, or a malformed one: the whole file.",
    schema: { type: "string" },
  },
  ifRange: { name: "If-Range", in: "header", required: false, description: "The ETag the range applies to.", schema: { type: "string" } },
  ifNoneMatch: { name: "If-None-Match", in: "header", required: false, description: "ETags you have: 304 on a match.", schema: { type: "string" } },
};

// ---------------------------------------------------------------------------- headers

export const headers = {
  "X-Request-Id": { description: "Unique per request: quote it when reporting a problem.", schema: { type: "string" } },
  Location: { description: "Where the created resource is.", schema: { type: "string" } },
  "Retry-After": { description: "Seconds until a request may succeed.", schema: { type: "integer" } },
  RateLimit: {
    description: 'draft-ietf-httpapi-ratelimit-headers: remaining quota and seconds to reset per policy, e.g. `"email";r=4;t=3540`.',
    schema: { type: "string" },
  },
  "RateLimit-Policy": { description: 'The limits, e.g. `"email";q=5;w=3600, "ip";q=20;w=3600`.', schema: { type: "string" } },
  "Idempotent-Replayed": { description: "`true` when this answer is the replay of an earlier one.", schema: { type: "string", const: "true" } },
  Allow: { description: "The methods this path accepts.", schema: { type: "string" } },
  "WWW-Authenticate": { description: "`Bearer`.", schema: { type: "string" } },
  ETag: { description: "The file's entity tag (strong).", schema: { type: "string" } },
  "Content-Disposition": {
    description: "Always `attachment`, with the sanitized name; `filename*` for non-ASCII names (RFC 6266).",
    schema: { type: "string" },
  },
  "Content-Range": { description: "`bytes a-b/size` on a 206, `bytes */size` on a 416.", schema: { type: "string" } },
};

// ---------------------------------------------------------------------------- responses

const json = (schema) => ({ "application/json": { schema } });
const hdr = (...names) => Object.fromEntries(["X-Request-Id", ...names].map((n) => [n, { $ref: `#/components/headers/${n}` }]));
const error = (description, ...headerNames) => ({ description, headers: hdr(...headerNames), content: json(ref("Error")) });
export const ok = (description, data, ...headerNames) => ({ description, headers: hdr(...headerNames), content: json(envelope(data)) });

/** Answers several routes give, referenced from `components.responses`. */
export const responses = {
  BadRequest: error("The request is malformed or a field is wrong (`details` names each)."),
  NotFound: error("Nothing at this path, or no such resource."),
  MethodNotAllowed: error("The path does not accept this method.", "Allow"),
  PayloadTooLarge: error("The body is larger than `MAX_BODY_BYTES`."),
  UnsupportedMediaType: error("The body's media type is not accepted."),
  InternalError: error("A bug or a database failure; details are in the logs under `X-Request-Id`."),
  Unauthorized: error("No valid staff session.", "WWW-Authenticate"),
  Forbidden: error("An agent on an admin route."),
};
const use = (name) => ({ $ref: `#/components/responses/${name}` });

/** Answers every route can give. */
export const common = {
  400: use("BadRequest"),
  404: use("NotFound"),
  405: use("MethodNotAllowed"),
  413: use("PayloadTooLarge"),
  415: use("UnsupportedMediaType"),
  500: use("InternalError"),
};
export const staffErrors = { 401: use("Unauthorized") };
export const adminErrors = { ...staffErrors, 403: use("Forbidden") };
const conflict = error("The change conflicts with the ticket's state (`invalid_transition`, `stale_version`, `ticket_closed`; `details` say what would work).");
const limited = error("A rate limit is reached: `Retry-After` says when to try again; the message says so for a person.", "Retry-After", "RateLimit", "RateLimit-Policy");

const jsonBody = (schema, description, required = true) => ({ required, description, content: json(schema) });
const jsonOrForm = (schema, description) => ({
  required: true,
  description,
  content: { "application/json": { schema }, "application/x-www-form-urlencoded": { schema } },
});

const actionBody = (extra = {}, required = []) =>
  jsonBody({ ...obj({ ...schemas.Version.properties, ...extra }, required) }, "Optional: an empty body is `{}`.", required.length > 0);

// ---------------------------------------------------------------------------- operations

export const operations = {
  health: {
    summary: "Is the service up?",
    description: "200 when D1 answers, 503 when it does not.",
    tags: ["public"],
    responses: {
      200: ok("Up.", obj({ database: { const: "ok" }, time: time("The service's clock.") })),
      503: error("D1 cannot be reached."),
    },
  },
  create_ticket: {
    summary: "Open a ticket",
    description:
      "The public create: anyone (an AI assistant with an integration key, a contact form, a widget). " +
      "Validated, rate limited (per email and per client without a key; the key's own limit with one), " +
      "idempotent with `Idempotency-Key`, bot-checked with Turnstile when configured (anonymous callers). " +
      "Answers the ticket's number and the customer's private status link. A form post from a browser " +
      "may be answered with a 303 instead.",
    tags: ["public"],
    security: [{}, { integrationKey: [] }],
    parameters: ["idempotencyKey"],
    requestBody: jsonOrForm(ref("CreateTicket"), "The ticket."),
    responses: {
      201: ok("Created (or, with `Idempotent-Replayed: true`, the replay of the first answer).", ref("CreatedTicket"), "Location", "RateLimit", "RateLimit-Policy", "Idempotent-Replayed"),
      303: { description: "A form post: redirected to `FORM_SUCCESS_URL` (or the confirmation page).", headers: hdr("Location") },
      401: error("An integration key was sent and is unknown or revoked (never a silent downgrade)."),
      403: error("The Turnstile check failed (`bot_check_failed`)."),
      422: error("The `Idempotency-Key` was first used with another request (`idempotency_key_reused`)."),
      429: limited,
    },
  },
  request_status_links: {
    summary: "Email a customer their status links (\"I lost my link\")",
    description:
      "Always the same 202 (or the same 429), whether or not the address has tickets: the endpoint tells nothing about who has tickets. When it has, an email with the links of its 20 latest tickets is queued.",
    tags: ["public"],
    requestBody: jsonOrForm(obj({ customer_email: str("The address.") }), "The address."),
    responses: { 202: ok("Accepted.", ref("Empty")), 429: limited },
  },
  get_ticket_status: {
    summary: "A ticket's status and public conversation",
    description: "With the ticket's private token. A wrong token answers exactly like an unknown number (404).",
    tags: ["public"],
    security: [{ ticketToken: [] }, { ticketTokenQuery: [] }],
    parameters: ["ticket_number", "ticketTokenHeader", "ticketTokenQuery"],
    responses: { 200: ok("The ticket as its customer sees it.", ref("TicketStatus")) },
  },
  add_customer_reply: {
    summary: "The customer replies",
    description:
      "With the ticket's token (header, query, or a form's `token` field). A reply to a resolved ticket reopens it; a closed ticket refuses (409). A form post is answered with a 303 back to the status page.",
    tags: ["public"],
    security: [{ ticketToken: [] }, { ticketTokenQuery: [] }],
    parameters: ["ticket_number", "ticketTokenHeader", "ticketTokenQuery"],
    requestBody: jsonOrForm(
      {
        type: "object",
        properties: { body: str("The reply; at most `MESSAGE_MAX_CHARS` characters."), token: { type: "string" }, attachment_ids: ref("AttachmentIds") },
        required: ["body"],
      },
      "The reply.",
    ),
    responses: {
      201: ok("Added.", obj({ message: ref("PublicMessage"), reopened: { type: "boolean" } })),
      303: { description: "A form post: back to the status page.", headers: hdr("Location") },
      409: conflict,
      429: limited,
    },
  },
  status_page: {
    summary: "The customer's status page (HTML)",
    description: "The page a customer opens from an email: status, conversation, reply form. Strict CSP, no scripts from elsewhere.",
    tags: ["public"],
    parameters: ["ticket_number", "ticketTokenQuery"],
    responses: {
      200: { description: "The page.", headers: hdr(), content: { "text/html": { schema: { type: "string" } } } },
      404: {
        description: "Unknown number or wrong token (the same page); a path that is no ticket number at all gets the JSON envelope.",
        headers: hdr(),
        content: { "text/html": { schema: { type: "string" } }, "application/json": { schema: ref("Error") } },
      },
    },
  },
  login: {
    summary: "Staff log in",
    description:
      "Answers a session token for `Authorization: Bearer`. Failed logins are throttled per email from one client, per client, and per account (429 with `Retry-After`).",
    tags: ["staff"],
    requestBody: jsonBody(obj({ email: { type: "string" }, password: { type: "string" } }), "Credentials."),
    responses: {
      200: ok("Logged in.", obj({ token: str("The session token: keep it out of URLs and logs."), expires_at: time("When it expires."), staff: ref("Staff") })),
      401: error("Wrong email or password (the same answer for both)."),
      429: error("Too many failed logins.", "Retry-After"),
    },
  },
  logout: { summary: "End this session everywhere", tags: ["staff"], responses: { 200: ok("Logged out.", ref("Empty")) } },
  get_session: {
    summary: "Who this session belongs to",
    tags: ["staff"],
    responses: { 200: ok("The session.", obj({ staff: ref("Staff"), expires_at: time("When it expires.") })) },
  },
  list_staff: { summary: "Every staff member", tags: ["admin"], responses: { 200: ok("Staff.", obj({ staff: { type: "array", items: ref("Staff") } })) } },
  create_staff: {
    summary: "Add a staff member",
    tags: ["admin"],
    requestBody: jsonBody(
      obj({ email: { type: "string" }, name: { type: "string" }, role: { type: ["string", "null"], description: "`admin` or `agent` (default)." }, password: str("At least 12 characters.") }, ["email", "name", "password"]),
      "The new staff member.",
    ),
    responses: { 201: ok("Created.", obj({ staff: ref("Staff") }), "Location"), 409: error("The email is taken (`email_taken`).") },
  },
  update_staff: {
    summary: "Rename, change the role of, or deactivate a staff member",
    description: "A role change or deactivation ends their sessions at once. The last active admin cannot be demoted or deactivated.",
    tags: ["admin"],
    parameters: ["id"],
    requestBody: jsonBody({ type: "object", properties: { name: { type: ["string", "null"] }, role: { type: ["string", "null"] }, active: { type: ["boolean", "null"] } } }, "At least one field."),
    responses: { 200: ok("Updated.", obj({ staff: ref("Staff") })), 409: error("It would leave no active admin (`last_admin`).") },
  },
  set_staff_password: {
    summary: "Reset a staff member's password",
    description: "Ends their sessions.",
    tags: ["admin"],
    parameters: ["id"],
    requestBody: jsonBody(obj({ password: str("At least 12 characters.") }), "The new password."),
    responses: { 200: ok("Changed.", obj({ staff: ref("Staff") })) },
  },
  list_api_keys: { summary: "Integration keys", tags: ["admin"], responses: { 200: ok("Keys (never the keys themselves).", obj({ api_keys: { type: "array", items: ref("ApiKey") } })) } },
  create_api_key: {
    summary: "Create an integration key",
    description: "The key is in this answer only; only its SHA-256 is stored.",
    tags: ["admin"],
    requestBody: jsonBody({ type: "object", properties: { name: { type: "string" }, rate_limit: { type: ["integer", "null"], description: "Creates per window, 1 to 1,000,000." } }, required: ["name"] }, "The key's name and limit."),
    responses: { 201: ok("Created.", obj({ key: str("`hk_...`: store it now."), api_key: ref("ApiKey") }), "Location") },
  },
  revoke_api_key: { summary: "Revoke an integration key at once", tags: ["admin"], parameters: ["id"], responses: { 200: ok("Revoked.", obj({ api_key: ref("ApiKey") })) } },
  list_notifications: {
    summary: "The notification outbox, newest first",
    tags: ["staff"],
    parameters: [
      { name: "status", in: "query", required: false, schema: { type: "string", enum: ["pending", "sent", "failed", "skipped"] } },
      { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 200 } },
    ],
    responses: { 200: ok("Rows.", obj({ notifications: { type: "array", items: ref("Notification") } })) },
  },
  retry_notification: {
    summary: "Deliver a failed or skipped notification again",
    tags: ["staff"],
    parameters: ["id"],
    responses: { 202: ok("Due now, with fresh attempts.", obj({ notification: ref("Notification") })) },
  },
  ticket_stats: { summary: "Dashboard counts", tags: ["staff"], responses: { 200: ok("Counts.", ref("Stats")) } },
  list_tickets: {
    summary: "Search and list tickets",
    description: "Filters combine; pages are keyset-paginated on (sort key, id), so new tickets never shift the pages being walked.",
    tags: ["staff"],
    parameters: [
      { name: "status", in: "query", required: false, description: "Comma-separated statuses.", schema: { type: "string" } },
      { name: "priority", in: "query", required: false, description: "Comma-separated priorities.", schema: { type: "string" } },
      { name: "category", in: "query", required: false, schema: { type: "string" } },
      { name: "assigned_to", in: "query", required: false, description: "A staff id, `me` or `none`.", schema: { type: "string" } },
      { name: "customer_email", in: "query", required: false, schema: { type: "string" } },
      { name: "q", in: "query", required: false, description: "Substring of number, subject, description, customer name or email (at most 200 characters).", schema: { type: "string" } },
      { name: "created_after", in: "query", required: false, schema: { type: "string", format: "date-time" } },
      { name: "created_before", in: "query", required: false, schema: { type: "string", format: "date-time" } },
      { name: "sort", in: "query", required: false, schema: { type: "string", enum: ["created_at", "updated_at", "priority"] } },
      { name: "order", in: "query", required: false, schema: { type: "string", enum: ["asc", "desc"] } },
      { name: "limit", in: "query", required: false, schema: { type: "integer", minimum: 1, maximum: 100 } },
      { name: "cursor", in: "query", required: false, description: "The previous page's `next_cursor`.", schema: { type: "string" } },
      { name: "include_total", in: "query", required: false, description: "Also count every match (empty: no).", schema: { type: "string", enum: ["true", "false", "1", "0", ""] } },
    ],
    responses: {
      200: ok("A page.", obj({ tickets: { type: "array", items: ref("Ticket") }, next_cursor: { type: ["string", "null"] }, total: { type: "integer" } }, ["tickets", "next_cursor"])),
    },
  },
  create_crm_ticket: {
    summary: "Staff open a ticket",
    description: "The public fields, plus `assigned_to` (the ticket starts assigned) and priority `urgent`. Not rate limited; `Idempotency-Key` is scoped to the staff member.",
    tags: ["staff"],
    parameters: ["idempotencyKey"],
    requestBody: jsonBody(
      { ...ref("CreateTicket"), description: "The public create's fields, plus `assigned_to` (an active staff member's id)." },
      "The ticket.",
    ),
    responses: {
      201: ok("Created.", { allOf: [ref("Ticket"), { type: "object", properties: { access_token: { type: "string" }, status_url: { type: "string" } } }] }, "Location", "Idempotent-Replayed"),
      422: error("The `Idempotency-Key` was first used with another request."),
    },
  },
  get_ticket: {
    summary: "A ticket, its whole conversation and its timeline",
    tags: ["staff"],
    parameters: ["ticket"],
    responses: { 200: ok("The ticket.", ref("TicketView")) },
  },
  list_assignees: {
    summary: "Who a ticket can be assigned to",
    description: "Active staff, names only (no emails): for choosing an assignee. The staff list itself is for admins.",
    tags: ["staff"],
    responses: { 200: ok("Active staff.", obj({ assignees: { type: "array", items: ref("Assignee") } })) },
  },
  support_page: {
    summary: "The public support page (HTML)",
    description: "A form to open a ticket that works without JavaScript (a plain form post) and better with it; `?created=TKT-...` shows the number after a post when status links are off.",
    tags: ["public"],
    parameters: [{ name: "created", in: "query", required: false, schema: { type: "string" } }],
    responses: { 200: { description: "The page.", headers: hdr(), content: { "text/html": { schema: { type: "string" } } } } },
  },
  edit_ticket: {
    summary: "Edit subject, description, priority or category",
    description: "Not on closed tickets. Send `version` to refuse a stale edit.",
    tags: ["staff"],
    parameters: ["ticket"],
    requestBody: jsonBody(
      { type: "object", properties: { subject: { type: ["string", "null"] }, description: { type: ["string", "null"] }, priority: { type: ["string", "null"] }, category: { type: ["string", "null"] }, version: { type: ["integer", "null"] } } },
      "At least one field.",
    ),
    responses: { 200: ok("Updated.", obj({ ticket: ref("Ticket") })), 409: conflict },
  },
  add_staff_message: {
    summary: "Reply to the customer, or add an internal note",
    description: "A reply is emailed to the customer; an internal note never appears on a public route or in a webhook.",
    tags: ["staff"],
    parameters: ["ticket"],
    requestBody: jsonBody(
      { type: "object", properties: { body: { type: "string" }, internal: { type: ["boolean", "null"] }, attachment_ids: ref("AttachmentIds") }, required: ["body"] },
      "The message.",
    ),
    responses: { 201: ok("Added.", obj({ message: ref("Message") })) },
  },
  ...Object.fromEntries(
    ACTIONS.map((action) => [
      `${action}_ticket`,
      {
        summary: { assign: "Assign (or reassign) a ticket", unassign: "Unassign a ticket", resolve: "Resolve a ticket", close: "Close a ticket", reopen: "Reopen a resolved or closed ticket" }[action],
        description: "Allowed only where the lifecycle allows it (409 `invalid_transition` names what is allowed). Send `version` to refuse a stale change.",
        tags: ["staff"],
        parameters: ["ticket"],
        requestBody: action === "assign" ? actionBody({ staff_id: int("An active staff member.") }, ["staff_id"]) : actionBody(),
        responses: { 200: ok("Done.", obj({ ticket: ref("Ticket") })), 409: conflict },
      },
    ]),
  ),
};

// Files: the upload is the raw body (any allowlisted type), the download R2's bytes.
const fileBody = {
  required: true,
  description:
    "The file itself, with `Content-Length` (411 without) and its type as `Content-Type` (one of `ATTACHMENT_TYPES`, " +
    "else 415). At most `MAX_ATTACHMENT_BYTES`, refused by `Content-Length` before a byte is read (413).",
  content: Object.fromEntries(
    ["image/png", "image/jpeg", "application/pdf", "text/plain", "application/zip"].map((t) => [t, { schema: { type: "string", format: "binary" } }]),
  ),
};
const uploadRefusals = {
  409: error("The ticket is closed (customers) or has `MAX_ATTACHMENTS_PER_TICKET` files (`too_many_attachments`)."),
  411: error("No `Content-Length` (`length_required`)."),
  413: error("Over `MAX_ATTACHMENT_BYTES` (`payload_too_large`), or over the ticket's `MAX_ATTACHMENT_BYTES_PER_TICKET` (`ticket_storage_full`)."),
  415: error("The type is not in `ATTACHMENT_TYPES`; the message lists them."),
};
const fileAnswers = {
  200: {
    description:
      "The file, with `Content-Disposition: attachment`, `nosniff`, " +
      "`Content-Security-Policy: sandbox; default-src 'none'`, `Cache-Control: private, no-store`.",
    headers: hdr("ETag", "Content-Disposition"),
    content: { "*/*": { schema: { type: "string", format: "binary" } } },
  },
  206: { description: "The range asked for.", headers: hdr("ETag", "Content-Range"), content: { "*/*": { schema: { type: "string", format: "binary" } } } },
  304: { description: "`If-None-Match` matched: the copy you have is current.", headers: hdr("ETag") },
  416: error("No requested range starts within the file (`Content-Range: bytes */size`).", "Content-Range"),
};

Object.assign(operations, {
  upload_customer_attachment: {
    summary: "Upload a file (the customer)",
    description:
      "Step one of sending a file: the raw body is streamed to storage and an attachment id answered; step two is a reply " +
      "listing it in `attachment_ids`. With the ticket's token. Counts against the same limits as replies (429). " +
      "A file never sent is removed after `ATTACHMENT_ORPHAN_HOURS`.",
    tags: ["public"],
    security: [{ ticketToken: [] }, { ticketTokenQuery: [] }],
    parameters: ["ticket_number", "ticketTokenHeader", "ticketTokenQuery", "filename", "contentDisposition"],
    requestBody: fileBody,
    responses: {
      201: ok("Stored.", obj({ attachment: ref("PublicAttachment") }), "Location"),
      ...uploadRefusals,
      429: limited,
    },
  },
  download_customer_attachment: {
    summary: "Download a file of a ticket (the customer)",
    description:
      "With the ticket's token: a file sent with a public message, or the customer's own unsent upload. A wrong token, " +
      "another ticket's file and an internal one all get the same 404.",
    tags: ["public"],
    security: [{ ticketToken: [] }, { ticketTokenQuery: [] }],
    parameters: ["ticket_number", "id", "ticketTokenHeader", "ticketTokenQuery", "range", "ifRange", "ifNoneMatch"],
    responses: fileAnswers,
  },
  upload_staff_attachment: {
    summary: "Upload a file (staff)",
    description: "Step one of sending a file with a reply or an internal note (`attachment_ids`). Not rate limited.",
    tags: ["staff"],
    parameters: ["ticket", "filename", "contentDisposition"],
    requestBody: fileBody,
    responses: { 201: ok("Stored.", obj({ attachment: ref("Attachment") }), "Location"), ...uploadRefusals },
  },
  download_attachment: {
    summary: "Download any file (staff)",
    tags: ["staff"],
    parameters: ["id", "range", "ifRange", "ifNoneMatch"],
    responses: fileAnswers,
  },
  delete_attachment: {
    summary: "Delete a file",
    description: "Removes it from storage and from the thread; an `attachment_deleted` event records what it was.",
    tags: ["admin"],
    parameters: ["id"],
    responses: { 200: ok("Deleted.", obj({ attachment: ref("Attachment") })) },
  },
});

export const securitySchemes = {
  staffSession: { type: "http", scheme: "bearer", description: "A staff session token from `POST /api/crm/auth/login`." },
  integrationKey: { type: "http", scheme: "bearer", description: "An integration key (`hk_...`) from an admin: the AI assistant's backend." },
  ticketToken: { type: "apiKey", in: "header", name: "X-Ticket-Token", description: "A ticket's private token." },
  ticketTokenQuery: { type: "apiKey", in: "query", name: "token", description: "A ticket's private token, in the query." },
};

export const info = {
  title: "helpdesk-worker",
  version: "1",
  summary: "Support tickets: a public create for AI assistants and forms, status links for customers, a CRM API for staff.",
  description:
    "Every answer is the JSON envelope `{success, message, data}` or `{success: false, error, message, code, details?}` " +
    "with a stable `code`. Times are RFC 3339 UTC with milliseconds. Every answer carries `X-Request-Id`. " +
    "An MCP endpoint (`POST /mcp`) offers the same operations as tools for AI agents.",
};

operations.openapi = {
  summary: "This document",
  description:
    "The OpenAPI 3.1 contract of every route: a static file (not answered by the Worker, so without `X-Request-Id`), " +
    "cacheable for five minutes, readable from any origin.",
  tags: ["public"],
  responses: { 200: { description: "The document.", content: { "application/json": { schema: { type: "object" } } } } },
};

// ---------------------------------------------------------------------------- MCP tools
// The tools of `POST /mcp` (src/routes/mcp.rs), with the schemas above inlined by
// scripts/openapi.mjs into openapi/mcp-tools.json. An integration key gets the
// customer tools; a staff session gets the staff tools as well.

const ticketArg = {
  description: "The ticket's id or number (`TKT-YYYY-NNNN`).",
  oneOf: [{ type: "integer", minimum: 1 }, ref("TicketNumber")],
};
const tokenArg = str("The ticket's private access token (`access_token` from create_ticket, or the `token` of its status link).");
const hints = (readOnly, idempotent = readOnly) => ({
  readOnlyHint: readOnly,
  destructiveHint: false,
  idempotentHint: idempotent,
  openWorldHint: false,
});

export const tools = [
  {
    name: "create_ticket",
    title: "Open a support ticket",
    audience: "customer",
    description:
      "Open a ticket for the person you are helping, with their email and a clear subject and description. " +
      "Answers the ticket number and the customer's private status link: give both to the person. " +
      "Pass an `idempotency_key` (any unique string per ticket you mean to open) so a retry after a timeout " +
      "never opens a second ticket. Refusals (a missing field, a rate limit with its wait) come back as an " +
      "error result with a message you can show.",
    input: {
      ...schemas.CreateTicket,
      properties: {
        ...schemas.CreateTicket.properties,
        idempotency_key: str("1-255 printable ASCII characters; the same key with the same arguments replays the first answer."),
      },
    },
    output: ref("CreatedTicket"),
    annotations: hints(false),
  },
  {
    name: "get_ticket_status",
    title: "Read a ticket's status",
    audience: "customer",
    description: "The status, timestamps and public conversation of a ticket, for the holder of its access token.",
    input: obj({ ticket_number: ref("TicketNumber"), access_token: tokenArg }),
    output: ref("TicketStatus"),
    annotations: hints(true),
  },
  {
    name: "add_customer_reply",
    title: "Reply as the customer",
    audience: "customer",
    description:
      "Add the customer's message to their ticket (it reopens a resolved ticket; a closed one refuses: open a new ticket instead).",
    input: obj({ ticket_number: ref("TicketNumber"), access_token: tokenArg, body: str("The message.") }),
    output: obj({ message: ref("PublicMessage"), reopened: { type: "boolean" } }),
    annotations: hints(false),
  },
  {
    name: "resend_ticket_links",
    title: "Email a customer their ticket links",
    audience: "customer",
    description:
      "When the person lost their status link: emails the links of their latest tickets to the address. " +
      "The answer is the same whether or not the address has tickets.",
    input: obj({ customer_email: str("The customer's address.") }),
    output: ref("Empty"),
    annotations: hints(false),
  },
  {
    name: "search_tickets",
    title: "Search tickets",
    audience: "staff",
    description:
      "List tickets with filters (comma-separated `status` and `priority`, `category`, `assigned_to` as a staff id, " +
      "`me` or `none`, `customer_email`, `q` for text), a sort, and a `cursor` from the previous page's `next_cursor`.",
    input: {
      type: "object",
      properties: Object.fromEntries(
        ["status", "priority", "category", "assigned_to", "customer_email", "q", "created_after", "created_before", "sort", "order", "cursor"].map((k) => [
          k,
          { type: "string" },
        ]).concat([["limit", { type: "integer", minimum: 1, maximum: 100 }]]),
      ),
    },
    output: obj({ tickets: { type: "array", items: ref("Ticket") }, next_cursor: { type: ["string", "null"] }, total: { type: "integer" } }, ["tickets", "next_cursor"]),
    annotations: hints(true),
  },
  {
    name: "get_ticket",
    title: "Read a ticket",
    audience: "staff",
    description: "A ticket with its whole conversation (internal notes included, marked) and its event timeline.",
    input: obj({ ticket: ticketArg }),
    output: ref("TicketView"),
    annotations: hints(true),
  },
  {
    name: "reply_to_ticket",
    title: "Reply to the customer, or add an internal note",
    audience: "staff",
    description: "A reply (`internal` false, the default) is emailed to the customer; an internal note is for staff only.",
    input: obj({ ticket: ticketArg, body: str("The message."), internal: { type: "boolean" } }, ["ticket", "body"]),
    output: obj({ message: ref("Message") }),
    annotations: hints(false),
  },
  {
    name: "assign_ticket",
    title: "Assign a ticket",
    audience: "staff",
    description: "Assign (or reassign) a ticket to an active staff member. Send the `version` you read to refuse a stale change.",
    input: obj({ ticket: ticketArg, staff_id: { type: "integer", minimum: 1 }, version: { type: "integer" } }, ["ticket", "staff_id"]),
    output: obj({ ticket: ref("Ticket") }),
    annotations: hints(false),
  },
  {
    name: "change_ticket_status",
    title: "Resolve, close or reopen a ticket",
    audience: "staff",
    description: "Moves a ticket along its lifecycle; a move the lifecycle does not allow is refused with what is allowed.",
    input: obj({ ticket: ticketArg, action: { type: "string", enum: ["resolve", "close", "reopen"] }, version: { type: "integer" } }, ["ticket", "action"]),
    output: obj({ ticket: ref("Ticket") }),
    annotations: hints(false),
  },
  {
    name: "ticket_stats",
    title: "Ticket counts",
    audience: "staff",
    description: "Counts by status and priority, and open tickets nobody is assigned.",
    input: { type: "object", properties: {} },
    output: ref("Stats"),
    annotations: hints(true),
  },
];

operations.mcp = {
  summary: "MCP endpoint for AI agents",
  description:
    "The Model Context Protocol over Streamable HTTP, stateless, answering JSON: revisions 2025-11-25 " +
    "(`initialize`, then `MCP-Protocol-Version` on every request) and 2026-07-28 (`server/discover`, the " +
    "version in each request's `_meta`, `Mcp-Method`/`Mcp-Name` headers matching the body). With an " +
    "integration key: the tools create_ticket, get_ticket_status, add_customer_reply, resend_ticket_links; " +
    "with a staff session, also search_tickets, get_ticket, reply_to_ticket, assign_ticket, " +
    "change_ticket_status, ticket_stats. A refused tool call is a result with `isError` and the API's message.",
  tags: ["public"],
  security: [{ integrationKey: [] }, { staffSession: [] }],
  parameters: [
    { name: "MCP-Protocol-Version", in: "header", required: false, schema: { type: "string" } },
    { name: "Mcp-Method", in: "header", required: false, schema: { type: "string" } },
    { name: "Mcp-Name", in: "header", required: false, schema: { type: "string" } },
  ],
  requestBody: jsonBody(
    {
      type: "object",
      description: "One JSON-RPC 2.0 request or notification.",
      properties: { jsonrpc: { const: "2.0" }, id: { type: ["string", "integer"] }, method: { type: "string" }, params: { type: "object" } },
      required: ["jsonrpc", "method"],
    },
    "A JSON-RPC message.",
  ),
  responses: {
    200: { description: "The JSON-RPC answer (a result, or an error such as an unknown tool).", headers: hdr(), content: json({ type: "object" }) },
    202: { description: "A notification was accepted.", headers: hdr() },
    400: { description: "A malformed message, or headers that do not match the body (JSON-RPC error, or the envelope for a bad `Content-Length`).", headers: hdr(), content: json({ type: "object" }) },
    401: error("No integration key or staff session.", "WWW-Authenticate"),
    403: { description: "A foreign `Origin`.", headers: hdr(), content: json({ type: "object" }) },
    404: { description: "A method the stateless revision does not have (JSON-RPC error).", headers: hdr(), content: json({ type: "object" }) },
  },
};
