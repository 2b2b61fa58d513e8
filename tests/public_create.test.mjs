// POST /api/tickets/create: the seed's contract, validation, media types, numbering.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { startWorker, ticket, rows } from "./helpers.mjs";

const year = new Date().getUTCFullYear();
let w;
before(async () => {
  w = await startWorker();
});
after(() => w.dispose());

describe("the seed's tests, verbatim", () => {
  test("Test 1: create a ticket via the API", async () => {
    const res = await w.postJson("/api/tickets/create", {
      subject: "Test ticket",
      description: "Testing the API",
      customer_name: "Test User",
      customer_email: "test@example.com",
      priority: "medium",
      category: "general",
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.success, true);
    assert.equal(res.body.message, "Support ticket created successfully");
    assert.equal(res.body.data.id, 1);
    assert.equal(res.body.data.ticket_number, `TKT-${year}-0001`);
    assert.equal(res.headers.get("location"), `/api/tickets/TKT-${year}-0001`);
    assert.equal(res.body.data.status, "open");
    assert.match(res.body.data.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const [row] = await rows(w.db, "SELECT * FROM support_tickets WHERE id = 1");
    assert.equal(row.subject, "Test ticket");
    assert.equal(row.customer_name, "Test User");
    assert.equal(row.customer_email, "test@example.com");
    assert.equal(row.priority, "medium");
    assert.equal(row.category, "general");
    assert.equal(row.status, "open");
    assert.equal(row.created_at, res.body.data.created_at);
    assert.equal(row.updated_at, res.body.data.created_at);
    const events = await rows(w.db, "SELECT * FROM ticket_events WHERE ticket_id = 1");
    assert.equal(events.length, 1);
    assert.equal(events[0].kind, "created");
    assert.equal(events[0].actor_type, "public");
    assert.deepEqual(JSON.parse(events[0].data), { status: "open", priority: "medium", category: "general", assigned_to: null });
  });

  test("Test 3: missing required fields", async () => {
    const res = await w.postJson("/api/tickets/create", { subject: "Test" });
    assert.equal(res.status, 400);
    assert.equal(res.body.success, false);
    assert.equal(res.body.error, "Subject and description are required");
    assert.equal(res.body.code, "validation_failed");
    assert.equal(typeof res.body.message, "string");
    assert.deepEqual(
      res.body.details.map((d) => [d.field, d.code]),
      [
        ["description", "required"],
        ["customer_email", "required"],
      ],
    );
  });
});

describe("validation", () => {
  const invalid = async (overrides, field, code) => {
    const res = await w.postJson("/api/tickets/create", ticket(overrides));
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.code, "validation_failed");
    const detail = res.body.details.find((d) => d.field === field);
    assert.ok(detail, `no detail for ${field}: ${JSON.stringify(res.body)}`);
    assert.equal(detail.code, code);
    assert.ok(detail.message.length > 0);
    return res;
  };
  const valid = async (overrides) => {
    const res = await w.postJson("/api/tickets/create", ticket(overrides));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const [row] = await rows(w.db, "SELECT * FROM support_tickets WHERE id = ?", res.body.data.id);
    return row;
  };

  test("a missing email gets the seed's message", async () => {
    const res = await invalid({ customer_email: undefined }, "customer_email", "required");
    assert.equal(res.body.error, "Customer email is required");
    const blank = await invalid({ customer_email: "   " }, "customer_email", "required");
    assert.equal(blank.body.error, "Customer email is required");
  });

  test("blank subject or description count as missing", async () => {
    const res = await invalid({ subject: " \n\t " }, "subject", "required");
    assert.equal(res.body.error, "Subject and description are required");
    await invalid({ description: "" }, "description", "required");
    await invalid({ description: null }, "description", "required");
  });

  test("defaults: name Guest, priority medium, category general", async () => {
    const row = await valid({ customer_name: undefined, priority: undefined, category: undefined });
    assert.equal(row.customer_name, "Guest");
    assert.equal(row.priority, "medium");
    assert.equal(row.category, "general");
    assert.equal(row.user_id, null);
  });

  test("values are trimmed and choices normalized", async () => {
    const row = await valid({ subject: "  padded  ", priority: " HIGH ", category: "Billing", customer_email: " a@b.co " });
    assert.equal(row.subject, "padded");
    assert.equal(row.priority, "high");
    assert.equal(row.category, "billing");
    assert.equal(row.customer_email, "a@b.co");
  });

  test("length limits count characters after trimming", async () => {
    await valid({ subject: "é".repeat(200) });
    await valid({ subject: `  ${"x".repeat(200)}  ` });
    await invalid({ subject: "x".repeat(201) }, "subject", "too_long");
    await valid({ description: "é".repeat(20_000) });
    await valid({ subject: "😀".repeat(200) });
    await invalid({ description: "x".repeat(20_001) }, "description", "too_long");
    await valid({ customer_name: "n".repeat(100) });
    await invalid({ customer_name: "n".repeat(101) }, "customer_name", "too_long");
    const local = "l".repeat(64);
    const domain = `${"d".repeat(60)}.${"e".repeat(60)}.${"f".repeat(63)}.com`;
    assert.equal(`${local}@${domain}`.length, 254);
    await valid({ customer_email: `${local}@${domain}` });
    await invalid({ customer_email: `${local}@a${domain}` }, "customer_email", "too_long");
  });

  test("emails must be syntactically valid", async () => {
    for (const bad of ["plain", "a@b", "a@@b.co", "a b@c.co", "<a@b.co>", "a@b.co; DROP TABLE users"]) {
      await invalid({ customer_email: bad }, "customer_email", "invalid_email");
    }
    // Header injection never reaches the email check.
    await invalid({ customer_email: "a@b.co\r\nBcc: x@y.z" }, "customer_email", "invalid_characters");
    await valid({ customer_email: "José.Ñúñez+help@correo.example.es" });
  });

  test("priority: low, medium, high only; urgent is staff-only", async () => {
    for (const p of ["low", "medium", "high"]) assert.equal((await valid({ priority: p })).priority, p);
    const res = await invalid({ priority: "urgent" }, "priority", "invalid_choice");
    assert.match(res.body.details[0].message, /low, medium, high/);
    await invalid({ priority: "critical" }, "priority", "invalid_choice");
  });

  test("category comes from the configured list", async () => {
    for (const c of ["general", "technical", "billing", "account", "other"]) {
      assert.equal((await valid({ category: c })).category, c);
    }
    await invalid({ category: "sales" }, "category", "invalid_choice");
  });

  test("user_id links the user whose email is the ticket's, and is otherwise stored unlinked", async () => {
    await w.db.prepare("INSERT INTO users (id, email, name) VALUES (123, 'john@example.com', 'John')").run();
    assert.equal((await valid({ user_id: 123 })).user_id, 123);
    assert.equal((await valid({ user_id: "123" })).user_id, 123);
    // Anonymous callers cannot learn which ids exist (tests/hardening.test.mjs).
    assert.equal((await valid({ user_id: 999 })).user_id, null);
    await invalid({ user_id: 0 }, "user_id", "invalid_integer");
    await invalid({ user_id: 1.5 }, "user_id", "invalid_integer");
    await invalid({ user_id: "12abc" }, "user_id", "invalid_integer");
    await invalid({ user_id: true }, "user_id", "invalid_type");
  });

  test("wrong JSON types are named per field", async () => {
    const res = await w.postJson("/api/tickets/create", {
      subject: 42,
      description: ["a"],
      customer_email: { address: "a@b.co" },
      priority: false,
    });
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body.details.map((d) => [d.field, d.code]),
      [
        ["subject", "invalid_type"],
        ["description", "invalid_type"],
        ["customer_email", "invalid_type"],
        ["priority", "invalid_type"],
      ],
    );
    assert.match(res.body.details[0].message, /Subject must be a string, not a number/);
  });

  test("control characters are refused, newlines only in the description", async () => {
    await invalid({ subject: "line one\nline two" }, "subject", "invalid_characters");
    await invalid({ customer_name: "bell\u0007" }, "customer_name", "invalid_characters");
    await invalid({ description: "nul\u0000byte" }, "description", "invalid_characters");
    const row = await valid({ description: "line one\r\nline two\n\ttabbed" });
    assert.equal(row.description, "line one\r\nline two\n\ttabbed");
  });

  test("unknown fields are ignored", async () => {
    await valid({ source: "ai-assistant", extra: { nested: true } });
  });
});

describe("malformed bodies", () => {
  const raw = (body, contentType = "application/json") =>
    w.call("/api/tickets/create", { method: "POST", headers: { "Content-Type": contentType }, body });

  test("malformed JSON says what is wrong", async () => {
    const res = await raw('{"subject": "x",');
    assert.equal(res.status, 400);
    assert.equal(res.body.success, false);
    assert.equal(res.body.code, "malformed_json");
    assert.match(res.body.message, /not valid JSON/);
  });

  test("empty body, arrays and scalars are refused", async () => {
    for (const [body, code] of [
      ["", "malformed_json"],
      ["[]", "invalid_body"],
      ['"ticket"', "invalid_body"],
      ["null", "invalid_body"],
      ["42", "invalid_body"],
    ]) {
      const res = await raw(body);
      assert.equal(res.status, 400, body);
      assert.equal(res.body.code, code, body);
    }
  });

  test("invalid UTF-8 in JSON is a 400", async () => {
    const res = await raw(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
    assert.equal(res.status, 400);
    assert.equal(res.body.code, "malformed_json");
  });

  test("other media types get 415", async () => {
    for (const type of ["text/plain", "multipart/form-data; boundary=x", "application/xml"]) {
      const res = await raw(JSON.stringify(ticket()), type);
      assert.equal(res.status, 415, type);
      assert.equal(res.body.code, "unsupported_media_type");
    }
    const none = await w.call("/api/tickets/create", { method: "POST", body: new Uint8Array([1, 2]) });
    assert.equal(none.status, 415);
    const charset = await raw(JSON.stringify(ticket()), "Application/JSON; charset=UTF-8");
    assert.equal(charset.status, 201);
  });

  test("bodies over 64 KiB are refused by Content-Length before reading", async () => {
    const big = JSON.stringify(ticket({ description: "x".repeat(70_000) }));
    const res = await raw(big);
    assert.equal(res.status, 413);
    assert.equal(res.body.code, "payload_too_large");
    const exact = JSON.stringify(ticket({ description: "" })).length;
    const fits = JSON.stringify(ticket({ description: "y".repeat(19_000) }));
    assert.ok(fits.length < 65536 && exact < fits.length);
    assert.equal((await raw(fits)).status, 201);
  });

  test("a chunked body is cut off at the cap", async () => {
    // No Content-Length: the worker must count while reading. The chunks trickle in,
    // so the answer arrives while the client is still sending.
    let sent = 0;
    const stream = new ReadableStream({
      async pull(controller) {
        if (sent >= 1_000_000) return controller.close();
        sent += 8192;
        controller.enqueue(new TextEncoder().encode(" ".repeat(8192)));
        await new Promise((r) => setTimeout(r, 5));
      },
    });
    const res = await w.call("/api/tickets/create", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: stream,
      duplex: "half",
    });
    assert.equal(res.status, 413);
    assert.equal(res.body.code, "payload_too_large");
    assert.ok(sent < 1_000_000, `the worker read the whole body (${sent} bytes)`);
  });

  test("a chunked body under the cap is read to its end", async () => {
    // Without Content-Length the worker reads chunk by chunk (with one it takes the
    // body whole): the ticket must come out the same, multi-byte characters split
    // across chunks included.
    const bytes = new TextEncoder().encode(JSON.stringify(ticket({ subject: "Chunked: café ☕", description: "z".repeat(19_000) })));
    let offset = 0;
    const stream = new ReadableStream({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + 1001)); // splits the UTF-8 sequences
        offset += 1001;
      },
    });
    const res = await w.call("/api/tickets/create", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: stream,
      duplex: "half",
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const [row] = await rows(w.db, "SELECT subject, length(description) AS n FROM support_tickets WHERE id = ?", res.body.data.id);
    assert.deepEqual({ ...row }, { subject: "Chunked: café ☕", n: 19_000 });
  });
});

describe("form posts", () => {
  test("an urlencoded form creates a ticket and answers JSON", async () => {
    const form = new URLSearchParams({
      subject: "From the contact form",
      description: "Café & crème: 100% <b>bold</b>",
      customer_email: "form@example.com",
      user_id: "",
    });
    const res = await w.call("/api/tickets/create", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    assert.equal(res.status, 201);
    const [row] = await rows(w.db, "SELECT * FROM support_tickets WHERE id = ?", res.body.data.id);
    assert.equal(row.description, "Café & crème: 100% <b>bold</b>");
    assert.equal(row.customer_name, "Guest");
  });

  test("form validation errors are JSON 400s", async () => {
    const res = await w.call("/api/tickets/create", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "subject=Only+a+subject",
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, "Subject and description are required");
  });
});

describe("stored verbatim", () => {
  test("SQL metacharacters, quotes, emoji and other unicode", async () => {
    const nasty = {
      subject: `Robert'); DROP TABLE support_tickets;-- "quoted" \\ %_ 😀`,
      description: "' OR '1'='1\n; DELETE FROM users; --\n\u202Eright-to-left\u202C 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ñ 中文 عربى \u0301",
      customer_name: "Zoë O'Connor-Δ",
      customer_email: "o'connor+test@example.com",
    };
    const res = await w.postJson("/api/tickets/create", ticket(nasty));
    assert.equal(res.status, 201);
    const [row] = await rows(w.db, "SELECT * FROM support_tickets WHERE id = ?", res.body.data.id);
    for (const [k, v] of Object.entries(nasty)) assert.equal(row[k], v.trim(), k);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM users WHERE 1"))[0].n >= 0, true);
  });
});
