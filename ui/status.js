// The status page's upload control, built into /assets/status.js (the page's CSP allows
// scripts from its own origin only, and this is the only one it loads). It shows
// the file picker the page keeps hidden without JavaScript. On submit it uploads
// each chosen file (the file itself as the body, the ticket's token in a header),
// puts their ids in the form's attachment_ids, and submits the form as the browser
// would have. Nothing here writes HTML: messages go in as text.
(() => {
  "use strict";
  const box = document.getElementById("attach");
  const form = box && box.closest("form");
  if (!form) return;
  const input = document.getElementById("files");
  const status = document.getElementById("attach-status");
  const ids = form.elements.namedItem("attachment_ids");
  const token = form.elements.namedItem("token").value;
  const button = form.querySelector("button[type=submit]");
  const maxFiles = Number(box.dataset.maxFiles);
  const maxBytes = Number(box.dataset.maxBytes);
  const say = (text) => {
    status.textContent = text;
  };
  // Files already uploaded in this page (a retry after an error does not send them again).
  const uploaded = new Map();
  let busy = false;
  box.hidden = false;

  async function upload(file) {
    const url = `${box.dataset.action}?filename=${encodeURIComponent(file.name)}`;
    const res = await fetch(url, {
      method: "POST",
      headers: { "X-Ticket-Token": token, "Content-Type": file.type || "application/octet-stream" },
      body: file,
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${file.name}: ${answer.message || answer.error || `error ${res.status}`}`);
    return answer.data.attachment.id;
  }

  form.addEventListener("submit", async (event) => {
    const files = Array.from(input.files || []);
    if (!files.length) return;
    event.preventDefault();
    if (busy) return;
    if (files.length > maxFiles) return say(`Attach at most ${maxFiles} files to one reply.`);
    const tooBig = files.find((f) => f.size > maxBytes);
    if (tooBig) return say(`${tooBig.name} is too large: at most ${(maxBytes / 1048576).toFixed(1)} MB.`);
    const empty = files.find((f) => f.size === 0);
    if (empty) return say(`${empty.name} is empty.`);
    busy = true;
    button.disabled = true;
    try {
      const list = [];
      for (const [i, file] of files.entries()) {
        if (!uploaded.has(file)) {
          say(`Uploading ${file.name} (${i + 1} of ${files.length})…`);
          uploaded.set(file, await upload(file));
        }
        list.push(uploaded.get(file));
      }
      ids.value = list.join(",");
      say("Sending your reply…");
      form.submit();
    } catch (e) {
      say(`${e.message} Your reply was not sent yet; you can try again.`);
      button.disabled = false;
      busy = false;
    }
  });
})();
