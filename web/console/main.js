/*
 * main.js: the entry point of the ops console of `feedback-ops dev` (served at
 * /console/main.js, loaded as a module by /ops). No libraries, no build step.
 *
 * It routes by the URL hash to the view modules under views/: #map, #traces, #trace=<id>,
 * #logs, #metrics, #functions, #releases, #faults, #dlq (filters ride along as a query: #logs?correlation_id=X,
 * #traces?status=fault); starts the pollers of the stack and the functions list; and draws
 * the header's stack name, the fault banner and the connection indicator.
 * Rules: every text from the API goes into the DOM as text (createElement/textContent,
 * never innerHTML); only the current view's data is polled, plus /ops/api/functions every
 * 2 s for the fault banner; what is not known is shown as "no data yet", never as zero;
 * when the ops API stops answering the page says so and marks what it shows as stale.
 */

import { api, conn, onConnChange, poll } from './api.js';
import { $, h } from './dom.js';
import { backendFaultText, faultText, faultsActive, fmtAgo, fmtClock } from './format.js';
import { onFunctions, refreshFunctions, state } from './state.js';
import { faultsView } from './views/faults.js';
import { dlqView } from './views/dlq.js';
import { functionsView } from './views/functions.js';
import { logsView } from './views/logs.js';
import { mapView } from './views/map.js';
import { metricsView } from './views/metrics.js';
import { releasesView } from './views/releases.js';
import { traceView } from './views/trace.js';
import { tracesView } from './views/traces.js';

// ───────────────────────────── header, banner, connection ─────────────────────────────

function renderConn() {
  const el = $('#conn');
  const notice = $('#stale-notice');
  const now = Date.now();
  document.body.classList.toggle('stale', conn.failing);
  if (conn.failing) {
    el.className = 'conn conn-lost';
    el.textContent = conn.lastOk
      ? `✖ CONNECTION LOST · last data ${fmtAgo(now - conn.lastOk)}`
      : '✖ CONNECTION LOST · no data';
    notice.hidden = false;
    notice.textContent = conn.lastOk
      ? `⚠ ${conn.reason}. What you see is from ${fmtClock(conn.lastOk)} and is NOT live.`
      : `⚠ ${conn.reason}. Nothing could be loaded.`;
  } else if (!conn.lastOk) {
    el.className = 'conn conn-wait';
    el.textContent = 'connecting…';
    notice.hidden = true;
  } else {
    const age = now - conn.lastOk;
    el.className = age > 6000 ? 'conn conn-old' : 'conn conn-live';
    el.textContent = age > 6000 ? `⚠ no update for ${fmtAgo(age).replace(' ago', '')}` : `● live · updated ${fmtAgo(age)}`;
    notice.hidden = true;
  }
}

function renderBanner() {
  const banner = $('#fault-banner');
  const active = (state.functions || []).filter((f) => faultsActive(f.faults));
  const backend = state.backend && state.backend.active ? state.backend : null;
  if (!active.length && !backend) {
    banner.hidden = true;
    banner.replaceChildren();
    return;
  }
  const parts = active.map((f) => `${f.name} ${faultText(f.faults)}`);
  if (backend) parts.push(`backend (DynamoDB, SQS) ${backendFaultText(backend)}`);
  const staleness = conn.failing ? ` (as last known ${fmtAgo(Date.now() - state.functionsAt)})` : '';
  banner.replaceChildren(
    h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '⚡'),
    h('strong', null, 'FAULT INJECTION ACTIVE: '),
    h('span', { class: 'banner-text' }, parts.join(' · ') + staleness),
    h('a', { href: '#faults', class: 'banner-link' }, 'manage faults'),
  );
  banner.hidden = false;
}

function renderStack() {
  const el = $('#stack-name');
  const st = state.stack;
  if (!st) return;
  el.textContent = `${st.stack_name} · ${st.region} · stage ${st.stage}`;
}

// ───────────────────────────── router ─────────────────────────────

const VIEWS = {
  map: { title: 'Map', mount: mapView },
  traces: { title: 'Traces', mount: tracesView },
  trace: { title: 'Trace', mount: traceView, nav: 'traces' },
  logs: { title: 'Logs', mount: logsView },
  metrics: { title: 'Metrics', mount: metricsView },
  functions: { title: 'Functions', mount: functionsView },
  releases: { title: 'Releases', mount: releasesView },
  faults: { title: 'Faults', mount: faultsView },
  dlq: { title: 'Dead letters', mount: dlqView },
};

function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  if (raw.startsWith('trace=')) {
    let id = raw.slice('trace='.length);
    try { id = decodeURIComponent(id); } catch (_) { /* keep it as written */ }
    return { view: 'trace', arg: id, params: new URLSearchParams() };
  }
  const q = raw.indexOf('?');
  const name = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { view: Object.hasOwn(VIEWS, name) && name !== 'trace' ? name : 'map', arg: null, params };
}

let current = null;

function route() {
  const { view, arg, params } = parseHash();
  if (current && current.view === view && current.arg === arg && current.inst.update) {
    current.inst.update(params);
    return;
  }
  if (current && current.view === view && current.arg === arg) return;
  if (current && current.inst.unmount) current.inst.unmount();
  const root = $('#view');
  root.replaceChildren();
  root.dataset.view = view;
  const def = VIEWS[view];
  const inst = def.mount(root, params, arg) || {};
  current = { view, arg, inst };
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === (def.nav || view)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${def.title} · Ops console${state.stack ? ` · ${state.stack.stack_name}` : ''}`;
  window.scrollTo(0, 0);
}

// ───────────────────────────── start ─────────────────────────────

/** The fault banner sticks just under the header, whatever the header's height. */
function trackHeaderHeight() {
  const root = document.documentElement.style;
  const set = () => {
    root.setProperty('--header-h', `${$('#top').offsetHeight}px`);
    const banner = $('#fault-banner');
    root.setProperty('--banner-h', `${banner.hidden ? 0 : banner.offsetHeight}px`);
  };
  set();
  new ResizeObserver(set).observe($('#top'));
  new ResizeObserver(set).observe($('#fault-banner'));
}

function start() {
  onConnChange(renderConn);
  onFunctions((fresh) => {
    renderBanner();
    if (fresh && current && current.inst.onFunctions) current.inst.onFunctions();
  });
  trackHeaderHeight();
  window.addEventListener('hashchange', route);
  route();
  poll(refreshFunctions, 2000);
  const stopStack = poll(async () => {
    const stack = await api('/stack');
    state.stack = stack;
    renderStack();
    if (current && current.inst.onStack) current.inst.onStack();
    stopStack();
  }, 3000);
  setInterval(() => { renderConn(); if (conn.failing) renderBanner(); }, 500);
  renderConn();
}

start();
