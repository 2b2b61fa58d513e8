// The status page's upload control in a real browser (Chromium, driven by
// playwright-core): a customer attaches a screenshot to a reply under the page's own
// CSP, the file arrives byte for byte, and without JavaScript the page still works.
// Skipped (with the reason) where no Chromium is installed: CHROMIUM_PATH, else
// Debian's chromium-headless-shell.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createHash, randomBytes } from "node:crypto";
import { startWorker, ticket } from "./helpers.mjs";

const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium-headless-shell";
const skip = existsSync(executablePath) ? false : `no Chromium at ${executablePath} (apt-get install chromium-headless-shell, or set CHROMIUM_PATH)`;
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

describe("the status page in a browser", { skip }, () => {
  let w, browser, base;
  before(async () => {
    const { chromium } = await import("playwright-core");
    w = await startWorker({ listen: true, bindings: { TICKET_TOKEN_SECRET: "browser-test" } });
    base = w.url.href.replace(/\/$/, "");
    browser = await chromium.launch({ executablePath });
  });
  after(async () => {
    await browser?.close();
    await w?.dispose();
  });

  const open = async () => (await w.postJson("/api/tickets/create", ticket())).body.data;

  test("a reply with a screenshot, under the page's CSP", async () => {
    const t = await open();
    const page = await browser.newPage();
    const violations = [];
    page.on("console", (m) => m.type() === "error" && violations.push(m.text()));
    page.on("pageerror", (e) => violations.push(e.message));
    await page.goto(`${base}/t/${t.ticket_number}?token=${t.access_token}`);
    assert.equal(await page.locator("#attach").isVisible(), true, "the script shows the control");
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(150_000)]);
    await page.setInputFiles("#files", [
      { name: "screenshot.png", mimeType: "image/png", buffer: png },
      { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("steps to reproduce") },
    ]);
    await page.fill("#body", "The error is in the screenshot.");
    await Promise.all([page.waitForURL(/\/t\/TKT-/), page.click("button[type=submit]")]);
    await page.waitForSelector("ul.files a");
    const links = await page.$$eval("ul.files a", (as) => as.map((a) => [a.textContent, a.getAttribute("href")]));
    assert.deepEqual(
      links.map(([name]) => name),
      ["screenshot.png", "notes.txt"],
    );
    const file = await w.fetch(links[0][1]);
    assert.equal(file.headers.get("content-disposition"), `inline; filename="screenshot.png"`);
    assert.equal(sha256(Buffer.from(await file.arrayBuffer())), sha256(png));
    assert.deepEqual(violations, []);
    await page.close();
  });

  test("a refused file is explained on the page and nothing is sent", async () => {
    const t = await open();
    const page = await browser.newPage();
    await page.goto(`${base}/t/${t.ticket_number}?token=${t.access_token}`);
    await page.setInputFiles("#files", [{ name: "page.html", mimeType: "text/html", buffer: Buffer.from("<b>x</b>") }]);
    await page.fill("#body", "An HTML file");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.getElementById("attach-status").textContent.includes("page.html"));
    assert.match(await page.textContent("#attach-status"), /page\.html: Send the body as image\/png/);
    const status = await w.call(`/api/tickets/${t.ticket_number}`, { headers: { "X-Ticket-Token": t.access_token } });
    assert.deepEqual(status.body.data.messages, []);
    await page.close();
  });

  test("without JavaScript the control stays hidden, says why, and replies still work", async () => {
    const t = await open();
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${base}/t/${t.ticket_number}?token=${t.access_token}`);
    assert.equal(await page.locator("#attach").isVisible(), false);
    assert.match(await page.content(), /Attaching files needs JavaScript/);
    await page.fill("#body", "No script here");
    await Promise.all([page.waitForURL(/\/t\/TKT-/), page.click("button[type=submit]")]);
    assert.match(await page.content(), /No script here/);
    await context.close();
  });
});
