// The admin pages in a real Chromium: agents never see them; an admin creates an
// agent, an integration key (shown once, with a copy button) and revokes it, changes
// roles, and retries a failed notification from the outbox.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { login, rows } from "../helpers.mjs";
import { startApp, launch, openContext, assertAccessible, screenshots, signIn, openTicket } from "./harness.mjs";

let app, browser;
before(async () => {
  // Every email fails to send (the provider answers 500), and gives up at once: the
  // outbox has a failed row to retry.
  app = await startApp(
    { EMAIL_API_KEY: "test-key", EMAIL_API_URL: "https://email.test/send", NOTIFY_MAX_ATTEMPTS: "1" },
    { outbound: () => new Response("provider down", { status: 503 }) },
  );
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await app?.dispose();
});

test("an agent sees no admin page: not in the navigation, and refused by the page itself", async () => {
  const { newPage, problems, requests } = await openContext(browser, app);
  const page = await newPage();
  await signIn(page, app, app.agent);
  const nav = page.getByRole("navigation", { name: "Main" });
  assert.deepEqual((await nav.getByRole("link").allTextContents()).map((s) => s.trim()), ["Tickets"]);
  for (const path of ["staff", "keys", "outbox"]) {
    const since = Date.now();
    await page.goto(`${app.url}/admin/${path}`);
    await page.getByRole("heading", { name: "Admins only" }).waitFor();
    const asked = requests.filter((r) => r.at >= since && /\/api\/crm\/(staff|api-keys|notifications)/.test(r.url));
    assert.deepEqual(asked, [], `${path}: the page asks the API for nothing`);
  }
  await assertAccessible(page, "admins only");
  assert.deepEqual(problems, []);
});

test("an admin adds an agent, changes a role, resets a password; the new agent can sign in", async () => {
  const { newPage, problems } = await openContext(browser, app);
  const page = await newPage();
  await signIn(page, app, app.admin);
  await page.getByRole("link", { name: "Staff", exact: true }).click();
  await page.getByRole("heading", { name: "Staff", level: 1 }).waitFor();
  await page.getByLabel("Name").fill("Cleo New");
  await page.getByLabel("Email").fill("cleo@example.com");
  await page.getByLabel("Password").fill("a long enough password");
  await page.getByRole("button", { name: "Add staff member" }).click();
  await page.getByText("Staff member created: Cleo New.").waitFor();
  const row = page.locator("tr", { hasText: "cleo@example.com" });
  await row.waitFor();
  assert.match(await row.textContent(), /Cleo New.*Active/);
  await login(app, "cleo@example.com", "a long enough password");

  // A password the API refuses: its own message, next to the form.
  await page.getByLabel("Name").fill("Dan Short");
  await page.getByLabel("Email").fill("dan@example.com");
  await page.getByLabel("Password").fill("short");
  await page.evaluate(() => document.querySelector("#staff-password").removeAttribute("minlength"));
  await page.getByRole("button", { name: "Add staff member" }).click();
  await page.getByRole("alert").getByText(/at least 12 characters/i).waitFor();

  await row.getByLabel("Role of Cleo New").selectOption("admin");
  await row.getByText("Staff member updated").waitFor();
  assert.equal((await rows(app.db, "SELECT role FROM crm_staff WHERE email = 'cleo@example.com'"))[0].role, "admin");
  await row.getByRole("button", { name: "Reset password" }).click();
  await row.getByLabel("New password for Cleo New").fill("another long password");
  await row.getByRole("button", { name: "Set password", exact: true }).click();
  await row.getByText("Password changed").waitFor();
  await login(app, "cleo@example.com", "another long password");
  await row.getByRole("button", { name: "Deactivate" }).click();
  await row.getByText("Deactivated").waitFor();
  const refused = await app.postJson("/api/crm/auth/login", { email: "cleo@example.com", password: "another long password" });
  assert.equal(refused.status, 401);
  await assertAccessible(page, "staff");
  await screenshots(page, "admin-staff");
  assert.deepEqual(problems, []);
});

test("an integration key is shown once with a copy button, works, and is revoked", async () => {
  const { context, newPage, problems } = await openContext(browser, app);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(app.url).origin });
  const page = await newPage();
  await signIn(page, app, app.admin);
  await page.getByRole("link", { name: "Keys", exact: true }).click();
  await page.getByText("No integration keys yet.").waitFor();
  await page.getByLabel("Name").fill("AI assistant");
  await page.getByLabel("Tickets per window").fill("50");
  await page.getByRole("button", { name: "Create key" }).click();
  const shown = page.getByRole("region", { name: "Key for AI assistant" });
  await shown.waitFor();
  assert.match(await shown.textContent(), /it will not be shown again/);
  const key = await shown.getByLabel("The new key").inputValue();
  assert.match(key, /^hk_[A-Za-z0-9_-]{40,}$/);
  await shown.getByRole("button", { name: "Copy" }).click();
  await shown.getByText("Copied to the clipboard.").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
  const row = page.locator("tr", { hasText: "AI assistant" });
  assert.match(await row.textContent(), new RegExp(`${key.slice(0, 10)}….*50.*Never.*Active`));
  await assertAccessible(page, "keys");
  await screenshots(page, "admin-keys");
  await shown.getByRole("button", { name: "Done" }).click();
  await page.reload();
  await row.waitFor();
  assert.ok(!(await page.content()).includes(key), "never shown again");

  const keyed = () =>
    app.postJson(
      "/api/tickets/create",
      { subject: "From the assistant", description: "x", customer_email: "k@example.com" },
      { Authorization: `Bearer ${key}` },
    );
  assert.equal((await keyed()).status, 201);
  await row.getByRole("button", { name: "Revoke…" }).click();
  await row.getByRole("button", { name: "Revoke", exact: true }).click();
  await row.getByText(/^Revoked/).waitFor();
  assert.equal((await keyed()).status, 401);
  assert.deepEqual(problems, []);
});

test("the outbox: filtered by status, a failed email retried", async () => {
  await openTicket(app, { subject: "Confirmation that fails" });
  // The confirmation email was tried right after the create and failed for good.
  for (let i = 0; i < 50; i++) {
    const [row] = await rows(app.db, "SELECT status FROM notifications WHERE kind = 'ticket_created' ORDER BY id DESC LIMIT 1");
    if (row?.status === "failed") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const { newPage, problems } = await openContext(browser, app);
  const page = await newPage();
  await signIn(page, app, app.admin);
  await page.getByRole("link", { name: "Outbox", exact: true }).click();
  await page.getByRole("heading", { name: "Notification outbox" }).waitFor();
  assert.equal(await page.getByLabel("Status").inputValue(), "failed");
  const failed = page.locator("tbody tr", { hasText: "carla@example.com" });
  await failed.first().waitFor();
  assert.match(await failed.first().textContent(), /Failed/);
  await failed.first().getByRole("button", { name: /^Retry notification/ }).click();
  await page.getByText(/Retry scheduled: notification \d+\./).waitFor();
  await page.getByLabel("Status").selectOption("skipped");
  await page.locator("tbody tr", { hasText: "webhook" }).first().waitFor();
  await page.getByLabel("Status").selectOption("sent");
  await page.getByText("No sent notifications.").waitFor();
  await page.getByLabel("Status").selectOption("");
  await page.locator("tbody tr").first().waitFor();
  await assertAccessible(page, "outbox");
  await screenshots(page, "admin-outbox");
  assert.deepEqual(problems, []);
});
