// The session lives in sessionStorage: one tab, gone when the tab closes, never in a
// URL or a cookie. Besides the token it keeps the signed-in staff member and the
// list of assignees (names for ids), so showing the queue needs only the list and
// the counts, and the configured categories. Drafts live here too, under their own keys.
const TOKEN = "helpdesk.token";
const STAFF = "helpdesk.staff";
const ASSIGNEES = "helpdesk.assignees";
const CATEGORIES = "helpdesk.categories";
const DRAFT = "helpdesk.draft.";

function read(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key));
  } catch {
    return null;
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN),
  staff: () => (sessionStorage.getItem(TOKEN) ? read(STAFF) : null),
  start(token, staff) {
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(STAFF, JSON.stringify(staff));
  },
  /** A 401: the credentials go; drafts stay, so work survives signing in again. */
  end() {
    for (const key of [TOKEN, STAFF, ASSIGNEES, CATEGORIES]) sessionStorage.removeItem(key);
  },
  /** Signing out: everything this tab kept goes, drafts included. */
  clear() {
    sessionStorage.clear();
  },
  assignees: () => read(ASSIGNEES),
  setAssignees: (list) => sessionStorage.setItem(ASSIGNEES, JSON.stringify(list)),
  categories: () => read(CATEGORIES),
  setCategories: (list) => sessionStorage.setItem(CATEGORIES, JSON.stringify(list)),
  draft: (ticketId) => read(DRAFT + ticketId),
  setDraft(ticketId, draft) {
    if (draft.body) sessionStorage.setItem(DRAFT + ticketId, JSON.stringify(draft));
    else sessionStorage.removeItem(DRAFT + ticketId);
  },
};
