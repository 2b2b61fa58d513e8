// The load scenarios of `make bench`. A scenario is one kind of request, repeated:
//
//   name        short id, used in the table and in BENCH_SCENARIOS=name,name
//   method      HTTP method
//   path        a string, or ({ state, seq }) => string
//   headers     an object, or ({ state, seq }) => object (merged over setup's headers)
//   body        optional ({ state, seq, target }) => string; called once per request, so
//               every request can differ (unique emails on create)
//   setup       optional async (api) => ({ headers?, state? }); runs once per target
//               before the probe. api = { call(path, init) -> {status, headers, body},
//               db (the target's D1), kv (its KV), target (its name), kind ("product",
//               "reference", "seed", "minimal"), seedStaff(...) }. Throwing skips the
//               scenario for that target.
//   creates     true when a 2xx answer is a new ticket: its data.ticket_number is
//               collected and checked against D1 after the load (exactly once each)
//   reference   true when bench/reference/worker.mjs (the same-work reference)
//               implements it too (then it runs in alternating rounds with the product
//               and gets a product/reference ratio)
//   seed        true when bench/reference/seed.mjs (the seed's design) implements it
//   minimal     true when bench/reference/minimal.mjs (the least a correct create does)
//               implements it; these two run at config.yardstickConnections only
//   edge        true: in the edge mode's scenario set (`make bench EDGE=1`)
//   connections optional list overriding the concurrency levels of bench/config.mjs
//   loop        false to leave the scenario out of the in-isolate loop (bench/lib/loop.mjs)
//   bodyBytes   a file upload: the body is this many bytes (one buffer, made once; the
//               in-isolate loop makes its own inside the isolate)
//   loopDiscardsBody  the in-isolate loop cancels each answer's body unread (a file
//               download: reading it is the client's work, not the worker's)
//   loopRecordsOnce  the in-isolate loop records the bindings' results once per isolate
//               (not once per loop run): the recording request is costly in itself (an
//               upload really stores its file), which would be spread over the loop
//
// Before loading, one probe request is sent; a 404 `not_found` means the route is not in
// this build yet and the scenario is skipped (and listed as skipped in the report).
// Add a scenario by appending an object here.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import config from "./config.mjs";

/** README's example create body, with a unique customer email. */
export function ticketBody({ seq, target }) {
  return JSON.stringify({
    subject: "Issue with mining machine",
    description: "Detailed description of the problem",
    customer_name: "John Smith",
    customer_email: `bench.${target}.${seq}@example.com`,
    priority: "medium",
    category: "technical",
  });
}

const json = { "Content-Type": "application/json" };

/**
 * The ticket number a create answered, if the answer is a new ticket: a 201 with
 * `data.ticket_number`, or an MCP `create_ticket` result (200, structured content).
 * `body` is the parsed JSON or its text.
 */
export function createdTicketNumber(status, body) {
  let parsed = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (status === 201) return parsed?.data?.ticket_number;
  const result = parsed?.result;
  return status === 200 && result && !result.isError ? result.structuredContent?.ticket_number : undefined;
}

/**
 * The client address Cloudflare would put in CF-Connecting-IP: 4096 made-up callers from
 * the IPv6 documentation prefix, each in its own /64 (per-client limits count a /64 as one
 * client), so per-IP limits and buckets see a crowd, not one host.
 * (Only a header value: all traffic goes to 127.0.0.1.)
 */
export const clientIp = (seq) => `2001:db8:${(seq % 4096).toString(16)}::1`;

export const scenarios = [
  {
    name: "health",
    method: "GET",
    path: "/api/health",
    reference: true,
  },
  {
    // No binding touched: routing, CORS headers, the request/response glue. The product
    // minus reference difference here is the fixed per-request cost of the runtime path.
    name: "preflight",
    method: "OPTIONS",
    path: "/api/tickets/create",
    headers: { Origin: "https://widget.example", "Access-Control-Request-Method": "POST" },
    connections: [8],
    reference: true,
  },
  {
    name: "create",
    method: "POST",
    path: "/api/tickets/create",
    headers: ({ seq }) => ({ ...json, "CF-Connecting-IP": clientIp(seq) }),
    body: ticketBody,
    creates: true,
    reference: true,
    seed: true,
    minimal: true,
    edge: true,
  },
  {
    // A customer's status link: GET /api/tickets/{number} with X-Ticket-Token. Needs
    // TICKET_TOKEN_SECRET (bench/config.mjs vars). One ticket with a short thread
    // (three public messages and an internal note, which must not show), looked up
    // over and over: one batch (ticket + public messages) and one HMAC per request.
    name: "status-lookup",
    method: "GET",
    path: ({ state }) => `/api/tickets/${state.ticketNumber}`,
    headers: ({ state }) => ({ "X-Ticket-Token": state.token }),
    setup: async (api) => {
      const created = await api.call("/api/tickets/create", { method: "POST", headers: json, body: ticketBody({ seq: 0, target: "lookup" }) });
      const data = created.body?.data ?? {};
      if (created.status !== 201) throw new Error(`create answered ${created.status}`);
      // The seed's create answers no link: its lookup checks the product's token, made here.
      const token = api.kind === "seed" ? statusToken(data.id, data.ticket_number) : data.access_token;
      if (!token) throw new Error("the create answered no access_token: is TICKET_TOKEN_SECRET in bench/config.mjs vars?");
      const at = data.created_at ?? new Date().toISOString();
      await seedThread(api.db, data.id, at);
      return { state: { ticketNumber: data.ticket_number, token } };
    },
    reference: true,
    seed: true,
    edge: true,
  },

  {
    // An AI agent's create through MCP (a legacy-era tools/call with an integration key):
    // the key lookup and the create batch, as a keyed HTTP create. Product-only.
    name: "mcp-create",
    method: "POST",
    path: "/mcp",
    headers: ({ seq, state }) => ({
      ...json,
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-11-25",
      Authorization: `Bearer ${state.key}`,
      "CF-Connecting-IP": clientIp(seq),
    }),
    body: ({ seq, target }) =>
      JSON.stringify({
        jsonrpc: "2.0",
        id: seq,
        method: "tools/call",
        params: { name: "create_ticket", arguments: JSON.parse(ticketBody({ seq, target: `mcp.${target}` })) },
      }),
    setup: async (api) => {
      const session = await crmSession(api);
      const key = await api.call("/api/crm/api-keys", {
        method: "POST",
        headers: { ...json, ...session.headers },
        body: JSON.stringify({ name: "bench", rate_limit: 1000000 }),
      });
      if (key.status !== 201) throw new Error(`api key answered ${key.status}`);
      return { state: { key: key.body.data.key } };
    },
    creates: true,
  },

  // ---- CRM scenarios, product-only. Each skips itself (listed in the report) while its
  // route is missing or answers 404.
  {
    name: "login",
    method: "POST",
    path: "/api/crm/auth/login",
    headers: json,
    setup: async (api) => ({ state: await api.seedStaff() }),
    body: ({ state }) => JSON.stringify({ email: state.email, password: state.password }),
    // PBKDF2 at 100,000 iterations is the cost; the loop would only measure WebCrypto.
    loop: false,
  },
  {
    // The first page of the team's list, on the tickets the earlier scenarios created:
    // the session check, then the page.
    name: "crm-list",
    method: "GET",
    path: "/api/crm/tickets?limit=20",
    setup: crmSession,
    reference: true,
    seed: true,
    edge: true,
  },
  {
    // One ticket as staff see it: the session check, then the ticket with its
    // timeline and thread (three public messages and an internal note).
    name: "crm-view",
    method: "GET",
    path: ({ state }) => `/api/crm/tickets/${state.ticketNumber}`,
    setup: async (api) => {
      const session = await crmSession(api);
      const created = await api.call("/api/tickets/create", { method: "POST", headers: json, body: ticketBody({ seq: 0, target: "setup" }) });
      const data = created.body?.data ?? {};
      if (created.status !== 201) throw new Error(`create answered ${created.status}`);
      await seedThread(api.db, data.id, data.created_at ?? new Date().toISOString());
      return { ...session, state: { ticketNumber: data.ticket_number } };
    },
    reference: true,
    seed: true,
    edge: true,
  },
  ...fileScenarios(100 * 1024, "100k", [1, 8]),
  ...fileScenarios(20 * 1024 * 1024, "20m", [1]),
];

/**
 * Attachments (product-only): an upload (`POST .../attachments`, the file as the raw
 * body, which the worker hands to R2 as a stream) and a download (`GET
 * .../attachments/{id}`, R2's stream handed to the response) of `bytes`. The worker
 * never reads the bytes, so its CPU per request should not depend on the size: the
 * in-isolate loop replays R2 like D1 (the put is answered without reading the body,
 * the get with a stream of the recorded size, cancelled unread). The load runs'
 * workerd CPU includes Miniflare's R2 simulator storing or reading the file, which
 * does grow with the size. Uploads keep what they store (on Miniflare's temporary
 * disk) until the bench ends, so the 20 MB ones run at one connection only.
 */
function fileScenarios(bytes, tag, connections) {
  const file = { "Content-Type": "application/zip" };
  const ticketWithToken = async (api, seq) => {
    const created = await api.call("/api/tickets/create", { method: "POST", headers: json, body: ticketBody({ seq, target: `files-${tag}` }) });
    const data = created.body?.data ?? {};
    if (created.status !== 201 || !data.access_token) throw new Error(`create answered ${created.status} without a token (TICKET_TOKEN_SECRET?)`);
    return data;
  };
  return [
    {
      name: `upload-${tag}`,
      method: "POST",
      path: ({ state }) => `/api/tickets/${state.number}/attachments?filename=bench-${tag}.zip`,
      headers: ({ state, seq }) => ({ ...file, "X-Ticket-Token": state.token, "CF-Connecting-IP": clientIp(seq) }),
      bodyBytes: bytes,
      loopRecordsOnce: true,
      connections,
      setup: async (api) => {
        const t = await ticketWithToken(api, 1);
        return { state: { number: t.ticket_number, token: t.access_token } };
      },
    },
    {
      name: `download-${tag}`,
      method: "GET",
      path: ({ state }) => `/api/tickets/${state.number}/attachments/${state.id}`,
      headers: ({ state }) => ({ "X-Ticket-Token": state.token }),
      loopDiscardsBody: true,
      connections,
      setup: async (api) => {
        const t = await ticketWithToken(api, 2);
        const up = await api.call(`/api/tickets/${t.ticket_number}/attachments?filename=bench-${tag}.zip`, {
          method: "POST",
          headers: { ...file, "X-Ticket-Token": t.access_token },
          body: Buffer.alloc(bytes, 0x5a),
        });
        const id = up.body?.data?.attachment?.id;
        if (up.status !== 201 || !id) throw new Error(`upload answered ${up.status}: ${JSON.stringify(up.body).slice(0, 200)}`);
        return { state: { number: t.ticket_number, token: t.access_token, id } };
      },
    },
  ];
}

/** A short conversation on a ticket: three public messages and one internal note. */
async function seedThread(db, ticketId, at) {
  const rows = [
    ["customer", "The machine stops after ten minutes.", 0],
    ["staff", "Thanks, could you send the serial number?", 0],
    ["staff", "Internal: probably the fan controller, see last week's batch.", 1],
    ["customer", "Serial number SN-0042-7781.", 0],
  ];
  await db.batch(
    rows.map(([author, body, internal]) =>
      db
        .prepare("INSERT INTO ticket_messages (ticket_id, author_type, staff_id, body, internal, created_at) VALUES (?1, ?2, NULL, ?3, ?4, ?5)")
        .bind(ticketId, author, body, internal, at),
    ),
  );
}

/**
 * A staff session for the CRM scenarios; answers { headers: { Authorization }, state }.
 * The product logs in (POST /api/crm/auth/login). The reference implements no login:
 * the harness stores the session as the product's login does (src/app/sessions.rs: KV
 * `session:<sha256 of the token>` with the staff id, its epoch and the deadlines),
 * which the reference checks exactly as the product would. The seed-style worker's
 * admin check reads `session:<token>` with the admin's role, as the seed's panel did.
 */
async function crmSession(api) {
  const staff = await api.seedStaff();
  if (api.kind === "product") {
    const login = await api.call("/api/crm/auth/login", {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email: staff.email, password: staff.password }),
    });
    const token = login.body?.data?.token ?? login.body?.data?.session_token;
    if (login.status === 404) return { state: staff }; // no login route yet: the probe will skip
    if (!token) throw new Error(`login answered ${login.status}: ${JSON.stringify(login.body).slice(0, 200)}`);
    return { headers: { Authorization: `Bearer ${token}` }, state: staff };
  }
  const row = await api.db.prepare("SELECT id, session_epoch FROM crm_staff WHERE email = ?1").bind(staff.email).first();
  const token = randomBytes(32).toString("base64url");
  const now = Date.now();
  const at = (ms) => new Date(ms).toISOString();
  if (api.kind === "seed") {
    await api.kv.put(`session:${token}`, JSON.stringify({ staff_id: row.id, email: staff.email, role: "admin", expires_at: at(now + 43_200_000) }));
  } else {
    const hash = createHash("sha256").update(token).digest("hex");
    const record = { staff_id: row.id, epoch: row.session_epoch, created_at: at(now), expires_at: at(now + 43_200_000) };
    await api.kv.put(`session:${hash}`, JSON.stringify(record));
  }
  return { headers: { Authorization: `Bearer ${token}` }, state: staff };
}

/** The status-link token of a ticket (src/domain/status_link.rs), under the bench's secret. */
export function statusToken(id, number, purpose = "ticket-access") {
  return createHmac("sha256", config.vars.TICKET_TOKEN_SECRET).update(`${purpose}:${id}:${number}`).digest().subarray(0, 24).toString("base64url");
}

/**
 * What a scenario's setup gets for one target (see the header): `call` defaults to the
 * target's own (run.mjs passes one that also tracks the tickets it creates).
 */
export function setupApi(target, call = target.call) {
  return {
    target: target.name,
    kind: target.kind ?? target.name,
    db: target.db,
    kv: target.kv,
    call,
    seedStaff: (opts) => seedStaff(target.db, opts),
  };
}

/** An admin row in crm_staff with the stored format of src/domain/password.rs. */
export async function seedStaff(db, { email = "bench.admin@example.com", password = "bench-password-0123", iterations = 100_000 } = {}) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const stored = `pbkdf2_sha256$${iterations}$${salt.toString("base64")}$${hash.toString("base64")}`;
  await db
    .prepare("INSERT INTO crm_staff (email, name, role, password_hash) VALUES (?1, 'Bench Admin', 'admin', ?2) ON CONFLICT (email) DO NOTHING")
    .bind(email, stored)
    .run();
  return { email, password };
}
