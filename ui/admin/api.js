// Every call to the API: the bearer token from the session, JSON both ways, and one
// error type that carries what a person needs to see: the API's message, its code
// and field details, the request id, and for 429 the wait.
import { session } from "./session.js";

export class ApiError extends Error {
  constructor({ status, code, message, details = null, requestId = null, retryAfter = null }) {
    super(message);
    Object.assign(this, { status, code, details, requestId, retryAfter });
  }
}

let onUnauthorized = () => {};
/** Called on any 401 to a request that carried a token (the session is over). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(method, path, body) {
  const json = body === undefined ? undefined : JSON.stringify(body);
  return call(method, path, json, json === undefined ? {} : { "Content-Type": "application/json" });
}

/** Uploads a file to a ticket as the raw body (step one of sending it). */
export async function upload(ticketId, file) {
  const path = `/api/crm/tickets/${ticketId}/attachments?filename=${encodeURIComponent(file.name)}`;
  const { data } = await call("POST", path, file, { "Content-Type": file.type || "application/octet-stream" });
  return data.attachment;
}

/** Downloads a file with the session's token and saves it under its name. A link
 * cannot carry the bearer token, so the file goes through a blob URL. */
export async function download(attachment) {
  const res = await send("GET", attachment.download_url, undefined, { Accept: "*/*" });
  if (!res.ok) failure(res, await res.json().catch(() => null));
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: attachment.filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

async function send(method, path, body, extraHeaders) {
  const headers = { Accept: "application/json", ...extraHeaders };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(path, { method, headers, body, cache: "no-store", credentials: "omit" });
  } catch {
    throw new ApiError({
      status: 0,
      code: "network",
      message: navigator.onLine
        ? "Cannot reach the server. Check your connection and try again."
        : "You are offline. Reconnect and try again.",
    });
  }
}

async function call(method, path, body, headers) {
  const res = await send(method, path, body, headers);
  const json = await res.json().catch(() => null);
  if (res.ok && json && json.success !== false) return { data: json.data ?? {}, message: json.message };
  return failure(res, json);
}

/** Throws the API's error for a failed answer (`json`: its body, if it had one). */
function failure(res, json) {
  const error = new ApiError({
    status: res.status,
    code: json?.code ?? `http_${res.status}`,
    message: json?.message || json?.error || `The server answered ${res.status}.`,
    details: json?.details ?? null,
    requestId: res.headers.get("X-Request-Id"),
    retryAfter: Number(res.headers.get("Retry-After")) || null,
  });
  if (res.status === 401 && session.token()) {
    session.end();
    onUnauthorized(error);
  }
  throw error;
}

/** The active staff, cached for the session; `refresh` asks the API again. */
export async function assignees(refresh = false) {
  const cached = session.assignees();
  if (cached && !refresh) return cached;
  const { data } = await api("GET", "/api/crm/assignees");
  session.setAssignees(data.assignees);
  return data.assignees;
}
