// GET /api/health as an operator (and `make deploy`) reads it: the build's version as
// stamped by `make build`, the environment, and the settings that look wrong, by
// name, never with their values.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startWorker } from "./helpers.mjs";

/** Health of a fresh worker with these vars. */
async function health(bindings) {
  const w = await startWorker({ bindings });
  try {
    const res = await w.call("/api/health");
    assert.equal(res.status, 200, res.text);
    return res;
  } finally {
    await w.dispose();
  }
}
const problems = (res) => res.body.data.config.map((p) => `${p.names.join("+")}: ${p.problem}`);

const SECRET = "0123456789abcdef0123456789abcdef-long-enough";
const SOUND = {
  ENVIRONMENT: "production",
  ALLOW_TEST_CLOCK: "",
  TICKET_TOKEN_SECRET: SECRET,
  PUBLIC_BASE_URL: "https://help.acme.io",
};

describe("version", () => {
  test("is the one make build stamped beside the wasm", async () => {
    const expected = JSON.parse(readFileSync(new URL("../build/version.json", import.meta.url), "utf8"));
    const res = await health({ TICKET_TOKEN_SECRET: SECRET });
    assert.deepEqual(res.body.data.version, expected);
    assert.match(expected.commit, /^([0-9a-f]{7,40}(-dirty)?|unknown)$/);
    assert.ok(!Number.isNaN(Date.parse(expected.built_at)), expected.built_at);
    assert.equal(res.body.data.environment, "local");
    assert.deepEqual(res.body.data.config, []);
  });
});

describe("config problems", () => {
  test("a sound production configuration has none", async () => {
    const res = await health(SOUND);
    assert.equal(res.body.data.environment, "production");
    assert.deepEqual(problems(res), []);
  });

  test("each missing or half-set setting is named, with what it breaks", async () => {
    for (const [bindings, expected] of [
      [{ ...SOUND, TICKET_TOKEN_SECRET: "" }, ["TICKET_TOKEN_SECRET: missing"]],
      [{ ...SOUND, TICKET_TOKEN_SECRET: "short-key" }, ["TICKET_TOKEN_SECRET: too_short"]],
      [{ ...SOUND, PUBLIC_BASE_URL: "" }, ["PUBLIC_BASE_URL: missing"]],
      [{ ...SOUND, EMAIL_API_KEY: "re_live_123" }, ["EMAIL_API_KEY+EMAIL_FROM: half_configured"]],
      [{ ...SOUND, EMAIL_FROM: "Help <help@acme.io>" }, ["EMAIL_FROM+EMAIL_API_KEY: half_configured"]],
      [{ ...SOUND, WEBHOOK_URL: "https://hooks.acme.io" }, ["WEBHOOK_URL+WEBHOOK_SECRET: half_configured"]],
      [{ ...SOUND, WEBHOOK_SECRET: "whsec_live" }, ["WEBHOOK_URL+WEBHOOK_SECRET: half_configured"]],
      [{ ...SOUND, TURNSTILE_SECRET_KEY: "0x4AAA-live" }, ["TURNSTILE_SECRET_KEY+TURNSTILE_ALLOWED_HOSTNAMES: no_allowed_hostnames"]],
      [{ ...SOUND, ALLOW_TEST_CLOCK: "true" }, ["ALLOW_TEST_CLOCK: test_only"]],
    ]) {
      const res = await health(bindings);
      assert.deepEqual(problems(res), expected, JSON.stringify(bindings));
      for (const p of res.body.data.config) assert.ok(p.message.length > 20, p.problem);
      // Names, never values.
      for (const value of Object.values(bindings).filter((v) => v.length > 4)) {
        if (["production", "https://help.acme.io"].includes(value)) continue;
        assert.ok(!res.text.includes(value), `health shows ${value}`);
      }
    }
  });

  test("locally, a missing PUBLIC_BASE_URL and the test clock are not problems", async () => {
    const res = await health({ TICKET_TOKEN_SECRET: SECRET, ALLOW_TEST_CLOCK: "true", TURNSTILE_SECRET_KEY: "0x4AAA" });
    assert.deepEqual(problems(res), []);
  });
});
