// The customer's status page in a real Chromium: a reply with files through the upload
// control (its only script, under the page's own CSP), a refused file explained on the
// page with nothing sent, and the page without JavaScript (no picker, a note, replies
// still work). The downloads it links are checked byte for byte.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { startApp, launch, openContext, openTicket, assertSecureHeaders, assertAccessible, screenshots } from "./harness.mjs";

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

let app, browser;
before(async () => {
  app = await startApp({ TICKET_TOKEN_SECRET: "browser-secret" });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await app?.dispose();
});

const statusUrl = (t) => `${app.url}/t/${t.ticket_number}?token=${t.access_token}`;
const thread = async (t) =>
  (await app.call(`/api/tickets/${t.ticket_number}`, { headers: { "X-Ticket-Token": t.access_token } })).body.data.messages;

test("a reply with a screenshot and a text file, under the page's CSP", async () => {
  const t = await openTicket(app);
  const { context, problems } = await openContext(browser, app);
  const page = await context.newPage();
  const response = await page.goto(statusUrl(t));
  assertSecureHeaders(response, "status page");
  const csp = response.headers()["content-security-policy"];
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.equal(await page.locator("#attach").isVisible(), true, "the script shows the control");
  await assertAccessible(page, "status page");
  const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(150_000)]);
  await page.setInputFiles("#files", [
    { name: "screenshot.png", mimeType: "image/png", buffer: png },
    { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("steps to reproduce") },
  ]);
  await page.getByLabel("Your reply").fill("The error is in the screenshot.");
  await Promise.all([page.waitForURL(/\/t\/TKT-/), page.getByRole("button", { name: "Send reply" }).click()]);
  await page.locator("ul.files a").first().waitFor();
  const links = await page.$$eval("ul.files a", (as) => as.map((a) => [a.textContent, a.getAttribute("href")]));
  assert.deepEqual(
    links.map(([name]) => name),
    ["screenshot.png", "notes.txt"],
  );
  const file = await app.fetch(`${app.url}${links[0][1]}`);
  assert.equal(file.status, 200);
  assert.match(file.headers.get("content-disposition"), /^attachment; filename="screenshot.png"/);
  assert.equal(sha256(Buffer.from(await file.arrayBuffer())), sha256(png));
  const [message] = await thread(t);
  assert.equal(message.body, "The error is in the screenshot.");
  assert.equal(message.attachments.length, 2);
  await screenshots(page, "status-page-with-files");
  assert.deepEqual(problems, []);
  await context.close();
});

test("a refused file is explained on the page and nothing is sent", async () => {
  const t = await openTicket(app);
  const { context, problems } = await openContext(browser, app);
  const page = await context.newPage();
  await page.goto(statusUrl(t));
  await page.setInputFiles("#files", [{ name: "page.html", mimeType: "text/html", buffer: Buffer.from("<b>x</b>") }]);
  await page.getByLabel("Your reply").fill("An HTML file");
  await page.getByRole("button", { name: "Send reply" }).click();
  const status = page.locator("#attach-status");
  await page.waitForFunction(() => document.getElementById("attach-status").textContent.includes("page.html"));
  assert.match(await status.textContent(), /page\.html: /);
  assert.deepEqual(await thread(t), []);
  // The browser logs the refused upload's 415 as a failed resource; nothing else.
  assert.deepEqual(problems, []);
  await context.close();
});

test("without JavaScript the control stays hidden, says why, and replies still work", async () => {
  const t = await openTicket(app);
  const { context, problems } = await openContext(browser, app, { javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(statusUrl(t));
  assert.equal(await page.locator("#attach").isVisible(), false);
  assert.match(await page.content(), /Attaching files needs JavaScript/);
  await page.getByLabel("Your reply").fill("No script here");
  await Promise.all([page.waitForURL(/\/t\/TKT-/), page.getByRole("button", { name: "Send reply" }).click()]);
  assert.match(await page.content(), /No script here/);
  assert.equal((await thread(t))[0].body, "No script here");
  assert.deepEqual(problems, []);
  await context.close();
});
