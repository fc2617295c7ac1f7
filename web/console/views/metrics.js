/*
 * views/metrics.js: the metrics (#metrics): the last 5 minutes in 10-second buckets, per
 * function (AWS/Lambda invocations, errors, duration) and per business metric (EMF), one
 * colour per version, as SVG charts. Polls /ops/api/metrics every 5 s.
 */

import { api, poll } from '../api.js';
import { h, s } from '../dom.js';
import { fmtClock, fmtMs } from '../format.js';
import { functionNames, shortName, state } from '../state.js';
import { empty, errorNote, viewHeader } from '../widgets.js';

const BUCKET_MS = 10000;
const WINDOW_MS = 5 * 60 * 1000;
const PALETTE = ['#0b4f9c', '#b35c00', '#6a2c91', '#00796b', '#8a1c3a'];
const ERROR_PALETTE = ['#b00020', '#e0607a', '#5c0011'];
const EMF_ORDER = ['CommentsAccepted', 'CommentsStored', 'DuplicatesSkipped', 'ValidationRejected', 'BatchItemFailures', 'PoisonMessages', 'InvocationErrors', 'ColdStart', 'DependencyLatency'];

export function metricsView(root) {
  const body = h('div', { class: 'metrics-body' });
  root.append(viewHeader('Metrics', h('span', { class: 'sub' }, 'last 5 minutes, 10-second buckets, one colour per version')), body);
  let series = null;
  const stop = poll(async () => {
    try {
      const answer = await api('/metrics');
      series = answer.series || [];
      renderMetrics(body, series);
    } catch (error) {
      if (!body.firstChild) body.replaceChildren(errorNote(error));
    }
  }, 5000);
  return { unmount: stop, onStack: () => { if (series) renderMetrics(body, series); } };
}

function windowNow() {
  const end = Math.ceil(Date.now() / BUCKET_MS) * BUCKET_MS;
  const start = end - WINDOW_MS;
  return { start, end, n: WINDOW_MS / BUCKET_MS };
}

/** Per bucket: the values that fell in it, or null where nothing could have been recorded. */
function bucketize(points, win, knownFrom) {
  const out = [];
  for (let i = 0; i < win.n; i += 1) {
    const bEnd = win.start + (i + 1) * BUCKET_MS;
    out.push(bEnd > knownFrom ? [] : null);
  }
  for (const [ts, v] of points) {
    const i = Math.floor((ts - win.start) / BUCKET_MS);
    if (i >= 0 && i < win.n) {
      if (out[i] === null) out[i] = [];
      out[i].push(v);
    }
  }
  return out;
}

const sum = (vs) => (vs === null ? null : vs.reduce((a, b) => a + b, 0));
const maxOf = (vs) => (vs === null || !vs.length ? null : vs.reduce((a, b) => (b > a ? b : a), -Infinity));
/** The earliest or latest timestamp of some series (no spread: there may be 100 000 points). */
function pointTime(list, pick) {
  let best = pick === 'min' ? Infinity : -Infinity;
  for (const sr of list) for (const [ts] of sr.points) best = pick === 'min' ? Math.min(best, ts) : Math.max(best, ts);
  return best;
}
function p50(vs) {
  if (vs === null || !vs.length) return null;
  const sorted = [...vs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(0.5 * sorted.length) - 1)];
}

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const unitLabel = (unit) => (unit === 'Milliseconds' ? 'ms' : unit === 'Count' || unit === 'None' || !unit ? 'count' : unit.toLowerCase());

/** An SVG chart: kind 'bars' (values per bucket) or 'lines' (null = gap). */
function chart({ kind, series, yTitle, win }) {
  const W = 460;
  const H = 190;
  const L = 64;
  const R = 10;
  const T = 12;
  const B = 38;
  const pw = W - L - R;
  const ph = H - T - B;
  const all = series.flatMap((sr) => sr.values).filter((v) => v !== null);
  const yMax = niceMax(Math.max(0, ...all));
  const n = win.n;
  const bw = pw / n;
  const x = (i) => L + i * bw;
  const y = (v) => T + ph - (v / yMax) * ph;
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': yTitle });
  // Where nothing could be known (before the stack started): shaded, not zero.
  const unknown = series.length ? series[0].values : [];
  for (let i = 0; i < n; i += 1) {
    if (unknown[i] === null && kind === 'bars') svg.append(s('rect', { class: 'unknown', x: x(i), y: T, width: bw, height: ph }, s('title', null, 'no data: the stack was not running')));
  }
  for (const f of [0, 0.5, 1]) {
    const v = yMax * f;
    svg.append(s('line', { class: 'gridline', x1: L, x2: W - R, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: L - 6, y: y(v) + 5, 'text-anchor': 'end' }, Number.isInteger(v) ? String(v) : v.toFixed(1)));
  }
  svg.append(s('text', { class: 'axis axis-title', transform: `translate(14,${T + ph / 2}) rotate(-90)`, 'text-anchor': 'middle' }, yTitle));
  for (const [i, label] of [[0, '−5 min'], [n / 2, '−2.5 min'], [n, 'now']]) {
    svg.append(s('text', { class: 'axis', x: x(i), y: H - 10, 'text-anchor': i === 0 ? 'start' : i === n ? 'end' : 'middle' }, label));
  }
  svg.append(s('line', { class: 'baseline', x1: L, x2: W - R, y1: y(0), y2: y(0) }));
  if (kind === 'bars') {
    const k = series.length || 1;
    series.forEach((sr, si) => {
      sr.values.forEach((v, i) => {
        if (v === null || v <= 0) return;
        const bx = x(i) + 1 + (si * (bw - 2)) / k;
        svg.append(s('rect', { class: sr.cls || 'bar', x: bx, y: y(v), width: Math.max(1, (bw - 2) / k), height: y(0) - y(v), fill: sr.color },
          s('title', null, `${sr.label}: ${v}`)));
      });
    });
  } else {
    for (const sr of series) {
      let d = '';
      let pen = false;
      sr.values.forEach((v, i) => {
        if (v === null) { pen = false; return; }
        d += `${pen ? 'L' : 'M'}${(x(i) + bw / 2).toFixed(1)},${y(v).toFixed(1)} `;
        pen = true;
        svg.append(s('circle', { cx: x(i) + bw / 2, cy: y(v), r: 3.5, fill: sr.color }, s('title', null, `${sr.label}: ${fmtMs(v)}`)));
      });
      if (d) svg.append(s('path', { d, class: 'line', stroke: sr.color, 'stroke-dasharray': sr.dash || null }));
    }
  }
  return svg;
}

function chartLegend(series) {
  return h('ul', { class: 'chart-legend' }, series.map((sr) => h('li', null,
    s('svg', { width: 30, height: 12, 'aria-hidden': 'true' }, s('line', { x1: 0, x2: 30, y1: 6, y2: 6, stroke: sr.color, 'stroke-width': 4, 'stroke-dasharray': sr.dash || null })),
    ' ', sr.label)));
}

function chartCard(title, summary, body) {
  return h('figure', { class: 'chart-card' }, h('figcaption', null, h('span', { class: 'chart-title' }, title), summary ? h('span', { class: 'chart-sum' }, summary) : null), body);
}

function versionOf(dims) {
  return dims.ExecutedVersion || dims.function_version || '?';
}

function renderMetrics(body, allSeries) {
  const win = windowNow();
  const started = state.stack && state.stack.started_ms;
  const earliest = pointTime(allSeries, 'min');
  const knownFrom = started || (isFinite(earliest) ? earliest : win.end);
  const lastPoint = (list) => pointTime(list, 'max');

  // Per function: AWS/Lambda Invocations, Errors, Duration, one series per version.
  const lambda = allSeries.filter((sr) => sr.namespace === 'AWS/Lambda');
  const fnNames = [...new Set([...functionNames(), ...lambda.map((sr) => sr.dimensions.function || sr.dimensions.FunctionName)])];
  const fnCards = fnNames.map((name) => {
    const mine = lambda.filter((sr) => (sr.dimensions.function || sr.dimensions.FunctionName) === name);
    const byName = (metric) => mine.filter((sr) => sr.name === metric);
    const card = h('section', { class: 'metric-fn', 'data-metrics-function': name }, h('h2', null, name));
    if (!mine.length) {
      card.append(empty('No data yet: this function has not been invoked.'));
      return card;
    }
    const versions = [...new Set(mine.map((sr) => versionOf(sr.dimensions)))].sort();
    const color = (v) => PALETTE[versions.indexOf(v) % PALETTE.length];
    const perVersion = (metric, agg) => byName(metric).map((sr) => ({
      label: `v${versionOf(sr.dimensions)}`, color: color(versionOf(sr.dimensions)),
      values: bucketize(sr.points, win, knownFrom).map(agg),
    }));
    const inv = perVersion('Invocations', sum);
    const err = perVersion('Errors', sum).map((sr, i) => ({ ...sr, color: ERROR_PALETTE[i % ERROR_PALETTE.length] }));
    const dur = byName('Duration').flatMap((sr) => {
      const b = bucketize(sr.points, win, knownFrom);
      const v = versionOf(sr.dimensions);
      return [{ label: `v${v} p50`, color: color(v), values: b.map(p50) },
        { label: `v${v} max`, color: color(v), dash: '6 4', values: b.map(maxOf) }];
    });
    const total = (list) => list.reduce((a, sr) => a + sr.values.reduce((x, v) => x + (v || 0), 0), 0);
    const inWindow = total(inv);
    const durVals = byName('Duration').flatMap((sr) => sr.points.filter((p) => p[0] >= win.start).map((p) => p[1]));
    if (!inWindow && !durVals.length) {
      card.append(empty(`No invocations in the last 5 minutes (the last one was at ${fmtClock(lastPoint(mine))}).`));
      return card;
    }
    const errors = total(err);
    card.append(h('div', { class: 'chart-row' },
      chartCard('Invocations', `${inWindow} in 5 min`, [chart({ kind: 'bars', series: inv, yTitle: 'invocations / 10 s', win }), chartLegend(inv)]),
      chartCard('Errors', h('span', { class: errors ? 'bad-text' : '' }, `${errors ? '✖ ' : ''}${errors} in 5 min`), [chart({ kind: 'bars', series: err, yTitle: 'errors / 10 s', win }), chartLegend(err)]),
      chartCard('Duration', `p50 ${fmtMs(p50(durVals))} · max ${fmtMs(maxOf(durVals))}`, [chart({ kind: 'lines', series: dur, yTitle: 'duration (ms)', win }), chartLegend(dur)])));
    return card;
  });

  // Business metrics (EMF): one card per metric, one chart per service (and dependency).
  const emf = allSeries.filter((sr) => sr.namespace !== 'AWS/Lambda');
  const names = [...new Set([...EMF_ORDER, ...emf.map((sr) => sr.name)])];
  const emfCards = names.map((metric) => {
    const mine = emf.filter((sr) => sr.name === metric);
    const card = h('section', { class: 'metric-emf', 'data-metric': metric }, h('h3', null, metric, mine.length ? h('span', { class: 'sub' }, ` (${mine[0].namespace})`) : null));
    if (!mine.length) {
      card.append(empty('No data yet: no function has reported it.'));
      return card;
    }
    const groups = new Map();
    for (const sr of mine) {
      const d = sr.dimensions;
      const key = [d.service || '?', d.dependency ? `→ ${shortName(d.dependency)}` : ''].filter(Boolean).join(' ');
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(sr);
    }
    for (const [key, list] of groups) {
      const versions = [...new Set(list.map((sr) => versionOf(sr.dimensions)))].sort();
      const color = (v) => PALETTE[versions.indexOf(v) % PALETTE.length];
      const unit = unitLabel(list[0].unit);
      const inWindow = list.some((sr) => sr.points.some((p) => p[0] >= win.start));
      if (!inWindow) {
        card.append(chartCard(key, null, empty(`nothing in the last 5 minutes (last at ${fmtClock(lastPoint(list))})`)));
        continue;
      }
      let series;
      let summary;
      if (unit === 'ms') {
        series = list.flatMap((sr) => {
          const b = bucketize(sr.points, win, knownFrom);
          const v = versionOf(sr.dimensions);
          return [{ label: `v${v} p50`, color: color(v), values: b.map(p50) }, { label: `v${v} max`, color: color(v), dash: '6 4', values: b.map(maxOf) }];
        });
        const vals = list.flatMap((sr) => sr.points.filter((p) => p[0] >= win.start).map((p) => p[1]));
        summary = `p50 ${fmtMs(p50(vals))} · max ${fmtMs(maxOf(vals))}`;
      } else {
        series = list.map((sr) => ({ label: `v${versionOf(sr.dimensions)}`, color: color(versionOf(sr.dimensions)), values: bucketize(sr.points, win, knownFrom).map(sum) }));
        const t = series.reduce((a, sr) => a + sr.values.reduce((x, v) => x + (v || 0), 0), 0);
        summary = `${t} in 5 min`;
      }
      card.append(chartCard(key, summary, [chart({ kind: unit === 'ms' ? 'lines' : 'bars', series, yTitle: unit === 'ms' ? `${metric} (ms)` : `${unit} / 10 s`, win }), chartLegend(series)]));
    }
    return card;
  });
  const scroll = document.scrollingElement.scrollTop;
  body.replaceChildren(
    h('h2', { class: 'section' }, 'Per function: AWS/Lambda, as the local Lambda measured them'),
    ...(fnNames.length ? fnCards : [empty('No data yet.')]),
    h('h2', { class: 'section' }, 'Business metrics: OnlineFeedback EMF lines, per service'),
    h('div', { class: 'emf-grid' }, emfCards));
  document.scrollingElement.scrollTop = scroll;
}
