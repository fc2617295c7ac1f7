/*
 * views/logs.js: the log tail (#logs): every function's lines, filtered by correlation id,
 * function, version, level and text (#logs?correlation_id=X), following the newest unless
 * scrolled up. Polls /ops/api/logs every second for the lines after the last one seen.
 */

import { api, conn, poll } from '../api.js';
import { h } from '../dom.js';
import { fmtClock, plural } from '../format.js';
import { functionNames, state } from '../state.js';
import { empty, errorNote, setHashQuiet, viewHeader } from '../widgets.js';

const MAX_LOG_ROWS = 2000;
const LOG_FILTERS = ['correlation_id', 'function', 'version', 'level', 'text'];

function levelBadge(level) {
  const up = level ? String(level).toUpperCase() : null;
  const cls = up === 'ERROR' || up === 'FATAL' ? 'error' : up && up.startsWith('WARN') ? 'warn' : 'plain';
  const icon = cls === 'error' ? '✖ ' : cls === 'warn' ? '▲ ' : '';
  return h('span', { class: `level level-${cls}` }, up ? icon + up : '—');
}

function corrLinks(id) {
  return h('span', { class: 'corr' },
    h('a', { href: `#logs?correlation_id=${encodeURIComponent(id)}`, class: 'corr-id', title: 'logs with this correlation id' }, id),
    ' ',
    h('a', { href: `#traces?correlation_id=${encodeURIComponent(id)}`, class: 'corr-trace', title: 'traces with this correlation id' }, 'trace'));
}

export function logsView(root, params) {
  const inputs = {
    correlation_id: h('input', { id: 'log-correlation', type: 'search', placeholder: 'any', size: 30, 'aria-label': 'correlation id' }),
    function: h('select', { id: 'log-function', 'aria-label': 'function' }),
    version: h('input', { id: 'log-version', type: 'search', placeholder: 'any', size: 4, list: 'log-versions', 'aria-label': 'version' }),
    level: h('select', { id: 'log-level', 'aria-label': 'level' }, ['', 'ERROR', 'WARN', 'INFO', 'DEBUG'].map((l) => h('option', { value: l }, l || 'any level'))),
    text: h('input', { id: 'log-text', type: 'search', placeholder: 'text in the line', size: 14, 'aria-label': 'text' }),
  };
  const versions = h('datalist', { id: 'log-versions' });
  const emf = h('input', { type: 'checkbox', id: 'log-show-emf' });
  const platform = h('input', { type: 'checkbox', id: 'log-show-platform', checked: true });
  const rows = h('div', { id: 'log-rows', class: 'log-rows', role: 'log', 'aria-live': 'off' });
  const tailState = h('span', { class: 'tail-state' });
  const jump = h('button', { type: 'button', class: 'jump', hidden: true }, '↓ newest');
  const active = h('div', { class: 'active-filters' });
  const clearBtn = h('button', { type: 'button' }, 'clear filters');
  root.append(
    viewHeader('Logs', tailState),
    h('form', { class: 'filters', onsubmit: (ev) => ev.preventDefault() },
      h('label', null, 'Correlation id ', inputs.correlation_id), h('label', null, 'Function ', inputs.function),
      h('label', null, 'Version ', inputs.version, versions), h('label', null, 'Level ', inputs.level),
      h('label', null, 'Text ', inputs.text), clearBtn,
      h('label', { class: 'check' }, emf, ' metric (EMF) lines'), h('label', { class: 'check' }, platform, ' START/END/REPORT lines')),
    active, rows, jump);

  let filters = {};
  let gen = 0;
  let lastSeq = null;
  let loaded = false;
  let pendingNew = 0;
  let debounce = 0;

  function fillFunctions() {
    const names = functionNames();
    const want = filters.function || '';
    const options = [h('option', { value: '' }, 'any function'), ...names.map((n) => h('option', { value: n }, n))];
    if (want && !names.includes(want)) options.push(h('option', { value: want }, want));
    inputs.function.replaceChildren(...options);
    inputs.function.value = want;
    const vs = new Set();
    for (const f of state.functions || []) for (const v of f.versions || []) vs.add(v.version);
    versions.replaceChildren(...[...vs].map((v) => h('option', { value: v })));
  }

  function showActive() {
    const chips = LOG_FILTERS.filter((k) => filters[k]).map((k) => h('span', { class: 'chip' }, `${k.replace('_', ' ')} = ${filters[k]}`));
    const extra = filters.correlation_id
      ? h('a', { href: `#traces?correlation_id=${encodeURIComponent(filters.correlation_id)}`, class: 'chip-link' }, 'traces for this correlation id →')
      : null;
    active.replaceChildren(...(chips.length ? [h('span', null, 'Showing only: '), ...chips, extra].filter(Boolean) : [h('span', null, 'Showing every line (no filters).')]));
  }

  function fromParams(p) {
    filters = {};
    for (const k of LOG_FILTERS) {
      const v = p.get(k);
      if (v) filters[k] = v;
    }
    for (const k of LOG_FILTERS) if (k !== 'function') inputs[k].value = filters[k] || '';
    emf.checked = p.get('emf') === '1';
    platform.checked = p.get('platform') !== '0';
    rows.classList.toggle('show-emf', emf.checked);
    rows.classList.toggle('hide-platform', !platform.checked);
    fillFunctions();
    showActive();
  }

  function toParams() {
    const p = new URLSearchParams();
    for (const k of LOG_FILTERS) if (filters[k]) p.set(k, filters[k]);
    if (emf.checked) p.set('emf', '1');
    if (!platform.checked) p.set('platform', '0');
    return p;
  }

  function restart() {
    gen += 1;
    lastSeq = null;
    loaded = false;
    pendingNew = 0;
    rows.replaceChildren(h('p', { class: 'empty', id: 'log-loading' }, 'loading…'));
    jump.hidden = true;
    tick();
  }

  function changed() {
    filters = {};
    for (const k of LOG_FILTERS) {
      const v = inputs[k].value.trim();
      if (v) filters[k] = v;
    }
    setHashQuiet('logs', toParams());
    showActive();
    restart();
  }

  for (const k of LOG_FILTERS) {
    const el = inputs[k];
    if (el.tagName === 'SELECT') el.addEventListener('change', changed);
    else el.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(changed, 400); });
  }
  clearBtn.addEventListener('click', () => { for (const k of LOG_FILTERS) inputs[k].value = ''; changed(); });
  emf.addEventListener('change', () => { rows.classList.toggle('show-emf', emf.checked); setHashQuiet('logs', toParams()); updateTailState(); });
  platform.addEventListener('change', () => { rows.classList.toggle('hide-platform', !platform.checked); setHashQuiet('logs', toParams()); updateTailState(); });

  const atBottom = () => rows.scrollHeight - rows.scrollTop - rows.clientHeight < 40;
  rows.addEventListener('scroll', () => {
    if (atBottom()) { pendingNew = 0; jump.hidden = true; }
    updateTailState();
  });
  jump.addEventListener('click', () => { rows.scrollTop = rows.scrollHeight; pendingNew = 0; jump.hidden = true; updateTailState(); });

  function visibleRows() {
    let selector = '.log-row';
    if (!emf.checked) selector += ':not(.emf)';
    if (!platform.checked) selector += ':not(.log-src-platform)';
    return selector;
  }

  function updateTailState() {
    const n = rows.querySelectorAll(visibleRows()).length;
    const follow = atBottom();
    if (conn.failing) {
      tailState.className = 'tail-state tail-lost';
      tailState.textContent = `✖ tail stopped: the ops API is not answering · ${plural(n, 'line')} shown`;
    } else {
      tailState.className = `tail-state ${follow ? 'tail-live' : 'tail-paused'}`;
      tailState.textContent = `${follow ? '● following new lines' : '‖ scrolled up: not following'} · ${plural(n, 'line')} shown`;
    }
    jump.textContent = pendingNew ? `↓ ${plural(pendingNew, 'new line')}: jump to newest` : '↓ jump to newest';
  }

  let inflight = -1;
  async function tick() {
    const mine = gen;
    if (inflight === mine) return; // this generation already has a request out
    inflight = mine;
    try {
      await fetchLines(mine);
    } finally {
      if (inflight === mine) inflight = -1;
    }
  }

  async function fetchLines(mine) {
    const q = new URLSearchParams();
    for (const k of LOG_FILTERS) if (filters[k]) q.set(k, filters[k]);
    const limit = loaded ? 1000 : 500;
    q.set('limit', String(limit));
    if (lastSeq !== null) q.set('after', String(lastSeq));
    let answer;
    try {
      answer = await api(`/logs?${q}`);
    } catch (error) {
      if (mine === gen && !loaded) rows.replaceChildren(errorNote(error));
      updateTailState();
      return;
    }
    if (mine !== gen) return;
    const follow = atBottom();
    const fresh = [];
    if (!loaded) {
      rows.replaceChildren();
      if (answer.entries.length >= limit) fresh.push(note(`Older lines are not shown: these are the newest ${limit} that match.`));
    } else if (answer.entries.length >= limit) {
      fresh.push(note(`More than ${limit} lines arrived at once: some lines before these are not shown.`));
    }
    loaded = true;
    if (answer.last_seq !== null && answer.last_seq !== undefined) lastSeq = answer.last_seq;
    for (const entry of answer.entries) fresh.push(logRow(entry));
    const hadRows = rows.querySelector('.log-row');
    rows.append(...fresh);
    while (rows.childElementCount > MAX_LOG_ROWS) rows.firstElementChild.remove();
    const none = rows.querySelector('#log-none');
    if (!rows.querySelector('.log-row') && !none) rows.append(h('p', { class: 'empty', id: 'log-none' }, Object.keys(filters).length ? 'No lines match these filters yet: new ones appear here as they arrive.' : 'No log lines yet: send a request (POST /comments).'));
    else if (none && rows.querySelector('.log-row')) none.remove();
    if (follow || !hadRows) rows.scrollTop = rows.scrollHeight;
    else {
      const shown = fresh.filter((el) => el.matches(visibleRows())).length;
      if (shown) {
        pendingNew += shown;
        jump.hidden = false;
      }
    }
    updateTailState();
  }

  fromParams(params);
  restart();
  const stop = poll(tick, 1000);
  return {
    unmount: () => { stop(); gen += 1; clearTimeout(debounce); },
    update: (p) => { fromParams(p); restart(); },
    onStack: fillFunctions,
    onFunctions: () => { if (!state.stack) fillFunctions(); },
  };
}

function note(text) {
  return h('div', { class: 'log-note', role: 'note' }, `⚠ ${text}`);
}

function emfSummary(json) {
  const names = [];
  for (const d of (json._aws && json._aws.CloudWatchMetrics) || []) for (const m of d.Metrics || []) names.push(m.Name);
  return `EMF metrics: ${names.map((n) => `${n}=${JSON.stringify(json[n])}`).join(', ') || '(none)'}`;
}

function logRow(e) {
  const j = e.json && typeof e.json === 'object' ? e.json : null;
  const isEmf = !!(j && j._aws);
  let message;
  if (isEmf) message = emfSummary(j);
  else if (j && typeof j.message === 'string') message = j.message;
  else if (j && j.message !== undefined) message = JSON.stringify(j.message);
  else message = e.message;
  const level = e.level ? String(e.level).toUpperCase() : 'none';
  const classes = ['log-row', `log-${level.toLowerCase()}`, `log-src-${e.source}`];
  if (isEmf) classes.push('emf');
  const extras = [];
  if (j && j.key_activity) extras.push(h('span', { class: 'tag' }, String(j.key_activity)));
  if (j && j.cold_start === true) extras.push(h('span', { class: 'tag tag-cold' }, '❄ cold start'));
  if (j && j.error !== undefined && j.error !== null) {
    extras.push(h('span', { class: 'log-errtext' }, `error: ${typeof j.error === 'string' ? j.error : JSON.stringify(j.error)}`));
  }
  let links = null;
  if (e.correlation_id) links = corrLinks(e.correlation_id);
  else if (j && typeof j.xray_trace_id === 'string') {
    const m = /(?:Root=)?(1-[0-9a-f]{8}-[0-9a-f]{24})/.exec(j.xray_trace_id);
    if (m) links = h('span', { class: 'corr' }, h('a', { href: `#trace=${m[1]}`, class: 'corr-trace', title: 'this line\'s trace' }, 'trace'));
  }
  return h('div', {
    class: classes.join(' '), 'data-level': level, 'data-function': e.function, 'data-seq': e.seq,
    'data-source': e.source, title: `${e.log_group} · ${e.log_stream}${e.request_id ? ` · request ${e.request_id}` : ''}`,
  },
  h('span', { class: 'log-time mono' }, fmtClock(e.timestamp_ms)),
  h('span', { class: 'log-fn' }, e.function, h('span', { class: 'log-ver' }, ` v${e.version}`)),
  levelBadge(e.level),
  h('span', { class: 'log-msg' }, h('span', { class: 'log-text' }, message), extras),
  h('span', { class: 'log-links' }, links));
}
