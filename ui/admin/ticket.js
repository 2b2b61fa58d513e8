// One ticket: its fields and requester, the whole thread (customer messages, staff
// replies and internal notes, each visibly different), the event timeline, and only
// the actions the lifecycle allows now (`allowed_actions` from the API). Every change
// sends the ticket's version; a 409 stale_version shows the fresh ticket.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { api, assignees as loadAssignees, download, upload } from "./api.js";
import { session } from "./session.js";
import { useShortcuts } from "./keyboard.js";
import { navigate } from "./router.js";
import { ago, capitalized, dateTime, fileSize } from "./format.js";
import { markSeen } from "./queue.js";
import { ErrorBox, Loading, PageTitle, PriorityBadge, StatusBadge } from "./components.js";

const PRIORITIES = ["low", "medium", "high", "urgent"];
const ACTION_LABELS = { unassign: "Unassign", resolve: "Resolve", close: "Close", reopen: "Reopen" };

export function Ticket({ route, me, backTo }) {
  const [view, setView] = useState(null);
  const [error, setError] = useState(null);
  const [stale, setStale] = useState(null);
  const [actionError, setActionError] = useState(null);
  const [announce, setAnnounce] = useState("");
  const [busy, setBusy] = useState(false);
  const [staff, setStaff] = useState(() => session.assignees() ?? []);
  const composer = useRef(null);
  const actionsRef = useRef(null);
  const staleRef = useRef(null);

  async function load() {
    try {
      const { data } = await api("GET", `/api/crm/tickets/${encodeURIComponent(route.ref)}`);
      setView(data);
      setError(null);
      markSeen(data.ticket);
      return data;
    } catch (err) {
      setError(err);
      return null;
    }
  }
  useEffect(() => {
    setView(null);
    load();
  }, [route.ref]);
  useEffect(() => {
    loadAssignees().then(setStaff, () => {});
  }, []);
  useEffect(() => {
    if (stale) staleRef.current?.focus();
  }, [stale]);

  useShortcuts({
    r: () => composer.current?.open("reply"),
    n: () => composer.current?.open("note"),
    u: () => navigate(backTo),
  });

  /** Runs a change that carries the version; then shows the ticket as it is now. */
  async function change(method, path, body, done) {
    if (busy) return false;
    setBusy(true);
    setActionError(null);
    setStale(null);
    try {
      const { message } = await api(method, path, { ...body, version: view.ticket.version });
      await load();
      setAnnounce(done ?? message);
      return true;
    } catch (err) {
      if (err.code === "stale_version") {
        const fresh = await load();
        setStale({ error: err, version: fresh?.ticket.version });
      } else {
        setActionError(err);
      }
      return false;
    } finally {
      setBusy(false);
      // The button pressed may be gone (a resolved ticket has no "Resolve"): focus
      // stays in the actions, never falls back to the page.
      requestAnimationFrame(() => {
        if (!document.activeElement || document.activeElement === document.body) actionsRef.current?.focus();
      });
    }
  }

  if (error && !view)
    return html`<section><${PageTitle}>Ticket ${route.ref}<//><${ErrorBox} error=${error} onRetry=${load} /></section>`;
  if (!view) return html`<${Loading} what="Loading the ticket" />`;

  const t = view.ticket;
  const nameOf = (id) => (id === me.id ? `${me.name} (me)` : staff.find((s) => s.id === id)?.name ?? `Staff #${id}`);
  const allowed = new Set(view.allowed_actions ?? []);
  const act = (action, extra = {}) => change("POST", `/api/crm/tickets/${t.id}/${action}`, extra);

  return html`<article class="ticket" aria-labelledby="ticket-title">
    <p class="back"><a href=${backTo}>← Back to the list</a></p>
    <header class="ticket-head">
      <p class="muted number">${t.ticket_number}</p>
      <div id="ticket-title"><${PageTitle}>${t.subject}<//></div>
      <p class="badges"><${StatusBadge} status=${t.status} /> <${PriorityBadge} priority=${t.priority} /></p>
    </header>
    <p class="visually-hidden" role="status" aria-live="polite">${announce}</p>
    ${stale
      ? html`<div class="error stale" role="alert" tabindex="-1" ref=${staleRef}>
          <p><strong>Changed by someone else.</strong> This ticket was updated while you were looking at it
            ${stale.version ? ` (it is now version ${stale.version})` : ""}. The latest version is shown; your
            change was not applied. Check it and try again.</p>
          ${stale.error.requestId ? html`<p class="request-id">Request id: <code>${stale.error.requestId}</code></p>` : null}
        </div>`
      : null}
    <${ErrorBox} error=${actionError} />
    <div class="ticket-layout">
      <div class="ticket-main">
        <${Thread} ticket=${t} messages=${view.messages} nameOf=${nameOf} />
        <${Composer} handle=${composer} ticket=${t} onSent=${async (message) => (await load(), setAnnounce(message))} />
        <${Timeline} events=${view.events} nameOf=${nameOf} />
      </div>
      <aside class="ticket-side">
        <section aria-labelledby="actions-title" class="actions" tabindex="-1" ref=${actionsRef}>
          <h2 id="actions-title">Actions</h2>
          ${allowed.size === 0 ? html`<p class="muted">No action is possible now.</p>` : null}
          <div class="action-buttons">
            ${allowed.has("assign") && t.assigned_to !== me.id
              ? html`<button type="button" class="primary" onClick=${() => act("assign", { staff_id: me.id })}>
                  Assign to me
                </button>`
              : null}
            ${["unassign", "resolve", "close", "reopen"]
              .filter((a) => allowed.has(a))
              .map(
                (a) =>
                  html`<button type="button" onClick=${() => act(a)} aria-disabled=${busy ? "true" : "false"}>
                    ${ACTION_LABELS[a]}
                  </button>`,
              )}
          </div>
          ${allowed.has("assign")
            ? html`<${AssignForm} staff=${staff} current=${t.assigned_to} onAssign=${(id) => act("assign", { staff_id: id })} />`
            : null}
        </section>
        <${Fields} ticket=${t} nameOf=${nameOf} />
        <${EditForm}
          ticket=${t}
          onSave=${(changes) => change("PATCH", `/api/crm/tickets/${t.id}`, changes, "Ticket updated")}
        />
      </aside>
    </div>
  </article>`;
}

function AssignForm({ staff, current, onAssign }) {
  const [choice, setChoice] = useState("");
  const others = staff.filter((s) => s.id !== current);
  return html`<form
    class="assign"
    onSubmit=${(e) => {
      e.preventDefault();
      if (choice) onAssign(Number(choice));
    }}
  >
    <label for="assignee">Assign to</label>
    <div class="inline">
      <select id="assignee" value=${choice} onChange=${(e) => setChoice(e.currentTarget.value)}>
        <option value="">Choose…</option>
        ${others.map((s) => html`<option value=${String(s.id)}>${s.name} (${s.role})</option>`)}
      </select>
      <button type="submit">Assign</button>
    </div>
  </form>`;
}

function Fields({ ticket: t, nameOf }) {
  const verified =
    t.requester_verified === true
      ? html` <span class="badge verified">Verified</span>`
      : t.requester_verified === false
        ? html` <span class="badge unverified">Not verified</span>`
        : null;
  return html`<section aria-labelledby="fields-title" class="fields">
    <h2 id="fields-title">Details</h2>
    <dl>
      <dt>Requester</dt>
      <dd>${t.customer_name || "Guest"}${verified}<br /><a href=${`mailto:${t.customer_email}`}>${t.customer_email}</a></dd>
      <dt>Assignee</dt>
      <dd>${t.assigned_to ? nameOf(t.assigned_to) : "Nobody"}</dd>
      <dt>Category</dt>
      <dd>${capitalized(t.category ?? "none")}</dd>
      <dt>Created</dt>
      <dd><time datetime=${t.created_at}>${dateTime(t.created_at)}</time></dd>
      <dt>Updated</dt>
      <dd><time datetime=${t.updated_at}>${dateTime(t.updated_at)}</time></dd>
      <dt>Version</dt>
      <dd>${t.version}</dd>
    </dl>
  </section>`;
}

function EditForm({ ticket: t, onSave }) {
  const [open, setOpen] = useState(false);
  const [note, setNote] = useState("");
  const closed = t.status === "closed";
  async function submit(e) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const changes = {};
    for (const name of ["subject", "priority", "category"]) {
      const value = String(form.get(name) ?? "").trim();
      if (value && value !== (t[name] ?? "")) changes[name] = value;
    }
    if (Object.keys(changes).length === 0) {
      setNote("Nothing changed.");
      return;
    }
    setNote("");
    if (await onSave(changes)) setOpen(false);
  }
  return html`<details class="edit" open=${open} onToggle=${(e) => setOpen(e.currentTarget.open)}>
    <summary>Edit subject, priority, category</summary>
    ${open
      ? html`<form onSubmit=${submit} key=${t.version}>
      ${closed ? html`<p class="muted">A closed ticket cannot be edited; reopen it first.</p>` : null}
      <fieldset disabled=${closed}>
        <legend class="visually-hidden">Ticket fields</legend>
        <label for="edit-subject">Subject</label>
        <input id="edit-subject" name="subject" defaultValue=${t.subject} maxlength="200" required />
        <label for="edit-priority">Priority</label>
        <select id="edit-priority" name="priority">
          ${PRIORITIES.map((p) => html`<option value=${p} selected=${p === t.priority}>${capitalized(p)}</option>`)}
        </select>
        <label for="edit-category">Category</label>
        <${CategorySelect} current=${t.category} />
        <p><button type="submit">Save changes</button> <span class="muted" role="status">${note}</span></p>
      </fieldset>
    </form>`
      : null}
  </details>`;
}

/** The configured categories come with the counts (`stats.categories`): the list
 * page keeps them for the session; a ticket opened first asks for them. */
function CategorySelect({ current }) {
  const withCurrent = (list) => [...new Set([...list, ...(current ? [current] : [])])];
  const [list, setList] = useState(() => withCurrent(session.categories() ?? []));
  useEffect(() => {
    if (session.categories()) return;
    api("GET", "/api/crm/stats").then(({ data }) => {
      session.setCategories(data.categories);
      setList(withCurrent(data.categories));
    }, () => {});
  }, []);
  return html`<select id="edit-category" name="category">
    ${list.map((c) => html`<option value=${c} selected=${c === current}>${capitalized(c)}</option>`)}
  </select>`;
}

function Thread({ ticket: t, messages, nameOf }) {
  return html`<section aria-labelledby="thread-title" class="thread">
    <h2 id="thread-title">Conversation</h2>
    <ol class="messages">
      <li class="message customer">
        <p class="who"><strong>${t.customer_name || "Guest"}</strong> <span class="kind">Customer</span>
          <time datetime=${t.created_at} title=${dateTime(t.created_at)}>${ago(t.created_at)}</time></p>
        <div class="body">${t.description}</div>
      </li>
      ${messages.map((m) => {
        const kind = m.internal ? "note" : m.author_type;
        const label = m.internal
          ? "Internal note, not visible to the customer"
          : m.author_type === "staff"
            ? "Reply to the customer"
            : m.author_type === "customer"
              ? "Customer"
              : "System";
        const who =
          m.author_type === "staff" && m.staff_id ? nameOf(m.staff_id) : m.author_type === "customer" ? t.customer_name || "Guest" : "System";
        return html`<li class=${`message ${kind}`} key=${m.id}>
          <p class="who"><strong>${who}</strong> <span class="kind">${label}</span>
            <time datetime=${m.created_at} title=${dateTime(m.created_at)}>${ago(m.created_at)}</time></p>
          <div class="body">${m.body}</div>
          <${Files} files=${m.attachments ?? []} />
        </li>`;
      })}
    </ol>
  </section>`;
}

/** A message's files: each a button that downloads it with the session's token. */
function Files({ files }) {
  const [error, setError] = useState(null);
  if (files.length === 0) return null;
  return html`<div class="files">
    <ul aria-label="Attachments">
      ${files.map(
        (f) => html`<li key=${f.id}>
          <button type="button" class="link" onClick=${() => download(f).then(() => setError(null), setError)}>
            <bdi>${f.filename}</bdi>
          </button>
          <span class="muted"> ${fileSize(f.size)}</span>
        </li>`,
      )}
    </ul>
    <${ErrorBox} error=${error} />
  </div>`;
}

function describe(e, nameOf) {
  const d = e.data ?? {};
  const parts = [];
  if (d.from !== undefined || d.to !== undefined) parts.push(`${d.from ?? "—"} → ${d.to ?? "—"}`);
  if (d.changes) parts.push(`changed ${Object.keys(d.changes).join(", ")}`);
  if (d.assigned_to) parts.push(`to ${nameOf(d.assigned_to)}`);
  if (d.reason) parts.push(d.reason.replaceAll("_", " "));
  return parts.join(", ");
}

function actorOf(e, nameOf) {
  if (e.actor_type === "staff" && e.actor_id) return nameOf(e.actor_id);
  return { public: "a public request", customer: "the customer", integration: "an integration", system: "the system" }[e.actor_type] ?? e.actor_type;
}

function Timeline({ events, nameOf }) {
  return html`<section aria-labelledby="timeline-title" class="timeline">
    <h2 id="timeline-title">Timeline</h2>
    <ol>
      ${events.map((e) => {
        const details = describe(e, nameOf);
        return html`<li key=${e.id}>
          <strong>${capitalized(e.kind.replaceAll("_", " "))}</strong>
          ${details ? html` <span>(${details})</span>` : null}${` by ${actorOf(e, nameOf)}, `}
          <time datetime=${e.created_at} title=${dateTime(e.created_at)}>${ago(e.created_at)}</time>
        </li>`;
      })}
    </ol>
  </section>`;
}

/** One box for replies and notes, with a clear switch; the draft survives a reload. */
function Composer({ ticket: t, onSent, handle }) {
  const saved = session.draft(t.id);
  const [mode, setMode] = useState(saved?.mode ?? "reply");
  const [body, setBody] = useState(saved?.body ?? "");
  const [files, setFiles] = useState([]);
  const [progress, setProgress] = useState("");
  const [error, setError] = useState(null);
  const [sending, setSending] = useState(false);
  const box = useRef(null);
  // Files uploaded by an attempt that then failed: a retry sends their ids again
  // instead of uploading them twice.
  const uploaded = useRef(new Map());
  useEffect(() => session.setDraft(t.id, { mode, body }), [mode, body]);
  handle.current = {
    open(m) {
      setMode(m);
      box.current?.focus();
    },
  };

  async function send(e) {
    e?.preventDefault();
    if (sending || !body.trim()) return;
    setSending(true);
    setError(null);
    try {
      const ids = [];
      for (const [i, file] of files.entries()) {
        if (!uploaded.current.has(file)) {
          setProgress(`Uploading ${file.name} (${i + 1} of ${files.length})…`);
          const attachment = await upload(t.id, file).catch((err) => {
            err.message = `${file.name}: ${err.message}`;
            throw err;
          });
          uploaded.current.set(file, attachment.id);
        }
        ids.push(uploaded.current.get(file));
      }
      setProgress("");
      const payload = { body, internal: mode === "note", ...(ids.length ? { attachment_ids: ids } : {}) };
      const { message } = await api("POST", `/api/crm/tickets/${t.id}/messages`, payload);
      setBody("");
      setFiles([]);
      uploaded.current.clear();
      session.setDraft(t.id, { mode, body: "" });
      await onSent(message);
    } catch (err) {
      setProgress("");
      setError(err);
    } finally {
      setSending(false);
      box.current?.focus();
    }
  }
  function pick(e) {
    const chosen = [...e.currentTarget.files];
    setFiles((now) => [...now, ...chosen.filter((f) => !now.some((n) => n.name === f.name && n.size === f.size))]);
    e.currentTarget.value = "";
  }
  const note = mode === "note";
  return html`<form class=${`composer ${mode}`} onSubmit=${send} aria-labelledby="composer-title">
    <h2 id="composer-title" class="visually-hidden">Write a reply or a note</h2>
    <fieldset class="switch">
      <legend>Write</legend>
      <label><input type="radio" name="mode" value="reply" checked=${!note} onChange=${() => setMode("reply")} /> Reply to customer</label>
      <label><input type="radio" name="mode" value="note" checked=${note} onChange=${() => setMode("note")} /> Internal note</label>
    </fieldset>
    <label for="composer-body">${note ? "Internal note: only staff see it" : "Reply: emailed to the customer"}</label>
    <textarea
      id="composer-body"
      ref=${box}
      rows="5"
      value=${body}
      onInput=${(e) => setBody(e.currentTarget.value)}
      onKeyDown=${(e) => (e.ctrlKey || e.metaKey) && e.key === "Enter" && send(e)}
    ></textarea>
    <div class="attach">
      <label for="composer-files">Attach files</label>
      <input id="composer-files" type="file" multiple onChange=${pick} />
      ${files.length
        ? html`<ul class="chosen" aria-label="Files to send">
            ${files.map(
              (f) => html`<li key=${`${f.name}:${f.size}`}>
                <bdi>${f.name}</bdi> <span class="muted">${fileSize(f.size)}</span>
                <button type="button" class="link" aria-label=${`Remove ${f.name}`} onClick=${() => setFiles((now) => now.filter((n) => n !== f))}>
                  Remove
                </button>
              </li>`,
            )}
          </ul>`
        : null}
      <p class="muted" role="status">${progress}</p>
    </div>
    <${ErrorBox} error=${error} />
    <p class="composer-actions">
      <button type="submit" class=${note ? "note-button" : "primary"} aria-disabled=${sending || !body.trim() ? "true" : "false"}>
        ${note ? "Add internal note" : "Send reply"}
      </button>
      <span class="muted">${body ? "Draft kept if the page reloads. " : ""}Ctrl+Enter sends.</span>
    </p>
  </form>`;
}
