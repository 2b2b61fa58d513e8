// Staff administration: admins only; role, deactivation and password changes end sessions.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, createStaff, login } from "./helpers.mjs";

let w, admin;
before(async () => {
  w = await startWorker({ bindings: { PASSWORD_ITERATIONS: "1000" } });
  await createStaff(w.db, { email: "admin@example.com", role: "admin" });
  admin = await login(w, "admin@example.com");
});
after(() => w.dispose());

const send = (method, path, body, auth = admin.auth) =>
  w.call(path, { method, headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify(body) });

test("admins create staff who can then log in; emails are unique", async () => {
  const res = await send("POST", "/api/crm/staff", { email: "New.Agent@example.com", name: "New Agent", password: "a long enough passphrase" });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.data.staff.role, "agent");
  assert.equal(res.headers.get("location"), `/api/crm/staff/${res.body.data.staff.id}`);
  assert.equal(res.body.data.staff.password_hash, undefined);
  const [row] = (await w.db.prepare("SELECT password_hash FROM crm_staff WHERE id = ?").bind(res.body.data.staff.id).all()).results;
  assert.match(row.password_hash, /^pbkdf2_sha256\$1000\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
  await login(w, "new.agent@example.com", "a long enough passphrase");
  const dup = await send("POST", "/api/crm/staff", { email: "new.agent@EXAMPLE.com", name: "Dup", password: "a long enough passphrase" });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.code, "email_taken");
});

test("staff input is validated", async () => {
  const res = await send("POST", "/api/crm/staff", { email: "nope", name: "", role: "owner", password: "short" });
  assert.equal(res.status, 400);
  assert.deepEqual(res.body.details.map((d) => d.code), ["invalid_email", "required", "invalid_choice", "weak_password"]);
});

test("the list shows staff without password hashes", async () => {
  const res = await w.call("/api/crm/staff", { headers: admin.auth });
  assert.equal(res.status, 200);
  assert.ok(res.body.data.staff.length >= 1);
  assert.doesNotMatch(res.text, /pbkdf2|password/);
});

test("renaming keeps sessions; a role change ends them", async () => {
  const id = await createStaff(w.db, { email: "promote@example.com" });
  const session = await login(w, "promote@example.com");
  const renamed = await send("PATCH", `/api/crm/staff/${id}`, { name: "Renamed" });
  assert.equal(renamed.status, 200);
  assert.equal(renamed.body.data.staff.name, "Renamed");
  assert.equal((await w.call("/api/crm/auth/me", { headers: session.auth })).status, 200);
  const promoted = await send("PATCH", `/api/crm/staff/${id}`, { role: "admin" });
  assert.equal(promoted.body.data.staff.role, "admin");
  assert.equal((await w.call("/api/crm/auth/me", { headers: session.auth })).status, 401);
  const again = await login(w, "promote@example.com");
  assert.equal((await w.call("/api/crm/staff", { headers: again.auth })).status, 200);
});

test("a password reset ends sessions and replaces the password", async () => {
  const id = await createStaff(w.db, { email: "forgetful@example.com" });
  const session = await login(w, "forgetful@example.com");
  const weak = await send("POST", `/api/crm/staff/${id}/password`, { password: "short" });
  assert.equal(weak.status, 400);
  const res = await send("POST", `/api/crm/staff/${id}/password`, { password: "brand new passphrase" });
  assert.equal(res.status, 200);
  assert.equal((await w.call("/api/crm/auth/me", { headers: session.auth })).status, 401);
  const old = await w.postJson("/api/crm/auth/login", { email: "forgetful@example.com", password: "correct horse battery" });
  assert.equal(old.status, 401);
  await login(w, "forgetful@example.com", "brand new passphrase");
});

test("the last active admin cannot be demoted or deactivated", async () => {
  const solo = await startWorker();
  try {
    const id = await createStaff(solo.db, { email: "only@example.com", role: "admin" });
    const { auth } = await login(solo, "only@example.com");
    const patch = (body) =>
      solo.call(`/api/crm/staff/${id}`, { method: "PATCH", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify(body) });
    for (const body of [{ role: "agent" }, { active: false }]) {
      const res = await patch(body);
      assert.equal(res.status, 409, JSON.stringify(body));
      assert.equal(res.body.code, "last_admin");
    }
    assert.equal((await patch({ name: "Still Admin" })).status, 200);
  } finally {
    await solo.dispose();
  }
});

test("unknown staff ids are 404; bad ids are no route", async () => {
  assert.equal((await send("PATCH", "/api/crm/staff/9999", { name: "x" })).status, 404);
  assert.equal((await send("POST", "/api/crm/staff/9999/password", { password: "long enough password" })).status, 404);
  assert.equal((await send("PATCH", "/api/crm/staff/abc", { name: "x" })).status, 404);
});
