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
  const headers = { Accept: "application/json" };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError({
      status: 0,
      code: "network",
      message: navigator.onLine
        ? "Cannot reach the server. Check your connection and try again."
        : "You are offline. Reconnect and try again.",
    });
  }
  let json = null;
  try {
    json = await res.json();
  } catch {}
  if (res.ok && json && json.success !== false) return { data: json.data ?? {}, message: json.message };
  const error = new ApiError({
    status: res.status,
    code: json?.code ?? `http_${res.status}`,
    message: json?.message || json?.error || `The server answered ${res.status}.`,
    details: json?.details ?? null,
    requestId: res.headers.get("X-Request-Id"),
    retryAfter: Number(res.headers.get("Retry-After")) || null,
  });
  if (res.status === 401 && token) {
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
