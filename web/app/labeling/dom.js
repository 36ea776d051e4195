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
