/*
 * api.js: the client of the ops API. Every fetch of /ops/api/... goes through api(): it alone
 * knows the base path, parses the JSON and turns a problem answer into an ApiError with its
 * text. It keeps conn, the connection state (last good answer, failing since when and why)
 * that the "CONNECTION LOST … NOT live" notice is drawn from. poll() runs a fetcher now and
 * again every so often until stopped.
 */

/** The base path of the ops API: no other module knows it. */
const API = '/ops/api';

export const conn = { lastOk: 0, failing: false, reason: '', since: 0 };

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

let connListener = () => {};

/** Sets the one function told of every change of conn (main.js: the connection indicator). */
export function onConnChange(fn) {
  connListener = fn;
}

function noteOk() {
  conn.lastOk = Date.now();
  conn.failing = false;
  connListener();
}

function noteFailure(reason) {
  if (!conn.failing) conn.since = Date.now();
  conn.failing = true;
  conn.reason = reason;
  connListener();
}

/** JSON from the ops API; throws ApiError with the problem's detail. */
export async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(API + path, { cache: 'no-store', ...options });
  } catch (error) {
    noteFailure(`cannot reach ${API}`);
    throw new ApiError(0, `cannot reach the ops API (${error.message})`);
  }
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch (_) {
    body = null;
  }
  if (!response.ok) {
    const detail = (body && (body.detail || body.title)) || text || response.statusText;
    if (response.status >= 500) noteFailure(`${API} answered ${response.status}`);
    else noteOk();
    throw new ApiError(response.status, `${response.status}: ${detail}`);
  }
  if (body === null) {
    noteFailure(`${API}${path} did not answer JSON`);
    throw new ApiError(response.status, 'the answer was not JSON');
  }
  noteOk();
  return body;
}

/** Runs fn now and every ms after it settles, until the returned stop() is called. */
export function poll(fn, ms) {
  let stopped = false;
  let timer = 0;
  const run = async () => {
    if (stopped) return;
    try {
      await fn();
    } catch (error) {
      if (!(error instanceof ApiError)) console.error(error);
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
