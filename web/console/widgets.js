/*
 * widgets.js: small pieces several views draw: a view's header, a status badge, the "no data"
 * and error paragraphs; and setHashQuiet(), which puts a view's filters in the URL hash
 * without routing again.
 */

import { h } from './dom.js';

const STATUS_LABEL = { ok: '✔ ok', error: '▲ error', fault: '✖ fault' };

export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}` }, STATUS_LABEL[status] || String(status));
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

export function errorNote(error) {
  return h('p', { class: 'problem', role: 'alert' }, `✖ ${error.message}`);
}

export function setHashQuiet(view, params) {
  const qs = params.toString();
  history.replaceState(null, '', `#${view}${qs ? `?${qs}` : ''}`);
}

export function viewHeader(title, ...extra) {
  return h('div', { class: 'view-head' }, h('h1', null, title), ...extra);
}
