// Small pieces every page uses: the page heading that takes focus, loading, empty
// and error states, badges.
import { useEffect, useRef } from "preact/hooks";
import { html } from "./html.js";
import { wait, capitalized } from "./format.js";

/** The page's h1. It takes focus when the page opens (not while typing elsewhere),
 * so keyboard and screen-reader users start at the top of what changed. */
export function PageTitle({ children, focus = true }) {
  const ref = useRef(null);
  useEffect(() => {
    const active = document.activeElement;
    const busy = active && active !== document.body && active.closest?.("input, textarea, select, dialog");
    if (focus && !busy) ref.current?.focus({ preventScroll: false });
  }, []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

export function Loading({ what = "Loading" }) {
  return html`<p class="state loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>${what}…</p>`;
}

export function Empty({ children }) {
  return html`<div class="state empty">${children}</div>`;
}

/** An API error as a person needs it: the message, the wait for 429, the request id
 * for support, and a retry when one makes sense. */
export function ErrorBox({ error, onRetry, id }) {
  if (!error) return null;
  return html`<div class="error" role="alert" id=${id} tabindex="-1">
    <p><strong>${error.status === 429 ? "Too many requests. " : ""}</strong>${error.message}</p>
    ${error.status === 429 && error.retryAfter
      ? html`<p>You can try again in <span class="wait">${wait(error.retryAfter)}</span> (${error.retryAfter} s).</p>`
      : null}
    ${error.requestId ? html`<p class="request-id">Request id: <code>${error.requestId}</code></p>` : null}
    ${onRetry ? html`<p><button type="button" onClick=${onRetry}>Try again</button></p>` : null}
  </div>`;
}

export const StatusBadge = ({ status }) => html`<span class="badge status-${status}">${capitalized(status)}</span>`;
export const PriorityBadge = ({ priority }) =>
  html`<span class="badge priority-${priority}">${capitalized(priority)}</span>`;
