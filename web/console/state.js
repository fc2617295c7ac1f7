/*
 * state.js: what the views share, in one place: the stack (/ops/api/stack, asked once), the
 * last functions list (/ops/api/functions, every 2 s, for the fault banner, the map, the
 * filters and the functions and faults views) and the backend fault proxy's faults
 * (/ops/api/backend/faults, with the functions).
 */

import { api } from './api.js';

export const state = {
  stack: null,
  functions: null, // the last /ops/api/functions answer
  functionsAt: 0,
  backend: null, // the last /ops/api/backend/faults answer
};

export function functionNames() {
  if (state.stack && Array.isArray(state.stack.functions)) return state.stack.functions;
  if (state.functions) return state.functions.map((f) => f.name);
  return [];
}

/** A resource name without the stack's prefix, once the stack is known. */
export function shortName(name) {
  const stack = state.stack && state.stack.stack_name;
  if (stack && typeof name === 'string' && name.startsWith(`${stack}-`)) return name.slice(stack.length + 1);
  return name;
}

let functionsAsked = 0;
let functionsListener = () => {};

/**
 * Sets the one function told after each /ops/api/functions poll: fn(true) with a new list in
 * state.functions, fn(false) when it failed (main.js: the fault banner, the current view).
 */
export function onFunctions(fn) {
  functionsListener = fn;
}

/** Asks for the functions list now (every 2 s from main.js, and after a fault is changed). */
export async function refreshFunctions() {
  const mine = ++functionsAsked;
  try {
    const [list, backend] = await Promise.all([api('/functions'), api('/backend/faults').catch(() => null)]);
    if (mine !== functionsAsked) return; // a newer answer is on its way (e.g. after a PUT)
    state.functions = list;
    state.backend = backend;
    state.functionsAt = Date.now();
    functionsListener(true);
  } catch (_) {
    functionsListener(false);
  }
}
