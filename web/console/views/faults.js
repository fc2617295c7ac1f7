/*
 * views/faults.js: fault injection (#faults): per function, an error rate and an added
 * latency to apply, fail every invocation, or switch off (PUT/DELETE
 * /ops/api/functions/<name>/faults); and the backend (DynamoDB and SQS behind the fault
 * proxy): a throttle rate, a 5xx rate and an added latency for every call the functions
 * make (PUT/DELETE /ops/api/backend/faults), to show a dependency outage. Draws from the
 * shared functions list and backend faults; polls nothing of its own.
 */

import { api, conn } from '../api.js';
import { h } from '../dom.js';
import { backendFaultText, faultText, faultsActive, fmtClock } from '../format.js';
import { refreshFunctions, state } from '../state.js';
import { empty, viewHeader } from '../widgets.js';

export function faultsView(root) {
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

  // The backend behind the fault proxy: one group, beside the functions'.
  function backendGroup() {
    const pct = (v) => Math.round((v || 0) * 100);
    const input = (cls, max, step, label) => h('input', { type: 'number', min: 0, max, step, value: 0, class: cls, 'aria-label': label });
    const throttle = input('throttle', 100, 1, 'backend throttle rate in percent');
    const errors = input('errors', 100, 1, 'backend 5xx rate in percent');
    const latency = input('latency', 60000, 50, 'backend added latency in ms');
    const active = h('p', { class: 'fault-active' });
    const result = h('p', { class: 'fault-result', role: 'status' });
    let dirty = false;
    [throttle, errors, latency].forEach((i) => i.addEventListener('input', () => { dirty = true; }));
    const send = async (method, body) => {
      result.className = 'fault-result';
      result.textContent = 'applying…';
      try {
        const options = { method };
        if (body) {
          options.body = JSON.stringify(body);
          options.headers = { 'content-type': 'application/json' };
        }
        const now = await api('/backend/faults', options);
        dirty = false;
        state.backend = now;
        update(now);
        result.className = 'fault-result ok-text';
        result.textContent = `✔ ${now.active ? `now ${backendFaultText(now)}` : 'faults off'} (${fmtClock(Date.now())})`;
        refreshFunctions();
      } catch (error) {
        result.className = 'fault-result bad-text';
        result.textContent = `✖ not applied: ${error.message}`;
      }
    };
    const read = () => {
      const t = Number(throttle.value);
      const e = Number(errors.value);
      const l = Number(latency.value);
      if (!(t >= 0 && t <= 100) || !(e >= 0 && e <= 100) || !(l >= 0 && l <= 60000) || !Number.isInteger(l)) {
        result.className = 'fault-result bad-text';
        result.textContent = '✖ rates must be 0 to 100 % and latency a whole number of ms from 0 to 60000';
        return null;
      }
      return { throttle_rate: t / 100, error_rate: e / 100, latency_ms: l };
    };
    const el = h('section', { class: 'fault-group', 'data-fault-function': 'backend' },
      h('h2', null, 'backend: DynamoDB and SQS'), active,
      h('div', { class: 'fault-row' }, h('label', null, h('span', { class: 'fault-label' }, 'Throttled'), throttle, ' %')),
      h('div', { class: 'fault-row' }, h('label', null, h('span', { class: 'fault-label' }, 'Answered 5xx'), errors, ' %')),
      h('div', { class: 'fault-row' }, h('label', null, h('span', { class: 'fault-label' }, 'Added latency'), latency, ' ms')),
      h('div', { class: 'fault-row' },
        h('button', { type: 'button', class: 'apply', 'data-action': 'apply', onclick: () => { const v = read(); if (v) send('PUT', v); } }, 'Apply'),
        h('button', { type: 'button', class: 'danger', 'data-action': 'outage', onclick: () => send('PUT', { throttle_rate: 0, error_rate: 1, latency_ms: 0 }) }, '✖ Outage: every call fails'),
        h('button', { type: 'button', class: 'off', 'data-action': 'off', onclick: () => send('DELETE', null) }, 'Off')),
      result);
    function update(b) {
      if (!b) return;
      if (!dirty) {
        throttle.value = String(pct(b.throttle_rate));
        errors.value = String(pct(b.error_rate));
        latency.value = String(b.latency_ms);
      }
      el.dataset.active = String(b.active);
      el.classList.toggle('fault-on', b.active);
      active.className = `fault-active ${b.active ? 'bad-text' : 'ok-text'}`;
      active.textContent = b.active
        ? `⚡ ACTIVE: ${backendFaultText(b)} (${b.throttled} throttled, ${b.failed} failed so far)`
        : `✔ no faults: ${b.forwarded} calls passed through`;
    }
    return { el, update };
  }
  const backend = backendGroup();

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
      body.append(backend.el);
      for (const name of (state.stack && state.stack.not_hosted) || []) {
        body.append(h('section', { class: 'fault-group fn-not-hosted' }, h('h2', null, name), empty('not run locally: no faults to inject')));
      }
    }
    for (const f of state.functions) groups.get(f.name).update(f);
    backend.update(state.backend);
  };
  let rebuild = false;
  render();
  // The not-hosted functions come from /ops/api/stack, which may arrive later.
  return { onFunctions: render, onStack: () => { rebuild = true; render(); }, unmount: () => {} };
}
