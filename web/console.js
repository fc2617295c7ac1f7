/*
 * console.js: the ops console of `feedback-ops dev` (served at /ops/console.js).
 *
 * One file, no libraries, no build step. It polls the JSON under /ops/api/ and draws the
 * views the URL hash selects: #map, #traces, #trace=<id>, #logs, #metrics, #functions,
 * #faults (filters ride along as a query: #logs?correlation_id=X, #traces?status=fault).
 * Rules: every text from the API goes into the DOM as text (createElement/textContent,
 * never innerHTML); only the current view's data is polled, plus /ops/api/functions every
 * 2 s for the fault banner; what is not known is shown as "no data yet", never as zero;
 * when the ops API stops answering the page says so and marks what it shows as stale.
 */
(() => {
  'use strict';

  const API = '/ops/api';
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const MAX_LOG_ROWS = 2000;

  // ───────────────────────────── DOM helpers ─────────────────────────────

  function setProps(el, props) {
    if (!props) return;
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (key === 'style') {
        // Through the CSSOM: the page's CSP forbids style attributes.
        for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, String(v));
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }

  function addKids(el, kids) {
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid instanceof Node ? kid : String(kid)); // strings become text nodes
    }
  }

  /** An HTML element: h('td', {class: 'x', 'data-a': 1}, 'text', child). */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    setProps(el, props);
    addKids(el, kids);
    return el;
  }

  /** An SVG element. */
  function s(tag, props, ...kids) {
    const el = document.createElementNS(SVG_NS, tag);
    setProps(el, props);
    addKids(el, kids);
    return el;
  }

  const $ = (sel) => document.querySelector(sel);

  // ───────────────────────────── formatting ─────────────────────────────

  const pad = (n, w = 2) => String(n).padStart(w, '0');

  function fmtClock(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '—';
    const d = new Date(ms);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function fmtMs(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '—';
    if (ms < 1) return `${ms.toFixed(2)} ms`;
    if (ms < 10) return `${ms.toFixed(1)} ms`;
    if (ms < 1000) return `${Math.round(ms)} ms`;
    return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  }

  function fmtPct(rate) {
    if (rate === null || rate === undefined || !isFinite(rate)) return '—';
    const p = Math.round(rate * 1000) / 10;
    return `${p}%`;
  }

  function fmtAgo(ms) {
    const secs = Math.max(0, Math.round(ms / 1000));
    if (secs < 60) return `${secs}s ago`;
    const mins = Math.floor(secs / 60);
    return mins < 60 ? `${mins} min ${secs % 60}s ago` : `${Math.floor(mins / 60)} h ${mins % 60} min ago`;
  }

  function plural(n, word, many = `${word}s`) {
    return `${n} ${n === 1 ? word : many}`;
  }

  function faultText(f) {
    const parts = [];
    if (f.error_rate > 0) parts.push(`${fmtPct(f.error_rate)} errors`);
    if (f.latency_ms > 0) parts.push(`+${f.latency_ms} ms latency`);
    return parts.join(' · ');
  }

  const faultsActive = (f) => !!f && (f.error_rate > 0 || f.latency_ms > 0);

  // ───────────────────────────── the ops API ─────────────────────────────

  const conn = { lastOk: 0, failing: false, reason: '', since: 0 };

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  function noteOk() {
    conn.lastOk = Date.now();
    conn.failing = false;
    renderConn();
  }

  function noteFailure(reason) {
    if (!conn.failing) conn.since = Date.now();
    conn.failing = true;
    conn.reason = reason;
    renderConn();
  }

  /** JSON from the ops API; throws ApiError with the problem's detail. */
  async function api(path, options = {}) {
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
  function poll(fn, ms) {
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

  // ───────────────────────────── shared state ─────────────────────────────

  const state = {
    stack: null,
    functions: null, // the last /ops/api/functions answer
    functionsAt: 0,
  };

  function functionNames() {
    if (state.stack && Array.isArray(state.stack.functions)) return state.stack.functions;
    if (state.functions) return state.functions.map((f) => f.name);
    return [];
  }

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
    if (!active.length) {
      banner.hidden = true;
      banner.replaceChildren();
      return;
    }
    const parts = active.map((f) => `${f.name} ${faultText(f.faults)}`);
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

  // ───────────────────────────── small widgets ─────────────────────────────

  const STATUS_LABEL = { ok: '✔ ok', error: '▲ error', fault: '✖ fault' };

  function statusBadge(status) {
    return h('span', { class: `badge badge-${status}` }, STATUS_LABEL[status] || String(status));
  }

  function levelBadge(level) {
    const up = level ? String(level).toUpperCase() : null;
    const cls = up === 'ERROR' || up === 'FATAL' ? 'error' : up && up.startsWith('WARN') ? 'warn' : 'plain';
    const icon = cls === 'error' ? '✖ ' : cls === 'warn' ? '▲ ' : '';
    return h('span', { class: `level level-${cls}` }, up ? icon + up : '—');
  }

  function empty(text) {
    return h('p', { class: 'empty' }, text);
  }

  function errorNote(error) {
    return h('p', { class: 'problem', role: 'alert' }, `✖ ${error.message}`);
  }

  function corrLinks(id) {
    return h('span', { class: 'corr' },
      h('a', { href: `#logs?correlation_id=${encodeURIComponent(id)}`, class: 'corr-id', title: 'logs with this correlation id' }, id),
      ' ',
      h('a', { href: `#traces?correlation_id=${encodeURIComponent(id)}`, class: 'corr-trace', title: 'traces with this correlation id' }, 'trace'));
  }

  function setHashQuiet(view, params) {
    const qs = params.toString();
    history.replaceState(null, '', `#${view}${qs ? `?${qs}` : ''}`);
  }

  function viewHeader(title, ...extra) {
    return h('div', { class: 'view-head' }, h('h1', null, title), ...extra);
  }

  // ───────────────────────────── service map ─────────────────────────────

  const NODE_W = 210;
  const NODE_H = 92;
  /**
   * The fixed layout: api → functions → queue (DLQ below it) → push-to-db; the table below it.
   * The columns are 215-260 apart: room for an edge label (stacked if need be) between two boxes.
   */
  const LAYOUT = {
    'pre-traffic-hook': [10, 0],
    'feedback-api': [10, 330],
    'add-comments': [435, 130],
    'get-all-comments': [435, 330],
    status: [435, 530],
    'comments-queue': [905, 130],
    'comments-dlq': [905, 330],
    'push-to-db': [1330, 130],
    'comments-table': [1330, 530],
  };
  /** Edges routed through a point, around the nodes in the way; their label would rather sit there. */
  const VIA = {
    'add-comments→comments-table': [940, 462],
    'get-all-comments→comments-table': [985, 512],
    'pre-traffic-hook→push-to-db': [905, 40],
  };
  /** Edges meeting one side of a box are spread along it, this far apart. */
  const PORT_GAP = 24;
  /** A label keeps this far from a node box (so off its arrowheads too) and from another label. */
  const NODE_PAD = 12;
  const LABEL_PAD = 8;
  const LINE_H = 19;
  const KIND_LABEL = { api: 'API GATEWAY', function: 'λ FUNCTION', queue: 'SQS QUEUE', table: 'DYNAMODB TABLE', unknown: '? UNKNOWN' };

  function mapView(root) {
    const svgBox = h('div', { class: 'map-box' });
    const lists = h('div', { class: 'map-lists' });
    const note = h('div', { class: 'map-note' });
    root.append(
      viewHeader('Service map', h('span', { class: 'sub' }, 'declared by the dependency tags, observed in the traces')),
      note, svgBox, legend(), lists,
    );
    let last = '';
    const stop = poll(async () => {
      try {
        const graph = await api('/graph');
        const faultSig = JSON.stringify((state.functions || []).map((f) => [f.name, f.faults, f.invocations, f.errors]));
        const sig = JSON.stringify(graph) + faultSig + JSON.stringify(state.stack && state.stack.not_hosted);
        if (sig === last) return;
        last = sig;
        drawMap(svgBox, graph);
        drawMapLists(lists, graph);
        const seen = graph.edges.some((e) => e.observed);
        note.replaceChildren(seen ? '' : empty('No traffic observed yet: every edge below is declared, not seen. Send a request (POST /comments) to light it up.'));
      } catch (error) {
        if (!last) svgBox.replaceChildren(errorNote(error));
      }
    }, 2000);
    return { unmount: stop };
  }

  function nodeBoxes(nodes) {
    const boxes = new Map();
    let extraX = 20;
    let maxY = 0;
    for (const [x, y] of Object.values(LAYOUT)) maxY = Math.max(maxY, y + NODE_H);
    for (const node of nodes) {
      const at = LAYOUT[node.name];
      if (at) boxes.set(node.name, { x: at[0], y: at[1], w: NODE_W, h: NODE_H });
    }
    for (const node of nodes) {
      if (boxes.has(node.name)) continue;
      boxes.set(node.name, { x: extraX, y: maxY + 70, w: NODE_W, h: NODE_H });
      extraX += NODE_W + 40;
    }
    return boxes;
  }

  /**
   * Every edge's path, from a side of box a to a side of box b: right → left when b is to the
   * right, top/bottom when it is straight above or below, through VIA[key] when one is set.
   * The edges meeting one side of a box are spread along it, in the order of their other
   * ends, so no two arrowheads land on the same point.
   */
  function routeEdges(edges, boxes) {
    const mid = (b) => [b.x + b.w / 2, b.y + b.h / 2];
    const plans = [];
    const sides = new Map(); // node → side → [{plan, end, toward}]
    const attach = (node, side, plan, end, toward) => {
      if (!sides.has(node)) sides.set(node, new Map());
      const bySide = sides.get(node);
      if (!bySide.has(side)) bySide.set(side, []);
      bySide.get(side).push({ plan, end, toward });
    };
    for (const e of edges) {
      const a = boxes.get(e.from);
      const b = boxes.get(e.to);
      const key = `${e.from}→${e.to}`;
      const via = VIA[key] || null;
      let out;
      let inn;
      if (via) {
        out = via[0] >= a.x + a.w ? 'right' : 'left';
        if (b.y > via[1] + 80) inn = 'top';
        else if (b.y + b.h < via[1] - 80) inn = 'bottom';
        else inn = via[0] <= b.x ? 'left' : 'right';
      } else if (b.x >= a.x + a.w + 30) {
        out = 'right';
        inn = 'left';
      } else if (b.x + b.w <= a.x - 30) {
        out = 'left';
        inn = 'right';
      } else if (b.y > a.y) {
        out = 'bottom';
        inn = 'top';
      } else {
        out = 'top';
        inn = 'bottom';
      }
      const plan = { e, key, via, inn, p0: null, p1: null };
      plans.push(plan);
      attach(e.from, out, plan, 'p0', via || mid(b));
      attach(e.to, inn, plan, 'p1', via || mid(a));
    }
    for (const [node, bySide] of sides) {
      const bx = boxes.get(node);
      for (const [side, list] of bySide) {
        const across = side === 'left' || side === 'right';
        const [i, j] = across ? [1, 0] : [0, 1];
        list.sort((p, q) => p.toward[i] - q.toward[i] || p.toward[j] - q.toward[j]);
        const room = (across ? bx.h : bx.w) - 2 * NODE_PAD;
        const gap = list.length > 1 ? Math.min(PORT_GAP, room / (list.length - 1)) : 0;
        list.forEach((item, k) => {
          const off = (k - (list.length - 1) / 2) * gap;
          item.plan[item.end] = side === 'left' ? [bx.x, bx.y + bx.h / 2 + off]
            : side === 'right' ? [bx.x + bx.w, bx.y + bx.h / 2 + off]
              : side === 'top' ? [bx.x + bx.w / 2 + off, bx.y]
                : [bx.x + bx.w / 2 + off, bx.y + bx.h];
        });
      }
    }
    for (const p of plans) {
      const { p0, p1, via } = p;
      if (via) {
        const d1 = (via[0] - p0[0]) / 2;
        const c2 = p.inn === 'left' || p.inn === 'right' ? [p1[0] - (p1[0] - via[0]) / 2, p1[1]] : [p1[0], via[1]];
        p.segs = [[p0, [p0[0] + d1, p0[1]], [via[0] - d1, via[1]], via], [via, [via[0] + d1, via[1]], c2, p1]];
      } else if (p.inn === 'left' || p.inn === 'right') {
        const dx = (p1[0] - p0[0]) / 2;
        p.segs = [[p0, [p0[0] + dx, p0[1]], [p1[0] - dx, p1[1]], p1]];
      } else {
        const dy = (p1[1] - p0[1]) / 2;
        p.segs = [[p0, [p0[0], p0[1] + dy], [p1[0], p1[1] - dy], p1]];
      }
      p.d = `M${p0}${p.segs.map(([, c1, c2, end]) => ` C${c1} ${c2} ${end}`).join('')}`;
      p.pts = samplePath(p.segs, 6);
    }
    return plans;
  }

  /** Points [distance along, x, y] about every `step` along a path of cubic segments. */
  function samplePath(segs, step) {
    const out = [];
    let s = 0;
    let last = null;
    let next = 0;
    for (const [p0, c1, c2, p1] of segs) {
      for (let i = 0; i <= 120; i++) {
        const t = i / 120;
        const u = 1 - t;
        const f = (k) => u * u * u * p0[k] + 3 * u * u * t * c1[k] + 3 * u * t * t * c2[k] + t * t * t * p1[k];
        const pt = [f(0), f(1)];
        if (last) s += Math.hypot(pt[0] - last[0], pt[1] - last[1]);
        last = pt;
        if (s >= next) {
          out.push([s, pt[0], pt[1]]);
          next = s + step;
        }
      }
    }
    return out;
  }

  /**
   * Where each label goes. An edge's label sits on its own edge (a little off it at most), as
   * near the middle of the stretch between the two boxes (or its VIA point) as it can while
   * covering no node, its arrowheads included, and no label placed before it; of the places
   * that do, the one crossing the fewest other edges and sticking out of the nodes' area the
   * least. A label that fits nowhere is stacked narrower, then shrunk, and at worst put where
   * it covers least.
   */
  function placeLabels(items, nodeRects, edgePts) {
    const placed = [];
    const area = {
      x0: Math.min(...nodeRects.map((n) => n.x)), y0: Math.min(...nodeRects.map((n) => n.y)),
      x1: Math.max(...nodeRects.map((n) => n.x + n.w)), y1: Math.max(...nodeRects.map((n) => n.y + n.h)),
    };
    const outside = (r) => Math.max(0, area.x0 - r.x) + Math.max(0, r.x + r.w - area.x1)
      + Math.max(0, area.y0 - r.y) + Math.max(0, r.y + r.h - area.y1);
    const overlap = (r, q, pad) => Math.max(0, Math.min(r.x + r.w, q.x + q.w) - Math.max(r.x, q.x) + pad)
      * Math.max(0, Math.min(r.y + r.h, q.y + q.h) - Math.max(r.y, q.y) + pad);
    const rectAt = (bb, at, k) => ({ x: at[0] + bb.x * k, y: at[1] + bb.y * k, w: bb.w * k, h: bb.h * k });
    const crossings = (item, r) => {
      let n = 0;
      for (const { key, pts, bb } of edgePts) {
        if (item.own.has(key) || !overlap(r, bb, 0)) continue;
        for (const [, x, y] of pts) if (x > r.x && x < r.x + r.w && y > r.y && y < r.y + r.h) n += 1;
      }
      return n;
    };
    for (const item of items) {
      let best = null;
      const tries = [];
      for (const k of [1, 0.88, 0.76]) for (const v of item.variants) tries.push([k, v]);
      for (const [k, v] of tries) {
        for (const c of v.candidates) {
          if (best && best.clash === 0 && c.cost >= best.score) break;
          const r = rectAt(v.bb, c.at, k);
          let clash = 0;
          for (const n of nodeRects) clash += overlap(r, n, NODE_PAD);
          for (const q of placed) clash += overlap(r, q, LABEL_PAD);
          if (best && clash > best.clash) continue;
          if (clash > 0) {
            if (!best || clash < best.clash) best = { at: c.at, k, v, r, clash, score: Infinity };
            continue;
          }
          const score = c.cost + 8 * crossings(item, r) + 6 * outside(r);
          if (!best || best.clash > 0 || score < best.score) best = { at: c.at, k, v, r, clash, score };
        }
        if (best && best.clash === 0) break;
      }
      if (!best) continue;
      placed.push(best.r);
      item.at = best.at;
      item.scale = best.k;
      item.variant = best.v;
      item.box = best.r;
    }
  }

  /** Candidate label centres along a path's points, each with its cost: how far from where it would rather be. */
  function alongPath(pts, prefer) {
    const len = pts[pts.length - 1][0];
    const end = Math.min(len * 0.1, 40);
    let samples = pts.filter(([t]) => t >= end && t <= len - end);
    if (!samples.length) samples = [pts[Math.floor(pts.length / 2)]];
    let at = len / 2;
    if (prefer) {
      let dist = Infinity;
      for (const [t, x, y] of samples) {
        const d = Math.hypot(x - prefer[0], y - prefer[1]);
        if (d < dist) [dist, at] = [d, t];
      }
    }
    const nudges = [[0, 0], [0, -12], [0, 12], [0, -24], [0, 24], [-16, 0], [16, 0], [0, -36], [0, 36]];
    const out = [];
    for (const [t, x, y] of samples) {
      for (const [dx, dy] of nudges) out.push({ at: [x + dx, y + dy], cost: Math.abs(t - at) + 2 * Math.hypot(dx, dy) });
    }
    return out.sort((p, q) => p.cost - q.cost);
  }

  /** Candidate centres for a label shared by a node's edges: under the node, else beside or above it. */
  function aroundNode(b, bb) {
    const out = [];
    const cx = b.x + b.w / 2;
    const cy = b.y + b.h / 2;
    for (let d = 0; d <= 120; d += 6) {
      for (const dx of [0, -30, 30, -60, 60]) {
        out.push({ at: [cx + dx, b.y + b.h + NODE_PAD + 4 - bb.y + d], cost: d + Math.abs(dx) });
        out.push({ at: [cx + dx, b.y - NODE_PAD - 4 - (bb.y + bb.h) - d], cost: 150 + d + Math.abs(dx) });
      }
      for (const dy of [0, -d, d]) {
        out.push({ at: [b.x + b.w + NODE_PAD + 4 - bb.x + d / 2, cy + dy], cost: 60 + d });
      }
    }
    return out.sort((p, q) => p.cost - q.cost);
  }

  function edgeClass(e) {
    if (e.observed && !e.declared) return 'drift';
    if (!e.observed) return 'unseen';
    return (e.errors || 0) + (e.faults || 0) > 0 ? 'bad' : 'ok';
  }

  function edgeLines(e) {
    const cls = edgeClass(e);
    if (cls === 'unseen') {
      const lines = ['declared, not seen'];
      const queue = redriveFor(e);
      if (queue) lines.push(`redrive after ${queue.redrive.max_receive_count} receives`);
      return lines;
    }
    const failed = (e.errors || 0) + (e.faults || 0);
    const first = `${plural(e.calls, 'call')} · ${failed ? '✖ ' : ''}${fmtPct(e.error_rate)} errors`;
    const lines = [first, `p50 ${fmtMs(e.p50_ms)} · p99 ${fmtMs(e.p99_ms)}`];
    if (cls === 'drift') lines.unshift('⚠ NOT DECLARED');
    return lines;
  }

  /**
   * A label's text as it is, then stacked narrower for a tight spot: the latencies on lines of
   * their own (and the redrive), then every part on its own line.
   */
  function labelVariants(lines) {
    const stack = (test) => lines.flatMap((l) => (test(l) ? l.split(' · ') : [l]))
      .flatMap((l) => (/^redrive after ./.test(l) ? ['redrive after', l.slice('redrive after '.length)] : [l]));
    const out = [lines];
    for (const v of [stack((l) => l.startsWith('p50 ')), stack(() => true)]) {
      if (v.length > out[out.length - 1].length) out.push(v);
    }
    return out;
  }

  function redriveFor(edge) {
    if (!state.stack || !Array.isArray(state.stack.queues)) return null;
    if (!/dlq/i.test(edge.to)) return null;
    return state.stack.queues.find((q) => q.redrive && q.redrive.max_receive_count) || null;
  }

  function drawMap(box, graph) {
    const boxes = nodeBoxes(graph.nodes);
    const svg = s('svg', {
      class: 'map', viewBox: '0 0 1600 660', role: 'img',
      'aria-label': 'Service map: nodes and the edges between them',
    });
    const defs = s('defs');
    for (const cls of ['ok', 'bad', 'unseen', 'drift']) {
      defs.append(s('marker', { id: `arrow-${cls}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerUnits: 'userSpaceOnUse', markerWidth: 18, markerHeight: 18, orient: 'auto-start-reverse' },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead arrowhead-${cls}` })));
    }
    svg.append(defs);
    const edgeLayer = s('g', { class: 'edges' });
    const labelLayer = s('g', { class: 'edge-labels' });
    const nodeLayer = s('g', { class: 'nodes' });
    svg.append(edgeLayer, nodeLayer, labelLayer);
    const labels = [];
    // A label is drawn around (0,0), in each of its variants, and once their sizes are known
    // moved into place with the variant that fits.
    const addLabel = (cls, lines, title, key, own, where) => {
      const g = s('g', { class: `edge-label edge-label-${cls}`, 'data-edge': key });
      const rect = s('rect', { rx: 6 });
      const variants = labelVariants(lines).map((v) => ({
        lines: v,
        text: s('text', { x: 0, y: -((v.length - 1) * LINE_H) / 2 + 6, 'text-anchor': 'middle' },
          v.map((line, i) => s('tspan', { x: 0, dy: i ? LINE_H : 0 }, line))),
      }));
      g.append(rect, ...variants.map((v) => v.text), s('title', null, title));
      labelLayer.append(g);
      labels.push({ g, rect, variants, own: new Set(own), where, cls });
    };
    const edges = graph.edges.filter((e) => boxes.has(e.from) && boxes.has(e.to));
    const plans = routeEdges(edges, boxes);
    // Three or more unseen edges from one node (pre-traffic-hook) share one label.
    const unseenFrom = new Map();
    for (const e of edges) if (edgeClass(e) === 'unseen') unseenFrom.set(e.from, (unseenFrom.get(e.from) || 0) + 1);
    for (const plan of plans) {
      const { e, key } = plan;
      const cls = edgeClass(e);
      const title = `${e.from} → ${e.to}: ${e.declared ? 'declared' : 'NOT declared'}, ${e.observed ? 'observed' : 'not observed'}`;
      const path = s('path', {
        class: `edge edge-${cls}`, 'data-edge': key, 'data-edge-state': cls, d: plan.d, 'marker-end': `url(#arrow-${cls})`,
      }, s('title', null, title));
      edgeLayer.append(path);
      if (cls === 'unseen' && unseenFrom.get(e.from) >= 3) continue;
      addLabel(cls, edgeLines(e), title, key, [key], { pts: plan.pts, prefer: plan.via });
    }
    for (const [from, n] of unseenFrom) {
      if (n < 3) continue;
      const own = edges.filter((e) => e.from === from && edgeClass(e) === 'unseen').map((e) => `${e.from}→${e.to}`);
      addLabel('unseen', [`${n} edges from here:`, 'declared, not seen'], `${from}: ${n} declared edges, none observed`, `${from}→*`, own, { node: boxes.get(from) });
    }
    const notHosted = new Set((state.stack && state.stack.not_hosted) || []);
    const fnByName = new Map((state.functions || []).map((f) => [f.name, f]));
    for (const node of graph.nodes) {
      const b = boxes.get(node.name);
      const fn = fnByName.get(node.name);
      const faulty = fn && faultsActive(fn.faults);
      const classes = ['node', `node-${node.kind}`];
      if (!node.observed) classes.push('node-unseen');
      if (!node.declared) classes.push('node-drift');
      if (faulty) classes.push('node-faulty');
      let status;
      if (notHosted.has(node.name)) status = 'not run locally';
      else if (!node.declared) status = '⚠ not declared';
      else if (faulty) status = `⚡ ${[fn.faults.error_rate > 0 ? `${fmtPct(fn.faults.error_rate)} err` : '', fn.faults.latency_ms > 0 ? `+${fn.faults.latency_ms} ms` : ''].filter(Boolean).join(' · ')}`;
      else if (fn) status = `${plural(fn.invocations, 'invocation')} · ${plural(fn.errors, 'error')}`;
      else status = node.observed ? 'seen in traces' : 'not seen yet';
      let kind = KIND_LABEL[node.kind] || node.kind.toUpperCase();
      if (node.kind === 'queue' && /dlq/i.test(node.name)) kind = 'SQS DEAD-LETTER QUEUE';
      const g = s('g', {
        class: classes.join(' '), 'data-node': node.name, 'data-kind': node.kind,
        'data-observed': String(!!node.observed), 'data-declared': String(!!node.declared),
        transform: `translate(${b.x},${b.y})`,
      },
      s('title', null, `${node.name} (${node.kind}): ${node.declared ? 'declared' : 'NOT declared'}, ${node.observed ? 'observed in traces' : 'not observed'}`),
      s('rect', { class: 'node-box', width: b.w, height: b.h, rx: 10 }),
      s('text', { class: 'node-kind', x: 14, y: 24 }, kind),
      s('text', { class: 'node-name', x: 14, y: 54 }, node.name),
      s('text', { class: 'node-status', x: 14, y: 80 }, status));
      if (fn) {
        g.classList.add('node-link');
        g.addEventListener('click', () => { location.hash = `#logs?function=${encodeURIComponent(node.name)}`; });
      }
      nodeLayer.append(g);
    }
    box.replaceChildren(svg);

    // Now that the SVG is laid out, read every size at once: the labels' variants, the node texts.
    for (const l of labels) {
      for (const v of l.variants) {
        let bb = null;
        try { bb = v.text.getBBox(); } catch (_) { /* not rendered */ }
        if (!bb || !bb.width) {
          const chars = Math.max(...v.lines.map((t) => t.length));
          bb = { x: -chars * 4.6, y: -((v.lines.length - 1) * LINE_H) / 2 - 8, width: chars * 9.2, height: v.lines.length * LINE_H + 2 };
        }
        v.bb = { x: bb.x - 8, y: bb.y - 4, w: bb.width + 16, h: bb.height + 8 };
      }
    }
    const tooLong = [...svg.querySelectorAll('.node-kind, .node-name, .node-status')]
      .filter((t) => t.getComputedTextLength() > NODE_W - 24);

    for (const l of labels) {
      for (const v of l.variants) v.candidates = l.where.node ? aroundNode(l.where.node, v.bb) : alongPath(l.where.pts, l.where.prefer);
    }
    const edgePts = plans.map(({ key, pts }) => {
      const xs = pts.map((p) => p[1]);
      const ys = pts.map((p) => p[2]);
      const [x, y] = [Math.min(...xs), Math.min(...ys)];
      return { key, pts, bb: { x, y, w: Math.max(...xs) - x, h: Math.max(...ys) - y } };
    });
    // The shared labels first (they belong under their node), then the observed edges, faults first.
    const rank = { unseen: 3, ok: 2, bad: 1, drift: 1 };
    const order = labels.slice().sort((p, q) => (p.where.node ? 0 : rank[p.cls]) - (q.where.node ? 0 : rank[q.cls]));
    const nodeRects = [...boxes.values()];
    placeLabels(order, nodeRects, edgePts);

    // Then write: each label's variant and place, the viewBox around it all, the squeezed names.
    let [x0, y0, x1, y1] = [0, Infinity, -Infinity, -Infinity];
    const grow = (r, pad = 0) => {
      x0 = Math.min(x0, r.x - pad); y0 = Math.min(y0, r.y - pad);
      x1 = Math.max(x1, r.x + r.w + pad); y1 = Math.max(y1, r.y + r.h + pad);
    };
    nodeRects.forEach((r) => grow(r));
    edgePts.forEach(({ bb }) => grow(bb, 10)); // the stroke and the arrowhead
    for (const l of labels) {
      const chosen = l.variant || l.variants[0];
      for (const v of l.variants) if (v !== chosen) v.text.remove();
      if (!l.box) continue;
      l.g.setAttribute('transform', l.scale === 1 ? `translate(${l.at})` : `translate(${l.at}) scale(${l.scale})`);
      setProps(l.rect, { x: chosen.bb.x, y: chosen.bb.y, width: chosen.bb.w, height: chosen.bb.h });
      grow(l.box);
    }
    const pad = 10;
    svg.setAttribute('viewBox', `${x0 - pad} ${y0 - pad} ${x1 - x0 + 2 * pad} ${y1 - y0 + 2 * pad}`);
    for (const t of tooLong) setProps(t, { textLength: NODE_W - 24, lengthAdjust: 'spacingAndGlyphs' });
  }

  function legend() {
    const sample = (cls) => h('span', { class: 'legend-sample' },
      (() => {
        const svg = s('svg', { width: 70, height: 20, viewBox: '0 0 70 20', 'aria-hidden': 'true' },
          s('path', { class: `edge edge-${cls}`, d: 'M2,10 L60,10', 'marker-end': `url(#legend-arrow-${cls})` }));
        svg.prepend(s('defs', null, s('marker', { id: `legend-arrow-${cls}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' },
          s('path', { d: 'M0,0 L10,5 L0,10 z', class: `arrowhead arrowhead-${cls}` }))));
        return svg;
      })());
    return h('ul', { class: 'legend', 'aria-label': 'Legend' },
      h('li', null, sample('ok'), 'observed: calls · error rate · p50/p99 latency'),
      h('li', null, sample('bad'), '✖ observed with errors or faults (red, with the rate)'),
      h('li', null, sample('unseen'), 'declared, not seen (dashed grey)'),
      h('li', null, sample('drift'), '⚠ observed, NOT declared: drift (red dashed)'),
      h('li', null, h('span', { class: 'legend-node legend-node-unseen' }, 'name'), 'node declared but not seen yet'),
      h('li', null, h('span', { class: 'legend-node legend-node-faulty' }, '⚡ name'), 'function with fault injection on'));
  }

  function drawMapLists(box, graph) {
    const list = (title, items, cls) => h('section', { class: `drift-list ${cls}` },
      h('h2', null, `${title} (${items.length})`),
      items.length ? h('ul', null, items.map((i) => h('li', null, i))) : empty('none'));
    box.replaceChildren(
      list('Observed, not declared (drift)', graph.observed_not_declared || [], 'drift-observed'),
      list('Declared, not observed', graph.declared_not_observed || [], 'drift-declared'));
  }

  // ───────────────────────────── traces ─────────────────────────────

  function tracesView(root, params) {
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

  // ───────────────────────────── one trace: the waterfall ─────────────────────────────

  function traceView(root, _params, id) {
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

  function shortName(name) {
    const stack = state.stack && state.stack.stack_name;
    if (stack && typeof name === 'string' && name.startsWith(`${stack}-`)) return name.slice(stack.length + 1);
    return name;
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

  // ───────────────────────────── logs ─────────────────────────────

  const LOG_FILTERS = ['correlation_id', 'function', 'version', 'level', 'text'];

  function logsView(root, params) {
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

  // ───────────────────────────── metrics ─────────────────────────────

  const BUCKET_MS = 10000;
  const WINDOW_MS = 5 * 60 * 1000;
  const PALETTE = ['#0b4f9c', '#b35c00', '#6a2c91', '#00796b', '#8a1c3a'];
  const ERROR_PALETTE = ['#b00020', '#e0607a', '#5c0011'];
  const EMF_ORDER = ['CommentsAccepted', 'CommentsStored', 'DuplicatesSkipped', 'ValidationRejected', 'BatchItemFailures', 'InvocationErrors', 'ColdStart', 'DependencyLatency'];

  function metricsView(root) {
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

  // ───────────────────────────── functions and versions ─────────────────────────────

  const ENV_ICON = { idle: '● idle', busy: '◉ busy', initializing: '◌ initializing', restarting: '↻ restarting', failed: '✖ failed' };

  function functionsView(root) {
    const body = h('div', { class: 'fn-grid' });
    root.append(viewHeader('Functions and versions'), body);
    let deployments = null;
    let last = '';
    const render = () => {
      if (!state.functions) {
        body.replaceChildren(empty(conn.failing ? 'No data: the ops API is not answering.' : 'loading…'));
        return;
      }
      const sig = JSON.stringify([state.functions, deployments, state.stack && state.stack.not_hosted]);
      if (sig === last) return;
      last = sig;
      const cards = state.functions.map((f) => functionCard(f, (deployments || []).find((d) => d.function === f.name)));
      for (const name of (state.stack && state.stack.not_hosted) || []) {
        cards.push(h('section', { class: 'fn-card fn-not-hosted', 'data-function': name },
          h('h2', null, name), h('p', { class: 'big-note' }, '⊘ not run locally'),
          h('p', null, 'Declared in the template; nothing invokes it without AWS (CodeDeploy runs it before traffic shifts).')));
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
        h('div', null, h('dt', null, 'Versions'), h('dd', null, (f.versions || []).map((v) => h('div', null, h('strong', null, v.version), ` · ${v.description}`)))),
        h('div', null, h('dt', null, 'Aliases'), h('dd', null, aliases.length ? h('ul', { class: 'plain' }, aliases) : 'none')),
        h('div', null, h('dt', null, 'Deployment'), h('dd', null, deployment ? `${deployment.alias || '—'}: ${deployment.status}` : '—')),
        h('div', null, h('dt', null, 'Routes'), h('dd', null, (f.routes || []).length ? f.routes.join(', ') : 'none')),
        h('div', null, h('dt', null, 'Event sources'), h('dd', null, sources.length ? h('ul', { class: 'plain' }, sources) : 'none')),
        h('div', null, h('dt', null, 'Init durations'), h('dd', null, (f.init_durations_ms || []).length ? f.init_durations_ms.map(fmtMs).join(', ') : 'none yet'))),
      h('table', { class: 'grid envs' },
        h('caption', null, 'Execution environments'),
        h('thead', null, h('tr', null, ['#', 'State', 'PID', 'Init', 'Invocations', 'Processes', 'Last exit'].map((c) => h('th', null, c)))),
        h('tbody', null, envRows)),
      h('p', { class: 'small' }, h('a', { href: `#logs?function=${encodeURIComponent(f.name)}` }, 'logs'), ' · ',
        h('a', { href: `#traces?function=${encodeURIComponent(f.name)}` }, 'traces'), ' · ',
        h('a', { href: '#faults' }, 'faults')));
  }

  // ───────────────────────────── fault injection ─────────────────────────────

  function faultsView(root) {
    const body = h('div', { class: 'fault-grid' });
    root.append(viewHeader('Fault injection', h('span', { class: 'sub' }, 'applying restarts that function\'s environments (about 0.2 s)')), body);
    const groups = new Map();

    function group(f) {
      const rate = h('input', { type: 'number', min: 0, max: 100, step: 1, value: Math.round(f.faults.error_rate * 100), class: 'rate', 'aria-label': `${f.name} error rate in percent` });
      const latency = h('input', { type: 'number', min: 0, max: 60000, step: 50, value: f.faults.latency_ms, class: 'latency', 'aria-label': `${f.name} added latency in ms` });
      const active = h('p', { class: 'fault-active' });
      const result = h('p', { class: 'fault-result', role: 'status' });
      // Until the presenter edits them, the inputs follow the active faults.
      let dirty = false;
      let current = f.faults;
      const presets = [0, 10, 50, 100].map((p) => h('button', {
        type: 'button', class: 'preset', 'data-preset': p, onclick: () => { rate.value = String(p); dirty = true; markPreset(); },
      }, `${p}%`));
      const markPreset = () => presets.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.preset === rate.value)));
      const showInputs = (faults) => {
        rate.value = String(Math.round(faults.error_rate * 100));
        latency.value = String(faults.latency_ms);
        markPreset();
      };
      rate.addEventListener('input', () => { dirty = true; markPreset(); });
      latency.addEventListener('input', () => { dirty = true; });
      const buttons = [];
      const send = async (method, faults) => {
        buttons.forEach((b) => { b.disabled = true; });
        result.className = 'fault-result';
        result.textContent = 'applying…';
        try {
          const options = { method };
          if (faults) {
            options.body = JSON.stringify(faults);
            options.headers = { 'content-type': 'application/json' };
          }
          const now = await api(`/functions/${encodeURIComponent(f.name)}/faults`, options);
          current = now;
          dirty = false;
          showInputs(now);
          result.className = 'fault-result ok-text';
          result.textContent = `✔ ${faultsActive(now) ? `now ${faultText(now)}` : 'faults off'} (${fmtClock(Date.now())})`;
          refreshFunctions();
        } catch (error) {
          result.className = 'fault-result bad-text';
          result.textContent = `✖ not applied: ${error.message}`;
        } finally {
          buttons.forEach((b) => { b.disabled = false; });
        }
      };
      const readInputs = () => {
        const r = Number(rate.value);
        const l = Number(latency.value);
        if (!(r >= 0 && r <= 100) || !(l >= 0 && l <= 60000) || !Number.isInteger(l)) {
          result.className = 'fault-result bad-text';
          result.textContent = '✖ error rate must be 0 to 100 % and latency a whole number of ms from 0 to 60000';
          return null;
        }
        return { error_rate: r / 100, latency_ms: l };
      };
      buttons.push(
        h('button', { type: 'button', class: 'apply', 'data-action': 'apply', onclick: () => { const v = readInputs(); if (v) send('PUT', v); } }, 'Apply'),
        // Every invocation fails; the active latency, if any, stays.
        h('button', { type: 'button', class: 'danger', 'data-action': 'fail-all', onclick: () => send('PUT', { error_rate: 1, latency_ms: current.latency_ms || 0 }) }, '✖ Fail every invocation'),
        h('button', { type: 'button', class: 'off', 'data-action': 'off', onclick: () => send('DELETE', null) }, 'Off'));
      const el = h('section', { class: 'fault-group', 'data-fault-function': f.name },
        h('h2', null, f.name), active,
        h('div', { class: 'fault-row' }, h('span', { class: 'fault-label' }, 'Error rate'), presets, h('label', null, rate, ' %')),
        h('div', { class: 'fault-row' }, h('label', null, h('span', { class: 'fault-label' }, 'Added latency'), latency, ' ms')),
        h('div', { class: 'fault-row' }, buttons), result);
      markPreset();
      const update = (fn) => {
        current = fn.faults;
        if (!dirty) showInputs(fn.faults);
        showActive(active, el, fn);
      };
      return { el, update };
    }

    function showActive(activeEl, el, f) {
      const on = faultsActive(f.faults);
      el.dataset.active = String(on);
      el.classList.toggle('fault-on', on);
      activeEl.className = `fault-active ${on ? 'bad-text' : 'ok-text'}`;
      activeEl.textContent = on ? `⚡ ACTIVE: ${faultText(f.faults)}` : '✔ no faults: behaving normally';
    }

    const render = () => {
      if (!state.functions) {
        if (!groups.size) body.replaceChildren(empty(conn.failing ? 'No data: the ops API is not answering.' : 'loading…'));
        return;
      }
      if (!groups.size || [...groups.keys()].join() !== state.functions.map((f) => f.name).join() || rebuild) {
        rebuild = false;
        groups.clear();
        body.replaceChildren();
        for (const f of state.functions) {
          const g = group(f);
          groups.set(f.name, g);
          body.append(g.el);
        }
        for (const name of (state.stack && state.stack.not_hosted) || []) {
          body.append(h('section', { class: 'fault-group fn-not-hosted' }, h('h2', null, name), empty('not run locally: no faults to inject')));
        }
      }
      for (const f of state.functions) groups.get(f.name).update(f);
    };
    let rebuild = false;
    render();
    // The not-hosted functions come from /ops/api/stack, which may arrive later.
    return { onFunctions: render, onStack: () => { rebuild = true; render(); }, unmount: () => {} };
  }

  // ───────────────────────────── router ─────────────────────────────

  const VIEWS = {
    map: { title: 'Map', mount: mapView },
    traces: { title: 'Traces', mount: tracesView },
    trace: { title: 'Trace', mount: traceView, nav: 'traces' },
    logs: { title: 'Logs', mount: logsView },
    metrics: { title: 'Metrics', mount: metricsView },
    functions: { title: 'Functions', mount: functionsView },
    faults: { title: 'Faults', mount: faultsView },
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

  let functionsAsked = 0;
  async function refreshFunctions() {
    const mine = ++functionsAsked;
    try {
      const list = await api('/functions');
      if (mine !== functionsAsked) return; // a newer answer is on its way (e.g. after a PUT)
      state.functions = list;
      state.functionsAt = Date.now();
      renderBanner();
      if (current && current.inst.onFunctions) current.inst.onFunctions();
    } catch (_) {
      renderBanner();
    }
  }

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
})();
