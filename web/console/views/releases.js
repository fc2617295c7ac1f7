/*
 * views/releases.js: releases (#releases): per deployable function (one with a `live`
 * alias) a card with its published versions, the live alias's weights now and over time,
 * its latest deployment with its events as they happen, the alarms that deployment
 * watches, and a form to deploy (POST /ops/api/deployments, with an optional configuration
 * or environment change and a fault baked in) or to stop and roll back (POST
 * /ops/api/deployments/<id>/stop). A red banner stands at the top while a deployment is
 * rolling back or for a minute after one was stopped or failed.
 * Draws versions and aliases from the shared functions list; polls /ops/api/deployments
 * and /ops/api/alarms every second while a deployment is in progress, else every 5 s.
 */

import { api, conn } from '../api.js';
import { h } from '../dom.js';
import { fmtClock, fmtPct } from '../format.js';
import { refreshFunctions, state } from '../state.js';
import { empty, viewHeader } from '../widgets.js';

/** The configurations a deployment may ask for (omitted: the template's). */
const CONFIGS = [
  'AllAtOnce',
  'Canary10Percent5Minutes',
  'Canary10Percent10Minutes',
  'Canary10Percent15Minutes',
  'Canary10Percent30Minutes',
  'Linear10PercentEvery1Minute',
  'Linear10PercentEvery2Minutes',
  'Linear10PercentEvery3Minutes',
  'Linear10PercentEvery10Minutes',
];

const FAST_MS = 1000;
const SLOW_MS = 5000;
/** How long the banner stays after a deployment stopped or failed. */
const BANNER_MS = 60_000;
/** How many weight changes the "over time" strip shows (the latest). */
const STRIP_STEPS = 10;

const KIND_CLASS = {
  HookSucceeded: 'ok', Promoted: 'ok', Succeeded: 'ok', VersionsPruned: 'plain',
  HookFailed: 'bad', RollingBack: 'bad', RolledBack: 'bad', Failed: 'bad', Stopped: 'bad',
  AlarmStateChanged: 'warn',
};
const STATUS_ICON = { Created: '◌', InProgress: '◉', Succeeded: '✔', Failed: '✖', Stopped: '✖' };
const ALARM_ICON = { OK: '✔ OK', ALARM: '✖ ALARM', INSUFFICIENT_DATA: '? INSUFFICIENT_DATA' };

const inProgress = (d) => !!d && (d.status === 'Created' || d.status === 'InProgress');
const isLive = (f) => (f.aliases || []).some((a) => a.name === 'live');
const liveAlias = (f) => (f.aliases || []).find((a) => a.name === 'live') || null;
const lastEvent = (d) => (d && d.events && d.events.length ? d.events[d.events.length - 1] : null);

/** A version's colour, the same in the bar and the strip. */
function versionClass(version) {
  const n = Number.parseInt(version, 10);
  return Number.isFinite(n) ? `ver-c${(n - 1) % 6}` : 'ver-cx';
}

/** Weights as read: "1 · 90% | 2 · 10%", versions in ascending order. */
function weightsText(weights) {
  const entries = sortedWeights(weights);
  return entries.length ? entries.map(([v, w]) => `${v} · ${fmtPct(w)}`).join(' | ') : 'no data yet';
}

function sortedWeights(weights) {
  return Object.entries(weights || {}).sort((a, b) => Number(a[0]) - Number(b[0]));
}

function fmtOffset(ms) {
  return `+${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}

/** The part of a final message before its "; …" (stopped by X; rolled back to version 2). */
const firstClause = (text) => String(text || '').split(';')[0];

export function releasesView(root) {
  const banner = h('div', { id: 'release-banner', class: 'release-banner', role: 'alert', hidden: true });
  const updated = h('span', { class: 'release-updated sub', role: 'status' }, 'no data yet');
  const body = h('div', { class: 'release-grid' });
  root.append(
    viewHeader('Releases', h('span', { class: 'sub' }, 'versions, the live alias, deployments and their alarms'), updated),
    banner, body);

  let deployments = null; // the last /ops/api/deployments answer, newest first
  let deploymentsAt = 0;
  let deploymentsError = null;
  let alarms = null; // the last /ops/api/alarms answer
  let alarmsError = null;
  const cards = new Map();
  let built = false;
  let lastSig = '';

  // ───────── polling: fast while a deployment runs, slow otherwise; kick() asks now ─────────
  let stopped = false;
  let timer = 0;
  let running = false;
  let again = false;
  const anyInProgress = () => (deployments || []).some(inProgress);
  async function tick() {
    if (stopped) return;
    if (running) { again = true; return; }
    running = true;
    clearTimeout(timer);
    const [d, a] = await Promise.allSettled([api('/deployments'), api('/alarms')]);
    running = false;
    if (stopped) return;
    if (d.status === 'fulfilled' && Array.isArray(d.value)) {
      deployments = d.value;
      deploymentsAt = Date.now();
      deploymentsError = null;
    } else if (d.status === 'rejected') {
      deploymentsError = d.reason;
    }
    if (a.status === 'fulfilled' && Array.isArray(a.value)) {
      alarms = a.value;
      alarmsError = null;
    } else if (a.status === 'rejected') {
      alarmsError = a.reason;
    }
    const sig = JSON.stringify(deployments);
    // The alias and the versions change with the deployments: ask for them now, not in 2 s.
    if (sig !== lastSig && lastSig !== '') refreshFunctions();
    lastSig = sig;
    render();
    if (again) { again = false; tick(); return; }
    timer = setTimeout(tick, anyInProgress() ? FAST_MS : SLOW_MS);
  }
  const kick = () => { if (!stopped) tick(); };
  // The banner's minute and the staleness note move on without new data.
  const clock = setInterval(() => { renderBanner(); renderUpdated(); }, 1000);

  // ───────── drawing ─────────

  function renderUpdated() {
    if (conn.failing || deploymentsError) {
      updated.className = 'release-updated bad-text';
      updated.textContent = deploymentsAt
        ? `⚠ not live: as last known at ${fmtClock(deploymentsAt)}${deploymentsError ? ` (${deploymentsError.message})` : ''}`
        : `⚠ no data: ${deploymentsError ? deploymentsError.message : conn.reason}`;
    } else {
      updated.className = 'release-updated sub';
      updated.textContent = deploymentsAt
        ? `deployments polled every ${anyInProgress() ? '1 s (one is in progress)' : '5 s'} · ${fmtClock(deploymentsAt)}`
        : 'no data yet';
    }
  }

  function renderBanner() {
    const now = Date.now();
    const latest = new Map();
    for (const d of deployments || []) if (!latest.has(d.function)) latest.set(d.function, d);
    const lines = [];
    for (const d of latest.values()) {
      const last = lastEvent(d);
      if (!last) continue;
      const rolledBack = d.events.some((e) => e.kind === 'RolledBack');
      if (inProgress(d) && last.kind === 'RollingBack') {
        lines.push([d, 'ROLLING BACK', `${d.function} version ${d.to_version} — ${last.message.replace(/^rolling back: /, '')}`]);
      } else if ((d.status === 'Stopped' || d.status === 'Failed') && now - last.at_ms < BANNER_MS) {
        const head = rolledBack || d.status === 'Stopped' ? 'ROLLED BACK' : 'DEPLOYMENT FAILED';
        const why = rolledBack || d.status === 'Stopped' ? firstClause(last.message) : last.message;
        lines.push([d, head, `${d.function} version ${d.to_version} — ${why} (${fmtClock(last.at_ms)})`]);
      }
    }
    const sig = JSON.stringify(lines.map(([d, head, text]) => [d.id, head, text]));
    if (banner.dataset.sig === sig) return;
    banner.dataset.sig = sig;
    banner.hidden = !lines.length;
    banner.classList.toggle('rolling-back', lines.length > 0);
    banner.replaceChildren(...lines.map(([d, head, text]) => h('p', { 'data-function': d.function, 'data-deployment-id': d.id },
      h('span', { class: 'banner-icon', 'aria-hidden': 'true' }, '↺ '), h('strong', null, `${head}: `), text)));
  }

  function render() {
    renderUpdated();
    renderBanner();
    if (!state.functions) {
      if (!cards.size) body.replaceChildren(empty(conn.failing ? 'No data: the ops API is not answering.' : 'no data yet'));
      return;
    }
    const deployable = state.functions.filter(isLive);
    const names = deployable.map((f) => f.name).join();
    if (!built || [...cards.keys()].join() !== names) {
      built = true;
      cards.clear();
      for (const f of deployable) cards.set(f.name, releaseCard(f.name, kick));
      body.replaceChildren(...[...cards.values()].map((c) => c.el));
      if (!deployable.length) body.append(empty('No function has a live alias: nothing to deploy.'));
    }
    for (const f of deployable) {
      const mine = deployments ? deployments.filter((d) => d.function === f.name) : null;
      cards.get(f.name).update(f, mine, alarms, alarmsError);
    }
  }

  render();
  tick();
  return {
    onFunctions: render,
    unmount: () => { stopped = true; clearTimeout(timer); clearInterval(clock); },
  };
}

/**
 * One function's card. Built once, its parts redrawn when their data change, so that the
 * form keeps what the presenter typed.
 */
function releaseCard(name, kick) {
  const liveEl = h('div', { class: 'release-live' });
  const stripEl = h('div', { class: 'weights-strip-box' });
  const versionsEl = h('div', { class: 'release-versions' });
  const deployEl = h('div', { class: 'release-deployment' });
  const alarmsEl = h('div', { class: 'release-alarms' });
  const form = deployForm(name, kick);
  const el = h('section', { class: 'release-card', 'data-function': name },
    h('h2', null, name),
    h('div', { class: 'release-part' }, h('h3', null, 'Live alias'), liveEl),
    h('div', { class: 'release-part' }, h('h3', null, 'Weights over time'), stripEl),
    h('div', { class: 'release-cols' },
      h('div', { class: 'release-part' }, h('h3', null, 'Versions'), versionsEl),
      h('div', { class: 'release-part' }, h('h3', null, 'Alarms'), alarmsEl)),
    h('div', { class: 'release-part' }, h('h3', null, 'Latest deployment'), deployEl),
    h('div', { class: 'release-part' }, h('h3', null, 'Deploy'), form.el));
  const sigs = {};
  const changed = (part, value) => {
    const sig = JSON.stringify(value);
    if (sigs[part] === sig) return false;
    sigs[part] = sig;
    return true;
  };

  function update(f, mine, alarms, alarmsError) {
    const alias = liveAlias(f);
    const latest = mine && mine.length ? mine[0] : null;
    el.classList.toggle('deploying', inProgress(latest));
    if (changed('live', alias)) liveEl.replaceChildren(weightsBar(alias));
    if (changed('strip', [mine, alias && alias.weights])) stripEl.replaceChildren(weightsStrip(mine, alias));
    if (changed('versions', [f.versions, alias])) versionsEl.replaceChildren(versionList(f, alias));
    if (changed('deploy', [latest, mine ? mine.length : null])) deployEl.replaceChildren(deploymentBlock(latest, mine));
    const watched = watchedAlarms(f.deployment_preference, latest, alarms);
    if (changed('preference', f.deployment_preference)) form.setPreference(f.deployment_preference);
    if (changed('alarms', [watched, !!alarmsError && !alarms])) alarmsEl.replaceChildren(alarmList(watched, alarms, alarmsError));
    form.setRunning(mine === null ? null : (inProgress(latest) ? latest : false));
  }
  return { el, update };
}

function weightsBar(alias) {
  if (!alias) return empty('no data yet');
  const entries = sortedWeights(alias.weights);
  return h('div', null,
    h('div', { class: 'weights-bar', 'data-weights': JSON.stringify(alias.weights || {}), 'aria-label': `live: ${weightsText(alias.weights)}` },
      entries.map(([v, w]) => h('span', {
        class: `wb-seg ${versionClass(v)}`, 'data-version': v, style: { 'flex-grow': String(Math.max(w, 0.0001)) },
      }, `${v} · ${fmtPct(w)}`))),
    h('p', { class: 'weights-text' }, h('strong', null, 'live'), ' → ', weightsText(alias.weights)));
}

/** Each weight change of the function's deployments, oldest first, as a stacked column. */
function weightsStrip(mine, alias) {
  if (mine === null) return empty('no data yet');
  const points = [];
  const oldestFirst = [...mine].reverse();
  for (const d of oldestFirst) {
    if (!points.length) points.push({ at: d.created_ms, kind: 'before', weights: { [d.from_version]: 1 } });
    for (const e of d.events || []) {
      if (e.weights) points.push({ at: e.at_ms, kind: e.kind, weights: e.weights });
    }
  }
  if (!points.length) {
    return h('p', { class: 'small sub' }, alias ? `no deployment yet: ${weightsText(alias.weights)} since the stack started` : 'no data yet');
  }
  const shown = points.slice(-STRIP_STEPS);
  return h('div', { class: 'weights-strip', role: 'list' },
    points.length > shown.length ? h('span', { class: 'ws-more', title: `${points.length - shown.length} earlier` }, '…') : null,
    shown.map((p) => h('div', {
      class: 'ws-step', role: 'listitem', 'data-weights': JSON.stringify(p.weights), title: `${fmtClock(p.at)} ${p.kind}: ${weightsText(p.weights)}`,
    },
    h('div', { class: 'ws-col' }, sortedWeights(p.weights).reverse().map(([v, w]) => h('span', {
      class: `ws-seg ${versionClass(v)}`, style: { 'flex-grow': String(Math.max(w, 0.0001)) },
    }, w >= 0.25 ? v : ''))),
    h('span', { class: 'ws-label' }, fmtClock(p.at).slice(0, 8)),
    h('span', { class: 'ws-kind' }, p.kind === 'before' ? 'before' : p.kind.replace('TrafficShifted', 'shift')))));
}

function versionList(f, alias) {
  const published = (f.versions || []).filter((v) => v.version !== '$LATEST')
    .sort((a, b) => Number(b.version) - Number(a.version));
  if (!published.length) return empty('no published version');
  const weights = (alias && alias.weights) || {};
  return h('ol', { class: 'version-list' }, published.map((v) => {
    const onLive = Object.hasOwn(weights, v.version);
    return h('li', { 'data-version': v.version, class: onLive ? 'on-live' : '' },
      h('span', { class: `ver-num ${versionClass(v.version)}` }, v.version),
      h('span', { class: 'mono small ver-hash', title: `code SHA-256 ${v.code_sha256}` }, String(v.code_sha256 || '—').slice(0, 8)),
      onLive ? h('span', { class: 'live-chip' }, `live ${fmtPct(weights[v.version])}`) : null,
      h('span', { class: 'ver-desc small' }, v.description || ''));
  }));
}

function deploymentBlock(d, mine) {
  if (mine === null) return empty('no data yet');
  if (!d) return empty('none yet');
  const t0 = d.events && d.events.length ? d.events[0].at_ms : d.created_ms;
  return h('div', { class: `deployment deployment-${String(d.status).toLowerCase()}`, 'data-deployment-id': d.id },
    h('p', { class: 'deployment-head' },
      h('span', { class: `deploy-status status-${String(d.status).toLowerCase()}`, 'data-deployment-status': d.status }, `${STATUS_ICON[d.status] || ''} ${d.status}`),
      ' version ', h('strong', null, d.from_version), ' → ', h('strong', null, d.to_version),
      ' · ', h('span', { class: 'mono' }, d.config)),
    h('p', { class: 'small sub' }, h('span', { class: 'mono' }, d.id), ` · created ${fmtClock(d.created_ms)}`,
      mine.length > 1 ? ` · ${mine.length - 1} earlier` : ''),
    h('ol', { class: 'deploy-events' }, (d.events || []).map((e) => h('li', { 'data-kind': e.kind, class: `ev-${KIND_CLASS[e.kind] || 'plain'}` },
      h('span', { class: 'ev-at' }, fmtOffset(e.at_ms - t0)),
      h('span', { class: 'ev-kind' }, e.kind),
      h('span', { class: 'ev-msg' }, e.message)))));
}

/** The alarms the function's deployments watch: the template's DeploymentPreference's. */
function watchedAlarms(preference, latest, alarms) {
  if (latest && Array.isArray(latest.alarms)) {
    return { source: 'watched by its latest deployment', names: latest.alarms, states: states(latest.alarms, alarms) };
  }
  const names = (preference && preference.alarms) || [];
  return { source: preference ? 'its DeploymentPreference\'s rollback alarms' : '', names, states: states(names, alarms) };
}

function states(names, alarms) {
  return names.map((n) => {
    const a = (alarms || []).find((x) => x.name === n);
    return a ? [a.state, a.reason] : null;
  });
}

function alarmList(watched, alarms, alarmsError) {
  if (!alarms && !watched.names.length) return empty(alarmsError ? `no data: ${alarmsError.message}` : 'no data yet');
  if (!watched.names.length) return empty('none');
  return h('div', null,
    h('ul', { class: 'alarm-list' }, watched.names.map((n, i) => {
      const st = watched.states[i];
      const state = st ? st[0] : 'UNKNOWN';
      return h('li', { 'data-alarm': n, 'data-alarm-state': state, class: `alarm alarm-${state.toLowerCase()}`, title: st ? st[1] : '' },
        h('span', { class: 'alarm-state' }, st ? (ALARM_ICON[state] || state) : 'no data yet'),
        h('span', { class: 'alarm-name mono' }, n));
    })),
    watched.source ? h('p', { class: 'small sub' }, watched.source) : null);
}

/** NAME=VALUE lines → an object; a line that is not one throws its number. */
function parseEnvironment(text) {
  const env = {};
  const lines = String(text).split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? '' : line.slice(0, eq).trim();
    if (!key) throw new Error(`environment line ${i + 1} is not NAME=VALUE: ${line}`);
    env[key] = line.slice(eq + 1).trim();
  });
  return env;
}

function deployForm(name, kick) {
  const id = (part) => `deploy-${name}-${part}`;
  const config = h('select', { class: 'deploy-config', id: id('config'), name: 'config' },
    h('option', { value: '' }, "template's"),
    CONFIGS.map((c) => h('option', { value: c }, c)));
  const env = h('textarea', { class: 'deploy-env', id: id('env'), name: 'environment', rows: 2, placeholder: 'NAME=VALUE, one a line', spellcheck: 'false' });
  const rate = h('input', { type: 'number', class: 'deploy-error-rate', id: id('rate'), name: 'error_rate', min: 0, max: 1, step: 0.05, placeholder: 'none' });
  const deployButton = h('button', { type: 'submit', class: 'deploy-button apply' }, 'Deploy');
  const stopButton = h('button', { type: 'button', class: 'stop-button danger', hidden: true }, '■ Stop and roll back');
  const error = h('p', { class: 'deploy-error bad-text', role: 'alert', hidden: true });
  const result = h('p', { class: 'deploy-result', role: 'status' });
  let posting = false;
  let running = null; // the deployment in progress, false when none, null when not known

  const showError = (text) => {
    error.hidden = !text;
    error.textContent = text ? `✖ ${text}` : '';
  };
  const sync = () => {
    deployButton.disabled = posting || !!running;
    stopButton.hidden = !running;
    stopButton.disabled = posting;
    deployButton.title = running ? `deployment ${running.id} is in progress` : '';
  };

  const el = h('form', { class: 'deploy-form', 'data-function': name, novalidate: true },
    h('div', { class: 'deploy-row' },
      h('label', { for: id('config') }, 'Configuration'), config),
    h('div', { class: 'deploy-row' },
      h('label', { for: id('env') }, 'Environment change'), env),
    h('div', { class: 'deploy-row' },
      h('label', { for: id('rate') }, 'Fault error rate (0–1)'), rate),
    h('div', { class: 'deploy-row deploy-buttons' }, deployButton, stopButton),
    error, result);

  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (posting || running) return;
    const request = { function: name };
    try {
      if (config.value) request.config = config.value;
      const environment = parseEnvironment(env.value);
      if (Object.keys(environment).length) request.environment = environment;
      if (rate.validity.badInput) throw new Error('the fault error rate is not a number');
      if (rate.value.trim() !== '') request.faults = { error_rate: Number(rate.value) };
    } catch (problem) {
      showError(problem.message);
      return;
    }
    posting = true;
    sync();
    showError('');
    result.className = 'deploy-result';
    result.textContent = 'publishing a new version…';
    try {
      const answer = await api('/deployments', {
        method: 'POST', body: JSON.stringify(request), headers: { 'content-type': 'application/json' },
      });
      result.className = 'deploy-result ok-text';
      result.textContent = `✔ deployment ${answer.id} started (${fmtClock(Date.now())})`;
      el.reset();
    } catch (problem) {
      result.textContent = '';
      showError(problem.message);
    } finally {
      posting = false;
      sync();
      kick();
      refreshFunctions();
    }
  });

  stopButton.addEventListener('click', async () => {
    if (!running || posting) return;
    const target = running.id;
    posting = true;
    sync();
    showError('');
    try {
      await api(`/deployments/${encodeURIComponent(target)}/stop`, { method: 'POST' });
      result.className = 'deploy-result warn-text';
      result.textContent = `■ stop of ${target} requested: rolling back (${fmtClock(Date.now())})`;
    } catch (problem) {
      showError(problem.message);
    } finally {
      posting = false;
      sync();
      kick();
    }
  });

  sync();
  return {
    el,
    setRunning(deployment) {
      running = deployment;
      sync();
    },
    /** Says which configuration "template's" is (the DeploymentPreference's). */
    setPreference(preference) {
      config.options[0].textContent = preference && preference.config ? `template's (${preference.config})` : "template's";
    },
  };
}
