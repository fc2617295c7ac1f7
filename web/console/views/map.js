/*
 * views/map.js: the service map (#map): the stack's nodes in a fixed layout, the edges the
 * dependency tags declare and the traces show (calls, error rate, p50/p99 on their labels,
 * placed clear of the boxes and each other), drift between the two, and the faults on.
 * Polls /ops/api/graph every 2 s.
 */

import { api, poll } from '../api.js';
import { h, s, setProps } from '../dom.js';
import { faultsActive, fmtMs, fmtPct, plural } from '../format.js';
import { state } from '../state.js';
import { empty, errorNote, viewHeader } from '../widgets.js';

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

export function mapView(root) {
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

function edgeLines(e, fromKind) {
  const cls = edgeClass(e);
  if (cls === 'unseen') {
    const lines = ['declared, not seen'];
    const queue = fromKind === 'queue' ? redriveFor(e) : null;
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
  // Only a queue's edge to its dead-letter queue is a redrive; a function's (push-to-db
  // sending poison) is a call like any other.
  const kindOf = new Map(graph.nodes.map((n) => [n.name, n.kind]));
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
    addLabel(cls, edgeLines(e, kindOf.get(e.from)), title, key, [key], { pts: plan.pts, prefer: plan.via });
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
