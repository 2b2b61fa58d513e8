// Attachments on R2: uploads and downloads byte for byte, the limits and refusals,
// sending files with messages (all or nothing), what public routes never show, range
// and conditional downloads, the cron's sweep of unsent files, an admin's delete.
// The R2 bucket is Miniflare's (mf.getR2Bucket) and is inspected directly.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";
import { startWorker, createStaff, login, ticket, rows } from "./helpers.mjs";

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const HOUR = 3600 * 1000;

/** An upload as a browser or curl sends it: the file as the body, with its length. */
function uploadTo(w, path, bytes, { type = "text/plain", headers = {} } = {}) {
  const body = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
  return w.call(path, {
    method: "POST",
    headers: { ...(type ? { "Content-Type": type } : {}), "Content-Length": String(body.length), ...headers },
    body,
  });
}

const customerPath = (t, name) => `/api/tickets/${t.ticket_number}/attachments${name == null ? "" : `?filename=${encodeURIComponent(name)}`}`;
const customerUpload = (w, t, bytes, { name = "file.txt", type = "text/plain", headers = {} } = {}) =>
  uploadTo(w, customerPath(t, name), bytes, { type, headers: { "X-Ticket-Token": t.access_token, ...headers } });
const download = (w, t, id, headers = {}) =>
  w.fetch(`/api/tickets/${t.ticket_number}/attachments/${id}`, { headers: { "X-Ticket-Token": t.access_token, ...headers } });
const bytesOf = async (res) => Buffer.from(await res.arrayBuffer());

/** Raw HTTP/1.1 over a socket: for what fetch cannot send (a lying Content-Length). */
async function rawRequest(w, head, { body, cutAfterMs } = {}) {
  const url = new URL(w.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let out = "";
    const started = Date.now();
    const done = () => resolve({ text: out, ms: Date.now() - started, status: Number(out.split(" ")[1]) || null });
    socket.on("data", (d) => {
      out += d;
      if (!cutAfterMs && out.includes("\r\n\r\n") && out.includes('"success"')) socket.end();
    });
    socket.on("close", done);
    socket.on("error", () => {});
    socket.write(head);
    if (body) socket.write(body);
    if (cutAfterMs) setTimeout(() => socket.destroy(), cutAfterMs);
    setTimeout(() => socket.destroy(), 5000);
  });
}

let w, agent, admin, agentId;
before(async () => {
  w = await startWorker({
    port: 0,
    bindings: {
      TICKET_TOKEN_SECRET: "attachment-test-secret",
      MAX_ATTACHMENT_BYTES: String(8 * 1024 * 1024),
      CUSTOMER_REPLIES_PER_TICKET: "1000",
      REPLIES_PER_IP: "100000",
    },
  });
  agentId = await createStaff(w.db, { email: "agent@example.com", name: "Agent" });
  await createStaff(w.db, { email: "admin@example.com", name: "Admin", role: "admin" });
  agent = await login(w, "agent@example.com");
  admin = await login(w, "admin@example.com");
});
after(() => w.dispose());

const open = async (overrides = {}, worker = w) => {
  const res = await worker.postJson("/api/tickets/create", ticket(overrides));
  assert.equal(res.status, 201, res.text);
  return res.body.data;
};
const reply = (t, body, attachment_ids, worker = w, headers = {}) =>
  worker.postJson(`/api/tickets/${t.ticket_number}/messages`, { body, attachment_ids }, { "X-Ticket-Token": t.access_token, ...headers });
const staffUpload = (t, bytes, { name = "answer.pdf", type = "application/pdf", as = agent, worker = w } = {}) =>
  uploadTo(worker, `/api/crm/tickets/${t.id}/attachments?filename=${encodeURIComponent(name)}`, bytes, { type, headers: as.auth });
const staffMessage = (t, body, extra = {}, as = agent, worker = w) =>
  worker.postJson(`/api/crm/tickets/${t.id}/messages`, { body, ...extra }, as.auth);
const statusOf = (t) => w.call(`/api/tickets/${t.ticket_number}`, { headers: { "X-Ticket-Token": t.access_token } });
const attachmentRow = async (id) => (await rows(w.db, "SELECT * FROM ticket_attachments WHERE id = ?", id))[0];

describe("round trips", () => {
  test("a small text file and a multi-megabyte binary come back byte for byte", async () => {
    const t = await open();
    const text = Buffer.from("Error 0x80070005: access denied\nŽluťoučký kůň 🐎\n");
    const binary = randomBytes(5 * 1024 * 1024 + 123);
    const up1 = await customerUpload(w, t, text, { name: "error log.txt" });
    assert.equal(up1.status, 201, up1.text);
    const up2 = await customerUpload(w, t, binary, { name: "capture.zip", type: "application/zip" });
    assert.equal(up2.status, 201, up2.text);
    const a = up2.body.data.attachment;
    assert.deepEqual(
      { filename: a.filename, content_type: a.content_type, size: a.size },
      { filename: "capture.zip", content_type: "application/zip", size: binary.length },
    );
    assert.equal(up2.headers.get("location"), `/api/tickets/${t.ticket_number}/attachments/${a.id}`);
    assert.equal(a.download_url, up2.headers.get("location"));
    for (const [up, bytes] of [[up1, text], [up2, binary]]) {
      const res = await download(w, t, up.body.data.attachment.id);
      assert.equal(res.status, 200);
      const got = await bytesOf(res);
      assert.equal(got.length, bytes.length);
      assert.equal(sha256(got), sha256(bytes));
    }
    // By query too (what a link on the status page uses).
    const byQuery = await w.fetch(`${a.download_url}?token=${t.access_token}`);
    assert.equal(sha256(await bytesOf(byQuery)), sha256(binary));
    // In R2 under a random key, with the size and type; the filename is not in it.
    const row = await attachmentRow(a.id);
    assert.match(row.r2_key, /^att\/[0-9a-f]{32}$/);
    assert.equal(row.status, "uploaded");
    const object = await w.r2.get(row.r2_key);
    assert.equal(object.size, binary.length);
    assert.equal(object.httpMetadata.contentType, "application/zip");
    assert.equal(sha256(Buffer.from(await object.arrayBuffer())), sha256(binary));
    assert.equal(`"${object.etag}"`, row.etag);
  });

  test("staff upload and download, internal files included", async () => {
    const t = await open();
    const pdf = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomBytes(300_000)]);
    const up = await staffUpload(t, pdf, { name: "Návod k obsluze.pdf" });
    assert.equal(up.status, 201, up.text);
    const a = up.body.data.attachment;
    assert.equal(a.uploaded_by, "staff");
    assert.equal(a.staff_id, agentId);
    assert.equal(a.message_id, null);
    assert.equal(up.headers.get("location"), `/api/crm/attachments/${a.id}`);
    const note = await staffMessage(t, "Manual for the team", { internal: true, attachment_ids: [a.id] });
    assert.equal(note.status, 201, note.text);
    assert.equal(note.body.data.message.attachments[0].internal, true);
    const res = await w.fetch(`/api/crm/attachments/${a.id}`, { headers: agent.auth });
    assert.equal(res.status, 200);
    assert.equal(sha256(await bytesOf(res)), sha256(pdf));
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="N_vod k obsluze.pdf"; filename*=UTF-8''N%C3%A1vod%20k%20obsluze.pdf`);
    assert.equal((await w.fetch(`/api/crm/attachments/${a.id}`)).status, 401);
    const nowhere = await uploadTo(w, "/api/crm/tickets/999999/attachments", "%PDF", { type: "application/pdf", headers: agent.auth });
    assert.equal(nowhere.status, 404);
    assert.equal((await w.fetch("/api/crm/attachments/999999", { headers: agent.auth })).status, 404);
  });
});

describe("downloads are inert", () => {
  test("headers: disposition, nosniff, sandbox CSP, no caching, entity tag", async () => {
    const t = await open();
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(200)]);
    const cases = [
      ["shot.png", "image/png", png, `attachment; filename="shot.png"`],
      ["page.txt", "text/plain; charset=utf-8", Buffer.from("<script>alert(1)</script>"), `attachment; filename="page.txt"`],
      ["report 2026 ✓.pdf", "application/pdf", Buffer.from("%PDF-1.4"), `attachment; filename="report 2026 _.pdf"; filename*=UTF-8''report%202026%20%E2%9C%93.pdf`],
    ];
    for (const [name, type, bytes, disposition] of cases) {
      const up = await customerUpload(w, t, bytes, { name, type });
      assert.equal(up.status, 201, up.text);
      const res = await download(w, t, up.body.data.attachment.id);
      await res.arrayBuffer();
      assert.equal(res.headers.get("content-type"), type.split(";")[0], "the stored, allowlisted type");
      assert.equal(res.headers.get("content-disposition"), disposition);
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.equal(res.headers.get("content-security-policy"), "sandbox; default-src 'none'");
      assert.equal(res.headers.get("cache-control"), "private, no-store");
      assert.equal(res.headers.get("accept-ranges"), "bytes");
      assert.match(res.headers.get("etag"), /^"[0-9a-f]+"$/);
      // (text may be compressed on the way, which drops the length)
      if (!type.startsWith("text/")) assert.equal(Number(res.headers.get("content-length")), bytes.length);
    }
  });

  test("filenames lose paths, controls and bidi characters; Content-Disposition names work too", async () => {
    const t = await open();
    const evil = await customerUpload(w, t, "x", { name: "..\\..//etc/\u202Egnp.exe\u0000\r\n" });
    assert.equal(evil.status, 201, evil.text);
    // Sent as text: the saved name ends in .txt, whatever the uploader called it.
    assert.equal(evil.body.data.attachment.filename, "gnp.exe.txt");
    const long = await customerUpload(w, t, "x", { name: `${"ř".repeat(300)}.txt` });
    // 255 bytes would end inside a two-byte ř: 125 of them and the extension.
    assert.equal(Buffer.byteLength(long.body.data.attachment.filename), 254);
    assert.ok(long.body.data.attachment.filename.endsWith("ř.txt"));
    const unnamed = await customerUpload(w, t, "x", { name: null, type: "image/png" });
    assert.equal(unnamed.body.data.attachment.filename, "attachment.png");
    const fromHeader = await uploadTo(w, customerPath(t), "x", {
      headers: { "X-Ticket-Token": t.access_token, "Content-Disposition": `attachment; filename="fallback.txt"; filename*=UTF-8''%C3%BAdaje.txt` },
    });
    assert.equal(fromHeader.body.data.attachment.filename, "údaje.txt");
  });
});

describe("refusals", () => {
  test("411 without Content-Length, 413 by Content-Length before reading, 415 off the allowlist, 400 empty", async () => {
    const t = await open();
    const chunked = await w.call(customerPath(t, "a.txt"), {
      method: "POST",
      headers: { "X-Ticket-Token": t.access_token, "Content-Type": "text/plain" },
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("streamed without a length"));
          c.close();
        },
      }),
      duplex: "half",
    });
    assert.equal(chunked.status, 411);
    assert.equal(chunked.body.code, "length_required");

    // A 200 MB Content-Length and no body at all: the answer comes at once.
    const head = [
      `POST ${customerPath(t, "big.zip")} HTTP/1.1`,
      "Host: localhost",
      `X-Ticket-Token: ${t.access_token}`,
      "Content-Type: application/zip",
      "Content-Length: 200000000",
      "",
      "",
    ].join("\r\n");
    const big = await rawRequest(w, head);
    assert.equal(big.status, 413, big.text);
    assert.ok(big.ms < 2000, `answered in ${big.ms} ms without the body`);
    assert.match(big.text, /"code":"payload_too_large"/);
    // One byte over MAX_ATTACHMENT_BYTES (8 MiB here).
    const justOver = await rawRequest(w, head.replace("Content-Length: 200000000", `Content-Length: ${8 * 1024 * 1024 + 1}`));
    assert.equal(justOver.status, 413);

    for (const type of ["text/html", "image/svg+xml", "application/x-msdownload", "application/octet-stream", null]) {
      const res = await customerUpload(w, t, "<svg onload=alert(1)>", { type });
      assert.equal(res.status, 415, `${type}: ${res.text}`);
      assert.equal(res.body.code, "unsupported_media_type");
      assert.match(res.body.message, /image\/png/);
    }
    assert.equal((await customerUpload(w, t, "")).body.code, "empty_file");
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM ticket_attachments WHERE ticket_id = ?", t.id))[0].n, 0);
  });

  test("a wrong token is the same 404 as an unknown ticket; a closed ticket takes no files", async () => {
    const t = await open();
    const other = await open();
    const unknown = await uploadTo(w, "/api/tickets/TKT-2099-0001/attachments", "x", { headers: { "X-Ticket-Token": t.access_token } });
    assert.equal(unknown.status, 404);
    for (const token of [other.access_token, "", "x".repeat(32), undefined]) {
      const res = await uploadTo(w, customerPath(t, "a.txt"), "x", { headers: token === undefined ? {} : { "X-Ticket-Token": token } });
      assert.equal(res.status, 404);
      assert.equal(res.text, unknown.text);
    }
    await w.postJson(`/api/crm/tickets/${t.id}/close`, {}, agent.auth);
    const closed = await customerUpload(w, t, "x");
    assert.equal(closed.status, 409);
    assert.equal(closed.body.code, "ticket_closed");
    // Staff may still add a file to a closed ticket (e.g. a final invoice).
    assert.equal((await staffUpload(t, "%PDF")).status, 201);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM ticket_attachments WHERE ticket_id = ?", t.id))[0].n, 1);
  });

  test("a cut-off upload leaves no row and no object", async () => {
    const t = await open();
    const before = (await w.r2.list()).objects.length;
    const head = [
      `POST ${customerPath(t, "cut.zip")} HTTP/1.1`,
      "Host: localhost",
      `X-Ticket-Token: ${t.access_token}`,
      "Content-Type: application/zip",
      "Content-Length: 1000000",
      "",
      "",
    ].join("\r\n");
    await rawRequest(w, head, { body: randomBytes(300_000), cutAfterMs: 300 });
    await new Promise((r) => setTimeout(r, 1500));
    const count = await rows(w.db, "SELECT count(*) AS n FROM ticket_attachments WHERE ticket_id = ?", t.id);
    assert.equal(count[0].n, 0);
    assert.equal((await w.r2.list()).objects.length, before);
  });
});

describe("limits", () => {
  let tiny;
  before(async () => {
    tiny = await startWorker({
      bindings: {
        TICKET_TOKEN_SECRET: "tiny",
        MAX_ATTACHMENT_BYTES: "1000",
        MAX_ATTACHMENT_BYTES_PER_TICKET: "2500",
        MAX_ATTACHMENTS_PER_TICKET: "4",
        MAX_ATTACHMENTS_PER_MESSAGE: "2",
        CUSTOMER_REPLIES_PER_TICKET: "6",
        REPLIES_PER_IP: "9",
      },
    });
  });
  after(() => tiny.dispose());

  test("the ticket's total and count, whoever uploads", async () => {
    const t = await open({}, tiny);
    const ip = { "CF-Connecting-IP": "198.51.100.1" };
    const send = (n) => customerUpload(tiny, t, Buffer.alloc(n, 1), { headers: ip });
    const first = await send(1000);
    assert.equal(first.status, 201);
    const second = await send(1000);
    assert.equal(second.status, 201);
    const full = await send(600);
    assert.equal(full.status, 413);
    assert.equal(full.body.code, "ticket_storage_full");
    assert.match(full.body.message, /at most 2.4 KB; this file is 600 B and 500 B is left/);
    assert.equal((await send(500)).status, 201);
    const staff = await login(tiny, "counter@example.com").catch(async () => {
      await createStaff(tiny.db, { email: "counter@example.com" });
      return login(tiny, "counter@example.com");
    });
    // A customer's unsent files do not lock staff out of the ticket...
    assert.equal((await staffUpload(t, "x", { as: staff, worker: tiny })).status, 201, "unsent customer files do not count for staff");
    // ...their sent files do: 2000 sent + 1 from staff + 600 > 2500.
    const ids = [first.body.data.attachment.id, second.body.data.attachment.id];
    assert.equal((await reply(t, "two files", ids, tiny, ip)).status, 201);
    const staffFull = await staffUpload(t, Buffer.alloc(600, 1), { as: staff, worker: tiny });
    assert.equal(staffFull.status, 413, staffFull.text);
    assert.equal(staffFull.body.code, "ticket_storage_full");

    const u = await open({}, tiny);
    const ip2 = { "CF-Connecting-IP": "198.51.100.2" };
    const uploaded = [];
    for (let i = 0; i < 4; i++) {
      const up = await customerUpload(tiny, u, "x", { headers: ip2 });
      assert.equal(up.status, 201);
      uploaded.push(up.body.data.attachment.id);
    }
    const many = await customerUpload(tiny, u, "x", { headers: ip2 });
    assert.equal(many.status, 409);
    assert.equal(many.body.code, "too_many_attachments");
    assert.equal((await staffUpload(u, "x", { as: staff, worker: tiny })).status, 201);
    assert.equal((await reply(u, "sent", uploaded.slice(0, 2), tiny, ip2)).status, 201);
    assert.equal((await reply(u, "sent too", uploaded.slice(2), tiny, ip2)).status, 201);
    // 4 sent + 1 staff file: the count is full for staff too.
    const staffMany = await staffUpload(u, "x", { as: staff, worker: tiny });
    assert.equal(staffMany.status, 409, staffMany.text);
    assert.equal(staffMany.body.code, "too_many_attachments");
  });

  test("parallel uploads cannot pass the count", async () => {
    const t = await open({}, tiny);
    const results = await Promise.all(Array.from({ length: 8 }, () => customerUpload(tiny, t, "x", { headers: { "CF-Connecting-IP": "10.9.9.9" } })));
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 201).length, 4, statuses.join());
    assert.ok(statuses.every((s) => s === 201 || s === 409 || s === 429), statuses.join());
    assert.equal((await rows(tiny.db, "SELECT count(*) AS n FROM ticket_attachments WHERE ticket_id = ?", t.id))[0].n, 4);
  });

  test("uploads and replies share the per-ticket and per-IP limits: 429 with Retry-After", async () => {
    const t = await open({}, tiny);
    const ip = { "CF-Connecting-IP": "192.0.2.7" };
    for (let i = 0; i < 3; i++) assert.equal((await customerUpload(tiny, t, "x", { headers: ip })).status, 201);
    for (let i = 0; i < 3; i++) assert.equal((await reply(t, `reply ${i}`, [], tiny, ip)).status, 201);
    const upload = await customerUpload(tiny, t, "x", { headers: ip });
    assert.equal(upload.status, 429, upload.text);
    assert.ok(Number(upload.headers.get("retry-after")) > 0);
    assert.equal((await reply(t, "one more", [], tiny, ip)).status, 429);
    // Another ticket from the same IP: the IP's limit (9) is what is left.
    const u = await open({}, tiny);
    for (let i = 0; i < 3; i++) assert.equal((await customerUpload(tiny, u, "x", { headers: ip })).status, 201);
    const byIp = await reply(u, "tenth from this IP", [], tiny, ip);
    assert.equal(byIp.status, 429);
    assert.ok(Number(byIp.headers.get("retry-after")) > 0);
    assert.equal((await reply(u, "from elsewhere", [], tiny, { "CF-Connecting-IP": "192.0.2.8" })).status, 201);
    // Staff are not rate limited.
    await createStaff(tiny.db, { email: "s@example.com" });
    const staff = await login(tiny, "s@example.com");
    assert.equal((await staffUpload(t, "x", { as: staff, worker: tiny })).status, 201);
  });

  test("at most MAX_ATTACHMENTS_PER_MESSAGE ids per message", async () => {
    const t = await open({}, tiny);
    const res = await reply(t, "three files", [1, 2, 3], tiny);
    assert.equal(res.status, 400);
    assert.equal(res.body.details[0].field, "attachment_ids");
    assert.equal(res.body.details[0].code, "too_many");
  });
});

describe("sending files with a message", () => {
  test("a reply carries the customer's files; the thread lists them everywhere", async () => {
    const t = await open();
    const a = (await customerUpload(w, t, "first", { name: "one.txt" })).body.data.attachment;
    const b = (await customerUpload(w, t, "second", { name: "two.txt" })).body.data.attachment;
    const res = await reply(t, "Two logs attached", [b.id, String(a.id)]);
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(res.body.data.message.attachments.map((x) => x.filename).sort(), ["one.txt", "two.txt"]);
    const status = await statusOf(t);
    const [message] = status.body.data.messages;
    assert.deepEqual(
      message.attachments.map((x) => [x.id, x.filename, x.content_type, x.size, x.download_url]),
      [
        [a.id, "one.txt", "text/plain", 5, `/api/tickets/${t.ticket_number}/attachments/${a.id}`],
        [b.id, "two.txt", "text/plain", 6, `/api/tickets/${t.ticket_number}/attachments/${b.id}`],
      ],
    );
    const crm = await w.call(`/api/crm/tickets/${t.id}`, { headers: agent.auth });
    const sent = crm.body.data.messages[0];
    assert.deepEqual(sent.attachments.map((x) => [x.id, x.message_id, x.uploaded_by, x.internal, x.download_url]), [
      [a.id, sent.id, "customer", false, `/api/crm/attachments/${a.id}`],
      [b.id, sent.id, "customer", false, `/api/crm/attachments/${b.id}`],
    ]);
    const page = await (await w.fetch(`/t/${t.ticket_number}?token=${t.access_token}`)).text();
    assert.ok(page.includes(`href="/api/tickets/${t.ticket_number}/attachments/${a.id}?token=${t.access_token}"`));
    assert.ok(page.includes("><bdi>two.txt</bdi></a>"), "names in their own bidi isolate");
  });

  test("unknown, foreign, someone else's, pending, used and expired ids: 400 naming the id, nothing stored", async () => {
    const t = await open();
    const other = await open();
    const mine = (await customerUpload(w, t, "mine")).body.data.attachment;
    const foreign = (await customerUpload(w, other, "theirs")).body.data.attachment;
    const staffs = (await staffUpload(t, "%PDF")).body.data.attachment;
    const used = (await customerUpload(w, t, "used")).body.data.attachment;
    assert.equal((await reply(t, "with used", [used.id])).status, 201);
    const old = new Date(Date.now() - 25 * HOUR).toISOString();
    const expired = (await customerUpload(w, t, "old", { headers: { "X-Test-Now": old } })).body.data.attachment;
    const pending = (
      await rows(
        w.db,
        `INSERT INTO ticket_attachments (ticket_id, uploader_type, filename, content_type, size, r2_key, status, created_at)
         VALUES (?, 'customer', 'p.txt', 'text/plain', 5, 'att/pending-test', 'pending', ?) RETURNING id`,
        t.id,
        new Date().toISOString(),
      )
    )[0];
    const count = async () => ({
      messages: (await rows(w.db, "SELECT count(*) AS n FROM ticket_messages WHERE ticket_id = ?", t.id))[0].n,
      hits: (await rows(w.db, "SELECT count(*) AS n FROM rate_limit_hits"))[0].n,
      events: (await rows(w.db, "SELECT count(*) AS n FROM ticket_events WHERE ticket_id = ?", t.id))[0].n,
      notifications: (await rows(w.db, "SELECT count(*) AS n FROM notifications WHERE ticket_id = ?", t.id))[0].n,
    });
    const before = await count();
    for (const [id, code] of [
      [999999, "unknown_attachment"],
      [foreign.id, "unknown_attachment"],
      [staffs.id, "unknown_attachment"],
      [pending.id, "attachment_pending"],
      [used.id, "attachment_already_sent"],
      [expired.id, "attachment_expired"],
    ]) {
      const res = await reply(t, "should not be stored", [mine.id, id]);
      assert.equal(res.status, 400, `${code}: ${res.text}`);
      assert.equal(res.body.details[0].field, "attachment_ids");
      assert.equal(res.body.details[0].code, code);
      assert.match(res.body.message, new RegExp(`Attachment ${id} `));
    }
    assert.deepEqual(await count(), before);
    assert.equal((await attachmentRow(mine.id)).message_id, null, "the valid file is still unsent");
    for (const bad of [["x"], [0], "1,,2", { id: 1 }, [mine.id, mine.id]]) {
      assert.equal((await reply(t, "bad ids", bad)).status, 400, JSON.stringify(bad));
    }
    // And the valid one can still be sent.
    assert.equal((await reply(t, "now it goes", [mine.id])).status, 201);
  });

  test("staff send only their own uploads; a file on an internal note is internal", async () => {
    const t = await open();
    await createStaff(w.db, { email: "second@example.com" });
    const second = await login(w, "second@example.com");
    const fromAgent = (await staffUpload(t, "%PDF-agent")).body.data.attachment;
    const fromCustomer = (await customerUpload(w, t, "customer's")).body.data.attachment;
    for (const [id, as] of [[fromAgent.id, second], [fromCustomer.id, agent]]) {
      const res = await staffMessage(t, "not mine", { attachment_ids: [id] }, as);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.details[0].code, "not_your_attachment");
    }
    assert.equal((await staffMessage({ id: 999999 }, "no ticket", { attachment_ids: [fromAgent.id] })).status, 404);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM ticket_messages WHERE ticket_id = ?", t.id))[0].n, 0);
    const note = await staffMessage(t, "Internal with file", { internal: true, attachment_ids: [fromAgent.id] });
    assert.equal(note.status, 201, note.text);
    assert.equal((await attachmentRow(fromAgent.id)).internal, 1);
  });

  test("two replies racing for one file: exactly one sends it", async () => {
    const t = await open();
    const a = (await customerUpload(w, t, "contested")).body.data.attachment;
    const results = await Promise.all([1, 2, 3, 4].map((i) => reply(t, `racer ${i}`, [a.id])));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, 400, 400, 400], results.map((r) => r.text).join("\n"));
    const messages = await rows(w.db, "SELECT count(*) AS n FROM ticket_messages WHERE ticket_id = ?", t.id);
    assert.equal(messages[0].n, 1);
  });

  test("the status page's form sends ids as a comma-separated field", async () => {
    const t = await open();
    const a = (await customerUpload(w, t, "one")).body.data.attachment;
    const b = (await customerUpload(w, t, "two")).body.data.attachment;
    const res = await w.call(`/api/tickets/${t.ticket_number}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: t.access_token, body: "From the page", attachment_ids: `${a.id},${b.id}` }).toString(),
    });
    assert.equal(res.status, 303, res.text);
    const [message] = (await statusOf(t)).body.data.messages;
    assert.equal(message.attachments.length, 2);
  });
});

describe("what public routes never show", () => {
  test("internal files, staff's unsent files and other tickets' files are the same 404", async () => {
    const t = await open();
    const other = await open();
    const internal = (await staffUpload(t, "%PDF-internal", { name: "SECRET-internal.pdf" })).body.data.attachment;
    assert.equal((await staffMessage(t, "note", { internal: true, attachment_ids: [internal.id] })).status, 201);
    const unsent = (await staffUpload(t, "%PDF-draft", { name: "SECRET-draft.pdf" })).body.data.attachment;
    const shared = (await staffUpload(t, "%PDF-public", { name: "manual.pdf" })).body.data.attachment;
    assert.equal((await staffMessage(t, "Here is the manual", { attachment_ids: [shared.id] })).status, 201);
    const theirs = (await customerUpload(w, other, "other ticket's")).body.data.attachment;
    await reply(other, "mine", [theirs.id]);

    const unknown = await download(w, t, 999999);
    assert.equal(unknown.status, 404);
    const unknownText = await unknown.text();
    const wrongNumber = await w.fetch(`/api/tickets/TKT-2099-0001/attachments/${shared.id}`, { headers: { "X-Ticket-Token": t.access_token } });
    assert.equal(await wrongNumber.text(), unknownText);
    for (const res of [
      await download(w, t, internal.id),
      await download(w, t, unsent.id),
      await download(w, t, theirs.id),
      // The other ticket's file through its own path, with this ticket's token.
      await w.fetch(`/api/tickets/${other.ticket_number}/attachments/${theirs.id}`, { headers: { "X-Ticket-Token": t.access_token } }),
      await w.fetch(`/api/tickets/${t.ticket_number}/attachments/${shared.id}`),
      await w.fetch(`/api/tickets/${t.ticket_number}/attachments/${shared.id}?token=${other.access_token}`),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(await res.text(), unknownText);
    }
    const ok = await download(w, t, shared.id);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "%PDF-public");

    const status = await statusOf(t);
    assert.doesNotMatch(status.text, /SECRET/);
    assert.deepEqual(status.body.data.messages.flatMap((m) => m.attachments.map((a) => a.filename)), ["manual.pdf"]);
    const page = await (await w.fetch(`/t/${t.ticket_number}?token=${t.access_token}`)).text();
    assert.doesNotMatch(page, /SECRET/);
    assert.ok(page.includes("manual.pdf"));
    const crm = await w.call(`/api/crm/tickets/${t.id}`, { headers: agent.auth });
    assert.match(crm.text, /SECRET-internal\.pdf/, "staff see internal files");
  });
});

describe("range and conditional requests", () => {
  test("206 with Content-Range, 416 when unsatisfiable, whole file otherwise; 304 on a matching ETag", async () => {
    const t = await open();
    const bytes = randomBytes(10_000);
    const { id } = (await customerUpload(w, t, bytes, { name: "file.zip", type: "application/zip" })).body.data.attachment;
    const whole = await download(w, t, id);
    const etag = whole.headers.get("etag");
    await whole.arrayBuffer();

    const part = async (range, extra = {}) => {
      const res = await download(w, t, id, { Range: range, ...extra });
      return { status: res.status, range: res.headers.get("content-range"), body: await bytesOf(res), headers: res.headers };
    };
    let r = await part("bytes=0-99");
    assert.equal(r.status, 206);
    assert.equal(r.range, "bytes 0-99/10000");
    assert.ok(r.body.equals(bytes.subarray(0, 100)));
    assert.equal(r.headers.get("content-disposition"), `attachment; filename="file.zip"`);
    r = await part("bytes=9900-");
    assert.equal(r.range, "bytes 9900-9999/10000");
    assert.ok(r.body.equals(bytes.subarray(9900)));
    r = await part("bytes=-10");
    assert.equal(r.range, "bytes 9990-9999/10000");
    assert.ok(r.body.equals(bytes.subarray(9990)));
    r = await part("bytes=5000-999999");
    assert.ok(r.body.equals(bytes.subarray(5000)));

    r = await part("bytes=10000-");
    assert.equal(r.status, 416);
    assert.equal(r.range, "bytes */10000");
    assert.equal(JSON.parse(r.body).code, "range_not_satisfiable");

    for (const ignored of ["bytes=0-1,5-6", "bytes=9-1", "lines=1-2", "bytes=x"]) {
      r = await part(ignored);
      assert.equal(r.status, 200, ignored);
      assert.ok(r.body.equals(bytes), ignored);
    }
    r = await part("bytes=0-9", { "If-Range": '"stale"' });
    assert.equal(r.status, 200);
    r = await part("bytes=0-9", { "If-Range": etag });
    assert.equal(r.status, 206);

    for (const match of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const res = await download(w, t, id, { "If-None-Match": match });
      assert.equal(res.status, 304, match);
      assert.equal(res.headers.get("etag"), etag);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    }
    const changed = await download(w, t, id, { "If-None-Match": '"other"' });
    assert.equal(changed.status, 200);
    await changed.arrayBuffer();
  });
});

describe("cleanup", () => {
  test("the cron removes files never sent after ATTACHMENT_ORPHAN_HOURS, R2 object and row", async () => {
    const t = await open();
    const old = new Date(Date.now() - 25 * HOUR).toISOString();
    const orphan = (await customerUpload(w, t, "abandoned", { headers: { "X-Test-Now": old } })).body.data.attachment;
    const sentOld = (await customerUpload(w, t, "sent long ago", { headers: { "X-Test-Now": old } })).body.data.attachment;
    assert.equal((await reply(t, "sent then", [sentOld.id], w, { "X-Test-Now": old })).status, 201);
    const fresh = (await customerUpload(w, t, "just now")).body.data.attachment;
    // A crashed upload: a pending row and an object nobody finished.
    await w.r2.put("att/crashed-upload", "partial");
    await rows(
      w.db,
      `INSERT INTO ticket_attachments (ticket_id, uploader_type, filename, content_type, size, r2_key, status, created_at)
       VALUES (?, 'customer', 'crash.txt', 'text/plain', 7, 'att/crashed-upload', 'pending', ?)`,
      t.id,
      old,
    );
    const keyOf = async (id) => (await attachmentRow(id)).r2_key;
    const orphanKey = await keyOf(orphan.id);
    assert.ok(await w.r2.head(orphanKey));

    await (await w.mf.getWorker()).scheduled({ cron: "*/10 * * * *", scheduledTime: new Date() });

    assert.equal(await attachmentRow(orphan.id), undefined);
    assert.equal(await w.r2.head(orphanKey), null);
    assert.equal((await rows(w.db, "SELECT count(*) AS n FROM ticket_attachments WHERE r2_key = 'att/crashed-upload'"))[0].n, 0);
    assert.equal(await w.r2.head("att/crashed-upload"), null);
    for (const kept of [sentOld, fresh]) {
      const row = await attachmentRow(kept.id);
      assert.ok(row, `${kept.id} kept`);
      assert.ok(await w.r2.head(row.r2_key));
    }
    assert.equal((await download(w, t, sentOld.id)).status, 200);
  });

  test("an admin deletes a file: R2 object, row and thread entry go, an event records it", async () => {
    const t = await open();
    const a = (await customerUpload(w, t, "to delete", { name: "delete-me.txt" })).body.data.attachment;
    assert.equal((await reply(t, "attached", [a.id])).status, 201);
    const key = (await attachmentRow(a.id)).r2_key;
    const asAgent = await w.call(`/api/crm/attachments/${a.id}`, { method: "DELETE", headers: agent.auth });
    assert.equal(asAgent.status, 403);
    assert.ok(await w.r2.head(key));
    const res = await w.call(`/api/crm/attachments/${a.id}`, { method: "DELETE", headers: admin.auth });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.attachment.filename, "delete-me.txt");
    assert.equal(await w.r2.head(key), null);
    assert.equal(await attachmentRow(a.id), undefined);
    const [event] = await rows(w.db, "SELECT kind, actor_type, data FROM ticket_events WHERE ticket_id = ? AND kind = 'attachment_deleted'", t.id);
    assert.equal(event.actor_type, "staff");
    assert.deepEqual(
      { ...JSON.parse(event.data), message_id: undefined },
      { attachment_id: a.id, filename: "delete-me.txt", content_type: "text/plain", size: 9, message_id: undefined, internal: 0 },
    );
    assert.equal((await download(w, t, a.id)).status, 404);
    assert.deepEqual((await statusOf(t)).body.data.messages[0].attachments, []);
    assert.equal((await w.call(`/api/crm/attachments/${a.id}`, { method: "DELETE", headers: admin.auth })).status, 404);
  });
});

describe("the status page", () => {
  test("loads exactly one script, from this origin, and the CSP allows only that", async () => {
    const t = await open();
    const res = await w.fetch(`/t/${t.ticket_number}?token=${t.access_token}`);
    const html = await res.text();
    const csp = res.headers.get("content-security-policy");
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /connect-src 'self'(;|$)/);
    const scripts = [...html.matchAll(/<script([^>]*)>/g)];
    assert.equal(scripts.length, 1);
    const src = scripts[0][1].match(/src="([^"]+)"/)[1];
    assert.equal(src, "/assets/status.js", "a static asset (tests/browser/status_page.test.mjs runs it)");
    assert.match(html, /<div id="attach" hidden/);
    assert.match(html, /<noscript>[^<]*<p[^>]*>Attaching files needs JavaScript/);
  });
});
