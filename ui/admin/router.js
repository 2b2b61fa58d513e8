// The app's URLs (all under /admin/, which the assets layer answers with the app's
// shell): the History API, links intercepted so navigation stays in the page.
import { useEffect, useState } from "preact/hooks";

const BASE = "/admin/";

export function parse(loc = window.location) {
  const rest = loc.pathname.startsWith(BASE) ? loc.pathname.slice(BASE.length) : "";
  const query = new URLSearchParams(loc.search);
  const parts = rest.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { name: "queue", query };
  if (parts[0] === "tickets" && parts.length === 2) return { name: "ticket", ref: parts[1], query };
  if (parts.length === 1 && ["staff", "keys", "outbox"].includes(parts[0])) return { name: parts[0], query };
  return { name: "not_found", query };
}

const listeners = new Set();

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  for (const listener of listeners) listener();
}

export function useRoute() {
  const [route, setRoute] = useState(() => ({ ...parse(), key: 0 }));
  useEffect(() => {
    const update = () => setRoute((r) => ({ ...parse(), key: r.key + 1 }));
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return route;
}

/** Plain left clicks on links into the app navigate without reloading. */
export function interceptLinks(root = document) {
  root.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest?.("a[href]");
    if (!a || a.target || a.hasAttribute("download") || a.getAttribute("href").startsWith("#")) return;
    const url = new URL(a.href, window.location.href);
    if (url.origin !== window.location.origin || !url.pathname.startsWith(BASE)) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
}

export const ticketPath = (number) => `${BASE}tickets/${encodeURIComponent(number)}`;
