// The support page's progressive enhancement. Without it the form posts as a plain
// form and the Worker answers with pages; with it, the form posts JSON and shows the
// API's field errors next to the fields (the same markup the Worker renders), without
// leaving the page. Same origin only, no dependencies.
const form = document.getElementById("support-form");

function clearErrors() {
  document.getElementById("form-problem")?.remove();
  for (const field of form.querySelectorAll(".field.invalid")) {
    field.classList.remove("invalid");
    const control = field.querySelector("input, textarea, select");
    const error = field.querySelector(".field-error");
    if (error) {
      const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== error.id);
      if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
      else control.removeAttribute("aria-describedby");
      error.remove();
    }
    control.removeAttribute("aria-invalid");
  }
}

function element(tag, attributes, text) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The summary above the form and, for each field the API named, its message. */
function showProblem(message, details) {
  const summary = element("div", { class: "error-summary", id: "form-problem", role: "alert", tabindex: "-1" });
  summary.append(element("h2", {}, "We could not send your request"), element("p", {}, message));
  const list = element("ul", {});
  for (const detail of details) {
    const control = form.elements.namedItem(detail.field);
    if (!(control instanceof Element) || !control.id) continue;
    const field = control.closest(".field");
    const error = element("p", { class: "field-error", id: `${control.id}-error` }, detail.message);
    field.classList.add("invalid");
    field.append(error);
    const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    control.setAttribute("aria-describedby", [...ids, error.id].join(" "));
    control.setAttribute("aria-invalid", "true");
    const item = element("li", {});
    item.append(element("a", { href: `#${control.id}` }, detail.message));
    list.append(item);
  }
  if (list.children.length) summary.append(list);
  form.before(summary);
  summary.focus();
}

if (form) {
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.getAttribute("aria-disabled") === "true") return;
    clearErrors();
    button.setAttribute("aria-disabled", "true");
    const label = button.textContent;
    button.textContent = "Sending…";
    try {
      const res = await fetch(form.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(Object.fromEntries(new FormData(form))),
      });
      const json = await res.json().catch(() => null);
      if (res.status === 201 && json?.data?.ticket_number) {
        const { ticket_number: number, access_token: token } = json.data;
        window.location.assign(
          token
            ? `/t/${encodeURIComponent(number)}?token=${encodeURIComponent(token)}&created=1`
            : `/support?created=${encodeURIComponent(number)}`,
        );
        return;
      }
      const validation = json?.code === "validation_failed";
      showProblem(
        validation ? "Please correct the fields marked below." : json?.message || `The server answered ${res.status}. Please try again.`,
        Array.isArray(json?.details) ? json.details : [],
      );
    } catch {
      showProblem("We could not reach the server. Check your connection and try again.", []);
    } finally {
      button.removeAttribute("aria-disabled");
      button.textContent = label;
      // A Turnstile token is good for one check: get a fresh one for the next try.
      window.turnstile?.reset?.();
    }
  });
  // The page came back with errors (a post without script): start at the summary.
  document.getElementById("form-problem")?.focus();
}
