// Admin pages: staff accounts, integration keys, the notification outbox. Agents
// never see them (the navigation hides them, the pages refuse, and the API refuses
// staff and keys anyway).
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { api, assignees } from "./api.js";
import { capitalized, dateTime } from "./format.js";
import { Empty, ErrorBox, Loading, PageTitle } from "./components.js";

export function AdminOnly({ me, children }) {
  if (me.role === "admin") return children;
  return html`<section>
    <${PageTitle}>Admins only<//>
    <p>This page is for admins. <a href="/admin/">Back to the tickets</a></p>
  </section>`;
}

/** Loads `path` and keeps `{data, error}`; `reload` asks again. */
function useResource(path) {
  const [state, setState] = useState({ data: null, error: null });
  async function reload() {
    try {
      const { data } = await api("GET", path);
      setState({ data, error: null });
    } catch (error) {
      setState((s) => ({ ...s, error }));
    }
  }
  useEffect(() => {
    reload();
  }, [path]);
  return [state, reload];
}

/** A form's submit that calls the API, with its error and success message. */
function useSubmit(run) {
  const [state, setState] = useState({ busy: false, error: null, done: "" });
  const submit = async (e) => {
    e.preventDefault();
    if (state.busy) return;
    const form = e.currentTarget;
    setState({ busy: true, error: null, done: "" });
    try {
      const done = await run(new FormData(form), form);
      setState({ busy: false, error: null, done: done ?? "" });
    } catch (error) {
      setState({ busy: false, error, done: "" });
    }
  };
  return [state, submit];
}

export function StaffPage({ me }) {
  const [{ data, error }, reload] = useResource("/api/crm/staff");
  const [created, create] = useSubmit(async (form, el) => {
    const { data: made, message } = await api("POST", "/api/crm/staff", {
      email: form.get("email"),
      name: form.get("name"),
      role: form.get("role"),
      password: form.get("password"),
    });
    el.reset();
    await reload();
    assignees(true).catch(() => {});
    return `${message}: ${made.staff.name}.`;
  });
  return html`<section class="admin">
    <${PageTitle}>Staff<//>
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${data === null && !error ? html`<${Loading} what="Loading staff" />` : null}
    ${data
      ? html`<table class="grid">
          <caption class="visually-hidden">Staff members</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Manage</th></tr></thead>
          <tbody>
            ${data.staff.map((s) => html`<${StaffRow} key=${s.id} member=${s} me=${me} onChanged=${reload} />`)}
          </tbody>
        </table>`
      : null}
    <form class="card create" onSubmit=${create} aria-labelledby="new-staff">
      <h2 id="new-staff">Add a staff member</h2>
      <${ErrorBox} error=${created.error} />
      <div class="grid-form">
        <div><label for="staff-name">Name</label><input id="staff-name" name="name" required maxlength="100" /></div>
        <div><label for="staff-email">Email</label><input id="staff-email" name="email" type="email" required /></div>
        <div>
          <label for="staff-role">Role</label>
          <select id="staff-role" name="role"><option value="agent">Agent</option><option value="admin">Admin</option></select>
        </div>
        <div>
          <label for="staff-password">Password</label>
          <input id="staff-password" name="password" type="password" minlength="12" required autocomplete="new-password" aria-describedby="staff-password-hint" />
          <p class="hint" id="staff-password-hint">At least 12 characters. Give it to them privately.</p>
        </div>
      </div>
      <p><button type="submit" class="primary">Add staff member</button> <span role="status" class="done">${created.done}</span></p>
    </form>
  </section>`;
}

function StaffRow({ member: s, me, onChanged }) {
  const [resetting, setResetting] = useState(false);
  const [state, setState] = useState({ error: null, done: "" });
  const resetRef = useRef(null);
  async function patch(changes) {
    setState({ error: null, done: "" });
    try {
      const { message } = await api("PATCH", `/api/crm/staff/${s.id}`, changes);
      setState({ error: null, done: message });
      await onChanged();
      assignees(true).catch(() => {});
    } catch (error) {
      setState({ error, done: "" });
    }
  }
  async function reset(e) {
    e.preventDefault();
    const password = new FormData(e.currentTarget).get("password");
    try {
      const { message } = await api("POST", `/api/crm/staff/${s.id}/password`, { password });
      setState({ error: null, done: message });
      setResetting(false);
    } catch (error) {
      setState({ error, done: "" });
    }
  }
  useEffect(() => {
    if (resetting) resetRef.current?.focus();
  }, [resetting]);
  const self = s.id === me.id;
  return html`<tr class=${s.active ? "" : "inactive"}>
    <td data-label="Name">${s.name}${self ? " (me)" : ""}</td>
    <td data-label="Email">${s.email}</td>
    <td data-label="Role">
      <label class="visually-hidden" for=${`role-${s.id}`}>Role of ${s.name}</label>
      <select id=${`role-${s.id}`} value=${s.role} onChange=${(e) => patch({ role: e.currentTarget.value })}>
        <option value="agent">Agent</option>
        <option value="admin">Admin</option>
      </select>
    </td>
    <td data-label="State">${s.active ? "Active" : "Deactivated"}</td>
    <td data-label="Manage" class="manage">
      <button type="button" onClick=${() => patch({ active: !s.active })}>${s.active ? "Deactivate" : "Activate"}</button>
      <button type="button" aria-expanded=${resetting ? "true" : "false"} onClick=${() => setResetting(!resetting)}>Reset password</button>
      ${resetting
        ? html`<form class="inline" onSubmit=${reset}>
            <label for=${`password-${s.id}`}>New password for ${s.name}</label>
            <input id=${`password-${s.id}`} ref=${resetRef} name="password" type="password" minlength="12" required autocomplete="new-password" />
            <button type="submit">Set password</button>
          </form>`
        : null}
      <${ErrorBox} error=${state.error} />
      <span role="status" class="done">${state.done}</span>
    </td>
  </tr>`;
}

export function KeysPage() {
  const [{ data, error }, reload] = useResource("/api/crm/api-keys");
  const [shown, setShown] = useState(null);
  const [created, create] = useSubmit(async (form, el) => {
    const limit = String(form.get("rate_limit") ?? "").trim();
    const { data: made } = await api("POST", "/api/crm/api-keys", {
      name: form.get("name"),
      ...(limit ? { rate_limit: Number(limit) } : {}),
    });
    el.reset();
    setShown(made);
    await reload();
    return "";
  });
  return html`<section class="admin">
    <${PageTitle}>Integration keys<//>
    <p>Keys let a trusted backend (the AI assistant) open tickets without the bot check, within its own rate limit.</p>
    ${shown ? html`<${NewKey} created=${shown} onDone=${() => setShown(null)} />` : null}
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${data === null && !error ? html`<${Loading} what="Loading keys" />` : null}
    ${data && data.api_keys.length === 0 ? html`<${Empty}><p>No integration keys yet.</p><//>` : null}
    ${data && data.api_keys.length
      ? html`<table class="grid">
          <caption class="visually-hidden">Integration keys</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Key</th><th scope="col">Limit</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
          <tbody>
            ${data.api_keys.map((k) => html`<${KeyRow} key=${k.id} apiKey=${k} onChanged=${reload} />`)}
          </tbody>
        </table>`
      : null}
    <form class="card create" onSubmit=${create} aria-labelledby="new-key">
      <h2 id="new-key">Create a key</h2>
      <${ErrorBox} error=${created.error} />
      <div class="grid-form">
        <div><label for="key-name">Name</label><input id="key-name" name="name" required maxlength="100" placeholder="AI assistant" /></div>
        <div>
          <label for="key-limit">Tickets per window</label>
          <input id="key-limit" name="rate_limit" type="number" min="1" max="1000000" aria-describedby="key-limit-hint" />
          <p class="hint" id="key-limit-hint">Creates allowed per rate-limit window (an hour by default). Empty: the default.</p>
        </div>
      </div>
      <p><button type="submit" class="primary">Create key</button></p>
    </form>
  </section>`;
}

/** The key, shown this once, with a copy button. */
function NewKey({ created, onDone }) {
  const [copied, setCopied] = useState("");
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  async function copy() {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopied("Copied to the clipboard.");
    } catch {
      document.getElementById("new-key-value")?.select();
      setCopied("Select the key and copy it with Ctrl+C.");
    }
  }
  return html`<section class="notice new-key" role="region" aria-labelledby="new-key-title" tabindex="-1" ref=${ref}>
    <h2 id="new-key-title">Key for ${created.api_key.name}</h2>
    <p><strong>Copy it now: it will not be shown again.</strong> Only its fingerprint is stored.</p>
    <div class="inline">
      <label class="visually-hidden" for="new-key-value">The new key</label>
      <input id="new-key-value" readonly value=${created.key} onFocus=${(e) => e.currentTarget.select()} />
      <button type="button" class="primary" onClick=${copy}>Copy</button>
      <button type="button" onClick=${onDone}>Done</button>
    </div>
    <p role="status" class="done">${copied}</p>
  </section>`;
}

function KeyRow({ apiKey: k, onChanged }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState(null);
  const confirmRef = useRef(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  async function revoke() {
    try {
      await api("DELETE", `/api/crm/api-keys/${k.id}`);
      setConfirming(false);
      await onChanged();
    } catch (err) {
      setError(err);
    }
  }
  return html`<tr class=${k.revoked_at ? "inactive" : ""}>
    <td data-label="Name">${k.name}</td>
    <td data-label="Key"><code>${k.key_prefix}…</code></td>
    <td data-label="Limit">${k.rate_limit}</td>
    <td data-label="Created">${dateTime(k.created_at)}</td>
    <td data-label="Last used">${k.last_used_at ? dateTime(k.last_used_at) : "Never"}</td>
    <td data-label="State">
      ${k.revoked_at
        ? html`Revoked ${dateTime(k.revoked_at)}`
        : confirming
          ? html`<span>Revoke ${k.name}? Calls with it fail at once.</span>
              <button type="button" class="danger" ref=${confirmRef} onClick=${revoke}>Revoke</button>
              <button type="button" onClick=${() => setConfirming(false)}>Cancel</button>`
          : html`Active <button type="button" onClick=${() => setConfirming(true)}>Revoke…</button>`}
      <${ErrorBox} error=${error} />
    </td>
  </tr>`;
}

const DELIVERY = ["", "pending", "failed", "skipped", "sent"];

export function OutboxPage() {
  const [status, setStatus] = useState("failed");
  const [{ data, error }, reload] = useResource(`/api/crm/notifications?limit=100${status ? `&status=${status}` : ""}`);
  const [done, setDone] = useState("");
  const [retryError, setRetryError] = useState(null);
  async function retry(n) {
    setDone("");
    setRetryError(null);
    try {
      const { message } = await api("POST", `/api/crm/notifications/${n.id}/retry`);
      setDone(`${message}: notification ${n.id}.`);
      await reload();
    } catch (err) {
      setRetryError(err);
    }
  }
  return html`<section class="admin">
    <${PageTitle}>Notification outbox<//>
    <p>Emails to customers and webhooks to the team, with their delivery state. Failed and skipped ones can be sent again.</p>
    <div class="filters">
      <div class="filter">
        <label for="outbox-status">Status</label>
        <select id="outbox-status" value=${status} onChange=${(e) => setStatus(e.currentTarget.value)}>
          ${DELIVERY.map((s) => html`<option value=${s}>${s ? capitalized(s) : "Any"}</option>`)}
        </select>
      </div>
    </div>
    <p role="status" class="done">${done}</p>
    <${ErrorBox} error=${retryError} />
    <${ErrorBox} error=${error} onRetry=${reload} />
    ${data === null && !error ? html`<${Loading} what="Loading the outbox" />` : null}
    ${data && data.notifications.length === 0 ? html`<${Empty}><p>No ${status || ""} notifications.</p><//>` : null}
    ${data && data.notifications.length
      ? html`<table class="grid">
          <caption class="visually-hidden">Notifications</caption>
          <thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last error</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Retry</span></th></tr></thead>
          <tbody>
            ${data.notifications.map(
              (n) => html`<tr key=${n.id}>
                <td data-label="#">${n.id}</td>
                <td data-label="Kind">${n.kind.replaceAll("_", " ")} (${n.channel})</td>
                <td data-label="To">${n.recipient ?? "the team's webhook"}</td>
                <td data-label="Status"><span class=${`badge delivery-${n.status}`}>${capitalized(n.status)}</span></td>
                <td data-label="Attempts">${n.attempts}</td>
                <td data-label="Last error" class="muted">${n.last_error ?? ""}</td>
                <td data-label="Created">${dateTime(n.created_at)}</td>
                <td>
                  ${n.status === "failed" || n.status === "skipped"
                    ? html`<button type="button" onClick=${() => retry(n)} aria-label=${`Retry notification ${n.id}`}>Retry</button>`
                    : null}
                </td>
              </tr>`,
            )}
          </tbody>
        </table>`
      : null}
  </section>`;
}
