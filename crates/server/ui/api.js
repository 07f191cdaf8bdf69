// Talking to the console API: JSON in and out, the CSRF token on every
// state-changing request, errors thrown with the server's message.

let csrfToken = null;

/** Remembers the session's CSRF token (from login or /auth/me). */
export function setCsrf(token) {
  csrfToken = token || null;
}

/** An API error: the HTTP status, the server's message and its whole JSON answer. */
export class ApiError extends Error {
  constructor(status, message, data = null) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

/** Calls the API (a FormData body goes as multipart); resolves to the parsed JSON (or null for 204). */
export async function api(method, path, body, options = {}) {
  const headers = { Accept: 'application/json' };
  if (csrfToken && method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body instanceof Blob || body instanceof ArrayBuffer) {
    payload = body;
    headers['Content-Type'] = 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch('/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin', signal: options.signal });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) {
    const message = (data && data.error) || `${response.status} ${response.statusText}`;
    if (response.status === 401 && !options.quiet) window.dispatchEvent(new CustomEvent('palisade:logged-out'));
    throw new ApiError(response.status, message, data);
  }
  return data;
}

/** Builds a query string from an object, leaving out empty values. */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) search.set(k, String(v));
  }
  const s = search.toString();
  return s ? '?' + s : '';
}

/** Uploads a file as the request body with progress callbacks (XHR gives upload progress). */
export function upload(path, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1' + path);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, (data && data.error) || `upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'the upload could not reach the server'));
    xhr.send(file);
  });
}
