/*
 * dom.js: the DOM helpers the views build with: h() makes an HTML element, s() an SVG one,
 * $() finds one. Strings become text nodes and attributes go through setAttribute, styles
 * through the CSSOM (the CSP forbids style attributes): never innerHTML, so no text from
 * the API can ever become markup or code.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

export function setProps(el, props) {
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

export function addKids(el, kids) {
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid)); // strings become text nodes
  }
}

/** An HTML element: h('td', {class: 'x', 'data-a': 1}, 'text', child). */
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  setProps(el, props);
  addKids(el, kids);
  return el;
}

/** An SVG element. */
export function s(tag, props, ...kids) {
  const el = document.createElementNS(SVG_NS, tag);
  setProps(el, props);
  addKids(el, kids);
  return el;
}

export const $ = (sel) => document.querySelector(sel);
