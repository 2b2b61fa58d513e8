// The ticket list: queues with live counts, filters, search, sort, "load more" on the
// API's cursor. Showing it costs two API calls: the list and the counts (stats).
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { api, assignees as loadAssignees } from "./api.js";
import { session } from "./session.js";
import { navigate, ticketPath } from "./router.js";
import { useShortcuts, moveFocus } from "./keyboard.js";
import { age, dateTime, capitalized } from "./format.js";
import { Empty, ErrorBox, Loading, PageTitle, PriorityBadge, StatusBadge } from "./components.js";

/** Each queue is a list filter; the counts come from `GET /api/crm/stats` `queues`. */
export const QUEUES = [
  { id: "mine", label: "Mine", params: { assigned_to: "me", status: "open,assigned" }, statuses: ["open", "assigned"] },
  { id: "unassigned", label: "Unassigned", params: { assigned_to: "none", status: "open" }, statuses: ["open"] },
  { id: "open", label: "Open", params: { status: "open,assigned" }, statuses: ["open", "assigned"], byAssignee: true },
  { id: "waiting", label: "Waiting", params: { status: "resolved" }, statuses: ["resolved"], byAssignee: true },
  {
    id: "all",
    label: "All",
    params: {},
    statuses: ["open", "assigned", "resolved", "closed"],
    byAssignee: true,
  },
];
const DEFAULT_QUEUE = "open";
const PRIORITIES = ["urgent", "high", "medium", "low"];
const SORTS = {
  newest: { label: "Newest first", sort: "created_at", order: "desc" },
  oldest: { label: "Oldest first", sort: "created_at", order: "asc" },
  updated: { label: "Recently updated", sort: "updated_at", order: "desc" },
  priority: { label: "Priority", sort: "priority", order: "desc" },
};
const FILTERS = ["queue", "status", "priority", "category", "assignee", "q", "sort"];
const PAGE = 25;

/** The filters a URL says, with defaults. */
function filtersOf(query) {
  const f = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) ?? ""]));
  if (!QUEUES.some((q) => q.id === f.queue)) f.queue = DEFAULT_QUEUE;
  if (!SORTS[f.sort]) f.sort = "newest";
  return f;
}

/** The list's query string for these filters: the queue's, narrowed by the others. */
export function listQuery(f, cursor) {
  const queue = QUEUES.find((q) => q.id === f.queue);
  const p = new URLSearchParams(queue.params);
  if (f.status && queue.statuses.includes(f.status)) p.set("status", f.status);
  if (f.priority) p.set("priority", f.priority);
  if (f.category) p.set("category", f.category);
  if (f.assignee && queue.byAssignee) p.set("assigned_to", f.assignee);
  if (f.q.trim()) p.set("q", f.q.trim());
  p.set("sort", SORTS[f.sort].sort);
  p.set("order", SORTS[f.sort].order);
  p.set("limit", String(PAGE));
  if (cursor) p.set("cursor", cursor);
  return p.toString();
}

function urlWith(f, changes) {
  const next = { ...f, ...changes };
  const p = new URLSearchParams();
  for (const k of FILTERS) {
    const v = next[k];
    if (v && !(k === "queue" && v === DEFAULT_QUEUE) && !(k === "sort" && v === "newest")) p.set(k, v);
  }
  const s = p.toString();
  return `/admin/${s ? `?${s}` : ""}`;
}

// Unread since last view (a bonus): when each ticket was last opened here, kept in
// localStorage (ids and times only).
const SEEN = "helpdesk.seen";
function seenMap() {
  try {
    return JSON.parse(localStorage.getItem(SEEN)) ?? {};
  } catch {
    return {};
  }
}
// The ticket last opened from the list: back on the list, focus returns to its row.
let lastOpened = null;
/** Assignee ids this tab has asked the names of (see the list's effect). */
const askedForNames = new Set();

export function markSeen(ticket) {
  lastOpened = ticket.ticket_number;
  const seen = seenMap();
  seen[ticket.id] = ticket.updated_at;
  const ids = Object.keys(seen);
  if (ids.length > 500) for (const id of ids.slice(0, ids.length - 500)) delete seen[id];
  try {
    localStorage.setItem(SEEN, JSON.stringify(seen));
  } catch {}
}

let firstRender = true;

export function Queue({ route, me }) {
  const f = filtersOf(route.query);
  const query = listQuery(f);
  const [list, setList] = useState({ tickets: null, next: null, error: null, busy: true });
  const [stats, setStats] = useState({ data: null, error: null });
  const [search, setSearch] = useState(f.q);
  const [staff, setStaff] = useState(() => session.assignees() ?? []);
  const seen = useMemo(seenMap, [list.tickets]);

  async function loadList() {
    setList((l) => ({ ...l, busy: true, error: null }));
    try {
      const { data } = await api("GET", `/api/crm/tickets?${query}`);
      setList({ tickets: data.tickets, next: data.next_cursor, error: null, busy: false });
    } catch (error) {
      setList((l) => ({ ...l, error, busy: false }));
    }
  }
  async function loadStats() {
    try {
      const { data } = await api("GET", "/api/crm/stats");
      setStats({ data, error: null });
      session.setCategories(data.categories);
    } catch (error) {
      setStats((s) => ({ ...s, error }));
    }
  }

  useEffect(() => {
    loadList();
  }, [query]);
  useEffect(() => {
    loadStats();
    const timer = setInterval(() => document.visibilityState === "visible" && loadStats(), 60_000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => setSearch(f.q), [f.q]);
  // Debounced search: the URL (and so the list) follows what is typed.
  useEffect(() => {
    if (search === f.q) return;
    const timer = setTimeout(() => navigate(urlWith(f, { q: search }), { replace: true }), 250);
    return () => clearTimeout(timer);
  }, [search]);
  // A ticket assigned to someone this tab does not know yet: ask for the names again,
  // once per id (a deactivated member is never among the assignees).
  useEffect(() => {
    const known = new Set(staff.map((s) => s.id));
    const unknown = (list.tickets ?? []).map((t) => t.assigned_to).filter((id) => id && !known.has(id) && !askedForNames.has(id));
    if (unknown.length) {
      for (const id of unknown) askedForNames.add(id);
      loadAssignees(true).then(setStaff, () => {});
    }
  }, [list.tickets]);
  // Where focus goes when the list first shows: the row of the ticket just left, else
  // the heading; never while the person is typing somewhere.
  const placed = useRef(false);
  useEffect(() => {
    if (placed.current || !list.tickets) return;
    placed.current = true;
    const active = document.activeElement;
    if (active && active !== document.body && active.id !== "main") return;
    const row = lastOpened && document.querySelector(`tr[data-number="${lastOpened}"] .ticket-link`);
    (row || document.querySelector("main h1"))?.focus();
  }, [list.tickets]);
  // The budget the browser tests read: navigation start to the first full render.
  useEffect(() => {
    if (firstRender && list.tickets && stats.data) {
      firstRender = false;
      performance.mark("queue-rendered");
    }
  }, [list.tickets, stats.data]);

  useShortcuts({
    j: () => moveFocus(".ticket-link", 1),
    k: () => moveFocus(".ticket-link", -1),
  });

  async function loadMore() {
    const before = list.tickets.length;
    setList((l) => ({ ...l, busy: true }));
    try {
      const { data } = await api("GET", `/api/crm/tickets?${listQuery(f, list.next)}`);
      setList((l) => ({ tickets: [...l.tickets, ...data.tickets], next: data.next_cursor, error: null, busy: false }));
      // Focus stays on "Load more" while there is more; else on the first new row.
      if (!data.next_cursor) {
        requestAnimationFrame(() => document.querySelectorAll(".ticket-link")[before]?.focus());
      }
    } catch (error) {
      setList((l) => ({ ...l, error, busy: false }));
    }
  }

  const set = (name) => (e) => navigate(urlWith(f, { [name]: e.currentTarget.value }), { replace: true });
  const queue = QUEUES.find((q) => q.id === f.queue);
  const nameOf = (id) => (id === me.id ? "Me" : staff.find((s) => s.id === id)?.name ?? `Staff #${id}`);
  const categories = stats.data?.categories ?? [];
  const filtered = f.status || f.priority || f.category || f.assignee || f.q;

  return html`<section class="queue">
    <div class="page-head">
      <${PageTitle} focus=${false}>Tickets<//>
      <button type="button" class="quiet" onClick=${() => (loadList(), loadStats())}>Refresh</button>
    </div>
    <nav class="queues" aria-label="Queues">
      ${QUEUES.map(
        (q) => html`<a
          href=${urlWith({ queue: q.id, sort: f.sort }, {})}
          aria-current=${q.id === f.queue ? "page" : undefined}
          class="queue-tab"
          data-queue=${q.id}
          >${q.label} <span class="count" aria-label=${`, ${stats.data?.queues[q.id] ?? "…"} tickets`}
            >${stats.data?.queues[q.id] ?? "…"}</span
          ></a
        >`,
      )}
    </nav>
    ${stats.error ? html`<${ErrorBox} error=${stats.error} onRetry=${loadStats} />` : null}
    <form class="filters" role="search" aria-label="Filter tickets" onSubmit=${(e) => e.preventDefault()}>
      <div class="filter search">
        <label for="search">Search</label>
        <input
          id="search"
          type="search"
          value=${search}
          placeholder="Number, subject, email… (press /)"
          onInput=${(e) => setSearch(e.currentTarget.value)}
        />
      </div>
      ${queue.statuses.length > 1
        ? html`<div class="filter">
            <label for="filter-status">Status</label>
            <select id="filter-status" value=${f.status} onChange=${set("status")}>
              <option value="">Any</option>
              ${queue.statuses.map((s) => html`<option value=${s}>${capitalized(s)}</option>`)}
            </select>
          </div>`
        : null}
      <div class="filter">
        <label for="filter-priority">Priority</label>
        <select id="filter-priority" value=${f.priority} onChange=${set("priority")}>
          <option value="">Any</option>
          ${PRIORITIES.map((p) => html`<option value=${p}>${capitalized(p)}</option>`)}
        </select>
      </div>
      <div class="filter">
        <label for="filter-category">Category</label>
        <select id="filter-category" value=${f.category} onChange=${set("category")}>
          <option value="">Any</option>
          ${categories.map((c) => html`<option value=${c}>${capitalized(c)}</option>`)}
        </select>
      </div>
      ${queue.byAssignee
        ? html`<div class="filter">
            <label for="filter-assignee">Assignee</label>
            <select id="filter-assignee" value=${f.assignee} onChange=${set("assignee")}>
              <option value="">Anyone</option>
              <option value="me">Me</option>
              <option value="none">Unassigned</option>
              ${staff.filter((s) => s.id !== me.id).map((s) => html`<option value=${String(s.id)}>${s.name}</option>`)}
            </select>
          </div>`
        : null}
      <div class="filter">
        <label for="filter-sort">Sort</label>
        <select id="filter-sort" value=${f.sort} onChange=${set("sort")}>
          ${Object.entries(SORTS).map(([id, s]) => html`<option value=${id}>${s.label}</option>`)}
        </select>
      </div>
    </form>
    <${ErrorBox} error=${list.error} onRetry=${loadList} />
    ${list.tickets === null
      ? list.error
        ? null
        : html`<${Loading} what="Loading tickets" />`
      : list.tickets.length === 0
        ? html`<${Empty}>
            <p>${filtered ? "No tickets match these filters." : `No tickets in ${queue.label}.`}</p>
            ${filtered
              ? html`<p><a href=${urlWith({ queue: f.queue, sort: f.sort }, {})}>Clear the filters</a></p>`
              : null}
          <//>`
        : html`<table class="tickets" aria-busy=${list.busy ? "true" : "false"} data-loaded="true">
              <caption class="visually-hidden">
                ${queue.label} tickets, ${SORTS[f.sort].label.toLowerCase()}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Ticket</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Requester</th>
                  <th scope="col">Priority</th>
                  <th scope="col">Status</th>
                  <th scope="col">Assignee</th>
                  <th scope="col">Age</th>
                </tr>
              </thead>
              <tbody>
                ${list.tickets.map((t) => {
                  const unread = !seen[t.id] ? "new" : seen[t.id] < t.updated_at ? "updated" : null;
                  return html`<tr class=${unread ? "unread" : ""} key=${t.id} data-number=${t.ticket_number}>
                    <td data-label="Ticket" class="number">${t.ticket_number}</td>
                    <td data-label="Subject" class="subject">
                      <div>
                        <a class="ticket-link" href=${ticketPath(t.ticket_number)}>${t.subject}</a>
                        ${unread
                          ? html` <span class="unread-mark">${unread === "new" ? "New" : "Updated"}</span>`
                          : null}
                      </div>
                    </td>
                    <td data-label="Requester" class="requester">
                      <div>${t.customer_name || "Guest"} <span class="muted">${t.customer_email}</span></div>
                    </td>
                    <td data-label="Priority"><${PriorityBadge} priority=${t.priority} /></td>
                    <td data-label="Status"><${StatusBadge} status=${t.status} /></td>
                    <td data-label="Assignee">${t.assigned_to ? nameOf(t.assigned_to) : html`<span class="muted">Nobody</span>`}</td>
                    <td data-label="Age"><time datetime=${t.created_at} title=${dateTime(t.created_at)}>${age(t.created_at)}</time></td>
                  </tr>`;
                })}
              </tbody>
            </table>
            ${list.next
              ? html`<p class="more">
                  <button
                    type="button"
                    onClick=${() => !list.busy && loadMore()}
                    aria-disabled=${list.busy ? "true" : "false"}
                  >
                    ${list.busy ? "Loading…" : "Load more"}
                  </button>
                </p>`
              : html`<p class="more muted">${list.tickets.length} ticket${list.tickets.length === 1 ? "" : "s"}, the end of the list.</p>`}`}
  </section>`;
}

/** `/` from anywhere: the search box (on the list). */
export function focusSearch() {
  const box = document.getElementById("search");
  if (box) {
    box.focus();
    box.select();
    return true;
  }
  return false;
}
