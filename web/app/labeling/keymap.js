// Key names and hotkey assignment. A key name is the key in lower case with
// its modifiers in a fixed order: `ctrl+shift+z`, `alt+1`, `?`, `arrowleft`.
// Shift is only named for letters and named keys: `?` is `?`, not `shift+/`.

/** @typedef {import('./types.js').ControlTag} ControlTag */

/** @param {KeyboardEvent} e */
export function keyName(e) {
  let key = e.key === ' ' ? 'space' : e.key;
  if (key === 'Spacebar') key = 'space';
  const lower = key.toLowerCase();
  const parts = [];
  if (e.ctrlKey || e.metaKey) parts.push('ctrl');
  if (e.altKey) parts.push('alt');
  if (e.shiftKey && (key.length > 1 || lower !== key.toUpperCase())) parts.push('shift');
  parts.push(lower);
  return parts.join('+');
}

/**
 * The key name of a config hotkey as Label Studio writes them
 * (`ctrl+1`, `Shift+a`, `cmd+k`, `a`).
 * @param {string} hotkey
 */
export function normalizeHotkey(hotkey) {
  const parts = hotkey.toLowerCase().split('+').map((p) => p.trim()).filter(Boolean);
  const key = parts.pop() ?? '';
  const mods = new Set(parts.map((p) => ({ cmd: 'ctrl', command: 'ctrl', meta: 'ctrl', control: 'ctrl', option: 'alt' })[p] ?? p));
  const out = ['ctrl', 'alt', 'shift'].filter((m) => mods.has(m));
  out.push(key === ' ' ? 'space' : key);
  return out.join('+');
}

/** How a key name is shown on buttons and in the keymap. @param {string} name */
export function keyLabel(name) {
  return name
    .split('+')
    .map((p) => ({ ctrl: 'Ctrl', alt: 'Alt', shift: 'Shift', space: 'Space', arrowleft: '←', arrowright: '→', arrowup: '↑', arrowdown: '↓', escape: 'Esc', delete: 'Del', backspace: 'Backspace', enter: 'Enter' })[p] ?? (p.length === 1 ? p.toUpperCase() : p))
    .join('+');
}

/** Digits handed out, in order, to options without a hotkey of their own. */
const DEFAULT_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

/**
 * Hotkeys of label and choice options: the config's own first, then 1–9, 0
 * for the rest in document order (labels before choices) while digits last.
 * @param {ControlTag[]} controls
 * @param {(control: ControlTag) => {value: string, hotkey: string | null}[]} optionsOf
 * @param {Set<string>} taken key names already bound by the workspace (config hotkeys win over them)
 * @returns {Map<string, {control: ControlTag, value: string}>} key name → option
 */
export function assignHotkeys(controls, optionsOf, taken) {
  /** @type {Map<string, {control: ControlTag, value: string}>} */
  const keys = new Map();
  for (const control of controls) {
    for (const option of optionsOf(control)) {
      if (!option.hotkey) continue;
      const name = normalizeHotkey(option.hotkey);
      if (!keys.has(name)) keys.set(name, { control, value: option.value });
    }
  }
  const ordered = [
    ...controls.filter((c) => c.kind !== 'Choices'),
    ...controls.filter((c) => c.kind === 'Choices'),
  ];
  let next = 0;
  for (const control of ordered) {
    for (const option of optionsOf(control)) {
      if (option.hotkey) continue;
      while (next < DEFAULT_KEYS.length && (keys.has(DEFAULT_KEYS[next]) || taken.has(DEFAULT_KEYS[next]))) next++;
      if (next >= DEFAULT_KEYS.length) return keys;
      keys.set(DEFAULT_KEYS[next], { control, value: option.value });
    }
  }
  return keys;
}
