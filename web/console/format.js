/*
 * format.js: how times, durations, rates, counts and a function's faults read on screen.
 * What is not known reads as '—'.
 */

const pad = (n, w = 2) => String(n).padStart(w, '0');

export function fmtClock(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function fmtMs(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

export function fmtPct(rate) {
  if (rate === null || rate === undefined || !isFinite(rate)) return '—';
  const p = Math.round(rate * 1000) / 10;
  return `${p}%`;
}

export function fmtAgo(ms) {
  const secs = Math.max(0, Math.round(ms / 1000));
  if (secs < 60) return `${secs}s ago`;
  const mins = Math.floor(secs / 60);
  return mins < 60 ? `${mins} min ${secs % 60}s ago` : `${Math.floor(mins / 60)} h ${mins % 60} min ago`;
}

export function plural(n, word, many = `${word}s`) {
  return `${n} ${n === 1 ? word : many}`;
}

export function faultText(f) {
  const parts = [];
  if (f.error_rate > 0) parts.push(`${fmtPct(f.error_rate)} errors`);
  if (f.latency_ms > 0) parts.push(`+${f.latency_ms} ms latency`);
  return parts.join(' · ');
}

export const faultsActive = (f) => !!f && (f.error_rate > 0 || f.latency_ms > 0);

/** The backend fault proxy's faults in words: "throttle 30 % · 5xx 10 % · +200 ms". */
export function backendFaultText(b) {
  const parts = [];
  if (b.throttle_rate > 0) parts.push(`throttle ${Math.round(b.throttle_rate * 100)} %`);
  if (b.error_rate > 0) parts.push(`5xx ${Math.round(b.error_rate * 100)} %`);
  if (b.latency_ms > 0) parts.push(`+${b.latency_ms} ms`);
  return parts.join(' · ');
}
