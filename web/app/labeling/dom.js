// Tiny DOM helpers. Every string becomes a text node, never markup, so labels
// and task data can never turn into elements.

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attributes]
 * @param {(Node | string | null | undefined | false)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/**
 * A button that does not take keyboard focus when clicked, so Space and the
 * labeling keys keep going to the page instead of "clicking" it again.
 * @param {string} text @param {string} title @param {() => void} onClick
 * @param {string} [className]
 */
export function button(text, title, onClick, className = '') {
  const b = el('button', { type: 'button', class: `gl-button ${className}`.trim(), title });
  b.textContent = text;
  b.addEventListener('mousedown', (e) => e.preventDefault());
  b.addEventListener('click', () => onClick());
  return b;
}

/** Outline icons drawn with SVG paths, so they look the same whatever fonts the machine has. */
const ICON_PATHS = {
  eye: ['M1.5 8C3.3 4.8 5.5 3.5 8 3.5S12.7 4.8 14.5 8C12.7 11.2 10.5 12.5 8 12.5S3.3 11.2 1.5 8Z', 'M8 6a2 2 0 1 0 0 4a2 2 0 1 0 0-4Z'],
  lock: ['M3.5 7.5h9v6.5h-9Z', 'M5.5 7.5V5.5a2.5 2.5 0 0 1 5 0v2'],
  play: ['M4.5 2.5v11l9-5.5Z'],
  pause: ['M4.5 2.5v11', 'M11.5 2.5v11'],
  previous: ['M11.5 2.5v11l-7-5.5Z'],
  next: ['M4.5 2.5v11l7-5.5Z'],
  first: ['M3 2.5v11', 'M13 2.5v11l-8-5.5Z'],
  last: ['M13 2.5v11', 'M3 2.5v11l8-5.5Z'],
};

/**
 * An icon button (see `button`) with an SVG icon and the title as its accessible name.
 * @param {keyof typeof ICON_PATHS} name @param {string} title @param {() => void} onClick
 * @param {string} [className]
 */
export function iconButton(name, title, onClick, className = '') {
  const b = button('', title, onClick, className);
  b.setAttribute('aria-label', title);
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '14');
  svg.setAttribute('height', '14');
  svg.setAttribute('aria-hidden', 'true');
  for (const d of ICON_PATHS[name]) {
    const path = document.createElementNS(svgNs, 'path');
    path.setAttribute('d', d);
    path.setAttribute('fill', 'none');
    path.setAttribute('stroke', 'currentColor');
    path.setAttribute('stroke-width', '1.5');
    svg.append(path);
  }
  b.append(svg);
  return b;
}
