// The browser tests' harness: the built worker with its static assets served by
// Miniflare on a loopback port, and Debian's headless Chromium driven by
// playwright-core (no browser download). Every page a test opens is checked the same
// way: security headers on the document, no script error, no CSP violation, no
// request to another origin, and axe-core finds nothing serious or critical.
import { chromium } from "playwright-core";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { startWorker, createStaff } from "../helpers.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = path.join(here, "screenshots");
const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const PASSWORD = "correct horse battery";

/** The worker with assets on a port, an admin and an agent in its D1; `outbound`
 * answers the worker's own fetches (email API, webhooks). */
export async function startApp(bindings = {}, { outbound } = {}) {
  const w = await startWorker({ assets: true, port: 0, bindings, outbound });
  const admin = { email: "ana@example.com", name: "Ana Admin", role: "admin" };
  const agent = { email: "bob@example.com", name: "Bob Agent", role: "agent" };
  admin.id = await createStaff(w.db, admin);
  agent.id = await createStaff(w.db, agent);
  return { ...w, admin, agent };
}

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      "No Chromium for the browser tests. Install it with:\n" +
        "  sudo apt-get install -y --no-install-recommends chromium-headless-shell fonts-liberation\n" +
        "(make setup does this when run as root), or set CHROMIUM_PATH.",
    );
  }
  return found;
}

export async function launch() {
  return chromium.launch({ executablePath: chromiumPath() });
}

/**
 * A browser context (its own storage, like a new window) whose pages are watched:
 * `problems` collects script errors, CSP violations and requests to other origins.
 */
export async function openContext(browser, app, options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  // Fail in seconds, not Playwright's 30 s: everything here is local.
  context.setDefaultTimeout(8000);
  const origin = new URL(app.url).origin;
  const problems = [];
  const requests = [];
  context.on("page", (page) => watch(page));
  function watch(page) {
    page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
    page.on("console", (m) => {
      const text = m.text();
      if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    });
    page.on("request", (r) => {
      requests.push({ method: r.method(), url: r.url(), at: Date.now() });
      const url = new URL(r.url());
      if (!["data:", "blob:"].includes(url.protocol) && url.origin !== origin) problems.push(`request to another origin: ${r.url()}`);
    });
  }
  const newPage = async () => context.newPage();
  return { context, origin, problems, requests, newPage };
}

/** The document's headers: a strict CSP and the other security headers. */
export function assertSecureHeaders(response, what) {
  assert.ok(response, `${what}: no response`);
  const h = response.headers();
  const csp = h["content-security-policy"] ?? "";
  assert.match(csp, /default-src '(self|none)'/, `${what}: CSP default-src (${csp})`);
  for (const directive of ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]) {
    assert.ok(csp.includes(directive), `${what}: CSP lacks ${directive} (${csp})`);
  }
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: CSP allows inline code`);
  assert.equal(h["referrer-policy"], "no-referrer", `${what}: Referrer-Policy`);
  assert.equal(h["x-content-type-options"], "nosniff", `${what}: nosniff`);
}

/** axe-core in the page: no serious or critical violation. */
export async function assertAccessible(page, what) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern,
  // so the page keeps its real policy while axe runs.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${what}: accessibility violations\n${JSON.stringify(bad, null, 2)}`);
  return result;
}

/** Full-page screenshots at 360 px and 1280 px, for people to look at. */
export async function screenshots(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const size = page.viewportSize();
  for (const width of [360, 1280]) {
    await page.setViewportSize({ width, height: width === 360 ? 740 : 900 });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(size);
}

/** Signs in through the login form. */
export async function signIn(page, app, who, password = PASSWORD) {
  const response = await page.goto(`${app.url}/admin/`);
  assertSecureHeaders(response, "/admin/");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Tickets", level: 1 }).waitFor();
}

/** A ticket opened through the public API, as the assistant or a form would. */
export async function openTicket(app, overrides = {}) {
  const res = await app.postJson("/api/tickets/create", {
    subject: "Printer on fire",
    description: "It smells of toast.",
    customer_name: "Carla Customer",
    customer_email: "carla@example.com",
    priority: "medium",
    category: "technical",
    ...overrides,
  });
  assert.equal(res.status, 201, res.text);
  return res.body.data;
}
