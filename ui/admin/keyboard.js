// Keyboard shortcuts. Global ones (`?`, `/`) belong to the app; a page registers its
// own (`j`, `k`, `r`, `n`, `u`) while it is shown. Keys typed into a field are the
// field's, except Escape, which leaves it.
import { useEffect } from "preact/hooks";

const pageKeys = new Map();

export const SHORTCUTS = [
  ["j", "Next ticket in the list"],
  ["k", "Previous ticket in the list"],
  ["Enter", "Open the selected ticket"],
  ["/", "Search tickets"],
  ["r", "Reply to the customer (on a ticket)"],
  ["n", "Add an internal note (on a ticket)"],
  ["u", "Back to the list (on a ticket)"],
  ["?", "Show these shortcuts"],
  ["Esc", "Leave a text field, close this list"],
];

/** Registers a page's shortcuts while the component is mounted. */
export function useShortcuts(keys) {
  useEffect(() => {
    for (const [key, action] of Object.entries(keys)) pageKeys.set(key, action);
    return () => {
      for (const key of Object.keys(keys)) if (pageKeys.get(key) === keys[key]) pageKeys.delete(key);
    };
  });
}

function typingIn(target) {
  return target instanceof Element && target.closest("input, textarea, select, [contenteditable='true']");
}

/** Installs the one keydown listener; `global` has the app's own keys. */
export function installKeyboard(global) {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (typingIn(e.target)) {
      // Escape leaves the field for the page (focus moves to the main region, never
      // to nowhere), so the shortcuts work again.
      if (e.key === "Escape" && !e.target.closest("dialog")) document.getElementById("main")?.focus();
      return;
    }
    const action = global[e.key] ?? pageKeys.get(e.key);
    if (!action) return;
    e.preventDefault();
    action(e);
  });
}

/** Moves focus to the next (`step` 1) or previous (-1) element matching `selector`. */
export function moveFocus(selector, step) {
  const items = [...document.querySelectorAll(selector)];
  if (items.length === 0) return;
  const at = items.indexOf(document.activeElement);
  const next = at === -1 ? (step > 0 ? 0 : items.length - 1) : Math.min(items.length - 1, Math.max(0, at + step));
  items[next].focus();
  items[next].scrollIntoView({ block: "nearest" });
}
