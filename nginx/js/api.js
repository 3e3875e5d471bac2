// The one place that talks to the supply API. Same origin only: the browser presents the client
// certificate in the TLS handshake, nginx checks it and passes the identity on.

export const API = "/supply/api/";

/** An API failure with the server's own words, for showing to the person. */
export class ApiError extends Error {
  constructor(status, message, fieldErrors = {}, body = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.body = body;
  }
}

function csrfToken() {
  // Django's CSRF cookie, when the service sets one; harmless when it does not.
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}

/** Flatten DRF error bodies ({detail}, {field: [msgs]}, {non_field_errors}, [msgs]) to text. */
export function describeErrors(body) {
  if (body === null || body === undefined) return { message: "", fields: {} };
  if (typeof body === "string") return { message: body, fields: {} };
  if (Array.isArray(body)) return { message: body.map(String).join(" "), fields: {} };
  // DRF puts a whole-request error in "detail"; the other keys then describe it, not fields.
  if (typeof body.detail === "string") return { message: body.detail, fields: {} };
  const fields = {};
  const general = [];
  for (const [key, value] of Object.entries(body)) {
    const text = Array.isArray(value)
      ? value.map((v) => (typeof v === "object" ? JSON.stringify(v) : String(v))).join(" ")
      : typeof value === "object" && value !== null
        ? JSON.stringify(value)
        : String(value);
    if (key === "non_field_errors") general.push(text);
    else fields[key] = text;
  }
  const fieldText = Object.entries(fields).map(([k, v]) => `${k}: ${v}`);
  return { message: [...general, ...fieldText].join(" "), fields };
}

function statusText(status) {
  const known = {
    400: "The request was refused",
    401: "No client certificate was presented",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "This request was already sent with different values",
    429: "Too many requests",
    502: "The supply service is not running",
    503: "The supply service is not available",
    504: "The supply service did not answer in time",
  };
  return known[status] || `HTTP ${status}`;
}

/**
 * fetch() a path under the API. Returns the parsed JSON body; throws ApiError on any non-2xx
 * with the server's message, or with status 0 when the network failed (the request may or may
 * not have arrived: retry with the same Idempotency-Key). When `meta` is given, meta.replayed
 * tells whether the service replayed an earlier answer to the same Idempotency-Key.
 */
export async function request(path, { method = "GET", body, idempotencyKey, params, meta } = {}) {
  const url = new URL(path.startsWith("/") ? path : API + path, window.location.origin);
  if (params) {
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    }
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  if (method !== "GET") {
    const token = csrfToken();
    if (token) headers["X-CSRFToken"] = token;
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      mode: "same-origin",
      cache: "no-store",
      redirect: "error",
    });
  } catch (err) {
    throw new ApiError(0, `The network failed (${err.message}).`);
  }
  if (meta) meta.replayed = response.headers.get("Idempotent-Replayed") === "true";
  const type = response.headers.get("Content-Type") || "";
  let data = null;
  if (response.status !== 204) {
    data = type.includes("json") ? await response.json().catch(() => null) : await response.text();
  }
  if (!response.ok) {
    const { message, fields } = typeof data === "string" ? { message: "", fields: {} } : describeErrors(data);
    throw new ApiError(response.status, message || statusText(response.status), fields, data);
  }
  return data;
}

/** Results of a list endpoint, paginated ({count, next, results}) or not (a plain array). */
export function results(data) {
  if (Array.isArray(data)) return { items: data, count: data.length, next: null, previous: null };
  return {
    items: data?.results ?? [],
    count: data?.count ?? (data?.results ?? []).length,
    next: data?.next ?? null,
    previous: data?.previous ?? null,
  };
}

/** A new Idempotency-Key; crypto.randomUUID needs a secure context, which HTTPS gives. */
export function newKey() {
  return crypto.randomUUID();
}
