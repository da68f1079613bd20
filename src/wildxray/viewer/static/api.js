// JSON calls to the viewer API (relative URLs, so the page works wherever the app is mounted).
// Writes carry the session's CSRF token in X-CSRF-Token; the session itself is an HttpOnly cookie.

let csrfToken = null;
let onLoggedOut = () => {};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function setCsrf(token) {
  csrfToken = token;
}

export function whenLoggedOut(fn) {
  onLoggedOut = fn;
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  const resp = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = { error: `HTTP ${resp.status}` };
  }
  if (resp.status === 401 && path !== "api/login") onLoggedOut();
  if (!resp.ok) throw new ApiError(resp.status, (data && data.error) || `HTTP ${resp.status}`);
  return data;
}

export const api = {
  me: () => call("GET", "api/me"),
  login: (token) => call("POST", "api/login", { token }),
  logout: () => call("POST", "api/logout", {}),
  scans: (filters) => {
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
    return call("GET", `api/scans?${q}`);
  },
  scan: (id) => call("GET", `api/scans/${encodeURIComponent(id)}`),
  boxVerdict: (id, body) => call("POST", `api/scans/${encodeURIComponent(id)}/boxes`, body),
  parcelVerdict: (id, body) => call("POST", `api/scans/${encodeURIComponent(id)}/parcel`, body),
  viewUrl: (id, kind) => `api/scans/${encodeURIComponent(id)}/view/${kind}`,
};
