/*
 * views/traces.js: the list of traces (#traces), newest first, filtered by status, function
 * and correlation id (#traces?status=fault). Polls /ops/api/traces every 2 s; a row opens
 * the trace (views/trace.js).
 */

import { api, poll } from '../api.js';
import { h } from '../dom.js';
import { fmtClock, fmtMs, plural } from '../format.js';
import { functionNames } from '../state.js';
import { empty, errorNote, setHashQuiet, statusBadge, viewHeader } from '../widgets.js';

export function tracesView(root, params) {
  let filters = { status: '', function: '', correlation_id: '' };
  const status = h('select', { id: 'trace-status', 'aria-label': 'status' },
    h('option', { value: '' }, 'any status'), h('option', { value: 'ok' }, '✔ ok'),
    h('option', { value: 'error' }, '▲ error'), h('option', { value: 'fault' }, '✖ fault'));
  const fn = h('select', { id: 'trace-function', 'aria-label': 'function' });
  const corr = h('input', { id: 'trace-correlation', type: 'search', placeholder: 'correlation id', size: 30, 'aria-label': 'correlation id' });
  const clearBtn = h('button', { type: 'button' }, 'clear filters');
  const body = h('div', { class: 'traces-body' });
  const count = h('span', { class: 'sub' });
  root.append(viewHeader('Traces', count, h('span', { class: 'sub' }, 'newest first')),
    h('form', { class: 'filters', onsubmit: (ev) => ev.preventDefault() },
      h('label', null, 'Status ', status), h('label', null, 'Function ', fn),
      h('label', null, 'Correlation id ', corr), clearBtn),
    body);

  function fillFunctions() {
    const names = functionNames();
    const want = filters.function;
    const options = [h('option', { value: '' }, 'any function'), ...names.map((n) => h('option', { value: n }, n))];
    if (want && !names.includes(want)) options.push(h('option', { value: want }, want));
    fn.replaceChildren(...options);
    fn.value = want;
  }

  function fromParams(p) {
    filters = { status: p.get('status') || '', function: p.get('function') || '', correlation_id: p.get('correlation_id') || '' };
    status.value = filters.status;
    corr.value = filters.correlation_id;
    fillFunctions();
  }

  function changed() {
    filters = { status: status.value, function: fn.value, correlation_id: corr.value.trim() };
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v) p.set(k, v);
    setHashQuiet('traces', p);
    last = '';
    refresh();
  }
  let debounce = 0;
  status.addEventListener('change', changed);
  fn.addEventListener('change', changed);
  corr.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(changed, 350); });
  clearBtn.addEventListener('click', () => { status.value = ''; fn.value = ''; corr.value = ''; changed(); });

  let last = '';
  async function refresh() {
    const q = new URLSearchParams({ limit: '100' });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    const asked = q.toString();
    try {
      const traces = await api(`/traces?${asked}`);
      const nowQ = new URLSearchParams({ limit: '100' });
      for (const [k, v] of Object.entries(filters)) if (v) nowQ.set(k, v);
      if (nowQ.toString() !== asked) return; // the filters changed meanwhile
      const sig = JSON.stringify(traces);
      if (sig === last) return;
      last = sig;
      renderTraces(body, traces, filters);
      count.textContent = traces.length >= 100 ? 'the newest 100' : plural(traces.length, 'trace');
    } catch (error) {
      if (!last) body.replaceChildren(errorNote(error));
    }
  }
  fromParams(params);
  const stop = poll(refresh, 2000);
  return {
    unmount: () => { stop(); clearTimeout(debounce); },
    update: (p) => { fromParams(p); last = ''; refresh(); },
    onStack: fillFunctions,
  };
}

function renderTraces(body, traces, filters) {
  if (!traces.length) {
    const filtered = Object.values(filters).some(Boolean);
    body.replaceChildren(empty(filtered ? 'No traces match these filters (yet).' : 'No traces yet: send a request (POST /comments) to make one.'));
    return;
  }
  const rows = traces.map((t) => {
    const open = () => { location.hash = `#trace=${encodeURIComponent(t.id)}`; };
    const tr = h('tr', {
      class: `trace-row row-${t.status}`, 'data-trace-id': t.id, 'data-status': t.status,
      tabindex: 0, onclick: open, onkeydown: (ev) => { if (ev.key === 'Enter') open(); },
    },
    h('td', { class: 'mono' }, h('a', { href: `#trace=${encodeURIComponent(t.id)}` }, fmtClock(t.start_time * 1000))),
    h('td', null, statusBadge(t.status)),
    h('td', { class: 'num' }, fmtMs(t.duration_ms)),
    h('td', null, t.root || '—'),
    h('td', null, (t.functions || []).length ? t.functions.map((f, i) => h('span', { class: 'nowrap' }, f, i < t.functions.length - 1 ? ', ' : '')) : '—'),
    h('td', { class: 'mono small' }, (t.correlation_ids || []).length
      ? t.correlation_ids.map((c) => h('div', null, h('a', { href: `#logs?correlation_id=${encodeURIComponent(c)}`, onclick: (ev) => ev.stopPropagation(), title: 'logs with this correlation id' }, c)))
      : '—'),
    h('td', { class: 'num' }, t.segments));
    return tr;
  });
  body.replaceChildren(h('table', { class: 'grid traces' },
    h('thead', null, h('tr', null, ['Time', 'Status', 'Duration', 'Root', 'Functions', 'Correlation ids (→ logs)', 'Segments'].map((c) => h('th', null, c)))),
    h('tbody', null, rows)));
}
