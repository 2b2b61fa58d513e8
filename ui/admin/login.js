// Sign-in: the API's own messages (wrong password, throttled with the wait).
import { useState, useRef, useEffect } from "preact/hooks";
import { html } from "./html.js";
import { api, assignees } from "./api.js";
import { session } from "./session.js";
import { ErrorBox } from "./components.js";

export function Login({ notice, onSignedIn }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const email = useRef(null);
  const errorRef = useRef(null);
  useEffect(() => email.current?.focus(), []);
  useEffect(() => {
    if (error) errorRef.current?.querySelector("[role=alert]")?.focus();
  }, [error]);

  async function submit(e) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { data } = await api("POST", "/api/crm/auth/login", {
        email: form.get("email"),
        password: form.get("password"),
      });
      session.start(data.token, data.staff);
      // Names for the queue's assignee column, once per session (best effort).
      await assignees(true).catch(() => {});
      onSignedIn(data.staff);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return html`<main id="main" class="login">
    <form class="card" onSubmit=${submit} aria-describedby=${notice ? "login-notice" : undefined}>
      <h1>Sign in to Helpdesk</h1>
      ${notice ? html`<p class="notice" id="login-notice" role="status">${notice}</p>` : null}
      <div ref=${errorRef}><${ErrorBox} error=${error} /></div>
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required ref=${email} />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <button type="submit" class="primary" disabled=${busy}>${busy ? "Signing in…" : "Sign in"}</button>
    </form>
  </main>`;
}
