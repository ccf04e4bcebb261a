// The service's public API, called with the key typed in at sign-in. The key lives in sessionStorage only:
// never in a URL, a cookie or localStorage, and it is gone when the tab closes.

const KEY_SLOT = "mem0.console.key";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.field = body?.field ?? null;
    this.dependency = body?.dependency ?? null;
    this.body = body;
  }
}

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_SLOT);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY_SLOT, value);
    else sessionStorage.removeItem(KEY_SLOT);
  },
};

export async function call(method, path, { body, query, key = session.key, text = false } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: text ? "text/plain" : "application/json" };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer",
  });
  if (!response.ok) {
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = { message: `HTTP ${response.status}` };
    }
    throw new ApiError(response.status, payload);
  }
  return text ? response.text() : response.json();
}
