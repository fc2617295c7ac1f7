/*
 * views/dlq.js: the dead-letter queue (#dlq): its depth (polled every 3 s from
 * /ops/api/dlq?peek=false, which reads only the queue's counters), the messages waiting
 * (id, correlation id, receive count and why; never the comment text), listed when the
 * view opens, on request and after a redrive (a listing is a receive: it adds one to each
 * message's receive count), and the redrive (POST /ops/api/dlq/redrive).
 */

import { api, poll } from '../api.js';
import { h } from '../dom.js';
import { fmtClock, plural } from '../format.js';
import { empty, errorNote, viewHeader } from '../widgets.js';

function why(m) {
  if (m.failure_reason) return `poison: ${m.failure_reason}`;
  if (m.logged_failure) return `retries ran out; first logged: ${m.logged_failure}`;
  return 'retries ran out (maxReceiveCount)';
}

export function dlqView(root) {
  const depth = h('p', { class: 'dlq-depth', role: 'status' }, 'loading…');
  const list = h('button', { type: 'button', 'data-action': 'list' }, 'List messages');
  const redrive = h('button', { type: 'button', class: 'apply', 'data-action': 'redrive' }, '↻ Redrive all to the comments queue');
  const result = h('p', { class: 'dlq-result', role: 'status' });
  const table = h('div', { class: 'dlq-messages' });
  root.append(
    viewHeader('Dead-letter queue', h('span', { class: 'sub' }, 'poison, and comments whose retries ran out: a person must look')),
    depth, h('div', { class: 'fault-row' }, list, redrive), result, table);

  const showDepth = (answer) => {
    const n = answer.depth;
    depth.className = `dlq-depth ${n > 0 ? 'bad-text' : 'ok-text'}`;
    depth.dataset.depth = String(n);
    depth.textContent = n > 0 ? `▲ ${plural(n, 'message')} waiting` : '✔ empty';
  };

  async function peek() {
    try {
      const answer = await api('/dlq');
      showDepth(answer);
      if (!answer.messages.length) {
        table.replaceChildren(empty('No message to show.'));
        return;
      }
      table.replaceChildren(h('table', { class: 'grid' },
        h('thead', null, h('tr', null, h('th', null, 'message id'), h('th', null, 'correlation id'), h('th', null, 'receives'), h('th', null, 'sent'), h('th', null, 'why'))),
        h('tbody', null, ...answer.messages.map((m) => h('tr', { 'data-message-id': m.message_id },
          h('td', { class: 'mono' }, m.message_id),
          h('td', { class: 'mono' }, m.correlation_id
            ? h('a', { href: `#logs?correlation_id=${encodeURIComponent(m.correlation_id)}` }, m.correlation_id)
            : '–'),
          h('td', null, m.receive_count == null ? '–' : String(m.receive_count)),
          h('td', null, m.sent_ms ? fmtClock(m.sent_ms) : '–'),
          h('td', null, why(m)))))));
    } catch (error) {
      table.replaceChildren(errorNote(error));
    }
  }

  list.addEventListener('click', peek);
  redrive.addEventListener('click', async () => {
    redrive.disabled = true;
    result.className = 'dlq-result';
    result.textContent = 'moving…';
    try {
      const report = await api('/dlq/redrive', { method: 'POST' });
      const failed = report.failed.length;
      result.className = `dlq-result ${failed ? 'bad-text' : 'ok-text'}`;
      result.textContent = `${failed ? '✖' : '✔'} moved ${plural(report.moved, 'message')} back (${report.method})`
        + `${failed ? `; ${failed} not moved: ${report.failed.map(([id, reason]) => `${id}: ${reason}`).join('; ')}` : ''} (${fmtClock(Date.now())})`;
    } catch (error) {
      result.className = 'dlq-result bad-text';
      result.textContent = `✖ not redriven: ${error.message}`;
    } finally {
      redrive.disabled = false;
      peek();
    }
  });

  peek();
  const stop = poll(async () => showDepth(await api('/dlq?peek=false')), 3000);
  return { unmount: stop };
}
