// The third yardstick: the least a correct TypeScript/JS Worker does for a public create,
// in plain JS without a framework, on the product's schema. The body is read as JSON and
// its fields checked (required text with lengths, an email shape, the choices); then the
// year's counter and the ticket insert go in one batch (one transaction, so numbers are
// unique and gap-free under any concurrency): 1 D1 round trip. No rate limits, no
// idempotency, no honeypot, no event, no outbox, no status link, no log line: what the
// product's create costs beyond this is the price of its guards.
const CATEGORIES = ["general", "technical", "billing", "account", "other"];
const PRIORITIES = ["low", "medium", "high"];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const answer = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json; charset=utf-8" } });
const refuse = (status, error) => answer(status, { success: false, error });

/** A trimmed string of 1..max characters, or undefined. */
function text(value, max) {
  if (typeof value !== "string") return undefined;
  const t = value.trim();
  return t && t.length <= max ? t : undefined;
}

async function create(request, env) {
  let body;
  try {
    body = await request.json();
  } catch {
    return refuse(400, "The body must be a JSON object");
  }
  if (!body || typeof body !== "object" || Array.isArray(body)) return refuse(400, "The body must be a JSON object");
  const subject = text(body.subject, 200);
  const description = text(body.description, 20_000);
  const email = text(body.customer_email, 254);
  const name = body.customer_name == null ? "Guest" : text(body.customer_name, 100);
  const priority = body.priority == null ? "medium" : PRIORITIES.find((p) => p === String(body.priority).toLowerCase());
  const category = body.category == null ? CATEGORIES[0] : CATEGORIES.find((p) => p === String(body.category).toLowerCase());
  if (!subject || !description || !email || !EMAIL.test(email) || !name || !priority || !category) {
    return refuse(400, "Subject, description and a valid customer email are required");
  }
  const now = new Date();
  const at = now.toISOString();
  const db = env.DB;
  const [, inserted] = await db.batch([
    db
      .prepare("INSERT INTO ticket_counters (year, last_seq) VALUES (?1, 1) ON CONFLICT (year) DO UPDATE SET last_seq = last_seq + 1")
      .bind(now.getUTCFullYear()),
    db
      .prepare(
        `INSERT INTO support_tickets (ticket_number, subject, description, customer_name, customer_email, priority, category, status, created_at, updated_at)
         SELECT printf('TKT-%d-%04d', year, last_seq), ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?8 FROM ticket_counters WHERE year = ?1
         RETURNING id, ticket_number, status, priority, category, created_at`,
      )
      .bind(now.getUTCFullYear(), subject, description, name, email, priority, category, at),
  ]);
  const ticket = inserted.results[0];
  return answer(201, { success: true, message: "Support ticket created successfully", data: ticket });
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname !== "/api/tickets/create") return refuse(404, "Not found");
    if (request.method !== "POST") return refuse(405, "Method not allowed");
    try {
      return await create(request, env);
    } catch (e) {
      console.error(`create failed: ${e}`);
      return refuse(500, "Failed to create ticket");
    }
  },
};
