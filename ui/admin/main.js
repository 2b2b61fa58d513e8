// The staff app: sign-in, the ticket list, a ticket, and the admin pages, under
// /admin/. Everything it needs comes from this origin; the session token stays in
// sessionStorage and leaves with a sign-out or any 401.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { api, whenUnauthorized } from "./api.js";
import { session } from "./session.js";
import { interceptLinks, navigate, useRoute } from "./router.js";
import { installKeyboard, SHORTCUTS } from "./keyboard.js";
import { Login } from "./login.js";
import { Queue, focusSearch } from "./queue.js";
import { Ticket } from "./ticket.js";
import { AdminOnly, KeysPage, OutboxPage, StaffPage } from "./admin.js";
import { PageTitle } from "./components.js";

function useOnline() {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);
  return online;
}

/** The `?` list, in a native modal dialog (it keeps focus inside; Esc closes it). */
function Shortcuts({ open, onClose }) {
  const ref = useRef(null);
  useEffect(() => {
    const dialog = ref.current;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return html`<dialog ref=${ref} aria-labelledby="shortcuts-title" onClose=${onClose} class="shortcuts">
    <h2 id="shortcuts-title">Keyboard shortcuts</h2>
    <dl>
      ${SHORTCUTS.map(([key, what]) => html`<div><dt><kbd>${key}</kbd></dt><dd>${what}</dd></div>`)}
    </dl>
    <form method="dialog"><button type="submit" class="primary">Close</button></form>
  </dialog>`;
}

// Where "Back to the list" goes: the list as it was last shown.
let lastListUrl = "/admin/";

function App() {
  const [me, setMe] = useState(session.staff);
  const [notice, setNotice] = useState(null);
  const [shortcuts, setShortcuts] = useState(false);
  const route = useRoute();
  const online = useOnline();
  const opener = useRef(null);
  // The shortcuts dialog, from `?` or the header's button; focus returns to the opener.
  const openShortcuts = () => {
    opener.current = document.activeElement;
    setShortcuts(true);
  };

  useEffect(() => {
    whenUnauthorized(() => {
      setMe(null);
      setNotice("Your session has ended. Sign in again to continue; your drafts are kept.");
    });
    interceptLinks();
    installKeyboard({
      "?": openShortcuts,
      "/": () => {
        if (!focusSearch()) {
          navigate(lastListUrl);
          requestAnimationFrame(() => requestAnimationFrame(focusSearch));
        }
      },
    });
  }, []);
  if (route.name === "queue") lastListUrl = location.pathname + location.search;

  async function signOut() {
    try {
      await api("POST", "/api/crm/auth/logout");
    } catch {
      // Signed out here whatever the API says: the token is forgotten below.
    }
    session.clear();
    setNotice("You are signed out.");
    setMe(null);
  }

  const offline = online
    ? null
    : html`<p class="offline" role="alert">You are offline. What you see may be out of date, and changes will fail until the connection is back.</p>`;
  if (!me) {
    return html`${offline}<${Login}
        notice=${notice}
        onSignedIn=${(staff) => {
          setNotice(null);
          setMe(staff);
        }}
      />`;
  }

  const admin = me.role === "admin";
  const current = (name) => (route.name === name ? "page" : undefined);
  let page;
  switch (route.name) {
    case "queue":
      page = html`<${Queue} route=${route} me=${me} />`;
      break;
    case "ticket":
      page = html`<${Ticket} key=${route.ref} route=${route} me=${me} backTo=${lastListUrl} />`;
      break;
    case "staff":
      page = html`<${AdminOnly} me=${me}><${StaffPage} me=${me} /><//>`;
      break;
    case "keys":
      page = html`<${AdminOnly} me=${me}><${KeysPage} /><//>`;
      break;
    case "outbox":
      page = html`<${AdminOnly} me=${me}><${OutboxPage} /><//>`;
      break;
    default:
      page = html`<section><${PageTitle}>Page not found<//><p><a href="/admin/">Back to the tickets</a></p></section>`;
  }

  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/admin/">Helpdesk</a>
      <nav aria-label="Main">
        <a href="/admin/" aria-current=${current("queue")}>Tickets</a>
        ${admin
          ? html`<a href="/admin/staff" aria-current=${current("staff")}>Staff</a>
              <a href="/admin/keys" aria-current=${current("keys")}>Keys</a>
              <a href="/admin/outbox" aria-current=${current("outbox")}>Outbox</a>`
          : null}
      </nav>
      <div class="who">
        <span><span class="visually-hidden">Signed in as </span>${me.name} <span class="muted">(${me.role})</span></span>
        <button type="button" class="quiet" onClick=${openShortcuts} aria-label="Keyboard shortcuts">?</button>
        <button type="button" class="quiet" onClick=${signOut}>Sign out</button>
      </div>
    </header>
    ${offline}
    <main id="main" tabindex="-1">${page}</main>
    <${Shortcuts}
      open=${shortcuts}
      onClose=${() => {
        setShortcuts(false);
        (opener.current && opener.current.isConnected ? opener.current : document.getElementById("main"))?.focus();
      }}
    />`;
}

const root = document.getElementById("app");
// The shell says "Loading" until now.
root.textContent = "";
render(html`<${App} />`, root);
