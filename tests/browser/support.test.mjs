// The public pages in a real Chromium: the support form with JavaScript (inline field
// errors from the API) and without it (a plain form post answered with pages), the
// hidden honeypot, and the status page it lands on.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { rows } from "../helpers.mjs";
import { startApp, launch, openContext, assertSecureHeaders, assertAccessible, screenshots } from "./harness.mjs";

let app, browser;
before(async () => {
  app = await startApp({ TICKET_TOKEN_SECRET: "browser-secret", CATEGORIES: "general,technical,billing" });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await app?.dispose();
});

async function fill(page, values) {
  for (const [label, value] of Object.entries(values)) {
    const field = page.getByLabel(label);
    if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(value);
    else await field.fill(value);
  }
}

const ticketCount = async () => (await rows(app.db, "SELECT count(*) AS n FROM support_tickets"))[0].n;

describe("the support form with JavaScript", () => {
  test("shows the API's field errors inline, then creates the ticket and lands on its page", async () => {
    const { newPage, problems } = await openContext(browser, app);
    const page = await newPage();
    const response = await page.goto(`${app.url}/support`);
    assertSecureHeaders(response, "/support");
    assert.deepEqual(await page.getByLabel("Category").locator("option").allTextContents(), ["General", "Technical", "Billing"]);
    await assertAccessible(page, "/support");
    await screenshots(page, "support");

    // Both pass the browser's own checks; the API refuses them.
    await fill(page, {
      Subject: "   ",
      Description: "The printer prints only blank pages.",
      "Your email": "dana@example",
      "Your name": "Dana",
      Priority: "high",
      Category: "technical",
    });
    const before = await ticketCount();
    await page.getByRole("button", { name: "Send request" }).click();
    const summary = page.getByRole("alert");
    await summary.waitFor();
    assert.match(await summary.textContent(), /We could not send your request/);
    assert.equal(await page.evaluate(() => document.activeElement.id), "form-problem", "focus moves to the summary");
    const subject = page.getByLabel("Subject");
    assert.equal(await subject.getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator("#subject-error").textContent(), "Subject is required");
    assert.match(await subject.getAttribute("aria-describedby"), /subject-error/);
    assert.equal(await page.locator("#customer_email-error").textContent(), "Customer email is not a valid email address");
    assert.equal(page.url(), `${app.url}/support`, "stayed on the page");
    assert.equal(await ticketCount(), before);
    await assertAccessible(page, "/support with errors");
    await screenshots(page, "support-errors");

    await fill(page, { Subject: "Blank pages", "Your email": "dana@example.com" });
    await Promise.all([page.waitForURL(/\/t\/TKT-\d{4}-\d{4,}\?token=[\w-]+&created=1$/), page.getByRole("button", { name: "Send request" }).click()]);
    assert.equal(await page.locator(".field-error").count(), 0);
    const status = await page.goto(page.url());
    assertSecureHeaders(status, "status page");
    const banner = page.getByRole("status");
    const [, number] = page.url().match(/\/t\/(TKT-\d{4}-\d{4,})/);
    assert.equal(await banner.getByRole("heading").textContent(), `Ticket ${number} is open`);
    assert.equal(await banner.getByRole("link").textContent(), page.url().replace("&created=1", ""));
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Blank pages");
    await assertAccessible(page, "status page");
    await screenshots(page, "status-page");
    const [saved] = await rows(app.db, "SELECT priority, category, customer_name FROM support_tickets WHERE ticket_number = ?", number);
    assert.deepEqual(saved, { priority: "high", category: "technical", customer_name: "Dana" });
    // Back to the form from the status page.
    await page.getByRole("link", { name: "Open another ticket" }).click();
    await page.getByRole("heading", { name: "Contact support" }).waitFor();
    assert.deepEqual(problems, []);
  });

  test("the honeypot is out of sight, out of the tab order and out of the accessibility tree", async () => {
    const { newPage } = await openContext(browser, app);
    const page = await newPage();
    await page.goto(`${app.url}/support`);
    const box = await page.locator("#website").boundingBox();
    assert.ok(box === null || box.x + box.width <= 0 || box.y + box.height <= 0, `off screen: ${JSON.stringify(box)}`);
    const tree = await page.locator("form").ariaSnapshot();
    assert.doesNotMatch(tree, /website/i);
    const visited = [];
    await page.getByLabel("Subject").focus();
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press("Tab");
      visited.push(await page.evaluate(() => document.activeElement.id || document.activeElement.tagName));
    }
    assert.ok(!visited.includes("website"), visited.join(" "));
    assert.ok(visited.includes("BUTTON"), visited.join(" "));
  });
});

describe("the support form without JavaScript", () => {
  test("a plain form post is answered with pages: the form again with messages, then the status page", async () => {
    const { newPage, problems } = await openContext(browser, app, { javaScriptEnabled: false });
    const page = await newPage();
    await page.goto(`${app.url}/support`);
    await fill(page, {
      Subject: "No script here",
      Description: "Sent the old way.",
      "Your email": "erin@example",
      Priority: "low",
      Category: "billing",
    });
    const before = await ticketCount();
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/tickets/create")),
      page.getByRole("button", { name: "Send request" }).click(),
    ]);
    assert.equal(refused.status(), 400);
    assertSecureHeaders(refused, "refused form post");
    await page.getByRole("alert").waitFor();
    assert.match(await page.getByRole("alert").textContent(), /Customer email is not a valid email address/);
    assert.equal(await page.getByLabel("Subject").inputValue(), "No script here");
    assert.equal(await page.getByLabel("Category").inputValue(), "billing");
    assert.equal(await ticketCount(), before);
    await screenshots(page, "support-no-js-errors");

    await page.getByLabel("Your email").fill("erin@example.com");
    await Promise.all([page.waitForURL(/\/t\/TKT-\d{4}-\d{4,}\?token=[\w-]+&created=1$/), page.getByRole("button", { name: "Send request" }).click()]);
    assert.match(await page.getByRole("status").textContent(), /Ticket TKT-\d{4}-\d{4,} is open/);
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "No script here");
    assert.equal(await ticketCount(), before + 1);
    assert.deepEqual(problems, []);
  });
});

describe("security headers", () => {
  test("every page and static file carries them", async () => {
    const { newPage } = await openContext(browser, app);
    const page = await newPage();
    for (const path of ["/support", "/admin/", "/admin/tickets/TKT-2026-0001", "/admin/staff", "/assets/admin.js", "/assets/admin.css", "/assets/site.css", "/assets/support.js", "/assets/status.js", "/favicon.svg", "/t/TKT-2026-0999?token=nope"]) {
      const response = await page.goto(`${app.url}${path}`);
      assertSecureHeaders(response, path);
      assert.ok([200, 404].includes(response.status()), `${path}: ${response.status()}`);
    }
    const root = await page.goto(`${app.url}/`);
    assert.equal(new URL(root.url()).pathname, "/support", "/ goes to the support page");
  });
});
