// Building DOM nodes from data. Text goes in as text nodes, never parsed as HTML: no
// HTML sink is used anywhere in this app, and the page's policy (Trusted Types) makes
// the browser refuse one.

const SVG_NS = 'http://www.w3.org/2000/svg';

function fill(el, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** h('li', {class: 'x'}, 'text', otherNode): an element with text and children. */
export function h(tag, props, ...children) {
  return fill(document.createElement(tag), props, children);
}

export function svg(tag, props, ...children) {
  return fill(document.createElementNS(SVG_NS, tag), props, children);
}

let uid = 0;
/** A label and its control, tied by id (so the field is named by its label). */
export function field(labelText, control) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id, text: labelText }), control);
}

/** Epoch seconds -> the browser's own time zone and format. */
export function when(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleString();
}

export function day(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleDateString(undefined, {
    weekday: 'short', year: 'numeric', month: 'short', day: 'numeric',
  });
}

export function clock(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleTimeString(undefined, {
    hour: '2-digit', minute: '2-digit',
  });
}

export function bytes(n) {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** An error line that screen readers announce (role alert). */
export function alertBox() {
  const box = h('p', { class: 'error', role: 'alert', hidden: true });
  return {
    node: box,
    show(message) { box.textContent = message; box.hidden = false; },
    clear() { box.textContent = ''; box.hidden = true; },
  };
}

export function section(title, ...children) {
  return h('section', { class: 'card' }, h('h2', { text: title }), ...children);
}
