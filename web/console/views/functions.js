/*
 * views/functions.js: the functions and versions (#functions): one card per function with its
 * versions, aliases, deployment, routes, event sources and execution environments. Draws
 * from the shared functions list; polls /ops/api/deployments (newest first) every 5 s.
 */

import { api, conn, poll } from '../api.js';
import { h } from '../dom.js';
import { faultText, faultsActive, fmtMs, fmtPct } from '../format.js';
import { state } from '../state.js';
import { empty, viewHeader } from '../widgets.js';

const ENV_ICON = { idle: '● idle', busy: '◉ busy', initializing: '◌ initializing', restarting: '↻ restarting', failed: '✖ failed' };

export function functionsView(root) {
  const body = h('div', { class: 'fn-grid' });
  root.append(viewHeader('Functions and versions'), body);
  let deployments = null;
  let last = '';
  const render = () => {
    if (!state.functions) {
      body.replaceChildren(empty(conn.failing ? 'No data: the ops API is not answering.' : 'loading…'));
      return;
    }
    const sig = JSON.stringify([state.functions, deployments, state.stack && state.stack.not_hosted, state.stack && state.stack.build_profile]);
    if (sig === last) return;
    last = sig;
    const cards = state.functions.map((f) => functionCard(f, (deployments || []).find((d) => d.function === f.name)));
    for (const name of (state.stack && state.stack.not_hosted) || []) {
      cards.push(h('section', { class: 'fn-card fn-not-hosted', 'data-function': name },
        h('h2', null, name), h('p', { class: 'big-note' }, '⊘ not invoked by traffic'),
        h('p', null, 'Declared in the template; a deployment (POST /ops/api/deployments) runs it before any traffic shifts, as CodeDeploy does.')));
    }
    body.replaceChildren(...cards);
  };
  const stop = poll(async () => {
    try {
      deployments = await api('/deployments');
    } catch (_) {
      deployments = deployments || null;
    }
    render();
  }, 5000);
  render();
  return { unmount: stop, onFunctions: render };
}

function functionCard(f, deployment) {
  const faulty = faultsActive(f.faults);
  const aliases = (f.aliases || []).map((a) => {
    const weights = Object.entries(a.weights || {}).map(([v, w]) => `${v} (${fmtPct(w)})`).join(' + ');
    return h('li', { class: 'alias' }, h('strong', null, a.name), ` → ${weights || '?'}`);
  });
  const envRows = (f.environments || []).map((e) => h('tr', { 'data-env-state': e.state, class: `env-${e.state}` },
    h('td', { class: 'num' }, e.slot),
    h('td', { class: 'mono' }, e.version || '—'),
    h('td', null, h('span', { class: `env-state env-state-${e.state}` }, ENV_ICON[e.state] || e.state)),
    h('td', { class: 'mono num' }, e.pid === null || e.pid === undefined ? '—' : e.pid),
    h('td', { class: 'num' }, e.init_duration_ms === null || e.init_duration_ms === undefined ? '—' : fmtMs(e.init_duration_ms)),
    h('td', { class: 'num' }, e.invocations),
    h('td', { class: 'num' }, e.processes_started),
    h('td', { class: e.last_exit ? 'warn-text' : '' }, e.last_exit ? `▲ ${e.last_exit}` : '—')));
  const sources = (f.event_sources || []).map((src) => h('li', null,
    `${src.queue} · batch ${src.batch_size} · window ${src.batching_window_secs} s · partial batch failures ${src.report_batch_item_failures ? 'on' : 'off'}`));
  return h('section', { class: `fn-card${faulty ? ' fn-faulty' : ''}`, 'data-function': f.name },
    h('h2', null, f.name, faulty ? h('span', { class: 'fault-chip' }, `⚡ FAULT: ${faultText(f.faults)}`) : null),
    h('p', { class: 'mono small' }, f.function_name),
    h('div', { class: 'fn-stats' },
      h('div', null, h('span', { class: 'stat' }, f.invocations), ' invocations'),
      h('div', { class: f.errors ? 'bad-text' : '' }, h('span', { class: 'stat' }, f.errors), f.errors ? ' ✖ errors' : ' errors'),
      h('div', null, h('span', { class: 'stat' }, `${f.memory_mb}`), ' MB · ', h('span', { class: 'stat' }, `${f.timeout_secs}`), ' s timeout')),
    h('dl', { class: 'facts' },
      h('div', null, h('dt', null, 'Versions'), h('dd', null, (f.versions || []).map((v) => h('div', null, h('strong', null, v.version), v.description ? ` · ${v.description}` : '')))),
      h('div', null, h('dt', null, 'Aliases'), h('dd', null, aliases.length ? h('ul', { class: 'plain' }, aliases) : 'none')),
      h('div', null, h('dt', null, 'Last deployment'), h('dd', null, deployment ? `${deployment.status}: version ${deployment.from_version} → ${deployment.to_version} (${deployment.config})` : 'none')),
      h('div', null, h('dt', null, 'Routes'), h('dd', null, (f.routes || []).length ? f.routes.join(', ') : 'none')),
      h('div', null, h('dt', null, 'Event sources'), h('dd', null, sources.length ? h('ul', { class: 'plain' }, sources) : 'none')),
      h('div', null, h('dt', null, 'Init durations'), h('dd', null, (f.init_durations_ms || []).length ? f.init_durations_ms.map(fmtMs).join(', ') : 'none yet')),
      h('div', null, h('dt', null, 'Build'), h('dd', { class: buildClass() }, buildText()))),
    h('table', { class: 'grid envs' },
      h('caption', null, 'Execution environments'),
      h('thead', null, h('tr', null, ['#', 'Version', 'State', 'PID', 'Init', 'Invocations', 'Processes', 'Last exit'].map((c) => h('th', null, c)))),
      h('tbody', null, envRows)),
    h('p', { class: 'small' }, h('a', { href: `#logs?function=${encodeURIComponent(f.name)}` }, 'logs'), ' · ',
      h('a', { href: `#traces?function=${encodeURIComponent(f.name)}` }, 'traces'), ' · ',
      h('a', { href: '#faults' }, 'faults')));
}

/** The cargo profile the binaries were built with, as the stack reports it. */
function buildText() {
  const profile = state.stack && state.stack.build_profile;
  if (!profile) return 'no data yet';
  return profile === 'debug' ? 'debug (unoptimised: init times several times a release build\'s)' : `${profile} profile (optimised)`;
}

function buildClass() {
  return state.stack && state.stack.build_profile === 'debug' ? 'bad-text' : '';
}
