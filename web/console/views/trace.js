/*
 * views/trace.js: one trace (#trace=<id>): its summary and the waterfall of its spans, each
 * opening to its annotations and AWS fields. Polls /ops/api/traces/<id> every 2 s.
 */

import { api, poll } from '../api.js';
import { h } from '../dom.js';
import { fmtClock, fmtMs } from '../format.js';
import { shortName } from '../state.js';
import { empty, errorNote, statusBadge, viewHeader } from '../widgets.js';

export function traceView(root, _params, id) {
  const head = h('div', { class: 'trace-head' });
  const body = h('div', { class: 'waterfall-box' });
  root.append(
    viewHeader('Trace', h('a', { href: '#traces', class: 'back-link' }, '← all traces')),
    h('p', { class: 'mono trace-id' }, id), head, body);
  const expanded = new Set();
  let last = '';
  let shown = null;
  const stop = poll(async () => {
    try {
      const trace = await api(`/traces/${encodeURIComponent(id)}`);
      const sig = JSON.stringify([trace.summary, trace.spans]);
      if (sig === last) return;
      last = sig;
      shown = trace;
      renderTraceHead(head, trace.summary);
      renderWaterfall(body, trace.spans, expanded);
    } catch (error) {
      if (error.status === 404) {
        last = '';
        head.replaceChildren();
        body.replaceChildren(empty(`No trace ${id} (yet): it may not be recorded, or the stack may have forgotten it.`));
      } else if (!last) body.replaceChildren(errorNote(error));
    }
  }, 2000);
  // Span names read shorter without the stack's prefix, once the stack is known.
  const onStack = () => { if (shown) renderWaterfall(body, shown.spans, expanded); };
  return { unmount: stop, onStack };
}

function renderTraceHead(head, t) {
  head.replaceChildren(h('dl', { class: 'facts' },
    h('div', null, h('dt', null, 'Status'), h('dd', { 'data-status': t.status }, statusBadge(t.status))),
    h('div', null, h('dt', null, 'Started'), h('dd', { class: 'mono' }, fmtClock(t.start_time * 1000))),
    h('div', null, h('dt', null, 'Duration'), h('dd', null, fmtMs(t.duration_ms))),
    h('div', null, h('dt', null, 'Root'), h('dd', null, t.root || '—')),
    h('div', null, h('dt', null, 'Functions'), h('dd', null, (t.functions || []).join(', ') || '—')),
    h('div', null, h('dt', null, 'Segments'), h('dd', null, String(t.segments))),
    h('div', { class: 'wide' }, h('dt', null, 'Correlation ids'),
      h('dd', { class: 'mono' }, (t.correlation_ids || []).length
        ? t.correlation_ids.map((c) => h('div', null, h('a', { href: `#logs?correlation_id=${encodeURIComponent(c)}` }, c), ' ', h('span', { class: 'small' }, '(→ its logs)')))
        : '—'))));
}

function spanLabel(span) {
  const aws = span.aws || {};
  const name = shortName(span.name) || '(unnamed)';
  switch (span.origin) {
    case 'AWS::ApiGateway::Stage': return [name, 'API Gateway stage'];
    case 'AWS::Lambda': return [`Lambda → ${name}`, 'AWS::Lambda (invoke)'];
    case 'AWS::Lambda::Function': return [aws.function || name, `function${aws.cold_start ? ' · ❄ cold start' : ''}${aws.function_version ? ` · v${aws.function_version}` : ''}`];
    case 'AWS::SQS::Queue': return [`${name} (waiting in queue)`, `AWS::SQS::Queue${aws.receive_count ? ` · receive #${aws.receive_count}` : ''}`];
    default: break;
  }
  if (span.namespace === 'aws') {
    const target = aws.table_name ? shortName(aws.table_name) : aws.queue_url ? shortName(String(aws.queue_url).split('/').pop()) : '';
    return [`${name}${aws.operation ? ` ${aws.operation}` : ''}`, `AWS call${target ? ` → ${target}` : ''} · from ${span.source}`];
  }
  return [name, `${span.source}${span.origin ? ` · ${span.origin}` : ''}`];
}

/** Depth-first: each span under its parent, siblings by start time. */
function orderSpans(spans) {
  const byId = new Map(spans.map((sp) => [sp.id, sp]));
  const kids = new Map();
  const roots = [];
  for (const sp of spans) {
    if (sp.parent_id && byId.has(sp.parent_id) && sp.parent_id !== sp.id) {
      if (!kids.has(sp.parent_id)) kids.set(sp.parent_id, []);
      kids.get(sp.parent_id).push(sp);
    } else roots.push(sp);
  }
  const out = [];
  const seen = new Set();
  const visit = (sp, depth) => {
    if (seen.has(sp.id)) return;
    seen.add(sp.id);
    out.push([sp, depth]);
    for (const k of kids.get(sp.id) || []) visit(k, depth + 1);
  };
  roots.forEach((r) => visit(r, 0));
  for (const sp of spans) if (!seen.has(sp.id)) visit(sp, sp.depth || 0);
  return out;
}

function flatten(obj, prefix, out) {
  if (obj === null || obj === undefined) return out;
  if (typeof obj !== 'object') {
    out.push([prefix, String(obj)]);
    return out;
  }
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out.push([key, Array.isArray(v) ? JSON.stringify(v) : String(v)]);
  }
  return out;
}

function renderWaterfall(box, spans, expanded) {
  if (!spans.length) {
    box.replaceChildren(empty('This trace has no spans yet.'));
    return;
  }
  const starts = spans.map((sp) => sp.start_time).filter(isFinite);
  const ends = spans.map((sp) => sp.end_time).filter((e) => typeof e === 'number' && isFinite(e));
  const t0 = Math.min(...starts);
  const t1 = Math.max(t0 + 0.000001, ...ends, ...starts);
  const total = (t1 - t0) * 1000;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => h('span', { class: 'tick', style: { left: `${f * 100}%` } }, f ? fmtMs(total * f) : '0'));
  const rows = [h('div', { class: 'wf-row wf-axis', 'aria-hidden': 'true' },
    h('div', { class: 'wf-label' }, 'span'), h('div', { class: 'wf-track' }, ticks), h('div', { class: 'wf-dur' }, 'duration'))];
  for (const [sp, depth] of orderSpans(spans)) {
    const status = sp.fault ? 'fault' : sp.error ? 'error' : sp.throttle ? 'throttle' : 'ok';
    const inProgress = typeof sp.end_time !== 'number';
    const end = inProgress ? t1 : sp.end_time;
    const left = ((sp.start_time - t0) / (t1 - t0)) * 100;
    const width = Math.max(0, ((end - sp.start_time) / (t1 - t0)) * 100);
    const [title, sub] = spanLabel(sp);
    const open = expanded.has(sp.id);
    const details = h('div', { class: 'wf-details', hidden: !open }, spanDetails(sp, t0));
    const toggle = () => {
      const nowOpen = details.hidden;
      details.hidden = !nowOpen;
      row.setAttribute('aria-expanded', String(nowOpen));
      if (nowOpen) expanded.add(sp.id); else expanded.delete(sp.id);
    };
    const tag = status === 'fault' ? '✖ fault' : status === 'error' ? '▲ error' : status === 'throttle' ? '‖ throttled' : '';
    const row = h('div', {
      class: `wf-row wf-${status}`, 'data-span-id': sp.id, 'data-status': status, role: 'button', tabindex: 0,
      'aria-expanded': String(open), onclick: toggle, onkeydown: (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); toggle(); } },
      title: 'click for annotations and AWS fields',
    },
    h('div', { class: 'wf-label', style: { 'padding-left': `${0.3 + depth * 1.1}em` } },
      h('span', { class: 'wf-caret', 'aria-hidden': 'true' }, '▸'),
      h('span', { class: 'wf-title' }, title), h('span', { class: 'wf-sub' }, sub)),
    h('div', { class: 'wf-track' }, h('div', { class: 'wf-bar', style: { left: `${left}%`, width: `${width}%` } })),
    h('div', { class: 'wf-dur' }, inProgress ? 'in progress' : fmtMs(sp.duration_ms), tag ? h('span', { class: `wf-tag wf-tag-${status}` }, tag) : null));
    rows.push(row, details);
  }
  box.replaceChildren(h('div', { class: 'waterfall' }, rows));
}

function spanDetails(sp, t0) {
  const pairs = [
    ['name', sp.name], ['id', sp.id], ['parent_id', sp.parent_id || '—'], ['source', sp.source],
    ['origin', sp.origin || '—'], ['starts at', `+${fmtMs((sp.start_time - t0) * 1000)}`], ['duration', fmtMs(sp.duration_ms)],
    ['error / fault / throttle', `${sp.error} / ${sp.fault} / ${sp.throttle}`],
  ];
  const groups = [['annotations', sp.annotations], ['aws', sp.aws], ['http', sp.http]];
  return h('dl', { class: 'kv' },
    pairs.map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, String(v)))),
    groups.flatMap(([name, obj]) => flatten(obj, name, []).map(([k, v]) => h('div', { class: `kv-${name}` }, h('dt', null, k), h('dd', null, v)))));
}
